//! Removes the host network state the CNI plugins leave after a node's last pod (bridge cni0,
//! portmap's NAT chains, host-local's leases): `cargo run -p kubelet --example node_cleanup`.

fn main() {
    kubelet::cni::remove_host_network();
    println!("removed bridge {} and the CNI host state", kubelet::cni::BRIDGE);
}
