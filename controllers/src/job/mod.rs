//! The Job controller: run pods to `completions` with `parallelism` at a time, count each
//! finished pod exactly once (tracking finalizer), fail on backoffLimit or
//! activeDeadlineSeconds, honour suspend, and delete finished Jobs after their TTL.

mod conditions;
mod orphans;
mod plan;
mod pods;
mod status;
#[cfg(test)]
mod tests;
mod track;
mod tracking;
mod ttl;
mod view;

pub use plan::{Observed, Plan, plan};
pub use view::{CONTROLLER_UID, JOB_NAME, TRACKING_FINALIZER, View};

use crate::controller_ref::{adopt_patch, controller_of, new_controller_ref, release_patch};
use crate::expectations::{ChildObserver, Expectations, Written, key_of};
use crate::informer;
use crate::label_selector::{labels_of, matches};
use crate::pod_control::{self, is_not_found};
use crate::recorder::{EventType, Recorder};
use crate::replicaset::Victim;
use crate::status_write;
use futures::StreamExt;
use futures::future::join_all;
use jiff::Timestamp;
use k8s_openapi::api::batch::v1::{Job, JobStatus};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{DeleteParams, PropagationPolicy};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use kube::{Api, Client};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tracking::{Finalizers, PodObserver};

/// A failed step of one sync.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the pod cache stopped before it was filled")]
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
    expectations: Arc<Expectations>,
    finalizers: Arc<Finalizers>,
    written: Written,
    recorder: Recorder,
}

/// Runs the Job controller and its orphan-pod finalizer cleanup.
pub async fn run(client: Client) {
    let expectations = Arc::new(Expectations::default());
    let finalizers = Arc::new(Finalizers::default());
    let observer = PodObserver {
        children: ChildObserver { expectations: expectations.clone(), owner_kind: "Job".into() },
        finalizers: finalizers.clone(),
    };
    let (pods, pod_events) = informer::watch(Api::<Pod>::all(client.clone()), watcher::Config::default(), observer);
    let controller = Controller::new(Api::<Job>::all(client.clone()), watcher::Config::default());
    let (jobs, for_orphans) = (controller.store(), controller.store());
    let ctx = Arc::new(Ctx {
        client: client.clone(),
        pods,
        expectations,
        finalizers,
        written: Written::default(),
        recorder: Recorder::new(client.clone(), "job-controller"),
    });
    let main = controller
        .watches_stream(pod_events, move |pod| jobs_of_pod(&jobs, &pod))
        .run(reconcile, error_policy, ctx)
        .for_each(|r| {
            if let Err(e) = r {
                tracing::debug!(error = %e, "job sync failed");
            }
            futures::future::ready(())
        });
    tokio::join!(main, orphans::run(client, for_orphans));
}

fn jobs_of_pod(jobs: &Store<Job>, pod: &Pod) -> Vec<ObjectRef<Job>> {
    let ns = pod.metadata.namespace.clone().unwrap_or_default();
    match controller_of(&pod.metadata) {
        Some(r) if r.kind == "Job" => vec![ObjectRef::new(&r.name).within(&ns)],
        Some(_) => Vec::new(),
        None => jobs
            .state()
            .iter()
            .filter(|j| j.metadata.namespace.as_deref() == Some(ns.as_str()))
            .filter(|j| matches(&View::of(j).selector, labels_of(&pod.metadata)))
            .map(|j| ObjectRef::from_obj(&**j))
            .collect(),
    }
}

fn error_policy(_: Arc<Job>, err: &Error, _: Arc<Ctx>) -> Action {
    tracing::warn!(error = %err, "job sync failed; retrying");
    match err {
        Error::Write { source, .. } if pod_control::is_status(source, 409) => {
            Action::requeue(Duration::from_millis(500))
        }
        _ => Action::requeue(Duration::from_secs(2)),
    }
}

