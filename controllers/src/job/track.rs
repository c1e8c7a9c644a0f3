//! Counting finished pods exactly once (Kubernetes' trackJobStatusAndRemoveFinalizers):
//! a finished pod's UID goes into status.uncountedTerminatedPods, then its tracking
//! finalizer is removed, then it moves into the succeeded or failed count.

use super::conditions::{ensure, find};
use super::plan::Sync;
use super::pods::{has_finalizer, index_of};
use super::view::format_indexes;
use crate::pod_state::{is_ready, phase};
use crate::recorder::EventType;
use k8s_openapi::api::batch::v1::{JobStatus, UncountedTerminatedPods};
use std::collections::HashSet;

/// Moves uncounted UIDs whose pods lost their finalizer into the counts.
fn clean_uncounted(s: &mut JobStatus, with_finalizer: &HashSet<String>) -> bool {
    let mut u = s.uncounted_terminated_pods.clone().unwrap_or_default();
    let mut changed = false;
    for (list, total) in [(&mut u.succeeded, &mut s.succeeded), (&mut u.failed, &mut s.failed)] {
        let before = list.as_ref().map_or(0, Vec::len);
        let kept: Vec<String> =
            list.take().unwrap_or_default().into_iter().filter(|id| with_finalizer.contains(id)).collect();
        let moved = before - kept.len();
        if moved > 0 {
            changed = true;
            *total = Some(total.unwrap_or(0) + i32::try_from(moved).unwrap_or(i32::MAX));
        }
        *list = Some(kept);
    }
    s.uncounted_terminated_pods = Some(u);
    changed
}

fn uncounted_is_empty(s: &JobStatus) -> bool {
    s.uncounted_terminated_pods
        .as_ref()
        .is_none_or(|u| u.succeeded.as_ref().is_none_or(Vec::is_empty) && u.failed.as_ref().is_none_or(Vec::is_empty))
}

