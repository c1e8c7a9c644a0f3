//! The CronJob plan (Kubernetes' cronjob controller v2 syncCronJob and
//! cleanupFinishedJobs): track active Jobs, start the Job for the most recent unmet
//! activation within startingDeadlineSeconds as concurrencyPolicy allows, and prune
//! finished Jobs beyond the history limits.

use super::schedule::{Missed, Schedule, most_recent};
use crate::recorder::EventType;
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::batch::v1::{CronJob, CronJobStatus, Job};
use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};
use std::collections::HashSet;

/// The annotation recording a Job's scheduled time (RFC 3339 in the CronJob's zone).
pub const SCHEDULED_TIMESTAMP: &str = "batch.kubernetes.io/cronjob-scheduled-timestamp";
/// Kubernetes' nextScheduleDelta: wake up just after the activation.
const DELTA: SignedDuration = SignedDuration::from_millis(100);

pub struct Observed<'a> {
    /// Jobs controlled by this CronJob.
    pub jobs: Vec<&'a Job>,
    /// UIDs of active Jobs the API server confirmed gone.
    pub missing: &'a HashSet<String>,
    pub now: Timestamp,
}

#[derive(Debug, Default)]
pub struct Plan {
    /// Jobs to delete (Replace, history limits), in the background.
    pub delete: Vec<(String, Option<String>)>,
    /// The Job to start, for this scheduled time.
    pub create: Option<(Box<Job>, Timestamp)>,
    /// The status before the new Job (the apply step adds it to `active`).
    pub status: CronJobStatus,
    pub events: Vec<(EventType, &'static str, String)>,
    pub requeue_after: Option<SignedDuration>,
}

fn finished(j: &Job) -> Option<&'static str> {
    let conds = j.status.as_ref()?.conditions.as_ref()?;
    ["Complete", "Failed"].into_iter().find(|t| conds.iter().any(|c| c.type_ == *t && c.status == "True"))
}

fn uid(j: &Job) -> String {
    j.metadata.uid.clone().unwrap_or_default()
}

pub fn job_ref(j: &Job) -> ObjectReference {
    ObjectReference {
        api_version: Some("batch/v1".into()),
        kind: Some("Job".into()),
        name: j.metadata.name.clone(),
        namespace: j.metadata.namespace.clone(),
        uid: j.metadata.uid.clone(),
        resource_version: j.metadata.resource_version.clone(),
        ..Default::default()
    }
}

/// `<cronjob>-<scheduled time in minutes since the epoch>`: one name per activation, so a
/// repeated attempt cannot start it twice.
pub fn job_name(cj: &str, scheduled: Timestamp) -> String {
    format!("{cj}-{}", scheduled.as_second().div_euclid(60))
}

pub fn plan(cj: &CronJob, o: &Observed<'_>) -> Plan {
    let mut p = Plan { status: cj.status.clone().unwrap_or_default(), ..Default::default() };
    track_active(&mut p, o);
    if cj.metadata.deletion_timestamp.is_none() {
        schedule(cj, o, &mut p);
    }
    cleanup(cj, o, &mut p);
    p
}

/// Drops finished and vanished Jobs from `active`; records the last success.
fn track_active(p: &mut Plan, o: &Observed<'_>) {
    let active: HashSet<String> = p.status.active.iter().flatten().filter_map(|r| r.uid.clone()).collect();
    for j in &o.jobs {
        let name = j.metadata.name.clone().unwrap_or_default();
        match (active.contains(&uid(j)), finished(j)) {
            (false, None) => p.events.push((
                EventType::Warning,
                "UnexpectedJob",
                format!("Saw a job that the controller did not create or forgot: {name}"),
            )),
            (true, Some(cond)) => {
                remove_active(&mut p.status, &uid(j));
                p.events.push((
                    EventType::Normal,
                    "SawCompletedJob",
                    format!("Saw completed job: {name}, condition: {cond}"),
                ));
            }
            _ => {}
        }
        let done_at = j.status.as_ref().and_then(|s| s.completion_time.clone());
        if finished(j) == Some("Complete")
            && done_at.as_ref().is_some_and(|t| p.status.last_successful_time.as_ref().is_none_or(|l| t.0 > l.0))
        {
            p.status.last_successful_time = done_at;
        }
    }
    let present: HashSet<String> = o.jobs.iter().map(|j| uid(j)).collect();
    for r in p.status.active.clone().unwrap_or_default() {
        let id = r.uid.clone().unwrap_or_default();
        if !present.contains(&id) && o.missing.contains(&id) {
            remove_active(&mut p.status, &id);
            let msg = format!("Active job went missing: {}", r.name.unwrap_or_default());
            p.events.push((EventType::Normal, "MissingJob", msg));
        }
    }
}

fn remove_active(s: &mut CronJobStatus, id: &str) {
    if let Some(a) = s.active.as_mut() {
        a.retain(|r| r.uid.as_deref() != Some(id));
    }
    if s.active.as_ref().is_some_and(Vec::is_empty) {
        s.active = None;
    }
}

