//! The Deployment controller: a ReplicaSet per pod template, rolled by RollingUpdate or
//! Recreate, with revision history and rollout conditions, as kube-controller-manager's.

mod plan;
mod progress;
mod rollout;
mod sync;
#[cfg(test)]
mod tests;
mod view;

pub use plan::{Act, Observed, Plan, plan};
pub use view::{REVISION, View, scaled};

use crate::controller_ref::controller_of;
use crate::informer::{self, Ignore};
use crate::label_selector::{self, labels_of};
use crate::pod_control::{self, is_already_exists, is_not_found};
use crate::recorder::{EventType, Recorder};
use crate::status_write;
use futures::StreamExt;
use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentStatus, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use kube::{Api, Client};
use serde_json::Value;
use std::collections::HashMap;
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

impl Error {
    fn write(step: &'static str, name: &str) -> impl FnOnce(kube::Error) -> Error {
        let name = name.to_string();
        move |source| Error::Write { step, name, source }
    }
}

struct Ctx {
    client: Client,
    replica_sets: Store<ReplicaSet>,
    pods: Store<Pod>,
    recorder: Recorder,
}

/// Runs the controller until the client's watches end.
pub async fn run(client: Client) {
    let (replica_sets, rs_events) =
        informer::watch(Api::<ReplicaSet>::all(client.clone()), watcher::Config::default(), Ignore);
    let (pods, pod_events) = informer::watch(Api::<Pod>::all(client.clone()), watcher::Config::default(), Ignore);
    let controller = Controller::new(Api::<Deployment>::all(client.clone()), watcher::Config::default());
    let (by_rs, by_pod, rs_index) = (controller.store(), controller.store(), replica_sets.clone());
    let ctx = Arc::new(Ctx {
        client: client.clone(),
        replica_sets,
        pods,
        recorder: Recorder::new(client, "deployment-controller"),
    });
    controller
        .watches_stream(rs_events, move |rs| deployments_of_rs(&by_rs, &rs))
        .watches_stream(pod_events, move |pod| recreate_deployment_of_pod(&by_pod, &rs_index, &pod))
        .run(reconcile, error_policy, ctx)
        .for_each(|r| {
            if let Err(e) = r {
                tracing::debug!(error = %e, "deployment sync failed");
            }
            futures::future::ready(())
        })
        .await;
}

/// A ReplicaSet change concerns its controlling Deployment, or, for an orphan, every
/// Deployment in the namespace that selects it.
fn deployments_of_rs(deployments: &Store<Deployment>, rs: &ReplicaSet) -> Vec<ObjectRef<Deployment>> {
    let ns = rs.metadata.namespace.clone().unwrap_or_default();
    match controller_of(&rs.metadata) {
        Some(r) if r.kind == "Deployment" => vec![ObjectRef::new(&r.name).within(&ns)],
        Some(_) => Vec::new(),
        None => deployments
            .state()
            .iter()
            .filter(|d| d.metadata.namespace.as_deref() == Some(ns.as_str()))
            .filter(|d| {
                let sel = &d.spec.as_ref().map(|s| s.selector.clone()).unwrap_or_default();
                !label_selector::is_empty(sel) && label_selector::matches(sel, labels_of(&rs.metadata))
            })
            .map(|d| ObjectRef::from_obj(&**d))
            .collect(),
    }
}

/// Recreate waits for old pods to be gone, so their changes concern the Deployment.
fn recreate_deployment_of_pod(
    deployments: &Store<Deployment>,
    replica_sets: &Store<ReplicaSet>,
    pod: &Pod,
) -> Option<ObjectRef<Deployment>> {
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    let rs_ref = controller_of(&pod.metadata).filter(|r| r.kind == "ReplicaSet")?;
    let rs = replica_sets.get(&ObjectRef::new(&rs_ref.name).within(&ns))?;
    let d_ref = controller_of(&rs.metadata).filter(|r| r.kind == "Deployment")?;
    let key = ObjectRef::new(&d_ref.name).within(&ns);
    let d = deployments.get(&key)?;
    let recreate = d.spec.as_ref().and_then(|s| s.strategy.as_ref()).and_then(|s| s.type_.as_deref());
    (recreate == Some("Recreate")).then_some(key)
}

fn error_policy(_: Arc<Deployment>, err: &Error, _: Arc<Ctx>) -> Action {
    tracing::warn!(error = %err, "deployment sync failed; retrying");
    match err {
        Error::Write { source, .. } if pod_control::is_status(source, 409) => {
            Action::requeue(Duration::from_millis(500))
        }
        _ => Action::requeue(Duration::from_secs(5)),
    }
}

async fn reconcile(d: Arc<Deployment>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    let ready = futures::future::try_join(ctx.replica_sets.wait_until_ready(), ctx.pods.wait_until_ready());
    ready.await.map_err(|_| Error::CacheStopped)?;
    let ns = d.metadata.namespace.clone().unwrap_or_default();
    let in_ns =
        |m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| m.namespace.as_deref() == Some(ns.as_str());
    let rss = ctx.replica_sets.state();
    let recreate = matches!(View::of(&d).strategy, view::Strategy::Recreate);
    let pods = if recreate { ctx.pods.state() } else { Vec::new() };
    let observed = Observed {
        replica_sets: rss.iter().filter(|r| in_ns(&r.metadata)).map(|r| &**r).collect(),
        pods: pods.iter().filter(|p| in_ns(&p.metadata)).map(|p| &**p).collect(),
        now: Timestamp::now(),
    };
    let plan = plan::plan(&d, &observed);
    Apply::new(&ctx, &d, &observed).run(&plan).await?;
    Ok(match plan.requeue_after {
        Some(after) => Action::requeue(after.unsigned_abs()),
        None => Action::await_change(),
    })
}

