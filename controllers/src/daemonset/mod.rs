//! The DaemonSet controller: one pod per eligible node, pinned there by node affinity for
//! the scheduler to bind, rolled by RollingUpdate, with ControllerRevision history.

mod backoff;
mod nodes;
mod plan;
mod status;
#[cfg(test)]
mod tests;
mod view;

pub use plan::{Observed, Plan, plan};
pub use view::View;

use crate::controller_ref::controller_of;
use crate::expectations::{ChildObserver, Expectations, key_of};
use crate::informer::{self, Ignore, Observer};
use crate::label_selector::{labels_of, matches};
use crate::pod_control::{self, generate_name, pod_from_template};
use crate::recorder::{EventType, Recorder};
use crate::replicaset::Victim;
use crate::revision::{CONTROLLER_REVISION_HASH, Step};
use crate::status_write;
use backoff::Backoff;
use futures::StreamExt;
use futures::future::join_all;
use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use kube::{Api, Client};
use serde_json::json;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A failed step of one sync.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the caches stopped before they were filled")]
    CacheStopped,
    #[error("{step} {name}: {source}")]
    Write {
        step: &'static str,
        name: String,
        #[source]
        source: kube::Error,
    },
}

fn write_err(step: &'static str, name: &str) -> impl FnOnce(kube::Error) -> Error {
    let name = name.to_string();
    move |source| Error::Write { step, name, source }
}

struct Ctx {
    client: Client,
    nodes: Store<Node>,
    pods: Store<Pod>,
    revisions: Store<ControllerRevision>,
    expectations: Arc<Expectations>,
    backoff: Backoff,
    recorder: Recorder,
}

/// Remembers nodes whose scheduling-relevant fields changed, so a node's heartbeat does
/// not resync every DaemonSet (Kubernetes' shouldIgnoreNodeUpdate).
#[derive(Clone, Default)]
struct NodeChanges(Arc<Mutex<HashSet<String>>>);

impl NodeChanges {
    fn mark(&self, node: &Node) {
        if let Ok(mut s) = self.0.lock() {
            s.insert(node.metadata.name.clone().unwrap_or_default());
        }
    }

    fn take(&self, node: &Node) -> bool {
        let name = node.metadata.name.as_deref().unwrap_or_default();
        self.0.lock().map(|mut s| s.remove(name)).unwrap_or(false)
    }
}

fn node_shape(n: &Node) -> impl PartialEq + '_ {
    let ready = n
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "Ready").map(|c| c.status.as_str()));
    let spec = n.spec.as_ref();
    (&n.metadata.labels, spec.map(|s| (&s.taints, s.unschedulable)), ready)
}

impl Observer<Node> for NodeChanges {
    fn added(&mut self, n: &Node) {
        self.mark(n);
    }
    fn updated(&mut self, old: &Node, new: &Node) {
        if node_shape(old) != node_shape(new) {
            self.mark(new);
        }
    }
    fn deleted(&mut self, n: &Node) {
        self.mark(n);
    }
}

/// Runs the controller until the client's watches end.
pub async fn run(client: Client) {
    let expectations = Arc::new(Expectations::default());
    let observer = ChildObserver { expectations: expectations.clone(), owner_kind: "DaemonSet".into() };
    let cfg = watcher::Config::default;
    let (pods, pod_events) = informer::watch(Api::<Pod>::all(client.clone()), cfg(), observer);
    let changes = NodeChanges::default();
    let (nodes, node_events) = informer::watch(Api::<Node>::all(client.clone()), cfg(), changes.clone());
    let (revisions, revision_events) = informer::watch(Api::<ControllerRevision>::all(client.clone()), cfg(), Ignore);
    let controller = Controller::new(Api::<DaemonSet>::all(client.clone()), cfg());
    let (by_pod, by_node) = (controller.store(), controller.store());
    let ctx = Arc::new(Ctx {
        client: client.clone(),
        nodes,
        pods,
        revisions,
        expectations,
        backoff: Backoff::default(),
        recorder: Recorder::new(client, "daemonset-controller"),
    });
    controller
        .watches_stream(pod_events, move |pod| daemonsets_of_pod(&by_pod, &pod))
        .watches_stream(node_events, move |node| {
            let all = if changes.take(&node) { by_node.state() } else { Vec::new() };
            all.into_iter().map(|d| ObjectRef::from_obj(&*d)).collect::<Vec<_>>()
        })
        .owns_stream(revision_events)
        .run(reconcile, error_policy, ctx)
        .for_each(|r| {
            if let Err(e) = r {
                tracing::debug!(error = %e, "daemonset sync failed");
            }
            futures::future::ready(())
        })
        .await;
}

