//! Job plans over pods built in memory; `sync` applies a plan as the API server would
//! (a deleted pod with a finalizer stays, terminating, until the finalizer goes).

use super::plan::{Observed, Plan, plan};
use super::ttl::{Ttl, check};
use super::view::{COMPLETION_INDEX, CONTROLLER_UID, TRACKING_FINALIZER, View};
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::{Value, json};
use std::collections::HashSet;

fn job(extra: Value) -> Job {
    let mut spec = json!({
        "selector": {"matchLabels": {CONTROLLER_UID: "job-uid"}},
        "template": {"metadata": {"labels": {CONTROLLER_UID: "job-uid"}}, "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}
    });
    crate::test_support::merge(&mut spec, &extra);
    serde_json::from_value(json!({"metadata": {"name": "pi", "namespace": "default", "uid": "job-uid"}, "spec": spec}))
        .unwrap()
}

struct World {
    job: Job,
    pods: Vec<Pod>,
    now: Timestamp,
    in_sync: bool,
    next: u32,
}

impl World {
    fn new(job: Job) -> World {
        World { job, pods: Vec::new(), now: "2025-01-01T00:00:00Z".parse().unwrap(), in_sync: true, next: 0 }
    }

    fn plan(&self) -> Plan<'_> {
        let o = Observed {
            pods: self.pods.iter().collect(),
            in_sync: self.in_sync,
            expected_rm_finalizers: &EMPTY,
            now: self.now,
        };
        plan(&View::of(&self.job), &o)
    }

    fn sync(&mut self) {
        if View::of(&self.job).finished() {
            return;
        }
        let (delete, create, remove, status, flush) = {
            let p = self.plan();
            let remove: Vec<String> = p.remove_finalizers.iter().filter_map(|p| p.metadata.name.clone()).collect();
            (p.delete.clone(), p.create.clone(), remove, p.status.clone(), p.flush.clone())
        };
        for v in delete {
            self.pod_mut(&v.name).metadata.deletion_timestamp = Some(Time(self.now));
        }
        for index in create {
            self.next += 1;
            let mut p =
                super::pods::job_pod(&View::of(&self.job), crate::controller_ref::new_controller_ref(&self.job), index);
            p.metadata.name = Some(format!("pi-{}", self.next));
            p.metadata.uid = p.metadata.name.clone();
            p.metadata.creation_timestamp = Some(Time(self.now));
            p.status = Some(serde_json::from_value(json!({"phase": "Pending"})).unwrap());
            self.pods.push(p);
        }
        if let Some(s) = status.or(flush) {
            self.job.status = Some(s);
        }
        for name in remove {
            self.pod_mut(&name).metadata.finalizers = None;
        }
        self.pods.retain(|p| p.metadata.deletion_timestamp.is_none() || p.metadata.finalizers.is_some());
    }

    fn pod_mut(&mut self, name: &str) -> &mut Pod {
        self.pods.iter_mut().find(|p| p.metadata.name.as_deref() == Some(name)).unwrap()
    }

    fn finish(&mut self, name: &str, phase: &str) {
        self.pod_mut(name).status.as_mut().unwrap().phase = Some(phase.into());
    }

    fn finish_all(&mut self, phase: &str) {
        let names: Vec<String> = self.active().into_iter().collect();
        names.iter().for_each(|n| self.finish(n, phase));
    }

    fn active(&self) -> Vec<String> {
        self.pods.iter().filter(|p| crate::pod_state::is_active(p)).filter_map(|p| p.metadata.name.clone()).collect()
    }

    fn status(&self) -> k8s_openapi::api::batch::v1::JobStatus {
        self.job.status.clone().unwrap_or_default()
    }

    fn conditions(&self) -> Vec<String> {
        self.status()
            .conditions
            .unwrap_or_default()
            .iter()
            .filter(|c| c.status == "True")
            .map(|c| c.type_.clone())
            .collect()
    }
}

static EMPTY: std::sync::LazyLock<HashSet<String>> = std::sync::LazyLock::new(HashSet::new);

#[test]
fn a_job_starts_parallelism_pods_with_the_tracking_finalizer_and_job_labels() {
    let mut w = World::new(job(json!({"completions": 5, "parallelism": 2})));
    w.sync();
    assert_eq!(w.active().len(), 2);
    let p = &w.pods[0];
    assert!(p.metadata.finalizers.as_ref().unwrap().contains(&TRACKING_FINALIZER.to_string()));
    let labels = p.metadata.labels.as_ref().unwrap();
    assert_eq!((labels["job-name"].as_str(), labels["batch.kubernetes.io/job-name"].as_str()), ("pi", "pi"));
    assert_eq!(labels["controller-uid"], "job-uid");
    assert_eq!(p.metadata.generate_name.as_deref(), Some("pi-"));
    assert_eq!(w.status().active, Some(2));
    assert!(w.status().start_time.is_some());
}

