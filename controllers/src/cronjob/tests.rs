//! CronJob plans over Jobs built in memory, with the clock under the test's control.

use super::plan::{Observed, Plan, SCHEDULED_TIMESTAMP, job_name, plan, with_started};
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use serde_json::{Value, json};
use std::collections::HashSet;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn cronjob(extra: Value) -> CronJob {
    let mut spec = json!({
        "schedule": "*/1 * * * *",
        "timeZone": "UTC",
        "jobTemplate": {"metadata": {"labels": {"app": "hello"}}, "spec": {"template": {"spec": {"restartPolicy": "OnFailure", "containers": [{"name": "c", "image": "busybox"}]}}}}
    });
    crate::test_support::merge(&mut spec, &extra);
    serde_json::from_value(json!({"metadata": {"name": "hello", "namespace": "default", "uid": "cj-uid", "creationTimestamp": "2025-01-01T10:00:30Z"}, "spec": spec})).unwrap()
}

/// A CronJob, its Jobs and a clock; `sync` applies a plan.
struct World {
    cj: CronJob,
    jobs: Vec<Job>,
    now: Timestamp,
}

impl World {
    fn new(cj: CronJob) -> World {
        World { cj, jobs: Vec::new(), now: ts("2025-01-01T10:00:40Z") }
    }

    fn plan(&self) -> Plan {
        let missing = HashSet::new();
        plan(&self.cj, &Observed { jobs: self.jobs.iter().collect(), missing: &missing, now: self.now })
    }

    fn sync(&mut self) -> Plan {
        let p = self.plan();
        let deleted: Vec<String> = p.delete.iter().map(|(n, _)| n.clone()).collect();
        self.jobs.retain(|j| !deleted.contains(j.metadata.name.as_ref().unwrap()));
        let mut status = p.status.clone();
        if let Some((job, at)) = &p.create {
            let mut j = (**job).clone();
            j.metadata.uid = j.metadata.name.clone();
            j.status = Some(serde_json::from_value(json!({"startTime": Time(*at)})).unwrap());
            status = with_started(status, &j, *at);
            self.jobs.push(j);
        }
        self.cj.status = Some(status);
        p
    }

    fn finish(&mut self, name: &str, kind: &str) {
        let now = self.now;
        let j = self.jobs.iter_mut().find(|j| j.metadata.name.as_deref() == Some(name)).unwrap();
        let status = j.status.get_or_insert_default();
        status.conditions = Some(vec![serde_json::from_value(json!({"type": kind, "status": "True"})).unwrap()]);
        if kind == "Complete" {
            status.completion_time = Some(Time(now));
        }
    }

    fn names(&self) -> Vec<String> {
        self.jobs.iter().filter_map(|j| j.metadata.name.clone()).collect()
    }

    fn tick(&mut self) {
        self.now += SignedDuration::from_secs(60);
    }

    fn active(&self) -> usize {
        self.cj.status.as_ref().and_then(|s| s.active.as_ref()).map_or(0, Vec::len)
    }
}

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

#[test]
fn nothing_starts_before_the_first_activation_and_it_wakes_just_after() {
    let mut w = World::new(cronjob(json!({})));
    let p = w.sync();
    assert!(p.create.is_none());
    assert_eq!(p.requeue_after, Some(SignedDuration::from_millis(20_100)));
}