/// The scheduling half of syncCronJob.
fn schedule(cj: &CronJob, o: &Observed<'_>, p: &mut Plan) {
    let spec = cj.spec.clone().unwrap_or_default();
    if spec.suspend == Some(true) {
        return;
    }
    let sched = match Schedule::parse(&spec.schedule, spec.time_zone.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            let reason = if matches!(e, super::schedule::ScheduleError::UnknownTimeZone(_)) {
                "UnknownTimeZone"
            } else {
                "UnparseableSchedule"
            };
            return p.events.push((EventType::Warning, reason, e.to_string()));
        }
    };
    let created = cj.metadata.creation_timestamp.as_ref().map_or(o.now, |t| t.0);
    let last = p.status.last_schedule_time.as_ref().map_or(created, |t| t.0);
    let deadline = spec.starting_deadline_seconds.map(|s| o.now - SignedDuration::from_secs(s));
    let earliest = deadline.filter(|d| *d > last).unwrap_or(last);
    p.requeue_after = next_wake(&sched, last, o.now);
    let scheduled = match most_recent(&sched, earliest, o.now) {
        Err(e) => return p.events.push((EventType::Warning, "InvalidSchedule", e.to_string())),
        Ok((None, _)) => return,
        Ok((Some(t), missed)) => {
            if missed == Missed::Many {
                p.events.push((
                    EventType::Warning,
                    "TooManyMissedTimes",
                    "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew"
                        .into(),
                ));
            }
            t
        }
    };
    start(cj, &sched, scheduled, o.now, p);
}

/// Kubernetes' nextScheduleTimeDuration: until just after the next activation.
fn next_wake(s: &Schedule, last: Timestamp, now: Timestamp) -> Option<SignedDuration> {
    let recent = most_recent(s, last, now).ok().and_then(|(t, _)| t).unwrap_or(last);
    let next = s.next(recent)?;
    Some((next + DELTA).duration_since(now).max(DELTA))
}

fn start(cj: &CronJob, sched: &Schedule, scheduled: Timestamp, now: Timestamp, p: &mut Plan) {
    let spec = cj.spec.clone().unwrap_or_default();
    let too_late = spec.starting_deadline_seconds.is_some_and(|s| scheduled + SignedDuration::from_secs(s) < now);
    if too_late {
        let msg =
            format!("Missed scheduled time to start a job: {}", scheduled.strftime("%a, %d %b %Y %H:%M:%S +0000"));
        return p.events.push((EventType::Warning, "MissSchedule", msg));
    }
    let name = job_name(cj.metadata.name.as_deref().unwrap_or_default(), scheduled);
    let active = p.status.active.clone().unwrap_or_default();
    let done = p.status.last_schedule_time.as_ref().is_some_and(|t| t.0 == scheduled);
    if done || active.iter().any(|r| r.name.as_deref() == Some(name.as_str())) {
        return;
    }
    match spec.concurrency_policy.as_deref() {
        Some("Forbid") if !active.is_empty() => {
            let msg = "Not starting job because prior execution is running and concurrency policy is Forbid";
            return p.events.push((EventType::Normal, "JobAlreadyActive", msg.into()));
        }
        Some("Replace") => {
            for r in &active {
                let job = r.name.clone().unwrap_or_default();
                p.events.push((EventType::Normal, "SuccessfulDelete", format!("Deleted job {job}")));
                p.delete.push((job, r.uid.clone()));
                remove_active(&mut p.status, r.uid.as_deref().unwrap_or_default());
            }
        }
        _ => {}
    }
    p.create = Some((Box::new(job_for(cj, sched, &name, scheduled)), scheduled));
}

/// Kubernetes' getJobFromTemplate2.
fn job_for(cj: &CronJob, sched: &Schedule, name: &str, scheduled: Timestamp) -> Job {
    let template = cj.spec.clone().unwrap_or_default().job_template;
    let meta = template.metadata.unwrap_or_default();
    let mut annotations = meta.annotations.unwrap_or_default();
    annotations.insert(SCHEDULED_TIMESTAMP.into(), sched.format(scheduled));
    Job {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: cj.metadata.namespace.clone(),
            labels: meta.labels,
            annotations: Some(annotations),
            owner_references: Some(vec![OwnerReference {
                api_version: "batch/v1".into(),
                kind: "CronJob".into(),
                name: cj.metadata.name.clone().unwrap_or_default(),
                uid: cj.metadata.uid.clone().unwrap_or_default(),
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]),
            ..Default::default()
        },
        spec: Some(template.spec.unwrap_or_default()),
        status: None,
    }
}

/// Kubernetes' cleanupFinishedJobs: keep successfulJobsHistoryLimit (3) and
/// failedJobsHistoryLimit (1), deleting the oldest by start time.
fn cleanup(cj: &CronJob, o: &Observed<'_>, p: &mut Plan) {
    let spec = cj.spec.clone().unwrap_or_default();
    let limits = [
        ("Complete", spec.successful_jobs_history_limit.unwrap_or(3)),
        ("Failed", spec.failed_jobs_history_limit.unwrap_or(1)),
    ];
    for (kind, limit) in limits {
        let mut done: Vec<&Job> = o.jobs.iter().copied().filter(|j| finished(j) == Some(kind)).collect();
        let extra = done.len().saturating_sub(usize::try_from(limit.max(0)).unwrap_or(0));
        done.sort_by(|a, b| {
            let start = |j: &Job| j.status.as_ref().and_then(|s| s.start_time.as_ref()).map(|t| t.0);
            match (start(a), start(b)) {
                (Some(x), Some(y)) if x != y => x.cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                _ => a.metadata.name.cmp(&b.metadata.name),
            }
        });
        for j in done.into_iter().take(extra) {
            let name = j.metadata.name.clone().unwrap_or_default();
            p.delete.push((name.clone(), j.metadata.uid.clone()));
            remove_active(&mut p.status, &uid(j));
            p.events.push((EventType::Normal, "SuccessfulDelete", format!("Deleted job {name}")));
        }
    }
}

/// The status after the Job for `scheduled` was created.
pub fn with_started(mut s: CronJobStatus, job: &Job, scheduled: Timestamp) -> CronJobStatus {
    s.active.get_or_insert_default().push(job_ref(job));
    s.last_schedule_time = Some(Time(scheduled));
    s
}
