//! The two rollout strategies: RollingUpdate within maxSurge/maxUnavailable, and Recreate
//! (all old pods gone before any new one): Kubernetes' rolling.go and recreate.go.

use super::plan::{State, Stop};
use super::view::{available_replicas, spec_replicas, status_replicas};
use crate::controller_ref::controller_of;
use crate::label_selector::{labels_of, matches};
use crate::pod_state::phase;
use k8s_openapi::api::core::v1::Pod;

impl State {
    /// Kubernetes' rolloutRolling: grow the new ReplicaSet, else shrink old ones, else
    /// prune history once complete; then the rollout status.
    pub fn rollout_rolling(&mut self) -> Result<(), Stop> {
        let (new, old) = self.get_all(true)?;
        let Some(new) = new else { return Err(Stop) };
        let all: Vec<usize> = old.iter().copied().chain([new]).collect();
        if self.reconcile_new(&all, new) {
            return self.sync_rollout_status(&all, Some(new));
        }
        let active_old = self.active(&old);
        if self.reconcile_old(&all, active_old, new) {
            return self.sync_rollout_status(&all, Some(new));
        }
        if self.deployment_complete(&self.status.clone()) {
            self.cleanup(&old);
        }
        self.sync_rollout_status(&all, Some(new))
    }

    fn reconcile_new(&mut self, all: &[usize], new: usize) -> bool {
        let spec = self.spec(new);
        if spec == self.d.replicas {
            return false;
        }
        if spec > self.d.replicas {
            return self.scale_and_record(new, self.d.replicas);
        }
        let count = self.new_rs_new_replicas(all, new);
        self.scale_and_record(new, count)
    }

    /// Kubernetes' reconcileOldReplicaSets: never below replicas - maxUnavailable available.
    fn reconcile_old(&mut self, all: &[usize], old: Vec<usize>, new: usize) -> bool {
        if self.sum(&old, spec_replicas) == 0 {
            return false;
        }
        let min_available = self.d.replicas - self.d.max_unavailable();
        let new_unavailable = self.spec(new) - available_replicas(&self.rss[new]);
        let max_scaled_down = self.sum(all, spec_replicas) - min_available - new_unavailable;
        if max_scaled_down <= 0 {
            return false;
        }
        let cleaned = self.cleanup_unhealthy(&old, max_scaled_down);
        let scaled = self.scale_down_old(all, &old);
        cleaned + scaled > 0
    }

    /// Scales down old ReplicaSets' unavailable pods first, so they cannot block a rollout.
    fn cleanup_unhealthy(&mut self, old: &[usize], max: i32) -> i32 {
        let mut old = old.to_vec();
        self.by_creation(&mut old);
        let mut total = 0;
        for i in old {
            if total >= max {
                break;
            }
            let spec = self.spec(i);
            let available = available_replicas(&self.rss[i]);
            if spec == 0 || spec == available {
                continue;
            }
            let count = (max - total).min(spec - available);
            self.scale_and_record(i, spec - count);
            total += count;
        }
        total
    }

    /// Kubernetes' scaleDownOldReplicaSetsForRollingUpdate.
    fn scale_down_old(&mut self, all: &[usize], old: &[usize]) -> i32 {
        let min_available = self.d.replicas - self.d.max_unavailable();
        let available = self.sum(all, available_replicas);
        if available <= min_available {
            return 0;
        }
        let mut old = old.to_vec();
        self.by_creation(&mut old);
        let want = available - min_available;
        let mut total = 0;
        for i in old {
            if total >= want {
                break;
            }
            let spec = self.spec(i);
            if spec == 0 {
                continue;
            }
            let count = spec.min(want - total);
            self.scale_and_record(i, spec - count);
            total += count;
        }
        total
    }

    /// Kubernetes' rolloutRecreate: old ReplicaSets to zero, wait for their pods to go, then
    /// the new ReplicaSet to full size.
    pub fn rollout_recreate(&mut self, pods: &[&Pod]) -> Result<(), Stop> {
        let (new, old) = self.get_all(false)?;
        let mut all: Vec<usize> = old.iter().copied().chain(new).collect();
        let mut scaled = false;
        for i in self.active(&old) {
            scaled |= self.scale_and_record(i, 0);
        }
        if scaled || self.old_pods_running(new, &old, pods) {
            return self.sync_rollout_status(&all, new);
        }
        let new = match new {
            Some(n) => n,
            None => {
                let (n, o) = self.get_all(true)?;
                all = o.iter().copied().chain(n).collect();
                n.ok_or(Stop)?
            }
        };
        self.scale_and_record(new, self.d.replicas);
        if self.deployment_complete(&self.status.clone()) {
            self.cleanup(&old);
        }
        self.sync_rollout_status(&all, Some(new))
    }

    /// Whether any old ReplicaSet still has pods, counted or not yet finished.
    fn old_pods_running(&self, new: Option<usize>, old: &[usize], pods: &[&Pod]) -> bool {
        if self.sum(old, status_replicas) > 0 {
            return true;
        }
        let new_uid = new.and_then(|i| self.rss[i].metadata.uid.clone());
        let old_uids: Vec<&str> = old.iter().filter_map(|i| self.rss[*i].metadata.uid.as_deref()).collect();
        pods.iter()
            .filter(|p| matches(&self.d.selector, labels_of(&p.metadata)))
            .filter(|p| {
                controller_of(&p.metadata)
                    .is_some_and(|r| Some(&r.uid) != new_uid.as_ref() && old_uids.contains(&r.uid.as_str()))
            })
            .any(|p| !matches!(phase(p), "Failed" | "Succeeded"))
    }
}