#[test]
fn a_job_named_for_its_scheduled_minute_starts_at_each_activation() {
    let mut w = World::new(cronjob(json!({})));
    w.now = ts("2025-01-01T10:01:05Z");
    w.sync();
    let expected = job_name("hello", ts("2025-01-01T10:01:00Z"));
    assert_eq!(w.names(), std::slice::from_ref(&expected));
    assert_eq!(expected, format!("hello-{}", ts("2025-01-01T10:01:00Z").as_second() / 60));
    let j = &w.jobs[0];
    assert_eq!(j.metadata.annotations.as_ref().unwrap()[SCHEDULED_TIMESTAMP], "2025-01-01T10:01:00Z");
    assert_eq!(j.metadata.labels.as_ref().unwrap()["app"], "hello");
    assert_eq!(j.metadata.owner_references.as_ref().unwrap()[0].kind, "CronJob");
    let s = w.cj.status.as_ref().unwrap();
    assert_eq!(s.last_schedule_time.as_ref().unwrap().0, ts("2025-01-01T10:01:00Z"));
    assert_eq!(w.active(), 1);
    assert!(w.sync().create.is_none(), "the same activation is not started twice");
}

#[test]
fn allow_runs_jobs_concurrently() {
    let mut w = World::new(cronjob(json!({})));
    for _ in 0..3 {
        w.tick();
        w.sync();
    }
    assert_eq!(w.active(), 3);
}

#[test]
fn forbid_skips_an_activation_while_a_job_runs() {
    let mut w = World::new(cronjob(json!({"concurrencyPolicy": "Forbid"})));
    w.tick();
    w.sync();
    w.tick();
    let p = w.sync();
    assert!(p.create.is_none());
    assert!(p.events.iter().any(|e| e.1 == "JobAlreadyActive"));
    let first = w.names()[0].clone();
    w.finish(&first, "Complete");
    w.sync();
    assert_eq!(w.names().len(), 2, "the missed activation starts once the prior job is done");
}

#[test]
fn replace_deletes_the_running_job_and_starts_a_new_one() {
    let mut w = World::new(cronjob(json!({"concurrencyPolicy": "Replace"})));
    w.tick();
    w.sync();
    let first = w.names();
    w.tick();
    w.sync();
    assert_eq!(w.names().len(), 1);
    assert_ne!(w.names(), first);
    assert_eq!(w.active(), 1);
}

#[test]
fn a_suspended_cronjob_starts_nothing() {
    let mut w = World::new(cronjob(json!({"suspend": true})));
    w.tick();
    w.tick();
    assert!(w.sync().create.is_none());
}

#[test]
fn an_activation_missed_beyond_the_starting_deadline_is_skipped() {
    let mut w = World::new(cronjob(json!({"schedule": "0 * * * *", "startingDeadlineSeconds": 30})));
    w.now = ts("2025-01-01T11:00:45Z");
    let p = w.sync();
    assert!(p.create.is_none());
    w.now = ts("2025-01-01T12:00:10Z");
    assert!(w.sync().create.is_some());
}

#[test]
fn finished_jobs_leave_active_and_the_last_success_is_recorded() {
    let mut w = World::new(cronjob(json!({})));
    w.tick();
    w.sync();
    let name = w.names()[0].clone();
    w.finish(&name, "Complete");
    let p = w.sync();
    assert_eq!(w.active(), 0);
    assert!(w.cj.status.as_ref().unwrap().last_successful_time.is_some());
    assert!(p.events.iter().any(|e| e.1 == "SawCompletedJob"));
}

#[test]
fn history_limits_prune_the_oldest_finished_jobs() {
    let mut w = World::new(cronjob(json!({"successfulJobsHistoryLimit": 2, "failedJobsHistoryLimit": 1})));
    for i in 0..5 {
        w.tick();
        w.sync();
        let last = w.names().last().unwrap().clone();
        w.finish(&last, if i < 3 { "Complete" } else { "Failed" });
    }
    w.sync();
    assert_eq!(w.names().len(), 3, "two successful and one failed kept: {:?}", w.names());
}

#[test]
fn an_unparseable_schedule_is_reported_not_retried() {
    let mut w = World::new(cronjob(json!({"schedule": "every day"})));
    w.tick();
    let p = w.sync();
    assert!(p.create.is_none() && p.requeue_after.is_none());
    assert!(p.events.iter().any(|e| e.1 == "UnparseableSchedule"));
}
