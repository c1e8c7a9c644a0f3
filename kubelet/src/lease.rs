//! The node's heartbeat: a coordination.k8s.io Lease named after the node in kube-node-lease,
//! renewed every 10 s (the kubelet's default), owned by the Node so it goes with it.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::api::core::v1::{Namespace, Node};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, OwnerReference};
use kube::api::{Api, Patch, PatchParams, PostParams};

pub const NAMESPACE: &str = "kube-node-lease";
pub const RENEW_INTERVAL: Duration = Duration::from_secs(10);
/// A lease not renewed for this long makes the node controller mark the node NotReady.
pub const DURATION_SECONDS: i32 = 40;

/// The Lease as the kubelet writes it.
pub fn lease(node: &Node, now: jiff::Timestamp) -> Lease {
    let name = node.metadata.name.clone().unwrap_or_default();
    Lease {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            namespace: Some(NAMESPACE.into()),
            owner_references: node.metadata.uid.clone().map(|uid| {
                vec![OwnerReference {
                    api_version: "v1".into(),
                    kind: "Node".into(),
                    name: name.clone(),
                    uid,
                    ..Default::default()
                }]
            }),
            ..Default::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some(name),
            lease_duration_seconds: Some(DURATION_SECONDS),
            renew_time: Some(MicroTime(now)),
            ..Default::default()
        }),
    }
}

async fn ensure_namespace(client: &kube::Client) {
    let ns: Api<Namespace> = Api::all(client.clone());
    let obj =
        Namespace { metadata: ObjectMeta { name: Some(NAMESPACE.into()), ..Default::default() }, ..Default::default() };
    let _ = ns.create(&PostParams::default(), &obj).await;
}

/// Creates the lease if missing, else moves its renewTime to now.
pub async fn renew(leases: &Api<Lease>, node: &Node) -> kube::Result<()> {
    let now = jiff::Timestamp::now();
    let name = node.metadata.name.clone().unwrap_or_default();
    let patch = serde_json::json!({"spec": {"renewTime": MicroTime(now), "holderIdentity": name}});
    match leases.patch(&name, &PatchParams::default(), &Patch::Merge(&patch)).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 404 => {
            leases.create(&PostParams::default(), &lease(node, now)).await.map(drop)
        }
        Err(e) => Err(e),
    }
}

/// Renews the lease forever; a failed renewal is logged and retried at the next tick.
pub async fn run(client: kube::Client, node: Node) {
    ensure_namespace(&client).await;
    let leases: Api<Lease> = Api::namespaced(client, NAMESPACE);
    let mut tick = tokio::time::interval(RENEW_INTERVAL);
    loop {
        tick.tick().await;
        if let Err(e) = renew(&leases, &node).await {
            tracing::warn!("renewing the node lease: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lease_is_held_by_the_node_and_owned_by_it() {
        let node = Node {
            metadata: ObjectMeta { name: Some("n1".into()), uid: Some("u1".into()), ..Default::default() },
            ..Default::default()
        };
        let l = lease(&node, jiff::Timestamp::UNIX_EPOCH);
        let spec = l.spec.unwrap_or_default();
        assert_eq!(spec.holder_identity.as_deref(), Some("n1"));
        assert_eq!(spec.lease_duration_seconds, Some(40));
        let owner = &l.metadata.owner_references.unwrap_or_default()[0];
        assert_eq!((owner.kind.as_str(), owner.uid.as_str()), ("Node", "u1"));
        assert_eq!(l.metadata.namespace.as_deref(), Some("kube-node-lease"));
    }
}