async fn reconcile(job: Arc<Job>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    ctx.pods.wait_until_ready().await.map_err(|_| Error::CacheStopped)?;
    let key = key_of(&job.metadata);
    if ctx.written.is_stale(&key, job.metadata.resource_version.as_deref()) {
        return Ok(Action::requeue(Duration::from_secs(1)));
    }
    let view = View::of(&job);
    let now = Timestamp::now();
    if view.finished() {
        return expire(&ctx, &view, now).await;
    }
    let all = ctx.pods.state();
    let expected = ctx.finalizers.pending(&key);
    let observed = Observed {
        pods: all.iter().filter(|p| p.metadata.namespace == job.metadata.namespace).map(|p| &**p).collect(),
        in_sync: ctx.expectations.satisfied(&key) && expected.is_empty(),
        expected_rm_finalizers: &expected,
        now,
    };
    let plan = plan::plan(&view, &observed);
    Apply { ctx: &ctx, job: &job, view: &view, key: &key, rv: job.metadata.resource_version.clone() }
        .run(&plan)
        .await?;
    Ok(match plan.requeue_after {
        Some(d) => Action::requeue(d.unsigned_abs()),
        None => Action::await_change(),
    })
}

/// ttlSecondsAfterFinished: delete the Job in the foreground (its pods first), as the TTL
/// controller does.
async fn expire(ctx: &Ctx, view: &View, now: Timestamp) -> Result<Action, Error> {
    match ttl::check(view, now) {
        ttl::Ttl::Keep => Ok(Action::await_change()),
        ttl::Ttl::After(d) => Ok(Action::requeue(d.unsigned_abs())),
        ttl::Ttl::Delete => {
            let api: Api<Job> = Api::namespaced(ctx.client.clone(), &view.namespace);
            let dp = DeleteParams {
                propagation_policy: Some(PropagationPolicy::Foreground),
                preconditions: Some(kube::api::Preconditions { uid: Some(view.uid.clone()), resource_version: None }),
                ..Default::default()
            };
            match api.delete(&view.name, &dp).await {
                Err(e) if !is_not_found(&e) => Err(write_err("deleting expired job", &view.name)(e)),
                _ => Ok(Action::await_change()),
            }
        }
    }
}

/// Carries out a plan: claims, pod deletions and creations, the first status write, the
/// finalizer removals, then the final status.
struct Apply<'a> {
    ctx: &'a Ctx,
    job: &'a Job,
    view: &'a View,
    key: &'a str,
    rv: Option<String>,
}

