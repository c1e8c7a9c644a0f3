//! Node IPAM (kube-controller-manager's nodeipam with --allocate-node-cidrs, range
//! allocator): each Node without spec.podCIDR gets the lowest free /24 of the cluster CIDR,
//! never one another node holds; what is taken is read from the nodes, so it survives restarts.

use futures::StreamExt;
use k8s_openapi::api::core::v1::Node;
use kube::api::{Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::Store;
use kube::runtime::watcher;
use kube::{Api, Client};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Prefix length of each node's range (--node-cidr-mask-size for IPv4).
pub const NODE_MASK: u8 = 24;

/// An IPv4 network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cidr {
    pub base: u32,
    pub prefix: u8,
}

impl Cidr {
    /// Parses `a.b.c.d/n`, the base masked to the prefix.
    pub fn parse(s: &str) -> Option<Cidr> {
        let (ip, len) = s.trim().split_once('/')?;
        let ip: Ipv4Addr = ip.parse().ok()?;
        let prefix: u8 = len.parse().ok().filter(|p| *p <= 32)?;
        Some(Cidr { base: u32::from(ip) & mask(prefix), prefix })
    }

    /// The subnets of `prefix` length, lowest first (the network itself when it is smaller).
    pub fn subnets(self, prefix: u8) -> impl Iterator<Item = Cidr> {
        let prefix = prefix.max(self.prefix).min(32);
        let count = 1u64 << (prefix - self.prefix);
        let step = 1u64 << (32 - prefix);
        (0..count).map(move |i| Cidr { base: (u64::from(self.base) + i * step) as u32, prefix })
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", Ipv4Addr::from(self.base), self.prefix)
    }
}

fn mask(prefix: u8) -> u32 {
    if prefix == 0 { 0 } else { u32::MAX << (32 - prefix) }
}

/// The lowest node range of `cluster` not in `used`; None when all are taken.
pub fn allocate(cluster: Cidr, used: &HashSet<Cidr>) -> Option<Cidr> {
    cluster.subnets(NODE_MASK).find(|c| !used.contains(c))
}

/// The ranges nodes hold (spec.podCIDRs, or spec.podCIDR).
pub fn held(node: &Node) -> Vec<Cidr> {
    let spec = node.spec.as_ref();
    let list = spec.and_then(|s| s.pod_cidrs.clone()).unwrap_or_default();
    let single = spec.and_then(|s| s.pod_cidr.clone());
    list.iter().chain(single.iter()).filter_map(|c| Cidr::parse(c)).collect()
}

/// What a failed reconcile could not do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no pod CIDR left in {cluster} for node {node}")]
    Exhausted { cluster: String, node: String },
    #[error("setting the pod CIDR of node {node}")]
    Write {
        node: String,
        #[source]
        source: kube::Error,
    },
}

struct Context {
    client: Client,
    cluster: Cidr,
    nodes: Store<Node>,
    /// Ranges handed out whose node the cache does not show with it yet, by node name.
    pending: Mutex<HashMap<String, Cidr>>,
}

/// Runs the allocator until the node watch ends; an unparsable cluster CIDR disables it.
pub async fn run(client: Client, cluster_cidr: String) {
    let Some(cluster) = Cidr::parse(&cluster_cidr) else {
        tracing::error!(%cluster_cidr, "node-ipam: not an IPv4 CIDR, pod CIDRs are not allocated");
        return;
    };
    let controller = Controller::new(Api::<Node>::all(client.clone()), watcher::Config::default());
    let nodes = controller.store();
    let ctx = Arc::new(Context { client, cluster, nodes, pending: Mutex::new(HashMap::new()) });
    controller.run(reconcile, error_policy, ctx).for_each(|_| futures::future::ready(())).await;
}

