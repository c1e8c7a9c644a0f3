//! The node lifecycle controller: a node whose kubelet stopped renewing its Lease for the
//! grace period gets Unknown conditions and the unreachable taints (not-ready ones when it
//! reports Ready=False), its pods are marked not ready, and pods that do not tolerate its
//! NoExecute taints are evicted. Also runs node IPAM.

mod eviction;
mod health;

use crate::recorder::{EventType, Recorder};
use eviction::Verdict;
use futures::StreamExt;
use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Pod, PodCondition};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// Namespace of the nodes' Leases.
pub const LEASE_NAMESPACE: &str = "kube-node-lease";
/// A healthy node is looked at again at least this often (the node monitor period).
const MONITOR_PERIOD: Duration = Duration::from_secs(5);

/// What a failed reconcile could not do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("writing the status of node {node}")]
    Status {
        node: String,
        #[source]
        source: kube::Error,
    },
    #[error("writing the taints of node {node}")]
    Taints {
        node: String,
        #[source]
        source: kube::Error,
    },
    #[error("updating pod {namespace}/{name} on node {node}")]
    Pod {
        node: String,
        namespace: String,
        name: String,
        #[source]
        source: kube::Error,
    },
}

struct Context {
    client: Client,
    leases: Store<Lease>,
    pods: Store<Pod>,
    grace: Duration,
    started: Timestamp,
    recorder: Recorder,
}

/// Runs the lifecycle controller and node IPAM until their watches end.
pub async fn run(client: Client, config: crate::Config) {
    futures::join!(
        run_lifecycle(client.clone(), config.node_monitor_grace_period),
        crate::node_ipam::run(client, config.cluster_cidr),
    );
}

async fn run_lifecycle(client: Client, grace: Duration) {
    let (leases, lease_w) = reflector::store::<Lease>();
    let (pods, pod_w) = reflector::store::<Pod>();
    let lease_api: Api<Lease> = Api::namespaced(client.clone(), LEASE_NAMESPACE);
    let lease_events = reflector::reflector(lease_w, watcher(lease_api, watcher::Config::default()));
    let pod_events = reflector::reflector(pod_w, watcher(Api::<Pod>::all(client.clone()), watcher::Config::default()));
    let ctx = Arc::new(Context {
        client: client.clone(),
        leases,
        pods,
        grace,
        started: Timestamp::now(),
        recorder: Recorder::new(client.clone(), "node-controller"),
    });
    let controller = Controller::new(Api::<Node>::all(client), watcher::Config::default());
    let nodes = controller.store();
    controller
        .watches_stream(lease_events.default_backoff().touched_objects(), |l: Lease| {
            l.metadata.name.map(|n| ObjectRef::<Node>::new(&n))
        })
        .watches_stream(pod_events.default_backoff().touched_objects(), move |p: Pod| node_needing_pass(&nodes, p))
        .run(reconcile, error_policy, ctx)
        .for_each(|_| futures::future::ready(()))
        .await;
}

/// A pod event concerns its node only when that node has something to do to its pods.
fn node_needing_pass(nodes: &Store<Node>, pod: Pod) -> Option<ObjectRef<Node>> {
    let r = ObjectRef::<Node>::new(pod.spec?.node_name.as_deref()?);
    nodes.get(&r).is_some_and(|n| needs_pod_pass(&n)).then_some(r)
}

async fn reconcile(node: Arc<Node>, ctx: Arc<Context>) -> Result<Action, Error> {
    let name = node.metadata.name.clone().unwrap_or_default();
    let now = Timestamp::now();
    let lease = ctx.leases.get(&ObjectRef::new(&name).within(LEASE_NAMESPACE));
    let silent = health::is_silent(&node, lease.as_deref(), now, ctx.grace, ctx.started);
    let mut node = (*node).clone();
    if silent && let Some(conditions) = health::unknown_conditions(&node, now) {
        node = write_conditions(&ctx, node, conditions).await?;
        let msg = format!("Node {name} status is now: NodeNotReady");
        ctx.recorder.publish(&node, EventType::Normal, "NodeNotReady", &msg).await;
    }
    if let Some(taints) = health::taints(&node, now) {
        node = write_taints(&ctx, node, taints).await?;
    }
    let next_eviction = if needs_pod_pass(&node) {
        let on_node = pods_on(&ctx.pods, &name);
        if health::ready_status(&node) != "True" {
            mark_pods_not_ready(&ctx, &name, &on_node, now).await?;
        }
        evict(&ctx, &node, &on_node, now).await?
    } else {
        None
    };
    let next_check = if silent {
        MONITOR_PERIOD
    } else {
        health::until_silent(&node, lease.as_deref(), now, ctx.grace, ctx.started)
    };
    let wait = [Some(next_check), next_eviction, Some(MONITOR_PERIOD * 12)].into_iter().flatten().min();
    Ok(Action::requeue(wait.unwrap_or(MONITOR_PERIOD) + Duration::from_millis(100)))
}

