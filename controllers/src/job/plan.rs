//! The Job plan (Kubernetes' syncJob): count finished pods exactly once through
//! status.uncountedTerminatedPods and the tracking finalizer, decide failure (backoffLimit,
//! activeDeadlineSeconds) or success (completions), keep `parallelism` pods running, and
//! set the terminal condition only once no pod is left running or terminating.

use super::conditions::{ensure, find, new_condition};
use super::pods::{creation_delay, has_finalizer, index_of};
use super::view::{View, parse_indexes};
use crate::controller_ref::{Claim, Owner, claim};
use crate::label_selector::{labels_of, matches};
use crate::pod_state::{is_active, is_terminating, phase};
use crate::recorder::EventType;
use crate::replicaset::Victim;
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::batch::v1::{JobCondition, JobStatus, UncountedTerminatedPods};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use std::collections::{BTreeSet, HashSet};

/// Kubernetes' MaxPodCreateDeletePerSync and MaxUncountedPods.
const MAX_PER_SYNC: usize = 500;
pub(super) const MAX_UNCOUNTED: usize = 500;

pub struct Observed<'a> {
    pub pods: Vec<&'a Pod>,
    /// False while earlier pod writes are unseen or the cached Job predates our last write.
    pub in_sync: bool,
    /// Pods whose finalizer removal was sent but not yet seen.
    pub expected_rm_finalizers: &'a HashSet<String>,
    pub now: Timestamp,
}

#[derive(Debug, Default)]
pub struct Plan<'a> {
    pub adopt: Vec<&'a Pod>,
    pub release: Vec<&'a Pod>,
    pub delete: Vec<Victim>,
    /// One entry per pod to create: its completion index for Indexed Jobs.
    pub create: Vec<Option<i32>>,
    /// Written before finalizers are removed: the pods about to be counted.
    pub flush: Option<JobStatus>,
    pub remove_finalizers: Vec<&'a Pod>,
    /// Written after the finalizers are gone, when it differs from what was written.
    pub status: Option<JobStatus>,
    pub events: Vec<(EventType, &'static str, String)>,
    pub requeue_after: Option<SignedDuration>,
}

/// The sync in progress.
pub(super) struct Sync<'a, 'o> {
    pub(super) v: &'a View,
    pub(super) o: &'a Observed<'o>,
    pub(super) owned: Vec<&'o Pod>,
    pub(super) status: JobStatus,
    pub(super) active: Vec<&'o Pod>,
    pub(super) terminating: i32,
    pub(super) prev_indexes: BTreeSet<i32>,
    pub(super) finished: Option<JobCondition>,
    pub(super) plan: Plan<'o>,
}

pub fn plan<'o>(v: &View, o: &Observed<'o>) -> Plan<'o> {
    let mut s = Sync::new(v, o);
    s.decide();
    s.track();
    s.plan
}

pub(super) fn is_failed(v: &View, p: &Pod) -> bool {
    if v.only_replace_failed {
        return phase(p) == "Failed";
    }
    phase(p) == "Failed" || (is_terminating(&p.metadata) && phase(p) != "Succeeded")
}

pub(super) fn uid_of(p: &Pod) -> String {
    p.metadata.uid.clone().unwrap_or_default()
}

