//! Deployment status and conditions: Available from minimum availability, Progressing with
//! the progress deadline, ReplicaFailure from the ReplicaSets (Kubernetes' progress.go).

use super::plan::{State, Stop};
use super::view::{available_replicas, ready_replicas, spec_replicas, status_replicas};
use jiff::SignedDuration;
use k8s_openapi::api::apps::v1::{DeploymentCondition, DeploymentStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// Status keys a write must carry (a missing one is nulled).
pub const KEYS: &[&str] = &[
    "observedGeneration",
    "replicas",
    "updatedReplicas",
    "readyReplicas",
    "availableReplicas",
    "unavailableReplicas",
    "conditions",
    "collisionCount",
];

/// Whether two statuses say the same, unset counters being zero.
pub fn same_status(a: &DeploymentStatus, b: &DeploymentStatus) -> bool {
    let norm = |s: &DeploymentStatus| {
        let mut s = s.clone();
        for f in [
            &mut s.replicas,
            &mut s.updated_replicas,
            &mut s.ready_replicas,
            &mut s.available_replicas,
            &mut s.unavailable_replicas,
        ] {
            if *f == Some(0) {
                *f = None;
            }
        }
        if s.conditions.as_ref().is_some_and(Vec::is_empty) {
            s.conditions = None;
        }
        s
    };
    norm(a) == norm(b)
}

fn get<'a>(s: &'a DeploymentStatus, type_: &str) -> Option<&'a DeploymentCondition> {
    s.conditions.iter().flatten().find(|c| c.type_ == type_)
}

fn remove(s: &mut DeploymentStatus, type_: &str) {
    if let Some(c) = s.conditions.as_mut() {
        c.retain(|c| c.type_ != type_);
    }
}

/// Kubernetes' SetDeploymentCondition: same status and reason is a no-op; same status keeps
/// the transition time.
fn set(s: &mut DeploymentStatus, mut cond: DeploymentCondition) {
    if let Some(cur) = get(s, &cond.type_) {
        if cur.status == cond.status && cur.reason == cond.reason {
            return;
        }
        if cur.status == cond.status {
            cond.last_transition_time = cur.last_transition_time.clone();
        }
    }
    remove(s, &cond.type_);
    s.conditions.get_or_insert_default().push(cond);
}

impl State {
    fn new_condition(&self, type_: &str, status: &str, reason: &str, message: String) -> DeploymentCondition {
        DeploymentCondition {
            type_: type_.into(),
            status: status.into(),
            reason: Some(reason.into()),
            message: Some(message),
            last_update_time: Some(Time(self.now)),
            last_transition_time: Some(Time(self.now)),
        }
    }

    pub fn condition(&self, type_: &str) -> Option<&DeploymentCondition> {
        get(&self.status, type_)
    }

    pub fn set_condition(&mut self, type_: &str, status: &str, reason: &str, message: String) {
        let c = self.new_condition(type_, status, reason, message);
        set(&mut self.status, c);
    }

    /// Kubernetes' checkPausedConditions: Progressing Unknown while paused, and on resume.
    pub fn check_paused_conditions(&mut self) {
        if self.d.progress_deadline_seconds.is_none() {
            return;
        }
        let cond = self.condition("Progressing");
        if cond.is_some_and(|c| c.reason.as_deref() == Some("ProgressDeadlineExceeded")) {
            return;
        }
        let paused_cond = cond.is_some_and(|c| c.reason.as_deref() == Some("DeploymentPaused"));
        if self.d.paused && !paused_cond {
            self.set_condition("Progressing", "Unknown", "DeploymentPaused", "Deployment is paused".into());
        } else if !self.d.paused && paused_cond {
            self.set_condition("Progressing", "Unknown", "DeploymentResumed", "Deployment is resumed".into());
        }
    }

    /// Kubernetes' calculateStatus: counts over all ReplicaSets and the Available condition.
    pub fn calculate_status(&self, all: &[usize], new: Option<usize>) -> DeploymentStatus {
        let available = self.sum(all, available_replicas);
        let total = self.sum(all, spec_replicas);
        // Kubernetes omits zero counters (omitempty).
        let nz = |n: i32| (n != 0).then_some(n);
        let mut s = DeploymentStatus {
            observed_generation: Some(self.d.generation),
            replicas: nz(self.sum(all, status_replicas)),
            updated_replicas: nz(new.map_or(0, |i| status_replicas(&self.rss[i]))),
            ready_replicas: nz(self.sum(all, ready_replicas)),
            available_replicas: nz(available),
            unavailable_replicas: nz((total - available).max(0)),
            collision_count: self.status.collision_count,
            conditions: self.status.conditions.clone(),
            ..Default::default()
        };
        let c = if available >= self.d.replicas - self.d.max_unavailable() {
            self.new_condition(
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.".into(),
            )
        } else {
            self.new_condition(
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.".into(),
            )
        };
        set(&mut s, c);
        s
    }

