//! Removes the tracking finalizer from Job pods whose Job is gone, so they can be deleted
//! (Kubernetes' orphan pod handling in the job controller).

use super::pods::has_finalizer;
use super::view::{CONTROLLER_UID, TRACKING_FINALIZER};
use crate::controller_ref::controller_of;
use crate::pod_control;
use futures::StreamExt;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use kube::{Api, Client};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

struct Ctx {
    client: Client,
    jobs: Store<Job>,
}

/// Watches pods carrying the Job UID label; runs until the watch ends.
pub async fn run(client: Client, jobs: Store<Job>) {
    let pods = Api::<Pod>::all(client.clone());
    let ctx = Arc::new(Ctx { client, jobs });
    Controller::new(pods, watcher::Config::default().labels(CONTROLLER_UID))
        .run(reconcile, |_, _, _| Action::requeue(Duration::from_secs(5)), ctx)
        .for_each(|_| futures::future::ready(()))
        .await;
}

/// Whether the pod's controlling Job still exists (with the same UID).
fn job_exists(jobs: &Store<Job>, pod: &Pod) -> bool {
    let Some(r) = controller_of(&pod.metadata).filter(|r| r.kind == "Job") else { return false };
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    jobs.get(&ObjectRef::new(&r.name).within(&ns)).is_some_and(|j| j.metadata.uid.as_deref() == Some(r.uid.as_str()))
}

async fn reconcile(pod: Arc<Pod>, ctx: Arc<Ctx>) -> Result<Action, kube::Error> {
    if !has_finalizer(&pod) || ctx.jobs.wait_until_ready().await.is_err() || job_exists(&ctx.jobs, &pod) {
        return Ok(Action::await_change());
    }
    let rest: Vec<&String> = pod.metadata.finalizers.iter().flatten().filter(|f| *f != TRACKING_FINALIZER).collect();
    let patch = json!({"metadata": {"finalizers": if rest.is_empty() { serde_json::Value::Null } else { json!(rest) }, "resourceVersion": pod.metadata.resource_version}});
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), pod.metadata.namespace.as_deref().unwrap_or_default());
    match pod_control::merge_patch(&api, pod.metadata.name.as_deref().unwrap_or_default(), &patch).await {
        Err(e) if !pod_control::is_not_found(&e) => Err(e),
        _ => Ok(Action::await_change()),
    }
}