impl Apply<'_> {
    fn pods(&self) -> Api<Pod> {
        Api::namespaced(self.ctx.client.clone(), &self.view.namespace)
    }

    async fn run(&mut self, plan: &Plan<'_>) -> Result<(), Error> {
        self.claim(plan).await?;
        self.delete(&plan.delete).await?;
        self.create(&plan.create).await?;
        if let Some(s) = &plan.flush {
            self.write_status(s).await?;
        }
        self.remove_finalizers(&plan.remove_finalizers).await?;
        if let Some(s) = &plan.status {
            self.write_status(s).await?;
        }
        for (kind, reason, msg) in &plan.events {
            self.ctx.recorder.publish(self.job, *kind, reason, msg).await;
        }
        Ok(())
    }

    /// Adoption adds the tracking finalizer and release drops it, as Kubernetes' Job pod
    /// reference manager does.
    async fn claim(&self, plan: &Plan<'_>) -> Result<(), Error> {
        let owner = new_controller_ref(self.job);
        let adopts = plan.adopt.iter().map(|p| {
            let mut patch = adopt_patch(&p.metadata, &owner);
            let mut f: Vec<String> = p.metadata.finalizers.clone().unwrap_or_default();
            if !f.iter().any(|x| x == TRACKING_FINALIZER) {
                f.push(TRACKING_FINALIZER.into());
            }
            patch["metadata"]["finalizers"] = json!(f);
            (*p, patch)
        });
        let releases = plan.release.iter().map(|p| {
            let mut patch = release_patch(&p.metadata, &self.view.uid);
            patch["metadata"]["finalizers"] = without_tracking(p);
            (*p, patch)
        });
        for (p, patch) in adopts.chain(releases) {
            let name = p.metadata.name.clone().unwrap_or_default();
            match pod_control::merge_patch(&self.pods(), &name, &patch).await {
                Err(e) if !is_not_found(&e) => return Err(write_err("claiming pod", &name)(e)),
                _ => {}
            }
        }
        Ok(())
    }

    async fn delete(&self, victims: &[Victim]) -> Result<(), Error> {
        if victims.is_empty() {
            return Ok(());
        }
        let pod_key = |v: &Victim| format!("{}/{}", self.view.namespace, v.name);
        self.ctx.expectations.expect_deletions(self.key, victims.iter().map(pod_key));
        let api = self.pods();
        let results = join_all(victims.iter().map(|v| pod_control::delete(&api, &v.name, v.uid.as_deref()))).await;
        let mut first = None;
        for (v, r) in victims.iter().zip(results) {
            match r {
                Ok(true) => {
                    let msg = format!("Deleted pod: {}", v.name);
                    self.ctx.recorder.publish(self.job, EventType::Normal, "SuccessfulDelete", &msg).await;
                }
                Ok(false) => self.ctx.expectations.deletion_observed(self.key, &pod_key(v)),
                Err(e) => {
                    self.ctx.expectations.deletion_observed(self.key, &pod_key(v));
                    first = first.or(Some(write_err("deleting pod", &v.name)(e)));
                }
            }
        }
        first.map_or(Ok(()), Err)
    }

    async fn create(&self, indexes: &[Option<i32>]) -> Result<(), Error> {
        let n = indexes.len();
        if n == 0 {
            return Ok(());
        }
        self.ctx.expectations.expect_creations(self.key, n);
        let owner = new_controller_ref(self.job);
        let make = |i: usize| pods::job_pod(self.view, owner.clone(), indexes[i]);
        let (created, err) = pod_control::slow_start_create(&self.pods(), n, make).await;
        for _ in created.len()..n {
            self.ctx.expectations.creation_observed(self.key);
        }
        for p in &created {
            let msg = format!("Created pod: {}", p.metadata.name.as_deref().unwrap_or_default());
            self.ctx.recorder.publish(self.job, EventType::Normal, "SuccessfulCreate", &msg).await;
        }
        match err {
            None => Ok(()),
            Some(e) => {
                let msg = format!("Error creating: {e}");
                self.ctx.recorder.publish(self.job, EventType::Warning, "FailedCreate", &msg).await;
                Err(write_err("creating pods of job", &self.view.name)(e))
            }
        }
    }

    async fn remove_finalizers(&self, pods: &[&Pod]) -> Result<(), Error> {
        let api = self.pods();
        let calls = pods.iter().map(|p| {
            let uid = p.metadata.uid.clone().unwrap_or_default();
            self.ctx.finalizers.expect(self.key, &uid);
            let patch = json!({"metadata": {"finalizers": without_tracking(p), "resourceVersion": p.metadata.resource_version}});
            let name = p.metadata.name.clone().unwrap_or_default();
            let api = api.clone();
            async move { (uid, name.clone(), pod_control::merge_patch(&api, &name, &patch).await) }
        });
        let mut first = None;
        for (uid, name, r) in join_all(calls).await {
            match r {
                Ok(_) => {}
                Err(e) => {
                    self.ctx.finalizers.observed(self.key, &uid);
                    if !is_not_found(&e) {
                        first = first.or(Some(write_err("removing finalizer of pod", &name)(e)));
                    }
                }
            }
        }
        first.map_or(Ok(()), Err)
    }

    /// Status writes are guarded by the Job's resourceVersion, as UpdateStatus is.
    async fn write_status(&mut self, status: &JobStatus) -> Result<(), Error> {
        let patch = status_write::status_patch(status, status::KEYS, self.rv.as_deref());
        let api: Api<Job> = Api::namespaced(self.ctx.client.clone(), &self.view.namespace);
        let job = status_write::patch_status(&api, &self.view.name, &patch)
            .await
            .map_err(write_err("writing status of job", &self.view.name))?;
        self.rv = job.metadata.resource_version;
        self.ctx.written.record(self.key, self.rv.as_deref());
        Ok(())
    }
}

/// The pod's finalizers without the Job's (null when none are left).
fn without_tracking(p: &Pod) -> Value {
    let rest: Vec<&String> = p.metadata.finalizers.iter().flatten().filter(|f| *f != TRACKING_FINALIZER).collect();
    if rest.is_empty() { Value::Null } else { json!(rest) }
}