fn daemonsets_of_pod(sets: &Store<DaemonSet>, pod: &Pod) -> Vec<ObjectRef<DaemonSet>> {
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    match controller_of(&pod.metadata) {
        Some(r) if r.kind == "DaemonSet" => vec![ObjectRef::new(&r.name).within(&ns)],
        Some(_) => Vec::new(),
        None => sets
            .state()
            .iter()
            .filter(|d| d.metadata.namespace.as_deref() == Some(ns.as_str()))
            .filter(|d| d.spec.as_ref().is_some_and(|s| matches(&s.selector, labels_of(&pod.metadata))))
            .map(|d| ObjectRef::from_obj(&**d))
            .collect(),
    }
}

fn error_policy(_: Arc<DaemonSet>, err: &Error, _: Arc<Ctx>) -> Action {
    tracing::warn!(error = %err, "daemonset sync failed; retrying");
    Action::requeue(Duration::from_secs(2))
}

async fn reconcile(ds: Arc<DaemonSet>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    let ready = futures::future::try_join3(
        ctx.nodes.wait_until_ready(),
        ctx.pods.wait_until_ready(),
        ctx.revisions.wait_until_ready(),
    );
    ready.await.map_err(|_| Error::CacheStopped)?;
    let view = View::of(&ds);
    let key = key_of(&ds.metadata);
    let (nodes, pods, revisions) = (ctx.nodes.state(), ctx.pods.state(), ctx.revisions.state());
    let in_ns = |m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| m.namespace == ds.metadata.namespace;
    let backoff = ctx.backoff.remaining(&key);
    let observed = Observed {
        nodes: nodes.iter().map(|n| &**n).collect(),
        pods: pods.iter().filter(|p| in_ns(&p.metadata)).map(|p| &**p).collect(),
        revisions: revisions.iter().filter(|r| in_ns(&r.metadata)).map(|r| &**r).collect(),
        in_sync: ctx.expectations.satisfied(&key),
        backoff: &backoff,
        now: Timestamp::now(),
    };
    let plan = plan::plan(&view, &observed);
    apply(&ctx, &ds, &view, &key, &plan).await?;
    Ok(match plan.requeue_after {
        Some(d) => Action::requeue(d.unsigned_abs()),
        None => Action::await_change(),
    })
}

async fn apply(ctx: &Ctx, ds: &DaemonSet, view: &View, key: &str, plan: &Plan<'_>) -> Result<(), Error> {
    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), &view.namespace);
    pod_control::apply_claims(&pods, &plan::controller_ref(view), &plan.adopt, &plan.release)
        .await
        .map_err(|(name, e)| write_err("claiming pod", &name)(e))?;
    write_history(ctx, view, &plan.history).await?;
    for (kind, reason, msg) in &plan.events {
        ctx.recorder.publish(ds, *kind, reason, msg).await;
    }
    create_pods(ctx, ds, view, key, plan).await?;
    delete_pods(ctx, ds, view, key, &plan.delete).await?;
    for node in &plan.failed_on {
        ctx.backoff.next(key, node);
    }
    let revisions: Api<ControllerRevision> = Api::namespaced(ctx.client.clone(), &view.namespace);
    for name in &plan.prune_revisions {
        pod_control::delete(&revisions, name, None).await.map_err(write_err("deleting revision", name))?;
    }
    if status::changed(&view.status, &plan.status) {
        let patch = status_write::status_patch(&plan.status, status::KEYS, None);
        let sets: Api<DaemonSet> = Api::namespaced(ctx.client.clone(), &view.namespace);
        status_write::patch_status(&sets, &view.name, &patch)
            .await
            .map_err(write_err("writing status of daemonset", &view.name))?;
    }
    Ok(())
}