pub(super) fn len_i32(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl<'a, 'o> Sync<'a, 'o> {
    fn new(v: &'a View, o: &'a Observed<'o>) -> Self {
        let mut plan = Plan::default();
        let owner = Owner { uid: &v.uid, namespace: &v.namespace, deleting: v.deleting };
        let mut owned = Vec::new();
        for p in &o.pods {
            match claim(owner, &p.metadata, matches(&v.selector, labels_of(&p.metadata))) {
                Claim::Owned => owned.push(*p),
                Claim::Adopt => {
                    plan.adopt.push(*p);
                    owned.push(*p);
                }
                Claim::Release => plan.release.push(*p),
                Claim::Ignore => {}
            }
        }
        let mut status = v.status.clone();
        if status.start_time.is_none() && !v.suspend {
            status.start_time = Some(Time(o.now));
        }
        let active: Vec<&Pod> = owned.iter().copied().filter(|p| is_active(p)).collect();
        let terminating =
            len_i32(owned.iter().filter(|p| is_terminating(&p.metadata) && !crate::pod_state::is_finished(p)).count());
        let prev_indexes = parse_indexes(status.completed_indexes.as_deref().unwrap_or_default());
        Sync { v, o, owned, status, active, terminating, prev_indexes, finished: None, plan }
    }

    fn uncounted(&self) -> UncountedTerminatedPods {
        self.status.uncounted_terminated_pods.clone().unwrap_or_default()
    }

    /// Pods with the finalizer, not yet counted or being uncounted, passing `f`.
    fn new_finished(&self, f: impl Fn(&Pod) -> bool) -> Vec<&'o Pod> {
        let u = self.uncounted();
        let uncounted: HashSet<&String> = u.succeeded.iter().flatten().chain(u.failed.iter().flatten()).collect();
        self.owned
            .iter()
            .copied()
            .filter(|p| {
                has_finalizer(p)
                    && !uncounted.contains(&uid_of(p))
                    && !self.o.expected_rm_finalizers.contains(&uid_of(p))
            })
            .filter(|p| !self.v.indexed || self.valid_index(p).is_some())
            .filter(|p| f(p))
            .collect()
    }

    fn valid_index(&self, p: &Pod) -> Option<i32> {
        index_of(p).filter(|i| *i < self.v.completions.unwrap_or(0))
    }

    fn succeeded(&self) -> i32 {
        let new = self.new_finished(|p| phase(p) == "Succeeded");
        if self.v.indexed {
            let mut idx = self.prev_indexes.clone();
            idx.extend(new.iter().filter_map(|p| self.valid_index(p)));
            return len_i32(idx.len());
        }
        let u = self.uncounted().succeeded.unwrap_or_default().len();
        self.status.succeeded.unwrap_or(0) + len_i32(new.len() + u)
    }

    fn failed(&self) -> i32 {
        let new = self.new_finished(|p| is_failed(self.v, p));
        let u = self.uncounted().failed.unwrap_or_default().len();
        self.status.failed.unwrap_or(0) + len_i32(new.len() + u)
    }

    fn condition(&self, type_: &str, reason: &str, message: &str) -> JobCondition {
        new_condition(type_, "True", reason, message, self.o.now)
    }

    /// Failure or success, else keep the pods running (syncJob's middle).
    fn decide(&mut self) {
        if let Some(c) = find(&self.status, "FailureTarget") {
            self.finished = Some(self.condition(
                "Failed",
                c.reason.as_deref().unwrap_or_default(),
                c.message.as_deref().unwrap_or_default(),
            ));
        } else if let Some(c) = find(&self.status, "SuccessCriteriaMet") {
            self.finished = Some(self.condition(
                "Complete",
                c.reason.as_deref().unwrap_or_default(),
                c.message.as_deref().unwrap_or_default(),
            ));
        } else {
            self.finished = self.failure();
        }
        if self.finished.is_some() {
            self.delete_active();
            return;
        }
        let managed = self.o.in_sync && !self.v.deleting;
        if managed {
            self.manage();
        }
        let succeeded = self.succeeded();
        let done = match self.v.completions {
            None => succeeded > 0 && self.active.is_empty(),
            Some(c) => succeeded >= c && self.active.is_empty() && self.plan.create.is_empty(),
        };
        if done {
            self.finished = Some(self.condition(
                "SuccessCriteriaMet",
                "CompletionsReached",
                "Reached expected number of succeeded pods",
            ));
        } else if managed {
            self.suspend_condition();
        }
    }

    fn failure(&mut self) -> Option<JobCondition> {
        let failed = self.failed();
        let new_failure = failed > self.status.failed.unwrap_or(0);
        let exceeds = new_failure && len_i32(self.active.len()) != self.v.parallelism && failed > self.v.backoff_limit;
        if exceeds || self.past_backoff_on_failure() {
            return Some(self.condition(
                "FailureTarget",
                "BackoffLimitExceeded",
                "Job has reached the specified backoff limit",
            ));
        }
        let (Some(deadline), Some(start), false) =
            (self.v.active_deadline_seconds, self.status.start_time.as_ref(), self.v.suspend)
        else {
            return None;
        };
        let left = (start.0 + SignedDuration::from_secs(deadline)).duration_since(self.o.now);
        if !left.is_positive() {
            return Some(self.condition(
                "FailureTarget",
                "DeadlineExceeded",
                "Job was active longer than specified deadline",
            ));
        }
        self.plan.requeue_after = Some(left);
        None
    }

    /// Kubernetes' pastBackoffLimitOnFailure: restarts of running pods count as failures.
    fn past_backoff_on_failure(&self) -> bool {
        let spec = self.v.template.spec.as_ref();
        if spec.and_then(|s| s.restart_policy.as_deref()) != Some("OnFailure") {
            return false;
        }
        let restarts: i32 = self
            .owned
            .iter()
            .filter(|p| matches!(phase(p), "Running" | "Pending"))
            .filter_map(|p| p.status.as_ref())
            .flat_map(|s| s.container_statuses.iter().flatten().chain(s.init_container_statuses.iter().flatten()))
            .map(|c| c.restart_count)
            .sum();
        if self.v.backoff_limit == 0 { restarts > 0 } else { restarts >= self.v.backoff_limit }
    }

    fn delete_pods(&mut self, pods: Vec<&'o Pod>) {
        let n = pods.len().min(MAX_PER_SYNC);
        for p in pods.into_iter().take(n) {
            self.plan
                .delete
                .push(Victim { name: p.metadata.name.clone().unwrap_or_default(), uid: p.metadata.uid.clone() });
            self.active.retain(|a| a.metadata.uid != p.metadata.uid);
        }
        self.terminating += len_i32(n);
    }

    fn delete_active(&mut self) {
        let all = self.active.clone();
        self.delete_pods(all);
    }

    /// Kubernetes' manageJob: suspend removes every pod; otherwise as many pods as
    /// parallelism and the remaining completions allow, after the failure back-off.
    fn manage(&mut self) {
        if self.v.suspend {
            return self.delete_active();
        }
        let succeeded = self.succeeded();
        let active = len_i32(self.active.len());
        let want = match self.v.completions {
            None if succeeded > 0 => active,
            None => self.v.parallelism,
            Some(c) => (c - succeeded).min(self.v.parallelism).max(0),
        };
        let victims = self.removal_candidates((active - want).max(0));
        if !victims.is_empty() {
            return self.delete_pods(victims);
        }
        let terminating = if self.v.only_replace_failed { self.terminating } else { 0 };
        let diff = want - terminating - active;
        if diff <= 0 {
            return;
        }
        if let Some(wait) = creation_delay(&self.owned, self.o.now) {
            self.plan.requeue_after = Some(self.plan.requeue_after.map_or(wait, |r| r.min(wait)));
            return;
        }
        let diff = usize::try_from(diff).unwrap_or(0).min(MAX_PER_SYNC);
        self.plan.create = match self.v.indexed {
            true => self.pending_indexes(diff).into_iter().map(Some).collect(),
            false => vec![None; diff],
        };
    }

    /// Kubernetes' activePodsForRemoval: duplicated or invalid indexes first, then by the
    /// ReplicaSet deletion order.
    fn removal_candidates(&self, at_least: i32) -> Vec<&'o Pod> {
        let mut rm = Vec::new();
        let mut left = Vec::new();
        let mut seen = HashSet::new();
        for p in &self.active {
            let keep = !self.v.indexed || self.valid_index(p).is_some_and(|i| seen.insert(i));
            if keep { left.push(*p) } else { rm.push(*p) }
        }
        let more = usize::try_from(at_least).unwrap_or(0).saturating_sub(rm.len());
        if more > 0 {
            rm.extend(crate::replicaset::pods_to_delete(&left, &left, more, self.o.now));
        }
        rm
    }

    fn pending_indexes(&self, n: usize) -> Vec<i32> {
        let mut taken: BTreeSet<i32> = self.prev_indexes.clone();
        taken.extend(self.new_finished(|p| phase(p) == "Succeeded").iter().filter_map(|p| self.valid_index(p)));
        taken.extend(self.active.iter().filter_map(|p| self.valid_index(p)));
        (0..self.v.completions.unwrap_or(0)).filter(|i| !taken.contains(i)).take(n).collect()
    }

    /// Suspended True while suspended; False (and a fresh start time) on resume.
    fn suspend_condition(&mut self) {
        let (status, reason, message, event) = match self.v.suspend {
            true => ("True", "JobSuspended", "Job suspended", "Suspended"),
            false => ("False", "JobResumed", "Job resumed", "Resumed"),
        };
        if ensure(&mut self.status, "Suspended", status, reason, message, self.o.now) {
            self.plan.events.push((EventType::Normal, event, message.into()));
            if !self.v.suspend {
                self.status.start_time = Some(Time(self.o.now));
            }
        }
    }
}
