//! What is left in a terminating namespace, and the status conditions the namespace
//! controller reports about it (NamespaceContentRemaining and the rest, worded as Kubernetes).

use k8s_openapi::api::core::v1::NamespaceCondition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use std::collections::BTreeMap;

/// The objects of one resource type still in the namespace.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Remaining {
    /// `plural.group`, e.g. "pods." or "deployments.apps".
    pub resource: String,
    pub count: usize,
    /// Objects not yet marked for deletion.
    pub undeleted: usize,
    /// Each finalizer, with how many of the objects carry it.
    pub finalizers: BTreeMap<String, usize>,
}

/// What one pass over the namespace found.
#[derive(Clone, Debug, Default)]
pub struct Pass {
    /// Discovery failed with this message (deletion goes on with what was discovered).
    pub discovery_error: Option<String>,
    /// Deletes or lists that failed.
    pub delete_errors: Vec<String>,
    /// Resource types with objects left, after this pass's deletes.
    pub remaining: Vec<Remaining>,
}

impl Pass {
    /// Nothing is left and everything could be looked at: the namespace may be finalized.
    pub fn is_empty(&self) -> bool {
        self.remaining.is_empty() && self.discovery_error.is_none() && self.delete_errors.is_empty()
    }
}

/// The resource types whose objects still need a delete call.
pub fn to_delete(observed: &[Remaining]) -> Vec<usize> {
    observed.iter().enumerate().filter(|(_, r)| r.undeleted > 0).map(|(i, _)| i).collect()
}

/// The five deletion conditions for this pass; a condition keeps its lastTransitionTime
/// while its status does not change.
pub fn conditions(pass: &Pass, old: &[NamespaceCondition], now: Time) -> Vec<NamespaceCondition> {
    let wanted =
        [discovery(pass), parsing(), content_failure(pass), content_remaining(pass), finalizers_remaining(pass)];
    wanted
        .into_iter()
        .map(|(type_, status, reason, message)| {
            let prev = old.iter().find(|c| c.type_ == type_);
            let since = prev.filter(|c| c.status == status).and_then(|c| c.last_transition_time.clone());
            NamespaceCondition {
                type_: type_.into(),
                status: status.into(),
                reason: Some(reason.into()),
                message: Some(message),
                last_transition_time: since.or_else(|| Some(now.clone())),
            }
        })
        .collect()
}

