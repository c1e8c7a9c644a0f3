#!/usr/bin/env bash
# Installs what the tests and the cluster need on a fresh Debian 12 machine (idempotent).
set -euo pipefail

want=(protobuf-compiler gcc libc6-dev containerd runc containernetworking-plugins nftables iptables iproute2 busybox-static curl)
missing=()
for pkg in "${want[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

# A distribution containerd service would fight ours for /run/containerd; minik8s runs its own.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet containerd 2>/dev/null; then
  echo "install-deps: note: a system containerd is running; minik8s uses its own socket under its data dir"
fi

command -v kubectl >/dev/null || { echo "install-deps: kubectl is required for the e2e tests (/usr/bin/kubectl)" >&2; exit 1; }
echo "install-deps: ok (kubectl $(kubectl version --client 2>/dev/null | head -1 | awk '{print $3}'))"
