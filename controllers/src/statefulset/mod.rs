//! The StatefulSet controller: pods `<set>-<ordinal>` with stable DNS identity and storage,
//! created and removed in order, rolled highest ordinal first, as kube-controller-manager's.

mod identity;
mod plan;
mod status;
#[cfg(test)]
mod tests;
mod view;

pub use identity::{POD_INDEX_LABEL, POD_NAME_LABEL};
pub use plan::{Act, Observed, Plan, plan};
pub use view::View;

use crate::controller_ref::controller_of;
use crate::informer::{self, Ignore};
use crate::label_selector::{labels_of, matches};
use crate::pod_control::{self, is_already_exists};
use crate::recorder::{EventType, Recorder};
use crate::revision::Step;
use crate::status_write;
use futures::StreamExt;
use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use kube::{Api, Client};
use serde_json::json;
use std::sync::Arc;
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
    pods: Store<Pod>,
    revisions: Store<ControllerRevision>,
    claims: Store<PersistentVolumeClaim>,
    recorder: Recorder,
}

/// Runs the controller until the client's watches end.
pub async fn run(client: Client) {
    let cfg = watcher::Config::default;
    let (pods, pod_events) = informer::watch(Api::<Pod>::all(client.clone()), cfg(), Ignore);
    let (revisions, revision_events) = informer::watch(Api::<ControllerRevision>::all(client.clone()), cfg(), Ignore);
    let (claims, claim_events) = informer::watch(Api::<PersistentVolumeClaim>::all(client.clone()), cfg(), Ignore);
    let controller = Controller::new(Api::<StatefulSet>::all(client.clone()), cfg());
    let sets = controller.store();
    let ctx = Arc::new(Ctx {
        client: client.clone(),
        pods,
        revisions,
        claims,
        recorder: Recorder::new(client, "statefulset-controller"),
    });
    controller
        .watches_stream(pod_events, move |pod| sets_of_pod(&sets, &pod))
        .owns_stream(revision_events)
        .owns_stream(claim_events)
        .run(reconcile, error_policy, ctx)
        .for_each(|r| {
            if let Err(e) = r {
                tracing::debug!(error = %e, "statefulset sync failed");
            }
            futures::future::ready(())
        })
        .await;
}

fn sets_of_pod(sets: &Store<StatefulSet>, pod: &Pod) -> Vec<ObjectRef<StatefulSet>> {
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    match controller_of(&pod.metadata) {
        Some(r) if r.kind == "StatefulSet" => vec![ObjectRef::new(&r.name).within(&ns)],
        Some(_) => Vec::new(),
        None => sets
            .state()
            .iter()
            .filter(|s| s.metadata.namespace.as_deref() == Some(ns.as_str()))
            .filter(|s| s.spec.as_ref().is_some_and(|sp| matches(&sp.selector, labels_of(&pod.metadata))))
            .map(|s| ObjectRef::from_obj(&**s))
            .collect(),
    }
}

fn error_policy(_: Arc<StatefulSet>, err: &Error, _: Arc<Ctx>) -> Action {
    tracing::warn!(error = %err, "statefulset sync failed; retrying");
    Action::requeue(Duration::from_secs(2))
}

async fn reconcile(set: Arc<StatefulSet>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    let ready = futures::future::try_join3(
        ctx.pods.wait_until_ready(),
        ctx.revisions.wait_until_ready(),
        ctx.claims.wait_until_ready(),
    );
    ready.await.map_err(|_| Error::CacheStopped)?;
    let view = View::of(&set);
    let (pods, revisions, claims) = (ctx.pods.state(), ctx.revisions.state(), ctx.claims.state());
    let in_ns = |m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| m.namespace == set.metadata.namespace;
    let observed = Observed {
        pods: pods.iter().filter(|p| in_ns(&p.metadata)).map(|p| &**p).collect(),
        revisions: revisions.iter().filter(|r| in_ns(&r.metadata)).map(|r| &**r).collect(),
        claims: claims.iter().filter(|c| in_ns(&c.metadata)).map(|c| &**c).collect(),
        now: Timestamp::now(),
    };
    let plan = plan::plan(&view, &observed);
    apply(&ctx, &set, &view, &plan).await?;
    Ok(match plan.requeue_after {
        Some(d) => Action::requeue(d.unsigned_abs()),
        None => Action::await_change(),
    })
}

