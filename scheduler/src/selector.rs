//! Label selectors and node selector terms, compiled once per pod so matching is a few compares.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{NodeSelectorRequirement, NodeSelectorTerm};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};

/// A set of labels, as objects carry them.
pub type Labels = BTreeMap<String, String>;

/// The labels of an object without any.
pub static NO_LABELS: Labels = BTreeMap::new();

/// One compiled requirement on a label (or, for node fields, on `metadata.name`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    key: String,
    op: Op,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Op {
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    DoesNotExist,
    Gt(i64),
    Lt(i64),
}

impl Requirement {
    /// `key` must carry one of `values`.
    pub fn is_in(key: &str, values: Vec<String>) -> Requirement {
        Requirement { key: key.to_string(), op: Op::In(values) }
    }

    /// `key` must be absent or carry none of `values`.
    pub fn not_in(key: &str, values: Vec<String>) -> Requirement {
        Requirement { key: key.to_string(), op: Op::NotIn(values) }
    }

    /// Compiles a node selector requirement; `None` for an unknown operator or bad values.
    fn from_node(r: &NodeSelectorRequirement) -> Option<Requirement> {
        let values = r.values.clone().unwrap_or_default();
        Self::compile(&r.key, &r.operator, values, true)
    }

    /// Compiles a label selector requirement; `None` for an unknown operator or bad values.
    fn from_label(r: &LabelSelectorRequirement) -> Option<Requirement> {
        let values = r.values.clone().unwrap_or_default();
        Self::compile(&r.key, &r.operator, values, false)
    }

    fn compile(key: &str, operator: &str, values: Vec<String>, numeric: bool) -> Option<Requirement> {
        let op = match operator {
            "In" if !values.is_empty() => Op::In(values),
            "NotIn" if !values.is_empty() => Op::NotIn(values),
            "Exists" if values.is_empty() => Op::Exists,
            "DoesNotExist" if values.is_empty() => Op::DoesNotExist,
            "Gt" | "Lt" if numeric && values.len() == 1 => {
                let n = values[0].parse().ok()?;
                if operator == "Gt" { Op::Gt(n) } else { Op::Lt(n) }
            }
            _ => return None,
        };
        Some(Requirement { key: key.to_string(), op })
    }

    /// Whether `value` (the label's value, `None` when absent) satisfies the requirement.
    pub fn matches_value(&self, value: Option<&str>) -> bool {
        match (&self.op, value) {
            (Op::In(values), Some(v)) => values.iter().any(|x| x == v),
            (Op::In(_), None) => false,
            (Op::NotIn(values), Some(v)) => !values.iter().any(|x| x == v),
            (Op::NotIn(_), None) => true,
            (Op::Exists, v) => v.is_some(),
            (Op::DoesNotExist, v) => v.is_none(),
            (Op::Gt(n), Some(v)) => v.parse::<i64>().is_ok_and(|x| x > *n),
            (Op::Lt(n), Some(v)) => v.parse::<i64>().is_ok_and(|x| x < *n),
            (Op::Gt(_) | Op::Lt(_), None) => false,
        }
    }

    /// Whether the labels satisfy the requirement.
    pub fn matches(&self, labels: &Labels) -> bool {
        self.matches_value(labels.get(&self.key).map(String::as_str))
    }
}

/// A compiled `metav1.LabelSelector`: a conjunction of requirements, or nothing at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selector {
    /// Matches no object: an absent selector, or one that does not parse.
    Nothing,
    /// Matches objects satisfying every requirement (none: every object).
    All(Vec<Requirement>),
}

impl Selector {
    /// Matches every object.
    pub fn everything() -> Selector {
        Selector::All(Vec::new())
    }

    /// Compiles a label selector; absent or invalid selectors match nothing (as
    /// `metav1.LabelSelectorAsSelector` errors are treated by the scheduler).
    pub fn from_label_selector(selector: Option<&LabelSelector>) -> Selector {
        let Some(selector) = selector else {
            return Selector::Nothing;
        };
        let mut requirements = Vec::new();
        for (key, value) in selector.match_labels.iter().flatten() {
            requirements.push(Requirement::is_in(key, vec![value.clone()]));
        }
        for expression in selector.match_expressions.iter().flatten() {
            match Requirement::from_label(expression) {
                Some(r) => requirements.push(r),
                None => return Selector::Nothing,
            }
        }
        Selector::All(requirements)
    }

    /// Adds a requirement (a selector that matches nothing stays so).
    pub fn and(&mut self, requirement: Requirement) {
        if let Selector::All(requirements) = self {
            requirements.push(requirement);
        }
    }