/// Carries out a plan in order, stopping at the first failed write. Each ReplicaSet patch
/// is guarded by the latest resourceVersion known for it, so a stale cache yields a
/// Conflict and a retry instead of a lost update.
struct Apply<'a> {
    ctx: &'a Ctx,
    d: &'a Deployment,
    rs_api: Api<ReplicaSet>,
    d_api: Api<Deployment>,
    versions: HashMap<String, String>,
    d_version: Option<String>,
}

impl<'a> Apply<'a> {
    fn new(ctx: &'a Ctx, d: &'a Deployment, observed: &Observed<'_>) -> Self {
        let ns = d.metadata.namespace.clone().unwrap_or_default();
        let versions = observed
            .replica_sets
            .iter()
            .filter_map(|r| Some((r.metadata.name.clone()?, r.metadata.resource_version.clone()?)))
            .collect();
        Apply {
            ctx,
            d,
            rs_api: Api::namespaced(ctx.client.clone(), &ns),
            d_api: Api::namespaced(ctx.client.clone(), &ns),
            versions,
            d_version: d.metadata.resource_version.clone(),
        }
    }

    async fn run(&mut self, plan: &Plan) -> Result<(), Error> {
        for act in &plan.acts {
            self.act(act).await?;
        }
        if let Some(status) = &plan.status {
            self.write_status(status).await?;
        }
        Ok(())
    }

    async fn act(&mut self, act: &Act) -> Result<(), Error> {
        match act {
            Act::Adopt { name, patch } | Act::Release { name, patch } => {
                match pod_control::merge_patch(&self.rs_api, name, patch).await {
                    Ok(rs) => self.remember(&rs),
                    Err(e) if is_not_found(&e) => {}
                    Err(e) => return Err(Error::write("claiming replica set", name)(e)),
                }
            }
            Act::CreateReplicaSet(rs) => self.create(rs).await?,
            Act::PatchReplicaSet { name, patch } => {
                let mut patch = patch.clone();
                if let Some(rv) = self.versions.get(name) {
                    patch["metadata"]["resourceVersion"] = Value::String(rv.clone());
                }
                let rs = pod_control::merge_patch(&self.rs_api, name, &patch)
                    .await
                    .map_err(Error::write("updating replica set", name))?;
                self.remember(&rs);
            }
            Act::DeleteReplicaSet { name, uid } => {
                pod_control::delete(&self.rs_api, name, uid.as_deref())
                    .await
                    .map_err(Error::write("deleting replica set", name))?;
            }
            Act::PatchDeployment(patch) => {
                let name = self.d.metadata.name.clone().unwrap_or_default();
                let d = pod_control::merge_patch(&self.d_api, &name, patch)
                    .await
                    .map_err(Error::write("annotating deployment", &name))?;
                self.d_version = d.metadata.resource_version;
            }
            Act::Event { kind, reason, message } => {
                self.ctx.recorder.publish(self.d, *kind, reason, message).await;
            }
        }
        Ok(())
    }

    fn remember(&mut self, rs: &ReplicaSet) {
        if let (Some(n), Some(v)) = (&rs.metadata.name, &rs.metadata.resource_version) {
            self.versions.insert(n.clone(), v.clone());
        }
    }

    async fn create(&mut self, rs: &ReplicaSet) -> Result<(), Error> {
        let name = rs.metadata.name.clone().unwrap_or_default();
        match pod_control::create(&self.rs_api, rs).await {
            Ok(created) => {
                self.remember(&created);
                Ok(())
            }
            // The cache has not caught up with a ReplicaSet that exists: retry once it has.
            Err(e) if is_already_exists(&e) => Err(Error::write("creating replica set", &name)(e)),
            Err(e) => {
                self.failed_create(&name, &e).await;
                Err(Error::write("creating replica set", &name)(e))
            }
        }
    }

    /// Kubernetes' FailedRSCreate: a warning event and Progressing False.
    async fn failed_create(&mut self, name: &str, e: &kube::Error) {
        let msg = format!("Failed to create new replica set {name:?}: {e}");
        self.ctx.recorder.publish(self.d, EventType::Warning, "FailedCreate", &msg).await;
        let view = View::of(self.d);
        if view.progress_deadline_seconds.is_none() {
            return;
        }
        let mut status = view.status.clone();
        let now = k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(Timestamp::now());
        let conds = status.conditions.get_or_insert_default();
        conds.retain(|c| c.type_ != "Progressing");
        conds.push(k8s_openapi::api::apps::v1::DeploymentCondition {
            type_: "Progressing".into(),
            status: "False".into(),
            reason: Some("FailedRSCreate".into()),
            message: Some(msg),
            last_update_time: Some(now.clone()),
            last_transition_time: Some(now),
        });
        let _ = self.write_status(&status).await;
    }

    async fn write_status(&mut self, status: &DeploymentStatus) -> Result<(), Error> {
        let name = self.d.metadata.name.clone().unwrap_or_default();
        let patch = status_write::status_patch(status, progress::KEYS, self.d_version.as_deref());
        let d = status_write::patch_status(&self.d_api, &name, &patch)
            .await
            .map_err(Error::write("writing status of deployment", &name))?;
        self.d_version = d.metadata.resource_version;
        Ok(())
    }
}