    /// Kubernetes' DeploymentComplete.
    pub fn deployment_complete(&self, s: &DeploymentStatus) -> bool {
        let r = self.d.replicas;
        s.updated_replicas.unwrap_or(0) == r
            && s.replicas.unwrap_or(0) == r
            && s.available_replicas.unwrap_or(0) == r
            && s.observed_generation.unwrap_or(0) >= self.d.generation
    }

    /// Kubernetes' DeploymentProgressing: more updated, fewer old, more ready or available.
    fn progressing(&self, new: &DeploymentStatus) -> bool {
        let old = &self.status;
        let n = |v: Option<i32>| v.unwrap_or(0);
        let old_old = n(old.replicas) - n(old.updated_replicas);
        let new_old = n(new.replicas) - n(new.updated_replicas);
        n(new.updated_replicas) > n(old.updated_replicas)
            || new_old < old_old
            || n(new.ready_replicas) > n(old.ready_replicas)
            || n(new.available_replicas) > n(old.available_replicas)
    }

    /// Kubernetes' DeploymentTimedOut: no progress for progressDeadlineSeconds.
    fn timed_out(&self, s: &DeploymentStatus) -> bool {
        let (Some(deadline), Some(c)) = (self.d.progress_deadline_seconds, get(s, "Progressing")) else {
            return false;
        };
        match c.reason.as_deref() {
            Some("NewReplicaSetAvailable") => false,
            Some("ProgressDeadlineExceeded") => true,
            _ => c
                .last_update_time
                .as_ref()
                .is_some_and(|t| t.0 + SignedDuration::from_secs(i64::from(deadline)) < self.now),
        }
    }

    fn subject(&self, new: Option<usize>) -> String {
        match new {
            Some(i) => format!("ReplicaSet {:?}", self.rss[i].metadata.name.as_deref().unwrap_or_default()),
            None => format!("Deployment {:?}", self.d.name),
        }
    }

    /// Kubernetes' syncRolloutStatus.
    pub fn sync_rollout_status(&mut self, all: &[usize], new: Option<usize>) -> Result<(), Stop> {
        let mut s = self.calculate_status(all, new);
        if self.d.progress_deadline_seconds.is_none() {
            remove(&mut s, "Progressing");
        }
        let current = self.condition("Progressing").cloned();
        let complete = s.replicas == s.updated_replicas
            && current.as_ref().is_some_and(|c| c.reason.as_deref() == Some("NewReplicaSetAvailable"));
        if self.d.progress_deadline_seconds.is_some() && !complete {
            self.progress_condition(&mut s, new, current);
        }
        match self.replica_failure(all, new) {
            Some(c) => set(&mut s, c),
            None => remove(&mut s, "ReplicaFailure"),
        }
        self.requeue = self.requeue_stuck(&s);
        self.status = s;
        Ok(())
    }

    fn progress_condition(&self, s: &mut DeploymentStatus, new: Option<usize>, current: Option<DeploymentCondition>) {
        let subject = self.subject(new);
        if self.deployment_complete(s) {
            let msg = format!("{subject} has successfully progressed.");
            set(s, self.new_condition("Progressing", "True", "NewReplicaSetAvailable", msg));
        } else if self.progressing(s) {
            let msg = format!("{subject} is progressing.");
            let mut c = self.new_condition("Progressing", "True", "ReplicaSetUpdated", msg);
            if let Some(cur) = current {
                if cur.status == "True" {
                    c.last_transition_time = cur.last_transition_time;
                }
                remove(s, "Progressing");
            }
            set(s, c);
        } else if self.timed_out(s) {
            let msg = format!("{subject} has timed out progressing.");
            set(s, self.new_condition("Progressing", "False", "ProgressDeadlineExceeded", msg));
        }
    }

    /// The ReplicaFailure of the new ReplicaSet, else of any other, as a Deployment condition.
    fn replica_failure(&self, all: &[usize], new: Option<usize>) -> Option<DeploymentCondition> {
        let order = new.into_iter().chain(all.iter().copied());
        order
            .filter_map(|i| self.rss[i].status.as_ref()?.conditions.clone())
            .flatten()
            .find(|c| c.type_ == "ReplicaFailure")
            .map(|c| DeploymentCondition {
                type_: c.type_,
                status: c.status,
                reason: c.reason,
                message: c.message,
                last_update_time: c.last_transition_time.clone(),
                last_transition_time: c.last_transition_time,
            })
    }

    /// Kubernetes' requeueStuckDeployment: look again when the deadline would pass.
    fn requeue_stuck(&self, s: &DeploymentStatus) -> Option<SignedDuration> {
        let deadline = self.d.progress_deadline_seconds?;
        let c = get(s, "Progressing")?;
        if self.deployment_complete(s) || c.reason.as_deref() == Some("ProgressDeadlineExceeded") {
            return None;
        }
        let updated = c.last_update_time.as_ref()?.0;
        let after = (updated + SignedDuration::from_secs(i64::from(deadline))).duration_since(self.now);
        Some(after.max(SignedDuration::from_secs(1)))
    }
}
