//! The pod network: a CNI conflist (bridge `cni0` + host-local IPAM on the node's pod CIDR +
//! portmap) in containerd's conf_dir, which containerd reloads without a restart.

use std::path::Path;

/// Used when the node IPAM controller assigns no spec.podCIDR in time.
pub const FALLBACK_POD_CIDR: &str = "10.233.64.0/24";
pub const CONFLIST_NAME: &str = "10-minik8s.conflist";
pub const BRIDGE: &str = "cni0";

/// cniVersion 1.0.0: Debian's 1.1.1 plugins refuse 1.1.0. containerd itself brings up `lo`
/// with the loopback plugin, so the chain holds only the pod's eth0.
pub fn conflist(pod_cidr: &str) -> serde_json::Value {
    serde_json::json!({
        "cniVersion": "1.0.0",
        "name": "minik8s",
        "plugins": [
            {
                "type": "bridge",
                "bridge": BRIDGE,
                "isGateway": true,
                "ipMasq": true,
                "hairpinMode": true,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": pod_cidr}]],
                    "routes": [{"dst": "0.0.0.0/0"}]
                }
            },
            {"type": "portmap", "capabilities": {"portMappings": true}}
        ]
    })
}

/// Writes the conflist atomically (containerd watches the directory).
pub fn write(conf_dir: &Path, pod_cidr: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(conf_dir)?;
    let tmp = conf_dir.join(".minik8s.conflist.tmp");
    let text = serde_json::to_string_pretty(&conflist(pod_cidr)).map_err(std::io::Error::other)?;
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, conf_dir.join(CONFLIST_NAME))
}

fn run(cmd: &str, args: &[&str]) {
    let _ = std::process::Command::new(cmd).args(args).stderr(std::process::Stdio::null()).status();
}

/// Removes what the CNI plugins leave on the host after the last pod (the bridge, portmap's
/// shared NAT chains and host-local's state), for a node being taken down. Call it only when
/// no pod of this node runs any more: the bridge is shared by all of them.
pub fn remove_host_network() {
    run("ip", &["link", "delete", BRIDGE]);
    for (chain, target) in [("PREROUTING", "CNI-HOSTPORT-DNAT"), ("OUTPUT", "CNI-HOSTPORT-DNAT")] {
        run("iptables", &["-t", "nat", "-D", chain, "-m", "addrtype", "--dst-type", "LOCAL", "-j", target]);
    }
    run(
        "iptables",
        &[
            "-t",
            "nat",
            "-D",
            "POSTROUTING",
            "-m",
            "comment",
            "--comment",
            "CNI portfwd requiring masquerade",
            "-j",
            "CNI-HOSTPORT-MASQ",
        ],
    );
    for chain in ["CNI-HOSTPORT-DNAT", "CNI-HOSTPORT-MASQ", "CNI-HOSTPORT-SETMARK"] {
        run("iptables", &["-t", "nat", "-F", chain]);
        run("iptables", &["-t", "nat", "-X", chain]);
    }
    let _ = std::fs::remove_dir_all("/var/lib/cni/networks/minik8s");
    if let Ok(entries) = std::fs::read_dir("/var/lib/cni/results") {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with("minik8s-") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bridge_allocates_from_the_nodes_pod_cidr() {
        let c = conflist("10.233.65.0/24");
        assert_eq!(c["cniVersion"], "1.0.0");
        assert_eq!(c["plugins"][0]["ipam"]["ranges"][0][0]["subnet"], "10.233.65.0/24");
        assert_eq!(c["plugins"][0]["isGateway"], true);
        assert_eq!(c["plugins"][1]["capabilities"]["portMappings"], true);
    }
}
