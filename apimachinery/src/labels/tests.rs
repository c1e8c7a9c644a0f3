//! Tests for label selector parsing and matching.

use serde_json::{Map, Value, json};

use super::*;

fn labels(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => panic!("labels must be an object"),
    }
}

fn selects(selector: &str, value: Value) -> bool {
    Selector::parse(selector).expect("selector parses").matches(&labels(value))
}

fn parse_error(selector: &str) -> String {
    Selector::parse(selector).expect_err("selector should not parse").to_string()
}

#[test]
fn the_empty_selector_matches_everything() {
    let selector = Selector::parse("").unwrap();
    assert!(selector.is_empty());
    assert!(selector.matches(&labels(json!({}))));
    assert!(selects("   ", json!({"a": "b"})));
}

#[test]
fn equality_matches_only_the_exact_value() {
    assert!(selects("app=web", json!({"app": "web", "x": "y"})));
    assert!(selects("app==web", json!({"app": "web"})));
    assert!(!selects("app=web", json!({"app": "db"})));
    assert!(!selects("app=web", json!({})));
}

#[test]
fn not_equals_matches_objects_without_the_label() {
    assert!(selects("app!=web", json!({})));
    assert!(selects("app!=web", json!({"app": "db"})));
    assert!(!selects("app!=web", json!({"app": "web"})));
}

#[test]
fn in_matches_any_listed_value() {
    assert!(selects("env in (prod, staging)", json!({"env": "staging"})));
    assert!(!selects("env in (prod,staging)", json!({"env": "dev"})));
    assert!(!selects("env in (prod)", json!({})));
}

#[test]
fn notin_matches_objects_without_the_label() {
    assert!(selects("env notin (prod)", json!({})));
    assert!(selects("env notin (prod)", json!({"env": "dev"})));
    assert!(!selects("env notin (prod,dev)", json!({"env": "dev"})));
}

#[test]
fn a_bare_key_requires_the_label_to_exist() {
    assert!(selects("app", json!({"app": ""})));
    assert!(!selects("app", json!({"other": "x"})));
}

#[test]
fn a_bang_key_requires_the_label_to_be_absent() {
    assert!(selects("!app", json!({"other": "x"})));
    assert!(!selects("!app", json!({"app": "x"})));
}

#[test]
fn comma_separated_requirements_must_all_hold() {
    let selector = "app=web, tier notin (db), !legacy,env";
    assert!(selects(selector, json!({"app": "web", "env": "prod"})));
    assert!(!selects(selector, json!({"app": "web", "env": "prod", "legacy": "1"})));
    assert!(!selects(selector, json!({"app": "web"})));
}

#[test]
fn in_and_notin_are_plain_values_inside_parentheses() {
    assert!(selects("x in (in,notin)", json!({"x": "notin"})));
}

#[test]
fn an_equals_with_no_value_means_the_empty_value() {
    assert!(selects("a=", json!({"a": ""})));
    assert!(!selects("a=,b", json!({"a": "x", "b": "y"})));
}

#[test]
fn empty_entries_in_a_set_stand_for_the_empty_value() {
    assert!(selects("a in ()", json!({"a": ""})));
    assert!(selects("a in (,x)", json!({"a": ""})));
    assert!(selects("a in (x,,y)", json!({"a": ""})));
    assert!(selects("a in (x,)", json!({"a": ""})));
}

#[test]
fn gt_and_lt_compare_integers() {
    assert!(selects("gen>2", json!({"gen": "3"})));
    assert!(!selects("gen>2", json!({"gen": "2"})));
    assert!(selects("gen<2", json!({"gen": "-1"})));
    assert!(!selects("gen<2", json!({"gen": "x"})));
    assert!(!selects("gen<2", json!({})));
}

#[test]
fn gt_requires_an_integer_value() {
    assert_eq!(
        parse_error("a>b"),
        "unable to parse requirement: values[0]: Invalid value: \"b\": for 'Gt', 'Lt' operators, the value must be an integer"
    );
}

#[test]
fn a_prefixed_key_is_accepted() {
    assert!(selects("app.kubernetes.io/name=web", json!({"app.kubernetes.io/name": "web"})));
}

#[test]
fn an_invalid_key_is_reported_like_kubernetes() {
    assert_eq!(
        parse_error("-a=b"),
        "unable to parse requirement: <nil>: Invalid value: \"-a\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
    );
}

#[test]
fn an_invalid_value_is_reported_at_its_index_and_key() {
    assert_eq!(
        parse_error("a=-b"),
        "unable to parse requirement: values[0][a]: Invalid value: \"-b\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
    );
}

#[test]
fn a_missing_operator_is_reported() {
    assert_eq!(parse_error("a b"), "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt");
}