async fn reconcile(node: Arc<Node>, ctx: Arc<Context>) -> Result<Action, Error> {
    let name = node.metadata.name.clone().unwrap_or_default();
    if !held(&node).is_empty() {
        forget(&ctx, &name);
        return Ok(Action::await_change());
    }
    let cidr =
        pick(&ctx, &name).ok_or_else(|| Error::Exhausted { cluster: ctx.cluster.to_string(), node: name.clone() })?;
    let patch = Patch::Merge(json!({"spec": {"podCIDR": cidr.to_string(), "podCIDRs": [cidr.to_string()]}}));
    let api: Api<Node> = Api::all(ctx.client.clone());
    match api.patch(&name, &PatchParams::default(), &patch).await {
        Ok(_) => Ok(Action::await_change()),
        Err(kube::Error::Api(s)) if s.is_not_found() => {
            forget(&ctx, &name);
            Ok(Action::await_change())
        }
        Err(source) => Err(Error::Write { node: name, source }),
    }
}

/// The range for a node: the one already promised to it, else the lowest free one, which is
/// promised under the lock so two nodes reconciled at once never get the same.
fn pick(ctx: &Context, node: &str) -> Option<Cidr> {
    let mut pending = ctx.pending.lock().ok()?;
    if let Some(c) = pending.get(node) {
        return Some(*c);
    }
    let nodes = ctx.nodes.state();
    pending.retain(|n, _| nodes.iter().any(|k| k.metadata.name.as_deref() == Some(n.as_str()) && held(k).is_empty()));
    let used: HashSet<Cidr> = nodes.iter().flat_map(|n| held(n)).chain(pending.values().copied()).collect();
    let c = allocate(ctx.cluster, &used)?;
    pending.insert(node.to_string(), c);
    Some(c)
}

fn forget(ctx: &Context, node: &str) {
    if let Ok(mut pending) = ctx.pending.lock() {
        pending.remove(node);
    }
}

fn error_policy(_node: Arc<Node>, err: &Error, _ctx: Arc<Context>) -> Action {
    tracing::warn!(error = %err, "node-ipam: reconcile failed");
    match err {
        Error::Exhausted { .. } => Action::requeue(Duration::from_secs(30)),
        Error::Write { .. } => Action::requeue(Duration::from_secs(2)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::NodeSpec;

    fn cluster() -> Cidr {
        Cidr::parse("10.233.64.0/18").unwrap()
    }

    #[test]
    fn the_first_node_gets_the_first_slash_24() {
        assert_eq!(allocate(cluster(), &HashSet::new()).unwrap().to_string(), "10.233.64.0/24");
    }

    #[test]
    fn the_cidr_allocator_never_hands_out_a_cidr_twice() {
        let mut used = HashSet::new();
        for _ in 0..64 {
            let c = allocate(cluster(), &used).unwrap();
            assert!(used.insert(c), "{c} handed out twice");
        }
        assert_eq!(allocate(cluster(), &used), None, "a /18 holds exactly 64 /24s");
    }

    #[test]
    fn a_range_freed_by_a_deleted_node_is_handed_out_again() {
        let used: HashSet<Cidr> = ["10.233.64.0/24", "10.233.66.0/24"].iter().filter_map(|c| Cidr::parse(c)).collect();
        assert_eq!(allocate(cluster(), &used).unwrap().to_string(), "10.233.65.0/24");
    }

    #[test]
    fn ranges_already_held_by_nodes_are_read_from_their_spec() {
        let node = Node {
            spec: Some(NodeSpec { pod_cidr: Some("10.233.70.0/24".into()), ..Default::default() }),
            ..Default::default()
        };
        assert_eq!(held(&node), vec![Cidr::parse("10.233.70.0/24").unwrap()]);
    }

    #[test]
    fn a_cluster_cidr_with_host_bits_is_masked() {
        assert_eq!(Cidr::parse("10.233.65.7/18").unwrap(), cluster());
    }

    #[test]
    fn a_malformed_cidr_is_refused() {
        assert_eq!(Cidr::parse("10.233.64.0"), None);
        assert_eq!(Cidr::parse("10.233.64.0/33"), None);
    }
}
