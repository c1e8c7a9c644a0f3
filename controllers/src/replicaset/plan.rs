//! The replica plan: from an owner and the pods in its namespace, which pods to adopt or
//! release and how many to create or delete (Kubernetes' ReplicaSet syncReplicaSet).

use super::owner::Spec;
use super::rank::pods_to_delete;
use crate::controller_ref::{Claim, Owner, claim};
use crate::label_selector::labels_of;
use crate::pod_state::is_active;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;

/// Kubernetes' burstReplicas: at most this many creations or deletions per sync.
pub const BURST_REPLICAS: usize = 500;

/// A pod to delete, named as the API and the expectations know it.
#[derive(Clone, Debug, PartialEq)]
pub struct Victim {
    pub name: String,
    pub uid: Option<String>,
}

/// What to do about the replica count.
#[derive(Clone, Debug, PartialEq)]
pub enum Manage {
    /// Enough pods, or still waiting to see earlier creations and deletions.
    Steady,
    Create(usize),
    Delete(Vec<Victim>),
}

/// The whole plan for one sync.
#[derive(Debug)]
pub struct Plan<'a> {
    /// Orphans to adopt (they count as owned from here on).
    pub adopt: Vec<&'a Pod>,
    /// Owned pods the selector no longer picks.
    pub release: Vec<&'a Pod>,
    /// Active owned pods, adopted ones included: what status counts.
    pub active: Vec<&'a Pod>,
    pub manage: Manage,
}

/// Claims pods and decides the replica change. `in_sync` is false while earlier writes
/// are still unseen (expectations), or while the owner is being deleted: then nothing is
/// created or deleted. `related` are the pods of sibling ReplicaSets, for ranking.
pub fn plan<'a>(spec: &Spec, pods: &[&'a Pod], related: &[&Pod], in_sync: bool, now: Timestamp) -> Plan<'a> {
    let owner = Owner { uid: &spec.uid, namespace: &spec.namespace, deleting: spec.deleting };
    let mut plan = Plan { adopt: Vec::new(), release: Vec::new(), active: Vec::new(), manage: Manage::Steady };
    for pod in pods {
        let selected = spec.selector.matches(labels_of(&pod.metadata));
        match claim(owner, &pod.metadata, selected) {
            Claim::Owned => plan.active.push(pod),
            Claim::Adopt => {
                plan.adopt.push(pod);
                plan.active.push(pod);
            }
            Claim::Release => plan.release.push(pod),
            Claim::Ignore => {}
        }
    }
    plan.active.retain(|p| is_active(p));
    if in_sync && !spec.deleting {
        plan.manage = manage(spec, &plan.active, related, now);
    }
    plan
}

fn manage(spec: &Spec, active: &[&Pod], related: &[&Pod], now: Timestamp) -> Manage {
    let want = usize::try_from(spec.replicas.max(0)).unwrap_or(0);
    let have = active.len();
    if have < want {
        return Manage::Create((want - have).min(BURST_REPLICAS));
    }
    if have > want {
        let diff = (have - want).min(BURST_REPLICAS);
        let related = if related.is_empty() { active } else { related };
        let victims = pods_to_delete(active, related, diff, now)
            .into_iter()
            .map(|p| Victim { name: p.metadata.name.clone().unwrap_or_default(), uid: p.metadata.uid.clone() })
            .collect();
        return Manage::Delete(victims);
    }
    Manage::Steady
}

#[cfg(test)]
mod tests {
    use super::super::owner::Selector;
    use super::*;
    use crate::pod_state::fixtures::pod;
    use k8s_openapi::api::apps::v1::ReplicaSetStatus;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, OwnerReference};

    fn spec(replicas: i32) -> Spec {
        Spec {
            name: "web".into(),
            namespace: "default".into(),
            uid: "rs-uid".into(),
            deleting: false,
            generation: 1,
            replicas,
            min_ready_seconds: 0,
            selector: Selector::Labels(LabelSelector {
                match_labels: Some([("app".to_string(), "web".to_string())].into()),
                ..Default::default()
            }),
            template: None,
            status: ReplicaSetStatus::default(),
        }
    }

    fn owned(name: &str, phase: &str, ready: bool) -> Pod {
        let mut p = pod(name, &[("app", "web")], phase, ready);
        p.metadata.owner_references = Some(vec![OwnerReference {
            uid: "rs-uid".into(),
            controller: Some(true),
            kind: "ReplicaSet".into(),
            name: "web".into(),
            ..Default::default()
        }]);
        p
    }

    fn now() -> Timestamp {
        "2025-01-02T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_new_replicaset_creates_all_its_replicas() {
        let p = plan(&spec(3), &[], &[], true, now());
        assert_eq!(p.manage, Manage::Create(3));
    }

    #[test]
    fn creations_are_capped_at_burst_replicas() {
        let p = plan(&spec(2000), &[], &[], true, now());
        assert_eq!(p.manage, Manage::Create(BURST_REPLICAS));
    }

    #[test]
    fn nothing_is_created_while_earlier_creations_are_unseen() {
        let p = plan(&spec(3), &[], &[], false, now());
        assert_eq!(p.manage, Manage::Steady);
    }

    #[test]
    fn an_orphan_pod_matching_the_selector_is_adopted_and_counted() {
        let orphan = pod("o", &[("app", "web")], "Running", true);
        let p = plan(&spec(1), &[&orphan], &[], true, now());
        assert_eq!(p.adopt.len(), 1);
        assert_eq!(p.manage, Manage::Steady);
    }

    #[test]
    fn an_owned_pod_whose_labels_changed_is_released_and_replaced() {
        let mut moved = owned("m", "Running", true);
        moved.metadata.labels = Some([("app".to_string(), "other".to_string())].into());
        let p = plan(&spec(1), &[&moved], &[], true, now());
        assert_eq!(p.release.len(), 1);
        assert_eq!(p.manage, Manage::Create(1));
    }

    #[test]
    fn finished_and_deleting_pods_do_not_count_as_replicas() {
        let done = owned("d", "Succeeded", false);
        let mut going = owned("g", "Running", true);
        going.metadata.deletion_timestamp = going.metadata.creation_timestamp.clone();
        let p = plan(&spec(2), &[&done, &going], &[], true, now());
        assert_eq!(p.manage, Manage::Create(2));
    }

    #[test]
    fn scale_down_deletes_the_not_ready_pod_first() {
        let a = owned("a", "Running", true);
        let b = owned("b", "Running", false);
        let p = plan(&spec(1), &[&a, &b], &[], true, now());
        let Manage::Delete(v) = p.manage else { panic!("expected deletions") };
        assert_eq!(v[0].name, "b");
    }

    #[test]
    fn a_replicaset_being_deleted_neither_creates_nor_adopts() {
        let mut s = spec(3);
        s.deleting = true;
        let orphan = pod("o", &[("app", "web")], "Running", true);
        let p = plan(&s, &[&orphan], &[], true, now());
        assert!(p.adopt.is_empty());
        assert_eq!(p.manage, Manage::Steady);
    }
}