async fn write_history(ctx: &Ctx, view: &View, step: &Step) -> Result<(), Error> {
    let api: Api<ControllerRevision> = Api::namespaced(ctx.client.clone(), &view.namespace);
    match step {
        Step::Use(_) => Ok(()),
        Step::Renumber { name, revision } => pod_control::merge_patch(&api, name, &json!({"revision": revision}))
            .await
            .map(|_| ())
            .map_err(write_err("renumbering revision", name)),
        Step::Create(r) => match pod_control::create(&api, r).await {
            Err(e) if !pod_control::is_already_exists(&e) => {
                Err(write_err("creating revision", r.metadata.name.as_deref().unwrap_or_default())(e))
            }
            _ => Ok(()),
        },
    }
}

/// A daemon pod for `node`: the template with the revision hash, the daemon tolerations and
/// node affinity for that node alone.
fn daemon_pod(ds: &DaemonSet, view: &View, hash: &str, node: &str) -> Pod {
    let mut pod = pod_from_template(&view.template, crate::controller_ref::new_controller_ref(ds));
    pod.metadata.generate_name = Some(generate_name(&view.name));
    pod.metadata.labels.get_or_insert_default().insert(CONTROLLER_REVISION_HASH.into(), hash.into());
    let spec = pod.spec.get_or_insert_default();
    nodes::add_daemon_tolerations(spec);
    nodes::pin_to_node(spec, node);
    pod
}

async fn create_pods(ctx: &Ctx, ds: &DaemonSet, view: &View, key: &str, plan: &Plan<'_>) -> Result<(), Error> {
    let n = plan.create_on.len();
    if n == 0 {
        return Ok(());
    }
    ctx.expectations.expect_creations(key, n);
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &view.namespace);
    let make = |i: usize| daemon_pod(ds, view, &plan.hash, &plan.create_on[i]);
    let (created, err) = pod_control::slow_start_create(&api, n, make).await;
    for _ in created.len()..n {
        ctx.expectations.creation_observed(key);
    }
    for p in &created {
        let msg = format!("Created pod: {}", p.metadata.name.as_deref().unwrap_or_default());
        ctx.recorder.publish(ds, EventType::Normal, "SuccessfulCreate", &msg).await;
    }
    match err {
        None => Ok(()),
        Some(e) => {
            let msg = format!("Error creating: {e}");
            ctx.recorder.publish(ds, EventType::Warning, "FailedCreate", &msg).await;
            Err(write_err("creating pods of daemonset", &view.name)(e))
        }
    }
}

async fn delete_pods(ctx: &Ctx, ds: &DaemonSet, view: &View, key: &str, victims: &[Victim]) -> Result<(), Error> {
    if victims.is_empty() {
        return Ok(());
    }
    let pod_key = |v: &Victim| format!("{}/{}", view.namespace, v.name);
    ctx.expectations.expect_deletions(key, victims.iter().map(pod_key));
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &view.namespace);
    let results = join_all(victims.iter().map(|v| pod_control::delete(&api, &v.name, v.uid.as_deref()))).await;
    let mut first = None;
    for (v, r) in victims.iter().zip(results) {
        match r {
            Ok(true) => {
                let msg = format!("Deleted pod: {}", v.name);
                ctx.recorder.publish(ds, EventType::Normal, "SuccessfulDelete", &msg).await;
            }
            Ok(false) => ctx.expectations.deletion_observed(key, &pod_key(v)),
            Err(e) => {
                ctx.expectations.deletion_observed(key, &pod_key(v));
                first = first.or(Some(write_err("deleting pod", &v.name)(e)));
            }
        }
    }
    first.map_or(Ok(()), Err)
}
