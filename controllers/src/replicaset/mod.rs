//! The ReplicaSet and ReplicationController controllers: keep `replicas` pods that match the
//! selector, adopting orphans and releasing strays, as kube-controller-manager's does.

mod owner;
mod plan;
mod rank;
mod status;

pub use owner::{ReplicaOwner, Selector, Spec};
pub use plan::{Manage, Victim};
pub use rank::pods_to_delete;

use crate::controller_ref::{controller_of, new_controller_ref};
use crate::expectations::{ChildObserver, Expectations, key_of};
use crate::informer;
use crate::label_selector::labels_of;
use crate::pod_control::{self, generate_name, pod_from_template};
use crate::recorder::{EventType, Recorder};
use crate::status_write;
use futures::StreamExt;
use futures::future::join_all;
use jiff::Timestamp;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{Pod, ReplicationController};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use kube::{Api, Client};
use std::sync::Arc;
use std::time::Duration;

/// A failed step of one sync.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the pod cache stopped before it was filled")]
    CacheStopped,
    #[error("claiming pod {pod}: {source}")]
    Claim {
        pod: String,
        #[source]
        source: kube::Error,
    },
    #[error("managing pods of {owner}: {source}")]
    Pods {
        owner: String,
        #[source]
        source: kube::Error,
    },
    #[error("writing status of {owner}: {source}")]
    Status {
        owner: String,
        #[source]
        source: kube::Error,
    },
}

struct Ctx<K: ReplicaOwner> {
    client: Client,
    pods: Store<Pod>,
    owners: Store<K>,
    expectations: Arc<Expectations>,
    recorder: Recorder,
}

/// Runs the ReplicaSet and the ReplicationController controllers.
pub async fn run(client: Client) {
    tokio::join!(
        run_kind::<ReplicaSet>(client.clone(), "replicaset-controller"),
        run_kind::<ReplicationController>(client, "replication-controller"),
    );
}

async fn run_kind<K: ReplicaOwner>(client: Client, component: &'static str) {
    let expectations = Arc::new(Expectations::default());
    let observer = ChildObserver { expectations: expectations.clone(), owner_kind: K::kind(&()).into_owned() };
    let (pods, pod_events) = informer::watch(Api::<Pod>::all(client.clone()), watcher::Config::default(), observer);
    let controller = Controller::new(Api::<K>::all(client.clone()), watcher::Config::default());
    let owners = controller.store();
    let ctx = Arc::new(Ctx {
        client: client.clone(),
        pods,
        owners: owners.clone(),
        expectations,
        recorder: Recorder::new(client, component),
    });
    controller
        .watches_stream(pod_events, move |pod| owners_of(&owners, &pod))
        .run(reconcile::<K>, error_policy::<K>, ctx)
        .for_each(|r| {
            if let Err(e) = r {
                tracing::debug!(error = %e, "replica sync failed");
            }
            futures::future::ready(())
        })
        .await;
}

/// The owners a pod change concerns: its controller, or for an orphan every owner in its
/// namespace whose selector picks it (so it gets adopted).
fn owners_of<K: ReplicaOwner>(owners: &Store<K>, pod: &Pod) -> Vec<ObjectRef<K>> {
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    match controller_of(&pod.metadata) {
        Some(r) if r.kind == K::kind(&()) => vec![ObjectRef::new(&r.name).within(&ns)],
        Some(_) => Vec::new(),
        None => owners
            .state()
            .iter()
            .filter(|o| o.meta().namespace.as_deref() == Some(ns.as_str()))
            .filter(|o| o.spec_view().selector.matches(labels_of(&pod.metadata)))
            .map(|o| ObjectRef::from_obj(&**o))
            .collect(),
    }
}

fn error_policy<K: ReplicaOwner>(_: Arc<K>, err: &Error, _: Arc<Ctx<K>>) -> Action {
    tracing::warn!(error = %err, "replica sync failed; retrying");
    Action::requeue(Duration::from_secs(2))
}

async fn reconcile<K: ReplicaOwner>(obj: Arc<K>, ctx: Arc<Ctx<K>>) -> Result<Action, Error> {
    ctx.pods.wait_until_ready().await.map_err(|_| Error::CacheStopped)?;
    let spec = obj.spec_view();
    let key = key_of(obj.meta());
    let all = ctx.pods.state();
    let pods: Vec<&Pod> =
        all.iter().filter(|p| p.metadata.namespace.as_deref() == Some(spec.namespace.as_str())).map(|p| &**p).collect();
    let related = related_pods(&ctx, &*obj, &pods);
    let now = Timestamp::now();
    let in_sync = ctx.expectations.satisfied(&key);
    let plan = plan::plan(&spec, &pods, &related, in_sync, now);
    claim(&ctx, &*obj, &plan).await?;
    let failure = manage(&ctx, &*obj, &spec, &key, &plan.manage).await;
    let new_status = status::compute(&spec, &plan.active, failure.as_ref().map(|f| &f.0), now);
    if status::changed(&spec.status, &new_status) {
        let patch = status_write::status_patch(&new_status, status::KEYS, None);
        status_write::patch_status(&api::<K>(&ctx, &spec), &spec.name, &patch)
            .await
            .map_err(|source| Error::Status { owner: key.clone(), source })?;
    }
    if let Some((_, source)) = failure {
        return Err(Error::Pods { owner: key, source });
    }
    Ok(match status::recheck_after(&spec, &plan.active, now) {
        Some(d) => Action::requeue(d.unsigned_abs()),
        None => Action::await_change(),
    })
}

