//! The CronJob controller: a Job per activation of the schedule, named for its time, with
//! concurrencyPolicy, startingDeadlineSeconds, suspend and history limits.

mod plan;
mod schedule;
#[cfg(test)]
mod tests;

pub use plan::{Observed, Plan, SCHEDULED_TIMESTAMP, job_name, plan};
pub use schedule::Schedule;

use crate::controller_ref::is_controlled_by;
use crate::expectations::{Written, key_of};
use crate::informer::{self, Ignore};
use crate::pod_control::{self, is_already_exists, is_not_found};
use crate::recorder::{EventType, Recorder};
use crate::status_write;
use futures::StreamExt;
use jiff::Timestamp;
use k8s_openapi::api::batch::v1::{CronJob, CronJobStatus, Job};
use kube::api::{DeleteParams, Preconditions, PropagationPolicy};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::Store;
use kube::runtime::watcher;
use kube::{Api, Client};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

/// Status keys a write must carry (a missing one is nulled).
const KEYS: &[&str] = &["active", "lastScheduleTime", "lastSuccessfulTime"];

/// A failed step of one sync.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the job cache stopped before it was filled")]
    CacheStopped,
    #[error("{step} {name}: {source}")]
    Api {
        step: &'static str,
        name: String,
        #[source]
        source: kube::Error,
    },
}

fn api_err(step: &'static str, name: &str) -> impl FnOnce(kube::Error) -> Error {
    let name = name.to_string();
    move |source| Error::Api { step, name, source }
}

struct Ctx {
    client: Client,
    jobs: Store<Job>,
    written: Written,
    recorder: Recorder,
}

/// Runs the controller until the client's watches end.
pub async fn run(client: Client) {
    let (jobs, job_events) = informer::watch(Api::<Job>::all(client.clone()), watcher::Config::default(), Ignore);
    let ctx = Arc::new(Ctx {
        client: client.clone(),
        jobs,
        written: Written::default(),
        recorder: Recorder::new(client.clone(), "cronjob-controller"),
    });
    Controller::new(Api::<CronJob>::all(client), watcher::Config::default())
        .owns_stream(job_events)
        .run(reconcile, error_policy, ctx)
        .for_each(|r| {
            if let Err(e) = r {
                tracing::debug!(error = %e, "cronjob sync failed");
            }
            futures::future::ready(())
        })
        .await;
}

fn error_policy(_: Arc<CronJob>, err: &Error, _: Arc<Ctx>) -> Action {
    tracing::warn!(error = %err, "cronjob sync failed; retrying");
    Action::requeue(Duration::from_secs(2))
}

async fn reconcile(cj: Arc<CronJob>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    ctx.jobs.wait_until_ready().await.map_err(|_| Error::CacheStopped)?;
    let key = key_of(&cj.metadata);
    if ctx.written.is_stale(&key, cj.metadata.resource_version.as_deref()) {
        return Ok(Action::requeue(Duration::from_secs(1)));
    }
    let uid = cj.metadata.uid.clone().unwrap_or_default();
    let all = ctx.jobs.state();
    let jobs: Vec<&Job> = all
        .iter()
        .filter(|j| j.metadata.namespace == cj.metadata.namespace && is_controlled_by(&j.metadata, &uid))
        .map(|j| &**j)
        .collect();
    let missing = confirm_missing(&ctx, &cj, &jobs).await?;
    let plan = plan::plan(&cj, &Observed { jobs, missing: &missing, now: Timestamp::now() });
    apply(&ctx, &cj, &key, plan).await
}

/// Active Jobs absent from the cache, asked of the API server so a slow watch is not
/// mistaken for a deletion (as Kubernetes does).
async fn confirm_missing(ctx: &Ctx, cj: &CronJob, cached: &[&Job]) -> Result<HashSet<String>, Error> {
    let api: Api<Job> = Api::namespaced(ctx.client.clone(), cj.metadata.namespace.as_deref().unwrap_or_default());
    let present: HashSet<&str> = cached.iter().filter_map(|j| j.metadata.uid.as_deref()).collect();
    let mut missing = HashSet::new();
    let active = cj.status.as_ref().and_then(|s| s.active.clone()).unwrap_or_default();
    for r in active.iter().filter(|r| !present.contains(r.uid.as_deref().unwrap_or_default())) {
        let name = r.name.clone().unwrap_or_default();
        match api.get(&name).await {
            Ok(j) if j.metadata.uid == r.uid => {}
            Ok(_) => missing.extend(r.uid.clone()),
            Err(e) if is_not_found(&e) => missing.extend(r.uid.clone()),
            Err(e) => return Err(api_err("getting job", &name)(e)),
        }
    }
    Ok(missing)
}