    /// Whether the labels match.
    pub fn matches(&self, labels: &Labels) -> bool {
        match self {
            Selector::Nothing => false,
            Selector::All(requirements) => requirements.iter().all(|r| r.matches(labels)),
        }
    }

    /// True for a selector that matches nothing.
    pub fn is_nothing(&self) -> bool {
        matches!(self, Selector::Nothing)
    }
}

/// A compiled node selector term: label expressions and `metadata.name` field expressions, ANDed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeTerm {
    labels: Vec<Requirement>,
    name: Vec<Requirement>,
}

impl NodeTerm {
    /// Compiles a term; `None` for an empty term or one that does not parse: such terms match no
    /// node, as in component-helpers' nodeaffinity.
    pub fn compile(term: &NodeSelectorTerm) -> Option<NodeTerm> {
        let expressions = term.match_expressions.as_deref().unwrap_or_default();
        let fields = term.match_fields.as_deref().unwrap_or_default();
        if expressions.is_empty() && fields.is_empty() {
            return None;
        }
        let labels = expressions.iter().map(Requirement::from_node).collect::<Option<Vec<_>>>()?;
        let mut name = Vec::new();
        for field in fields {
            let supported = matches!(field.operator.as_str(), "In" | "NotIn");
            if field.key != "metadata.name" || !supported {
                return None;
            }
            name.push(Requirement::from_node(field)?);
        }
        Some(NodeTerm { labels, name })
    }

    /// A term of label requirements only.
    pub fn from_requirements(labels: Vec<Requirement>) -> NodeTerm {
        NodeTerm { labels, name: Vec::new() }
    }

    /// Whether a node with these labels and this name matches.
    pub fn matches(&self, labels: &Labels, node_name: &str) -> bool {
        self.labels.iter().all(|r| r.matches(labels)) && self.name.iter().all(|r| r.matches_value(Some(node_name)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn expr(key: &str, op: &str, values: &[&str]) -> NodeSelectorRequirement {
        NodeSelectorRequirement {
            key: key.into(),
            operator: op.into(),
            values: Some(values.iter().map(|v| v.to_string()).collect()),
        }
    }

    fn term(exprs: Vec<NodeSelectorRequirement>) -> NodeTerm {
        let t = NodeSelectorTerm { match_expressions: Some(exprs), match_fields: None };
        NodeTerm::compile(&t).expect("valid term")
    }

    #[test]
    fn not_in_and_does_not_exist_match_when_the_label_is_absent() {
        let l = labels(&[("disk", "ssd")]);
        assert!(term(vec![expr("zone", "NotIn", &["a"])]).matches(&l, "n"));
        assert!(term(vec![expr("zone", "DoesNotExist", &[])]).matches(&l, "n"));
        assert!(!term(vec![expr("disk", "DoesNotExist", &[])]).matches(&l, "n"));
    }

    #[test]
    fn gt_and_lt_compare_label_values_as_integers() {
        let l = labels(&[("cores", "8")]);
        assert!(term(vec![expr("cores", "Gt", &["4"])]).matches(&l, "n"));
        assert!(!term(vec![expr("cores", "Lt", &["4"])]).matches(&l, "n"));
        assert!(!term(vec![expr("missing", "Gt", &["4"])]).matches(&l, "n"));
    }

    #[test]
    fn an_empty_node_selector_term_matches_no_node() {
        let t = NodeSelectorTerm { match_expressions: None, match_fields: None };
        assert!(NodeTerm::compile(&t).is_none());
    }

    #[test]
    fn match_fields_select_a_node_by_name() {
        let t = NodeSelectorTerm {
            match_expressions: None,
            match_fields: Some(vec![expr("metadata.name", "In", &["node1"])]),
        };
        let t = NodeTerm::compile(&t).expect("valid");
        assert!(t.matches(&NO_LABELS, "node1"));
        assert!(!t.matches(&NO_LABELS, "node2"));
    }

    #[test]
    fn an_absent_label_selector_matches_nothing_and_an_empty_one_everything() {
        assert!(!Selector::from_label_selector(None).matches(&NO_LABELS));
        let empty = LabelSelector::default();
        assert!(Selector::from_label_selector(Some(&empty)).matches(&NO_LABELS));
    }

    #[test]
    fn a_label_selector_with_a_bad_operator_matches_nothing() {
        let s = LabelSelector {
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "app".into(),
                operator: "Near".into(),
                values: None,
            }]),
            match_labels: None,
        };
        assert!(Selector::from_label_selector(Some(&s)).is_nothing());
    }
}