impl<'o> Sync<'_, 'o> {
    /// Records active/ready/terminating and the pods to count, plans finalizer removal, and
    /// the terminal condition once nothing is uncounted or terminating.
    pub(super) fn track(&mut self) {
        let mut flush = self.set_counts();
        let expected = self.o.expected_rm_finalizers;
        let mut with_finalizer: HashSet<String> = self
            .owned
            .iter()
            .filter(|p| has_finalizer(p) && !expected.contains(&super::plan::uid_of(p)))
            .map(|p| super::plan::uid_of(p))
            .collect();
        flush |= clean_uncounted(&mut self.status, &with_finalizer);
        flush |= self.collect_finished();
        flush |= self.interim_condition();
        if flush {
            self.plan.flush = Some(self.status.clone());
        }
        for p in &self.plan.remove_finalizers {
            with_finalizer.remove(&super::plan::uid_of(p));
        }
        clean_uncounted(&mut self.status, &with_finalizer);
        self.enact_finished();
        let written = self.plan.flush.as_ref().unwrap_or(&self.v.status);
        if !super::status::same(written, &self.status) {
            self.plan.status = Some(self.status.clone());
        }
    }

    fn set_counts(&mut self) -> bool {
        let nz = |n: i32| (n != 0).then_some(n);
        let active = nz(super::plan::len_i32(self.active.len() + self.plan.create.len()));
        let ready = nz(super::plan::len_i32(self.active.iter().filter(|p| is_ready(p)).count()));
        let terminating = Some(self.terminating);
        let changed = (active, ready, terminating) != (self.status.active, self.status.ready, self.status.terminating);
        self.status.active = active;
        self.status.ready = ready;
        self.status.terminating = terminating;
        changed || self.status != self.v.status
    }

    /// Adds finished pods to uncounted (or, for Indexed, to completedIndexes) and plans
    /// their finalizer removal.
    fn collect_finished(&mut self) -> bool {
        let mut changed = false;
        let mut u: UncountedTerminatedPods = self.status.uncounted_terminated_pods.clone().unwrap_or_default();
        let mut indexes = self.prev_indexes.clone();
        let finishing = self.finished.is_some();
        let failing = self.finished.as_ref().is_some_and(|c| c.type_ != "SuccessCriteriaMet" && c.type_ != "Complete");
        let expected = self.o.expected_rm_finalizers;
        let candidates: Vec<_> = self
            .owned
            .iter()
            .copied()
            .filter(|p| has_finalizer(p) && !expected.contains(&super::plan::uid_of(p)))
            .collect();
        for p in candidates {
            let id = super::plan::uid_of(p);
            let failed = super::plan::is_failed(self.v, p);
            if !(self.v.deleting || finishing || phase(p) == "Succeeded" || failed) {
                continue;
            }
            self.plan.remove_finalizers.push(p);
            let in_failed = u.failed.iter().flatten().any(|x| *x == id);
            let in_succeeded = u.succeeded.iter().flatten().any(|x| *x == id);
            if phase(p) == "Succeeded" && !in_failed {
                if self.v.indexed {
                    if let Some(i) = index_of(p).filter(|i| *i < self.v.completions.unwrap_or(0)) {
                        indexes.insert(i);
                    }
                } else if !in_succeeded {
                    u.succeeded.get_or_insert_default().push(id);
                    changed = true;
                }
            } else if (failed || failing) && !in_failed && (!self.v.indexed || index_of(p).is_some()) {
                u.failed.get_or_insert_default().push(id);
                changed = true;
            }
            let n = u.succeeded.as_ref().map_or(0, Vec::len) + u.failed.as_ref().map_or(0, Vec::len) + indexes.len()
                - self.prev_indexes.len();
            if n >= super::plan::MAX_UNCOUNTED {
                break;
            }
        }
        self.status.uncounted_terminated_pods = Some(u);
        if self.v.indexed {
            let s = format_indexes(&indexes);
            changed |= self.status.completed_indexes.as_deref().unwrap_or_default() != s;
            self.status.succeeded = (!indexes.is_empty()).then(|| super::plan::len_i32(indexes.len()));
            self.status.completed_indexes = Some(s).filter(|s| !s.is_empty());
        }
        changed
    }

    /// FailureTarget and SuccessCriteriaMet are written before pods are let go; the final
    /// Failed or Complete follows once they are gone.
    fn interim_condition(&mut self) -> bool {
        let Some(c) = self.finished.clone() else { return false };
        let (reason, message) = (c.reason.clone().unwrap_or_default(), c.message.clone().unwrap_or_default());
        let final_type = match c.type_.as_str() {
            "FailureTarget" => "Failed",
            "SuccessCriteriaMet" => "Complete",
            _ => return false,
        };
        let added = find(&self.status, &c.type_).is_none();
        if added {
            self.status.conditions.get_or_insert_default().push(c);
        }
        self.finished = Some(super::conditions::new_condition(final_type, "True", &reason, &message, self.o.now));
        added
    }

    /// Kubernetes' enactJobFinished.
    fn enact_finished(&mut self) {
        let Some(c) = self.finished.clone() else { return };
        if !uncounted_is_empty(&self.status) || self.terminating > 0 || !self.plan.delete.is_empty() {
            return;
        }
        let (reason, message) = (c.reason.clone().unwrap_or_default(), c.message.clone().unwrap_or_default());
        ensure(&mut self.status, &c.type_, "True", &reason, &message, self.o.now);
        if c.type_ == "Complete" {
            self.status.completion_time = c.last_transition_time.clone();
            self.plan.events.push((EventType::Normal, "Completed", "Job completed".into()));
        } else {
            self.plan.events.push((EventType::Warning, static_reason(&reason), message));
        }
    }
}

fn static_reason(reason: &str) -> &'static str {
    match reason {
        "BackoffLimitExceeded" => "BackoffLimitExceeded",
        "DeadlineExceeded" => "DeadlineExceeded",
        _ => "Failed",
    }
}
