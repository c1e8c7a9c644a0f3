#!/usr/bin/env bash
# Builds minik8s' offline images as OCI-layout archives from Debian packages; no registry needed.
#
#   images/build.sh OUT_DIR        e.g. images/build.sh /var/lib/minik8s/agent/images
#
# Writes OUT_DIR/pause.tar   (registry.k8s.io/pause:3.10, the sandbox image: a static C pause)
#        OUT_DIR/busybox.tar (docker.io/library/busybox:latest and :1.36, from busybox-static)
#        OUT_DIR/nginx.tar   (docker.io/library/nginx:latest and :1.22 from Debian's nginx 1.22,
#                             plus :1.14 as a documented stand-in for the seeds' nginx:1.14)
# Each archive names its images with the annotation io.containerd.image.name in index.json, which
# containerd's importer (and `minik8s image import`) reads. Layers, configs and archives are built
# reproducibly (sorted entries, owner 0, mtime 0), so a rerun with the same inputs writes the same
# bytes and leaves an existing archive untouched: the script is idempotent.
set -euo pipefail

out=${1:?usage: images/build.sh OUT_DIR}
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
arch=$(dpkg --print-architecture)
case "$arch" in amd64|arm64) ;; *) echo "build.sh: unsupported architecture $arch" >&2; exit 1;; esac

sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }
det_tar() { # det_tar DIR OUT: a reproducible tar of DIR's contents
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 --format=posix \
      --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -C "$1" -cf "$2" .
}

# oci_image NAME ROOTFS CONFIG_JSON_FRAGMENT REF... : writes $out/NAME.tar holding one image
# whose single layer is ROOTFS, tagged with every REF.
oci_image() {
  local name=$1 rootfs=$2 cfg=$3; shift 3
  local lay="$work/$name" ; rm -rf "$lay"; mkdir -p "$lay/blobs/sha256"
  det_tar "$rootfs" "$lay/layer.tar"
  local ld; ld=$(sha "$lay/layer.tar"); local ls; ls=$(size "$lay/layer.tar")
  mv "$lay/layer.tar" "$lay/blobs/sha256/$ld"
  printf '{"architecture":"%s","os":"linux","created":"1970-01-01T00:00:00Z","config":%s,"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"minik8s images/build.sh"}]}' \
    "$arch" "$cfg" "$ld" > "$lay/config.json"
  local cd; cd=$(sha "$lay/config.json"); local cs; cs=$(size "$lay/config.json")
  mv "$lay/config.json" "$lay/blobs/sha256/$cd"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
    "$cd" "$cs" "$ld" "$ls" > "$lay/manifest.json"
  local md; md=$(sha "$lay/manifest.json"); local ms; ms=$(size "$lay/manifest.json")
  mv "$lay/manifest.json" "$lay/blobs/sha256/$md"
  local entries="" ref
  for ref in "$@"; do
    [ -n "$entries" ] && entries+=","
    entries+=$(printf '{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"%s","os":"linux"},"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}' \
      "$md" "$ms" "$arch" "$ref" "${ref##*:}")
  done
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[%s]}' "$entries" > "$lay/index.json"
  printf '{"imageLayoutVersion":"1.0.0"}' > "$lay/oci-layout"
  det_tar "$lay" "$work/$name.tar"
  if [ -f "$out/$name.tar" ] && cmp -s "$work/$name.tar" "$out/$name.tar"; then
    echo "images: $name.tar unchanged ($*)"
  else
    mv "$work/$name.tar" "$out/$name.tar"
    echo "images: wrote $out/$name.tar ($*, manifest sha256:${md:0:12})"
  fi
}

build_pause() {
  command -v gcc >/dev/null || { echo "build.sh: gcc is needed for the pause image: apt-get install gcc libc6-dev" >&2; exit 1; }
  local root="$work/pause-root"; mkdir -p "$root"
  gcc -static -Os -s -o "$root/pause" "$(dirname "$0")/pause.c"
  oci_image pause "$root" '{"Entrypoint":["/pause"],"User":"65535:65535"}' registry.k8s.io/pause:3.10
}

busybox_binary() { # prints the path of a static busybox, from the installed package or a fetched .deb
  if dpkg -s busybox-static >/dev/null 2>&1; then echo /bin/busybox; return; fi
  local cache="$work/deb"; mkdir -p "$cache"
  (cd "$cache" && apt-get download busybox-static >/dev/null 2>&1) \
    || { echo "build.sh: cannot get busybox-static: apt-get install busybox-static" >&2; exit 1; }
  dpkg-deb -x "$cache"/busybox-static_*.deb "$cache/x"
  echo "$cache/x/bin/busybox"
}

