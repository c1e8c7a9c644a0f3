//! What the collector does with one object, given the state of its owners (Kubernetes'
//! attemptToDeleteItem and processDeletingDependentsItem, as pure functions).

use super::graph::{FOREGROUND, Node, ORPHAN};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

/// An owner reference, resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OwnerState {
    /// No object with that UID exists (or it cannot own this object): the reference dangles.
    Absent,
    /// The owner exists and is not deleting in the foreground.
    Solid,
    /// The owner is being deleted in the foreground and waits for its dependents.
    WaitingForDependents,
}

/// The propagation policy a delete asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Propagation {
    Background,
    Foreground,
    Orphan,
}

/// What to do with a dependent.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// An owner is alive: the object stays, minus its references to owners that are gone
    /// or deleting in the foreground (nothing to write when that list is empty).
    Keep { drop_refs: Vec<String> },
    /// An owner deletes in the foreground and this object has dependents of its own: delete
    /// it in the foreground too, first clearing its blockOwnerDeletion when one of its own
    /// dependents also waits (a cycle that would never end otherwise).
    DeleteForeground { unblock: bool },
    /// No owner is left: delete it, passing on the policy its own finalizers ask for.
    Delete(Propagation),
}

/// Decides a dependent's fate from its owners' states (`owners` pairs each reference's UID
/// with its state), whether it has dependents, whether one of those is itself deleting in
/// the foreground, and its finalizers.
pub fn decide(
    owners: &[(String, OwnerState)],
    has_dependents: bool,
    a_dependent_waits: bool,
    finalizers: &[String],
) -> Decision {
    let with = |s: OwnerState| owners.iter().filter(move |(_, st)| *st == s).map(|(u, _)| u.clone());
    let solid = with(OwnerState::Solid).count();
    let waiting: Vec<String> = with(OwnerState::WaitingForDependents).collect();
    if solid > 0 {
        let drop_refs = with(OwnerState::Absent).chain(waiting).collect();
        return Decision::Keep { drop_refs };
    }
    if !waiting.is_empty() && has_dependents {
        return Decision::DeleteForeground { unblock: a_dependent_waits };
    }
    Decision::Delete(policy_for(finalizers))
}

fn policy_for(finalizers: &[String]) -> Propagation {
    if finalizers.iter().any(|f| f == ORPHAN) {
        Propagation::Orphan
    } else if finalizers.iter().any(|f| f == FOREGROUND) {
        Propagation::Foreground
    } else {
        Propagation::Background
    }
}

/// The next step for an owner deleting in the foreground.
#[derive(Clone, Debug, PartialEq)]
pub enum ForegroundStep {
    /// No blocking dependent is left: remove the `foregroundDeletion` finalizer.
    RemoveFinalizer,
    /// These blocking dependents (not yet deleting) must be deleted first.
    DeleteDependents(Vec<String>),
}

/// What a foreground-deleting owner waits for, given its blocking dependents.
pub fn foreground_step(blocking: &[&Node]) -> ForegroundStep {
    if blocking.is_empty() {
        return ForegroundStep::RemoveFinalizer;
    }
    let pending = blocking.iter().filter(|d| !d.deleting_dependents()).map(|d| d.uid.clone()).collect();
    ForegroundStep::DeleteDependents(pending)
}

/// The finalizers without one.
pub fn without_finalizer(finalizers: &[String], finalizer: &str) -> Vec<String> {
    finalizers.iter().filter(|f| *f != finalizer).cloned().collect()
}

/// The owner references without those to the given UIDs.
pub fn without_owners(refs: &[OwnerReference], uids: &[String]) -> Vec<OwnerReference> {
    refs.iter().filter(|r| !uids.contains(&r.uid)).cloned().collect()
}