/// Only a node that is not ready or has NoExecute taints has anything to do to its pods.
fn needs_pod_pass(node: &Node) -> bool {
    let no_execute =
        node.spec.as_ref().and_then(|s| s.taints.as_ref()).is_some_and(|t| t.iter().any(|t| t.effect == "NoExecute"));
    no_execute || health::ready_status(node) != "True"
}

fn pods_on(pods: &Store<Pod>, node: &str) -> Vec<Arc<Pod>> {
    pods.state().into_iter().filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(node)).collect()
}

async fn write_conditions(
    ctx: &Context,
    mut node: Node,
    conditions: Vec<k8s_openapi::api::core::v1::NodeCondition>,
) -> Result<Node, Error> {
    let name = node.metadata.name.clone().unwrap_or_default();
    node.status.get_or_insert_with(Default::default).conditions = Some(conditions);
    let api: Api<Node> = Api::all(ctx.client.clone());
    api.replace_status(&name, &PostParams::default(), &node)
        .await
        .map_err(|source| Error::Status { node: name, source })
}

async fn write_taints(
    ctx: &Context,
    mut node: Node,
    taints: Vec<k8s_openapi::api::core::v1::Taint>,
) -> Result<Node, Error> {
    let name = node.metadata.name.clone().unwrap_or_default();
    node.spec.get_or_insert_with(Default::default).taints = Some(taints).filter(|t| !t.is_empty());
    let api: Api<Node> = Api::all(ctx.client.clone());
    api.replace(&name, &PostParams::default(), &node).await.map_err(|source| Error::Taints { node: name, source })
}

/// Pods still Ready on a node that is not get Ready=False (MarkPodsNotReady), so that
/// endpoints stop sending them traffic.
async fn mark_pods_not_ready(ctx: &Context, node: &str, pods: &[Arc<Pod>], now: Timestamp) -> Result<(), Error> {
    for pod in pods.iter().filter(|p| is_ready(p)) {
        let cond = PodCondition {
            type_: "Ready".into(),
            status: "False".into(),
            last_transition_time: Some(Time(now)),
            ..Default::default()
        };
        let patch = Patch::Strategic(json!({"status": {"conditions": [cond]}}));
        patch_pod_status(ctx, node, pod, &patch).await?;
    }
    Ok(())
}

fn is_ready(pod: &Pod) -> bool {
    let conditions = pod.status.as_ref().and_then(|s| s.conditions.as_deref()).unwrap_or_default();
    conditions.iter().any(|c| c.type_ == "Ready" && c.status == "True")
}

async fn patch_pod_status(ctx: &Context, node: &str, pod: &Pod, patch: &Patch<serde_json::Value>) -> Result<(), Error> {
    let (ns, name) =
        (pod.metadata.namespace.clone().unwrap_or_default(), pod.metadata.name.clone().unwrap_or_default());
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
    match api.patch_status(&name, &PatchParams::default(), patch).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.is_not_found() => Ok(()),
        Err(source) => Err(Error::Pod { node: node.into(), namespace: ns, name, source }),
    }
}

/// Evicts the pods whose tolerations ran out; returns when the next one will.
async fn evict(ctx: &Context, node: &Node, pods: &[Arc<Pod>], now: Timestamp) -> Result<Option<Duration>, Error> {
    let taints = node.spec.as_ref().and_then(|s| s.taints.clone()).unwrap_or_default();
    let name = node.metadata.name.clone().unwrap_or_default();
    let mut next: Option<Duration> = None;
    for pod in pods {
        match eviction::verdict(pod, &taints, now) {
            Verdict::Stay => {}
            Verdict::EvictIn(d) => next = Some(next.map_or(d, |n| n.min(d))),
            Verdict::EvictNow => evict_pod(ctx, &name, pod).await?,
        }
    }
    Ok(next)
}

/// Marks the pod with a DisruptionTarget condition, then deletes it, as the taint eviction
/// controller does.
async fn evict_pod(ctx: &Context, node: &str, pod: &Pod) -> Result<(), Error> {
    let (ns, name) =
        (pod.metadata.namespace.clone().unwrap_or_default(), pod.metadata.name.clone().unwrap_or_default());
    let cond = PodCondition {
        type_: "DisruptionTarget".into(),
        status: "True".into(),
        reason: Some("DeletionByTaintManager".into()),
        message: Some("Taint manager: deleting due to NoExecute taint".into()),
        last_transition_time: Some(Time(Timestamp::now())),
        ..Default::default()
    };
    patch_pod_status(ctx, node, pod, &Patch::Strategic(json!({"status": {"conditions": [cond]}}))).await?;
    let msg = format!("Marking for deletion Pod {ns}/{name}");
    ctx.recorder.publish(pod, EventType::Normal, "TaintManagerEviction", &msg).await;
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
    match api.delete(&name, &DeleteParams::default()).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.is_not_found() => Ok(()),
        Err(source) => Err(Error::Pod { node: node.into(), namespace: ns, name, source }),
    }
}

fn error_policy(_node: Arc<Node>, err: &Error, _ctx: Arc<Context>) -> Action {
    tracing::debug!(error = %err, "node-lifecycle: reconcile failed");
    Action::requeue(Duration::from_secs(1))
}
