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
