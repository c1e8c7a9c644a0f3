//! Label selectors evaluated against an object's labels, as metav1.LabelSelectorAsSelector does.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};
use std::collections::BTreeMap;

/// An object's labels.
pub type Labels = BTreeMap<String, String>;

/// Whether `sel` selects `labels`. An empty selector selects everything, as in Kubernetes;
/// a requirement with an unknown operator selects nothing.
pub fn matches(sel: &LabelSelector, labels: &Labels) -> bool {
    let by_label = sel.match_labels.iter().flatten().all(|(k, v)| labels.get(k) == Some(v));
    by_label && sel.match_expressions.iter().flatten().all(|r| requirement_matches(r, labels))
}

/// Whether a set-style selector (a ReplicationController's) selects `labels`.
pub fn matches_set(set: &Labels, labels: &Labels) -> bool {
    set.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// Whether the selector has neither labels nor expressions (it would select everything).
pub fn is_empty(sel: &LabelSelector) -> bool {
    sel.match_labels.as_ref().is_none_or(BTreeMap::is_empty) && sel.match_expressions.as_ref().is_none_or(Vec::is_empty)
}

fn requirement_matches(r: &LabelSelectorRequirement, labels: &Labels) -> bool {
    let value = labels.get(&r.key);
    let values = r.values.as_deref().unwrap_or_default();
    match r.operator.as_str() {
        "In" => value.is_some_and(|v| values.contains(v)),
        "NotIn" => value.is_none_or(|v| !values.contains(v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        _ => false,
    }
}

/// The labels of an object's metadata, empty when it has none.
pub fn labels_of(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> &Labels {
    static EMPTY: Labels = BTreeMap::new();
    meta.labels.as_ref().unwrap_or(&EMPTY)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn expr(key: &str, op: &str, values: &[&str]) -> LabelSelectorRequirement {
        LabelSelectorRequirement {
            key: key.into(),
            operator: op.into(),
            values: Some(values.iter().map(|v| v.to_string()).collect()),
        }
    }

    #[test]
    fn match_labels_must_all_be_present() {
        let sel = LabelSelector { match_labels: Some(labels(&[("app", "web"), ("tier", "fe")])), ..Default::default() };
        assert!(matches(&sel, &labels(&[("app", "web"), ("tier", "fe"), ("x", "y")])));
        assert!(!matches(&sel, &labels(&[("app", "web")])));
    }

    #[test]
    fn expressions_follow_kubernetes_operators() {
        let l = labels(&[("env", "prod")]);
        let sel = |e| LabelSelector { match_expressions: Some(vec![e]), ..Default::default() };
        assert!(matches(&sel(expr("env", "In", &["prod", "qa"])), &l));
        assert!(!matches(&sel(expr("env", "NotIn", &["prod"])), &l));
        assert!(matches(&sel(expr("zone", "NotIn", &["a"])), &l));
        assert!(matches(&sel(expr("env", "Exists", &[])), &l));
        assert!(matches(&sel(expr("zone", "DoesNotExist", &[])), &l));
        assert!(!matches(&sel(expr("env", "Bogus", &[])), &l));
    }

    #[test]
    fn an_empty_selector_selects_everything() {
        let sel = LabelSelector::default();
        assert!(is_empty(&sel));
        assert!(matches(&sel, &labels(&[("a", "b")])));
    }
}