#[test]
fn a_job_never_runs_more_pods_than_remaining_completions() {
    let mut w = World::new(job(json!({"completions": 3, "parallelism": 2})));
    w.sync();
    w.finish_all("Succeeded");
    w.sync();
    w.sync();
    assert_eq!(w.active().len(), 1);
    assert_eq!(w.status().succeeded, Some(2));
}

#[test]
fn a_succeeded_pod_is_counted_once_via_uncounted_terminated_pods() {
    let mut w = World::new(job(json!({"completions": 2, "parallelism": 1})));
    w.sync();
    w.finish_all("Succeeded");
    let p = w.plan();
    let flush = p.flush.clone().unwrap();
    assert_eq!(flush.uncounted_terminated_pods.unwrap().succeeded.unwrap(), ["pi-1"]);
    assert_eq!(p.remove_finalizers.len(), 1);
    assert_eq!(p.status.clone().unwrap().succeeded, Some(1));
    drop(p);
    w.sync();
    w.sync();
    w.sync();
    assert_eq!(w.status().succeeded, Some(1), "re-syncing does not count it again");
}

#[test]
fn a_job_reaching_its_completions_meets_success_criteria_then_completes() {
    let mut w = World::new(job(json!({})));
    w.sync();
    w.finish_all("Succeeded");
    w.sync();
    assert_eq!(w.conditions(), ["SuccessCriteriaMet", "Complete"]);
    let s = w.status();
    assert!(s.completion_time.is_some());
    assert_eq!((s.succeeded, s.active), (Some(1), None));
}

#[test]
fn exceeding_the_backoff_limit_sets_failure_target_removes_pods_then_fails() {
    let mut w = World::new(job(json!({"completions": 3, "parallelism": 2, "backoffLimit": 1})));
    w.sync();
    let first = w.active()[0].clone();
    w.finish(&first, "Failed");
    w.sync();
    w.now += SignedDuration::from_secs(11);
    w.sync();
    let next = w.active().into_iter().find(|n| *n != "pi-2").unwrap();
    w.finish(&next, "Failed");
    w.sync();
    assert!(w.conditions().contains(&"FailureTarget".to_string()));
    assert!(w.active().is_empty(), "running pods are deleted");
    w.sync();
    assert_eq!(w.conditions(), ["FailureTarget", "Failed"]);
    let failed = w.status().conditions.unwrap().into_iter().find(|c| c.type_ == "Failed").unwrap();
    assert_eq!(failed.reason.as_deref(), Some("BackoffLimitExceeded"));
}

#[test]
fn a_failed_pod_is_replaced_only_after_the_backoff() {
    let mut w = World::new(job(json!({})));
    w.sync();
    w.finish_all("Failed");
    w.sync();
    assert!(w.active().is_empty());
    assert_eq!(w.status().failed, Some(1));
    let p = w.plan();
    assert!(p.create.is_empty());
    assert!(p.requeue_after.is_some_and(|d| d <= SignedDuration::from_secs(10)));
    drop(p);
    w.now += SignedDuration::from_secs(10);
    w.sync();
    assert_eq!(w.active().len(), 1);
}

#[test]
fn a_job_active_past_its_deadline_fails_with_deadline_exceeded() {
    let mut w = World::new(job(json!({"activeDeadlineSeconds": 30})));
    w.sync();
    assert_eq!(w.plan().requeue_after, Some(SignedDuration::from_secs(30)));
    w.now += SignedDuration::from_secs(30);
    w.sync();
    w.sync();
    let c = w.status().conditions.unwrap().into_iter().find(|c| c.type_ == "Failed").unwrap();
    assert_eq!(c.reason.as_deref(), Some("DeadlineExceeded"));
    assert!(w.pods.is_empty() || w.active().is_empty());
}

#[test]
fn a_suspended_job_deletes_its_pods_and_resuming_restarts_the_clock() {
    let mut w = World::new(job(json!({"parallelism": 2, "completions": 2})));
    w.sync();
    w.job.spec.as_mut().unwrap().suspend = Some(true);
    w.sync();
    w.sync();
    assert!(w.active().is_empty());
    assert!(w.conditions().contains(&"Suspended".to_string()));
    w.job.spec.as_mut().unwrap().suspend = Some(false);
    w.now += SignedDuration::from_secs(100);
    w.sync();
    let s = w.status();
    let c = s.conditions.unwrap().into_iter().find(|c| c.type_ == "Suspended").unwrap();
    assert_eq!((c.status.as_str(), c.reason.as_deref()), ("False", Some("JobResumed")));
    assert_eq!(s.start_time.unwrap().0, w.now);
}