/// The owner references with blockOwnerDeletion cleared.
pub fn unblocked(refs: &[OwnerReference]) -> Vec<OwnerReference> {
    refs.iter()
        .cloned()
        .map(|mut r| {
            if r.block_owner_deletion == Some(true) {
                r.block_owner_deletion = Some(false);
            }
            r
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::graph::testing::*;
    use super::*;

    fn owners(list: &[(&str, OwnerState)]) -> Vec<(String, OwnerState)> {
        list.iter().map(|(u, s)| (u.to_string(), *s)).collect()
    }

    #[test]
    fn a_dependent_whose_only_owner_is_gone_is_deleted_in_the_background() {
        let d = decide(&owners(&[("rc", OwnerState::Absent)]), false, false, &[]);
        assert_eq!(d, Decision::Delete(Propagation::Background));
    }

    #[test]
    fn a_dependent_with_a_live_owner_is_kept() {
        let d = decide(&owners(&[("rc", OwnerState::Solid)]), false, false, &[]);
        assert_eq!(d, Decision::Keep { drop_refs: vec![] });
    }

    #[test]
    fn a_dependent_with_a_live_and_a_gone_owner_only_loses_the_dangling_reference() {
        let d = decide(&owners(&[("a", OwnerState::Solid), ("b", OwnerState::Absent)]), false, false, &[]);
        assert_eq!(d, Decision::Keep { drop_refs: vec!["b".into()] });
    }

    #[test]
    fn a_dependent_of_a_live_owner_and_a_foreground_deleting_one_is_kept_and_released() {
        let d = decide(
            &owners(&[("rc2", OwnerState::Solid), ("rc1", OwnerState::WaitingForDependents)]),
            false,
            false,
            &[],
        );
        assert_eq!(d, Decision::Keep { drop_refs: vec!["rc1".into()] });
    }

    #[test]
    fn a_dependent_of_a_foreground_deleting_owner_is_deleted() {
        let d = decide(&owners(&[("rc", OwnerState::WaitingForDependents)]), false, false, &[]);
        assert_eq!(d, Decision::Delete(Propagation::Background));
    }

    #[test]
    fn a_dependent_with_dependents_of_its_own_is_deleted_in_the_foreground_too() {
        let d = decide(&owners(&[("deploy", OwnerState::WaitingForDependents)]), true, false, &[]);
        assert_eq!(d, Decision::DeleteForeground { unblock: false });
    }

    #[test]
    fn a_foreground_cycle_is_broken_by_unblocking_the_references() {
        let d = decide(&owners(&[("a", OwnerState::WaitingForDependents)]), true, true, &[]);
        assert_eq!(d, Decision::DeleteForeground { unblock: true });
    }

    #[test]
    fn a_dependent_asking_for_orphaning_is_deleted_with_orphan_propagation() {
        let d = decide(&owners(&[("rc", OwnerState::Absent)]), true, false, &["orphan".into()]);
        assert_eq!(d, Decision::Delete(Propagation::Orphan));
    }

    #[test]
    fn an_owner_without_blocking_dependents_loses_its_foreground_finalizer() {
        assert_eq!(foreground_step(&[]), ForegroundStep::RemoveFinalizer);
    }

    #[test]
    fn an_owner_with_blocking_dependents_waits_for_them() {
        let pod = node("pod", vec![owner_ref("rc", true)]);
        assert_eq!(foreground_step(&[&pod]), ForegroundStep::DeleteDependents(vec!["pod".into()]));
    }

    #[test]
    fn orphaning_removes_only_the_references_to_the_owner() {
        let refs = vec![owner_ref("a", true), owner_ref("b", true)];
        let left = without_owners(&refs, &["a".into()]);
        assert_eq!(left.iter().map(|r| r.uid.as_str()).collect::<Vec<_>>(), vec!["b"]);
    }

    #[test]
    fn removing_a_finalizer_keeps_the_others() {
        let f = vec!["foregroundDeletion".to_string(), "example.com/x".to_string()];
        assert_eq!(without_finalizer(&f, "foregroundDeletion"), vec!["example.com/x".to_string()]);
    }

    #[test]
    fn unblocking_clears_block_owner_deletion() {
        assert_eq!(unblocked(&[owner_ref("a", true)])[0].block_owner_deletion, Some(false));
    }
}