fn api<K: ReplicaOwner>(ctx: &Ctx<K>, spec: &Spec) -> Api<K> {
    Api::namespaced(ctx.client.clone(), &spec.namespace)
}

fn pod_api<K: ReplicaOwner>(ctx: &Ctx<K>, spec: &Spec) -> Api<Pod> {
    Api::namespaced(ctx.client.clone(), &spec.namespace)
}

/// Pods of every owner that shares this owner's controller (a Deployment's ReplicaSets),
/// used to spread scale-downs across nodes.
fn related_pods<'a, K: ReplicaOwner>(ctx: &Ctx<K>, obj: &K, pods: &[&'a Pod]) -> Vec<&'a Pod> {
    let Some(parent) = controller_of(obj.meta()) else {
        return Vec::new();
    };
    let siblings: Vec<String> = ctx
        .owners
        .state()
        .iter()
        .filter(|o| controller_of(o.meta()).is_some_and(|r| r.uid == parent.uid))
        .filter_map(|o| o.meta().uid.clone())
        .collect();
    pods.iter().filter(|p| controller_of(&p.metadata).is_some_and(|r| siblings.contains(&r.uid))).copied().collect()
}

async fn claim<K: ReplicaOwner>(ctx: &Ctx<K>, obj: &K, plan: &plan::Plan<'_>) -> Result<(), Error> {
    let ns = obj.meta().namespace.clone().unwrap_or_default();
    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
    pod_control::apply_claims(&pods, &new_controller_ref(obj), &plan.adopt, &plan.release)
        .await
        .map_err(|(pod, source)| Error::Claim { pod, source })
}

/// Carries out the replica change; returns the failure for the ReplicaFailure condition.
async fn manage<K: ReplicaOwner>(
    ctx: &Ctx<K>,
    obj: &K,
    spec: &Spec,
    key: &str,
    manage: &Manage,
) -> Option<(status::Failure, kube::Error)> {
    match manage {
        Manage::Steady => None,
        Manage::Create(n) => create_pods(ctx, obj, spec, key, *n).await,
        Manage::Delete(victims) => delete_pods(ctx, obj, spec, key, victims).await,
    }
}

async fn create_pods<K: ReplicaOwner>(
    ctx: &Ctx<K>,
    obj: &K,
    spec: &Spec,
    key: &str,
    n: usize,
) -> Option<(status::Failure, kube::Error)> {
    let template = spec.template.clone()?;
    let owner_ref = new_controller_ref(obj);
    ctx.expectations.expect_creations(key, n);
    let make = |_| {
        let mut pod = pod_from_template(&template, owner_ref.clone());
        pod.metadata.generate_name = Some(generate_name(&spec.name));
        pod
    };
    let (created, err) = pod_control::slow_start_create(&pod_api(ctx, spec), n, make).await;
    for _ in created.len()..n {
        ctx.expectations.creation_observed(key);
    }
    for pod in &created {
        let msg = format!("Created pod: {}", pod.metadata.name.as_deref().unwrap_or_default());
        ctx.recorder.publish(obj, EventType::Normal, "SuccessfulCreate", &msg).await;
    }
    let e = err?;
    let message = format!("Error creating: {e}");
    ctx.recorder.publish(obj, EventType::Warning, "FailedCreate", &message).await;
    Some((status::Failure { reason: "FailedCreate", message }, e))
}

async fn delete_pods<K: ReplicaOwner>(
    ctx: &Ctx<K>,
    obj: &K,
    spec: &Spec,
    key: &str,
    victims: &[Victim],
) -> Option<(status::Failure, kube::Error)> {
    let pod_key = |v: &Victim| format!("{}/{}", spec.namespace, v.name);
    ctx.expectations.expect_deletions(key, victims.iter().map(pod_key));
    let api = pod_api(ctx, spec);
    let results = join_all(victims.iter().map(|v| pod_control::delete(&api, &v.name, v.uid.as_deref()))).await;
    let mut failure = None;
    for (v, r) in victims.iter().zip(results) {
        match r {
            Ok(true) => {
                let msg = format!("Deleted pod: {}", v.name);
                ctx.recorder.publish(obj, EventType::Normal, "SuccessfulDelete", &msg).await;
            }
            Ok(false) => ctx.expectations.deletion_observed(key, &pod_key(v)),
            Err(e) => {
                ctx.expectations.deletion_observed(key, &pod_key(v));
                let message = format!("Error deleting: {e}");
                ctx.recorder.publish(obj, EventType::Warning, "FailedDelete", &message).await;
                failure = failure.or(Some((status::Failure { reason: "FailedDelete", message }, e)));
            }
        }
    }
    failure
}