build_busybox() {
  local bb; bb=$(busybox_binary)
  local root="$work/busybox-root"; mkdir -p "$root"/{bin,etc,root,tmp,var/www,home,proc,sys,dev,usr/bin,usr/sbin,sbin}
  chmod 1777 "$root/tmp"
  cp "$bb" "$root/bin/busybox"
  local applet
  for applet in $("$root/bin/busybox" --list-full); do
    [ "$applet" = bin/busybox ] && continue
    local rel; rel=$(dirname "$applet" | sed -E 's#[^/]+#..#g')
    ln -sf "$rel/bin/busybox" "$root/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' > "$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
  # sed reads all the output: `head -1` would SIGPIPE busybox and, with pipefail, fail the script.
  local version; version=$("$root/bin/busybox" | sed -nE '1s/^BusyBox v([0-9.]+).*/\1/p')
  echo "images: busybox $version from Debian's busybox-static"
  oci_image busybox "$root" '{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"]}' \
    docker.io/library/busybox:latest docker.io/library/busybox:1.36
}

# fetch_debs DIR PKG... : downloads Debian packages (no install) and unpacks them into DIR.
fetch_debs() {
  local dir=$1; shift
  local cache="$work/debs-$1"; mkdir -p "$cache" "$dir"
  (cd "$cache" && apt-get download "$@" >/dev/null 2>&1) \
    || { echo "build.sh: cannot download $*: run apt-get update" >&2; exit 1; }
  local deb; for deb in "$cache"/*.deb; do dpkg-deb -x "$deb" "$dir"; done
}

# copy_libs ROOT BINARY : copies the shared libraries BINARY needs (as the host resolves them).
copy_libs() {
  local root=$1 bin=$2 lib
  for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
}

build_nginx() {
  local root="$work/nginx-root"; mkdir -p "$root"
  fetch_debs "$root" nginx nginx-common
  copy_libs "$root" "$root/usr/sbin/nginx"
  # busybox's tools where Debian's nginx has none (sh, tar for `kubectl cp`, ls, cat, ...).
  mkdir -p "$root/bin"; cp "$(busybox_binary)" "$root/bin/busybox"
  local applet
  for applet in $("$root/bin/busybox" --list-full); do
    [ -e "$root/$applet" ] || [ -L "$root/$applet" ] && continue
    mkdir -p "$root/$(dirname "$applet")"
    ln -s "$(dirname "$applet" | sed -E 's#[^/]+#..#g')/bin/busybox" "$root/$applet"
  done
  rm -rf "$root/etc/init.d" "$root/etc/logrotate.d" "$root/etc/ufw" "$root/usr/share/doc" "$root/usr/share/man" "$root/lib/systemd"
  mkdir -p "$root"/{var/log/nginx,var/lib/nginx/body,run,tmp,usr/share/nginx/html,etc/nginx/conf.d}
  chmod 1777 "$root/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\nnginx:x:101:101:nginx:/nonexistent:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$root/etc/passwd"
  printf 'root:x:0:\nnginx:x:101:\nnogroup:x:65534:\n' > "$root/etc/group"
  # As the official image: logs to the container's stdout/stderr, the page in /usr/share/nginx/html.
  cat > "$root/etc/nginx/nginx.conf" <<'CONF'
user nginx;
worker_processes auto;
error_log /dev/stderr notice;
pid /run/nginx.pid;
events { worker_connections 1024; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log /dev/stdout;
    sendfile on;
    keepalive_timeout 65;
    include /etc/nginx/conf.d/*.conf;
}
CONF
  cat > "$root/etc/nginx/conf.d/default.conf" <<'CONF'
server {
    listen 80;
    server_name localhost;
    location / { root /usr/share/nginx/html; index index.html index.htm; }
}
CONF
  cat > "$root/usr/share/nginx/html/index.html" <<'HTML'
<!DOCTYPE html>
<html>
<head><title>Welcome to nginx!</title></head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and working.</p>
<p><em>Thank you for using nginx.</em></p>
</body>
</html>
HTML
  echo "images: nginx $(dpkg-deb -f "$work"/debs-nginx/nginx_*.deb Version) from Debian's nginx (also tagged 1.14 as a stand-in)"
  oci_image nginx "$root" '{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["nginx","-g","daemon off;"],"ExposedPorts":{"80/tcp":{}},"StopSignal":"SIGQUIT"}' \
    docker.io/library/nginx:latest docker.io/library/nginx:1.22 docker.io/library/nginx:1.14
}

build_pause
build_busybox
build_nginx