type Cond = (&'static str, &'static str, &'static str, String);

fn discovery(pass: &Pass) -> Cond {
    match &pass.discovery_error {
        Some(e) => (
            "NamespaceDeletionDiscoveryFailure",
            "True",
            "DiscoveryFailed",
            format!("Discovery failed for some groups: {e}"),
        ),
        None => (
            "NamespaceDeletionDiscoveryFailure",
            "False",
            "ResourcesDiscovered",
            "All resources successfully discovered".into(),
        ),
    }
}

fn parsing() -> Cond {
    (
        "NamespaceDeletionGroupVersionParsingFailure",
        "False",
        "ParsedGroupVersions",
        "All legacy kube types successfully parsed".into(),
    )
}

fn content_failure(pass: &Pass) -> Cond {
    if pass.delete_errors.is_empty() {
        let msg = "All content successfully deleted, may be waiting on finalization".into();
        ("NamespaceDeletionContentFailure", "False", "ContentDeleted", msg)
    } else {
        let msg = format!(
            "Failed to delete all resource types, {} remaining: {}",
            pass.delete_errors.len(),
            pass.delete_errors.join(", ")
        );
        ("NamespaceDeletionContentFailure", "True", "ContentDeletionFailed", msg)
    }
}

fn content_remaining(pass: &Pass) -> Cond {
    if pass.remaining.is_empty() {
        return ("NamespaceContentRemaining", "False", "ContentRemoved", "All content successfully removed".into());
    }
    let parts: Vec<String> =
        pass.remaining.iter().map(|r| format!("{} has {} resource instances", r.resource, r.count)).collect();
    (
        "NamespaceContentRemaining",
        "True",
        "SomeResourcesRemain",
        format!("Some resources are remaining: {}", parts.join(", ")),
    )
}

fn finalizers_remaining(pass: &Pass) -> Cond {
    let mut by_finalizer: BTreeMap<&str, usize> = BTreeMap::new();
    for (f, n) in pass.remaining.iter().flat_map(|r| r.finalizers.iter()) {
        *by_finalizer.entry(f).or_default() += n;
    }
    if by_finalizer.is_empty() {
        let msg = "All content-preserving finalizers finished".into();
        return ("NamespaceFinalizersRemaining", "False", "ContentHasNoFinalizers", msg);
    }
    let parts: Vec<String> = by_finalizer.iter().map(|(f, n)| format!("{f} in {n} resource instances")).collect();
    let msg = format!("Some content in the namespace has finalizers remaining: {}", parts.join(", "));
    ("NamespaceFinalizersRemaining", "True", "SomeFinalizersRemain", msg)
}

/// The namespace's spec.finalizers without the one this controller owns.
pub fn finalized(spec_finalizers: &[String]) -> Vec<String> {
    spec_finalizers.iter().filter(|f| *f != super::FINALIZER).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Time {
        Time(jiff::Timestamp::now())
    }

    fn pods(count: usize, undeleted: usize) -> Remaining {
        Remaining { resource: "pods.".into(), count, undeleted, finalizers: BTreeMap::new() }
    }

    fn find<'a>(c: &'a [NamespaceCondition], t: &str) -> &'a NamespaceCondition {
        c.iter().find(|c| c.type_ == t).unwrap()
    }

    #[test]
    fn only_types_with_undeleted_objects_are_deleted_again() {
        assert_eq!(to_delete(&[pods(2, 0), pods(1, 1)]), vec![1]);
    }

    #[test]
    fn remaining_content_is_reported_with_its_count() {
        let pass = Pass { remaining: vec![pods(2, 0)], ..Default::default() };
        let c = conditions(&pass, &[], now());
        let remaining = find(&c, "NamespaceContentRemaining");
        assert_eq!(remaining.status, "True");
        assert_eq!(remaining.message.as_deref(), Some("Some resources are remaining: pods. has 2 resource instances"));
    }

    #[test]
    fn remaining_finalizers_are_reported_by_name() {
        let mut r = pods(1, 0);
        r.finalizers.insert("example.com/keep".into(), 1);
        let pass = Pass { remaining: vec![r], ..Default::default() };
        let c = conditions(&pass, &[], now());
        let f = find(&c, "NamespaceFinalizersRemaining");
        assert_eq!(
            f.message.as_deref(),
            Some("Some content in the namespace has finalizers remaining: example.com/keep in 1 resource instances")
        );
    }

    #[test]
    fn an_emptied_namespace_reports_its_content_removed() {
        let c = conditions(&Pass::default(), &[], now());
        assert_eq!(find(&c, "NamespaceContentRemaining").reason.as_deref(), Some("ContentRemoved"));
        assert!(Pass::default().is_empty());
    }

    #[test]
    fn an_unchanged_condition_keeps_its_transition_time() {
        let pass = Pass { remaining: vec![pods(2, 0)], ..Default::default() };
        let first = conditions(&pass, &[], Time(jiff::Timestamp::UNIX_EPOCH));
        let again = conditions(&pass, &first, now());
        assert_eq!(again, first);
    }

    #[test]
    fn a_failed_delete_keeps_the_namespace_from_being_finalized() {
        let pass = Pass { delete_errors: vec!["pods.: forbidden".into()], ..Default::default() };
        assert!(!pass.is_empty());
        assert_eq!(find(&conditions(&pass, &[], now()), "NamespaceDeletionContentFailure").status, "True");
    }

    #[test]
    fn finalizing_removes_only_the_kubernetes_finalizer() {
        assert_eq!(finalized(&["kubernetes".into(), "example.com/x".into()]), vec!["example.com/x".to_string()]);
    }
}