#[test]
fn an_indexed_job_runs_one_pod_per_index_with_its_annotation_and_hostname() {
    let mut w = World::new(job(json!({"completions": 3, "parallelism": 3, "completionMode": "Indexed"})));
    w.sync();
    let mut idx: Vec<String> =
        w.pods.iter().map(|p| p.metadata.annotations.as_ref().unwrap()[COMPLETION_INDEX].clone()).collect();
    idx.sort();
    assert_eq!(idx, ["0", "1", "2"]);
    let p = &w.pods[1];
    assert_eq!(p.spec.as_ref().unwrap().hostname.as_deref(), Some("pi-1"));
    assert_eq!(p.metadata.generate_name.as_deref(), Some("pi-1-"));
    let env = p.spec.as_ref().unwrap().containers[0].env.as_ref().unwrap();
    assert_eq!(env[0].name, "JOB_COMPLETION_INDEX");
}

#[test]
fn an_indexed_job_records_completed_indexes_and_reruns_only_missing_ones() {
    let mut w = World::new(job(json!({"completions": 3, "parallelism": 3, "completionMode": "Indexed"})));
    w.sync();
    w.finish("pi-1", "Succeeded");
    w.finish("pi-3", "Succeeded");
    w.finish("pi-2", "Failed");
    w.sync();
    assert_eq!(w.status().completed_indexes.as_deref(), Some("0,2"));
    assert_eq!(w.status().succeeded, Some(2));
    w.now += SignedDuration::from_secs(10);
    w.sync();
    let idx: Vec<String> = w
        .active()
        .iter()
        .map(|n| {
            w.pods.iter().find(|p| p.metadata.name.as_ref() == Some(n)).unwrap().metadata.annotations.as_ref().unwrap()
                [COMPLETION_INDEX]
                .clone()
        })
        .collect();
    assert_eq!(idx, ["1"]);
}

#[test]
fn a_work_queue_job_completes_once_a_pod_succeeds_and_the_rest_finish() {
    let mut w = World::new(job(json!({"parallelism": 2})));
    w.sync();
    w.finish("pi-1", "Succeeded");
    w.sync();
    assert_eq!(w.active(), ["pi-2"], "no new pods after a success");
    assert!(!w.conditions().contains(&"Complete".to_string()));
    w.finish("pi-2", "Succeeded");
    w.sync();
    assert!(w.conditions().contains(&"Complete".to_string()));
}

#[test]
fn nothing_is_created_while_earlier_creations_are_unseen() {
    let mut w = World::new(job(json!({})));
    w.in_sync = false;
    assert!(w.plan().create.is_empty());
}

#[test]
fn on_failure_restarts_reaching_the_backoff_limit_fail_the_job() {
    let mut w = World::new(job(json!({"backoffLimit": 2, "template": {"spec": {"restartPolicy": "OnFailure"}}})));
    w.sync();
    w.finish("pi-1", "Running");
    w.pod_mut("pi-1").status.as_mut().unwrap().container_statuses = Some(vec![
        serde_json::from_value(
            json!({"name": "c", "image": "busybox", "imageID": "", "ready": false, "restartCount": 2}),
        )
        .unwrap(),
    ]);
    w.sync();
    assert!(w.conditions().contains(&"FailureTarget".to_string()));
}

#[test]
fn a_finished_job_expires_after_its_ttl() {
    let mut w = World::new(job(json!({"ttlSecondsAfterFinished": 60})));
    w.sync();
    w.finish_all("Succeeded");
    w.sync();
    let v = View::of(&w.job);
    assert_eq!(check(&v, w.now + SignedDuration::from_secs(59)), Ttl::After(SignedDuration::from_secs(1)));
    assert_eq!(check(&v, w.now + SignedDuration::from_secs(60)), Ttl::Delete);
}

#[test]
fn an_orphan_pod_matching_the_selector_is_adopted() {
    let mut w = World::new(job(json!({})));
    let orphan = crate::pod_state::fixtures::pod("stray", &[(CONTROLLER_UID, "job-uid")], "Running", true);
    w.pods.push(orphan);
    let p = w.plan();
    assert_eq!(p.adopt.len(), 1);
    assert!(p.create.is_empty(), "the adopted pod counts as active");
}
