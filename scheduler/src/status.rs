//! Writes pod status the scheduler owns, through pods/status: the PodScheduled condition
//! (Unschedulable, SchedulingGated) and status.nominatedNodeName; and the preemption of victims
//! (DisruptionTarget condition, then delete).

use std::sync::Arc;

use k8s_openapi::api::core::v1::{Pod, PodCondition};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::Client;
use kube::api::{Api, DeleteParams, Patch, PatchParams, Preconditions};
use serde_json::json;
use tokio::sync::Semaphore;

use crate::pod_info::PodInfo;

/// The message of a pod waiting on scheduling gates (kube-scheduler's).
pub const GATED_MESSAGE: &str = "Scheduling is blocked due to non-empty scheduling gates";
/// Status writes in flight at once.
const CONCURRENCY: usize = 32;

/// The PodScheduled=False condition a pending pod should carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    /// Unschedulable or SchedulingGated.
    pub reason: &'static str,
    /// Why.
    pub message: String,
    /// status.nominatedNodeName to set, if preemption nominated a node.
    pub nominated: Option<String>,
}

/// The patch that records `pending`, or `None` when the pod already says so (kube-scheduler
/// skips the write then). lastTransitionTime moves only when the status changes.
pub fn pending_patch(pod: &Pod, pending: &Pending) -> Option<serde_json::Value> {
    let status = pod.status.as_ref();
    let current: Option<&PodCondition> =
        status.and_then(|s| s.conditions.as_ref()).and_then(|c| c.iter().find(|c| c.type_ == "PodScheduled"));
    let nominated_now = status.and_then(|s| s.nominated_node_name.as_deref()).filter(|n| !n.is_empty());
    let same = current.is_some_and(|c| {
        c.status == "False"
            && c.reason.as_deref() == Some(pending.reason)
            && c.message.as_deref() == Some(&pending.message)
    });
    let nomination_same = pending.nominated.is_none() || pending.nominated.as_deref() == nominated_now;
    if same && nomination_same {
        return None;
    }
    let transition = match current {
        Some(c) if c.status == "False" => c.last_transition_time.clone(),
        _ => None,
    }
    .unwrap_or_else(|| Time(jiff::Timestamp::now()));
    let mut patch = json!({"status": {"conditions": [{
        "type": "PodScheduled",
        "status": "False",
        "reason": pending.reason,
        "message": pending.message,
        "lastProbeTime": null,
        "lastTransitionTime": transition,
    }]}});
    if let Some(node) = &pending.nominated {
        patch["status"]["nominatedNodeName"] = json!(node);
    }
    Some(patch)
}

/// Writes status in the background, a bounded number at a time.
#[derive(Clone)]
pub struct StatusWriter {
    client: Client,
    permits: Arc<Semaphore>,
}

impl StatusWriter {
    /// A writer using `client`.
    pub fn new(client: Client) -> StatusWriter {
        StatusWriter { client, permits: Arc::new(Semaphore::new(CONCURRENCY)) }
    }

    /// Sets PodScheduled=False (and the nomination) unless the pod already says so.
    pub fn pending(&self, pod: &PodInfo, pending: Pending) {
        let Some(patch) = pending_patch(&pod.pod, &pending) else {
            return;
        };
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &pod.namespace);
        let name = pod.name.clone();
        self.spawn(async move {
            // A strategic merge patch merges conditions by type, as kube-scheduler's does.
            if let Err(error) = api.patch_status(&name, &PatchParams::default(), &Patch::Strategic(patch)).await {
                tracing::debug!(%error, pod = %name, "scheduler: could not set PodScheduled");
            }
        });
    }

    /// Clears status.nominatedNodeName of a pod whose nomination preemption took back.
    pub fn clear_nomination(&self, pod: &PodInfo) {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &pod.namespace);
        let name = pod.name.clone();
        self.spawn(async move {
            let patch = json!({"status": {"nominatedNodeName": null}});
            if let Err(error) = api.patch_status(&name, &PatchParams::default(), &Patch::Merge(patch)).await {
                tracing::debug!(%error, pod = %name, "scheduler: could not clear the nomination");
            }
        });
    }

    /// Evicts a preemption victim: DisruptionTarget=True (PreemptionByScheduler), then delete
    /// with the victim's uid as precondition.
    pub fn preempt(&self, victim: &PodInfo) {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &victim.namespace);
        let name = victim.name.clone();
        let uid = victim.pod.metadata.uid.clone();
        self.spawn(async move {
            let condition = json!({"status": {"conditions": [{
                "type": "DisruptionTarget",
                "status": "True",
                "reason": "PreemptionByScheduler",
                "message": "default-scheduler: preempting to accommodate a higher priority pod",
                "lastTransitionTime": Time(jiff::Timestamp::now()),
            }]}});
            if let Err(error) = api.patch_status(&name, &PatchParams::default(), &Patch::Strategic(condition)).await {
                tracing::debug!(%error, pod = %name, "scheduler: could not mark a preemption victim");
            }
            let params = DeleteParams {
                preconditions: Some(Preconditions { uid, resource_version: None }),
                ..DeleteParams::default()
            };
            if let Err(error) = api.delete(&name, &params).await {
                tracing::warn!(%error, pod = %name, "scheduler: could not delete a preemption victim");
            }
        });
    }

    fn spawn(&self, call: impl Future<Output = ()> + Send + 'static) {
        let permits = self.permits.clone();
        tokio::spawn(async move {
            let Ok(_permit) = permits.acquire_owned().await else {
                return;
            };
            call.await;
        });
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::PodStatus;

    use super::*;
    use crate::testing::pod;

    fn unschedulable(message: &str) -> Pending {
        Pending { reason: "Unschedulable", message: message.into(), nominated: None }
    }

    #[test]
    fn the_condition_is_written_once_per_message() {
        let mut p = pod("web").build();
        let patch = pending_patch(&p, &unschedulable("0/1 nodes are available: 1 Insufficient cpu.")).unwrap();
        let condition = &patch["status"]["conditions"][0];
        assert_eq!(condition["type"], "PodScheduled");
        assert_eq!(condition["status"], "False");
        assert_eq!(condition["reason"], "Unschedulable");
        let written: PodCondition = serde_json::from_value(condition.clone()).unwrap();
        p.status = Some(PodStatus { conditions: Some(vec![written.clone()]), ..Default::default() });
        assert!(pending_patch(&p, &unschedulable("0/1 nodes are available: 1 Insufficient cpu.")).is_none());
        let changed = pending_patch(&p, &unschedulable("0/2 nodes are available: 2 Insufficient cpu.")).unwrap();
        // Still False: the transition time stays.
        assert_eq!(
            changed["status"]["conditions"][0]["lastTransitionTime"],
            serde_json::to_value(&written.last_transition_time).unwrap()
        );
    }

    #[test]
    fn a_nomination_is_written_with_the_condition() {
        let p = pod("important").build();
        let pending = Pending { reason: "Unschedulable", message: "x".into(), nominated: Some("n1".into()) };
        assert_eq!(pending_patch(&p, &pending).unwrap()["status"]["nominatedNodeName"], "n1");
    }
}