async fn apply(ctx: &Ctx, set: &StatefulSet, view: &View, plan: &Plan<'_>) -> Result<(), Error> {
    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), &view.namespace);
    pod_control::apply_claims(&pods, &plan::controller_ref(view), &plan.adopt, &plan.release)
        .await
        .map_err(|(name, e)| write_err("claiming pod", &name)(e))?;
    write_history(ctx, view, &plan.history).await?;
    for act in &plan.acts {
        act_on(ctx, set, view, act).await?;
    }
    let revisions: Api<ControllerRevision> = Api::namespaced(ctx.client.clone(), &view.namespace);
    for name in &plan.prune_revisions {
        pod_control::delete(&revisions, name, None).await.map_err(write_err("deleting revision", name))?;
    }
    if status::changed(&view.status, &plan.status) {
        let patch = status_write::status_patch(&plan.status, status::KEYS, None);
        let sets: Api<StatefulSet> = Api::namespaced(ctx.client.clone(), &view.namespace);
        status_write::patch_status(&sets, &view.name, &patch)
            .await
            .map_err(write_err("writing status of statefulset", &view.name))?;
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
            Err(e) if !is_already_exists(&e) => {
                Err(write_err("creating revision", r.metadata.name.as_deref().unwrap_or_default())(e))
            }
            _ => Ok(()),
        },
    }
}

const CREATE: (&str, &str) = ("SuccessfulCreate", "FailedCreate");

/// One pod or claim write, with the event Kubernetes' StatefulPodControl records.
async fn act_on(ctx: &Ctx, set: &StatefulSet, view: &View, act: &Act) -> Result<(), Error> {
    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), &view.namespace);
    let (ok, (reason, failed), what, result) = match act {
        Act::CreateClaim(c) => {
            let claims: Api<PersistentVolumeClaim> = Api::namespaced(ctx.client.clone(), &view.namespace);
            let name = c.metadata.name.clone().unwrap_or_default();
            let r = ignore_exists(pod_control::create(&claims, c).await);
            (true, CREATE, format!("create Claim {name} in StatefulSet {} success", view.name), r)
        }
        Act::CreatePod(p) => {
            let name = p.metadata.name.clone().unwrap_or_default();
            let r = ignore_exists(pod_control::create(&pods, p).await);
            (true, CREATE, format!("create Pod {name} in StatefulSet {} successful", view.name), r)
        }
        Act::DeletePod(v) => {
            let r = pod_control::delete(&pods, &v.name, v.uid.as_deref()).await.map(|_| ());
            (
                true,
                ("SuccessfulDelete", "FailedDelete"),
                format!("delete Pod {} in StatefulSet {} successful", v.name, view.name),
                r,
            )
        }
        Act::PatchPod { name, patch } => {
            let r = pod_control::merge_patch(&pods, name, patch).await.map(|_| ());
            (
                false,
                ("SuccessfulUpdate", "FailedUpdate"),
                format!("update Pod {name} in StatefulSet {} successful", view.name),
                r,
            )
        }
    };
    match result {
        Ok(()) => {
            if ok {
                ctx.recorder.publish(set, EventType::Normal, reason, &what).await;
            }
            Ok(())
        }
        Err(e) => {
            ctx.recorder.publish(set, EventType::Warning, failed, &format!("{what}: {e}")).await;
            Err(write_err("writing pod or claim of statefulset", &view.name)(e))
        }
    }
}

/// The name already exists: the cache is behind, and the next sync will see it.
fn ignore_exists<T>(r: kube::Result<T>) -> kube::Result<()> {
    match r {
        Ok(_) => Ok(()),
        Err(e) if is_already_exists(&e) => Ok(()),
        Err(e) => Err(e),
    }
}