async fn apply(ctx: &Ctx, cj: &CronJob, key: &str, plan: Plan) -> Result<Action, Error> {
    let ns = cj.metadata.namespace.clone().unwrap_or_default();
    let jobs: Api<Job> = Api::namespaced(ctx.client.clone(), &ns);
    for (kind, reason, msg) in &plan.events {
        ctx.recorder.publish(cj, *kind, reason, msg).await;
    }
    for (name, uid) in &plan.delete {
        let dp = DeleteParams {
            propagation_policy: Some(PropagationPolicy::Background),
            preconditions: uid.clone().map(|u| Preconditions { uid: Some(u), resource_version: None }),
            ..Default::default()
        };
        match jobs.delete(name, &dp).await {
            Err(e) if !is_not_found(&e) => return Err(api_err("deleting job", name)(e)),
            _ => {}
        }
    }
    let mut status = plan.status.clone();
    if let Some((job, scheduled)) = &plan.create
        && let Some(created) = create(ctx, cj, &jobs, job).await?
    {
        status = plan::with_started(status, &created, *scheduled);
    }
    write_status(ctx, cj, key, &status).await?;
    Ok(match plan.requeue_after {
        Some(d) => Action::requeue(d.unsigned_abs()),
        None => Action::await_change(),
    })
}

/// Creates the Job; a Job of that name that is ours but missing from `active` is taken as
/// created (an earlier status write was lost). Returns the Job to record, if any.
async fn create(ctx: &Ctx, cj: &CronJob, api: &Api<Job>, job: &Job) -> Result<Option<Job>, Error> {
    let name = job.metadata.name.clone().unwrap_or_default();
    match pod_control::create(api, job).await {
        Ok(j) => {
            ctx.recorder.publish(cj, EventType::Normal, "SuccessfulCreate", &format!("Created job {name}")).await;
            Ok(Some(j))
        }
        Err(e) if is_already_exists(&e) => {
            let existing = api.get(&name).await.map_err(api_err("getting job", &name))?;
            let ours = is_controlled_by(&existing.metadata, cj.metadata.uid.as_deref().unwrap_or_default());
            let active = cj.status.as_ref().and_then(|s| s.active.as_ref());
            let listed = active.is_some_and(|a| a.iter().any(|r| r.uid == existing.metadata.uid));
            Ok((ours && !listed).then_some(existing))
        }
        Err(e) => {
            ctx.recorder.publish(cj, EventType::Warning, "FailedCreate", &format!("Error creating job: {e}")).await;
            Err(api_err("creating job", &name)(e))
        }
    }
}

async fn write_status(ctx: &Ctx, cj: &CronJob, key: &str, status: &CronJobStatus) -> Result<(), Error> {
    let old = cj.status.clone().unwrap_or_default();
    let norm = |s: &CronJobStatus| {
        let mut s = s.clone();
        if s.active.as_ref().is_some_and(Vec::is_empty) {
            s.active = None;
        }
        s
    };
    if norm(&old) == norm(status) {
        return Ok(());
    }
    let name = cj.metadata.name.clone().unwrap_or_default();
    let patch = status_write::status_patch(status, KEYS, cj.metadata.resource_version.as_deref());
    let api: Api<CronJob> = Api::namespaced(ctx.client.clone(), cj.metadata.namespace.as_deref().unwrap_or_default());
    let written =
        status_write::patch_status(&api, &name, &patch).await.map_err(api_err("writing status of cronjob", &name))?;
    ctx.written.record(key, written.metadata.resource_version.as_deref());
    Ok(())
}