#[test]
fn syntax_errors_between_requirements_are_not_wrapped() {
    assert_eq!(parse_error("a=b,"), "found '', expected: identifier after ','");
    assert_eq!(parse_error(",a"), "found ',', expected: !, identifier, or 'end of string'");
    assert_eq!(parse_error("!a=b"), "found '=', expected: ',' or 'end of string'");
}

#[test]
fn an_unclosed_set_is_reported() {
    assert_eq!(parse_error("a in (b"), "unable to parse requirement: found '', expected: ',' or ')'");
    assert_eq!(parse_error("a in (b c)"), "unable to parse requirement: found 'c', expected: ',' or ')'");
    assert_eq!(parse_error("a in b"), "unable to parse requirement: found 'b' expected: '('");
}

#[test]
fn requirements_are_sorted_by_key_and_printed_canonically() {
    let selector = Selector::parse("z notin (b,a), a in (y,x),!m, k == v, e").unwrap();
    assert_eq!(selector.to_string(), "a in (x,y),e,k==v,!m,z notin (a,b)");
}

#[test]
fn match_labels_become_equality_requirements() {
    let selector = Selector::from_label_selector(&json!({"matchLabels": {"app": "web", "tier": "fe"}})).unwrap();
    assert_eq!(selector.to_string(), "app=web,tier=fe");
    assert!(selector.matches(&labels(json!({"app": "web", "tier": "fe", "x": "1"}))));
    assert!(!selector.matches(&labels(json!({"app": "web"}))));
}

#[test]
fn match_expressions_support_the_four_operators() {
    let selector = Selector::from_label_selector(&json!({
        "matchExpressions": [
            {"key": "env", "operator": "In", "values": ["prod", "staging"]},
            {"key": "tier", "operator": "NotIn", "values": ["db"]},
            {"key": "app", "operator": "Exists"},
            {"key": "legacy", "operator": "DoesNotExist"}
        ]
    }))
    .unwrap();
    assert!(selector.matches(&labels(json!({"env": "prod", "app": "x"}))));
    assert!(!selector.matches(&labels(json!({"env": "prod", "app": "x", "legacy": "y"}))));
    assert!(!selector.matches(&labels(json!({"env": "prod", "app": "x", "tier": "db"}))));
    assert!(!selector.matches(&labels(json!({"env": "dev", "app": "x"}))));
}

#[test]
fn an_empty_label_selector_matches_everything() {
    let selector = Selector::from_label_selector(&json!({})).unwrap();
    assert!(selector.is_empty());
    assert!(selector.matches(&labels(json!({"any": "thing"}))));
}

#[test]
fn a_null_label_selector_matches_nothing() {
    let selector = Selector::from_label_selector(&Value::Null).unwrap();
    assert!(!selector.is_empty());
    assert!(!selector.matches(&labels(json!({}))));
}

#[test]
fn an_unknown_expression_operator_is_rejected() {
    let err = Selector::from_label_selector(&json!({
        "matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]
    }))
    .unwrap_err();
    assert_eq!(err.to_string(), "\"Gt\" is not a valid label selector operator");
}

#[test]
fn an_in_expression_without_values_is_rejected() {
    let err = Selector::from_label_selector(&json!({
        "matchExpressions": [{"key": "a", "operator": "In", "values": []}]
    }))
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty"
    );
}

#[test]
fn an_exists_expression_with_values_is_rejected() {
    let err = Selector::from_label_selector(&json!({
        "matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x", "y"]}]
    }))
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "values: Invalid value: []string{\"x\", \"y\"}: values set must be empty for exists and does not exist"
    );
}

#[test]
fn an_invalid_match_labels_key_is_reported_at_key() {
    let err = Selector::from_label_selector(&json!({"matchLabels": {"a/b/c": "x"}})).unwrap_err();
    assert!(err.to_string().starts_with("key: Invalid value: \"a/b/c\": a qualified name"));
}

#[test]
fn several_problems_are_aggregated_in_brackets() {
    let err = Requirement::new("-k", Operator::Equals, vec![]).unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("[key: Invalid value: \"-k\": name part"), "{text}");
    assert!(
        text.ends_with(", values: Invalid value: []string{}: exact-match compatibility requires one single value]"),
        "{text}"
    );
}

#[test]
fn objects_are_matched_on_their_metadata_labels() {
    let selector = Selector::parse("app=web").unwrap();
    assert!(selector.matches_object(&json!({"metadata": {"labels": {"app": "web"}}})));
    assert!(!selector.matches_object(&json!({"metadata": {}})));
    assert!(Selector::parse("!app").unwrap().matches_object(&json!({})));
}
