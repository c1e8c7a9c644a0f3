//! Shared cell formatting: labels, selectors, container lists and JSON field access.

use serde_json::{Map, Value};

/// A string field, "" when absent (Go's zero value).
pub(crate) fn text(value: &Value) -> &str {
    value.as_str().unwrap_or("")
}

/// An integer field, 0 when absent.
pub(crate) fn int(value: &Value) -> i64 {
    value.as_i64().unwrap_or(0)
}

/// A replica count that the API defaults to 1 when unset.
pub(crate) fn replicas(value: &Value) -> i64 {
    value.as_i64().unwrap_or(1)
}

/// An array field, empty when absent.
pub(crate) fn list(value: &Value) -> &[Value] {
    value.as_array().map_or(&[], Vec::as_slice)
}

/// The number of keys of a map field (Secret data, ConfigMap data).
pub(crate) fn count_keys(value: &Value) -> usize {
    value.as_object().map_or(0, Map::len)
}

/// Printers substitute "<none>" for empty strings.
pub(crate) fn or_none(s: &str) -> String {
    or(s, "<none>")
}

/// `s`, or `fallback` when `s` is empty.
pub(crate) fn or(s: &str, fallback: &str) -> String {
    if s.is_empty() { fallback } else { s }.to_owned()
}

/// The NAME cell.
pub(crate) fn name(obj: &Value) -> Value {
    Value::from(text(&obj["metadata"]["name"]))
}

/// `resource.Quantity.String()`; the stored form is kept, the zero quantity is "0".
pub(crate) fn quantity(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => "0".to_owned(),
    }
}

/// `labels.Set.String()`: "k=v" pairs sorted by key, comma separated.
pub(crate) fn label_set(labels: &Value) -> String {
    let Some(map) = labels.as_object() else {
        return String::new();
    };
    let mut pairs: Vec<(&String, &Value)> = map.iter().collect();
    pairs.sort_by_key(|(k, _)| *k);
    let parts: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={}", text(v))).collect();
    parts.join(",")
}

/// `labels.FormatLabels`: like [`label_set`] but "<none>" for no labels.
pub(crate) fn format_labels(labels: &Value) -> String {
    or_none(&label_set(labels))
}

/// `metav1.LabelSelectorAsSelector(sel).String()`; `None` when the selector is invalid.
pub(crate) fn selector_string(selector: &Value) -> Option<String> {
    let mut requirements: Vec<(String, String)> = Vec::new();
    if let Some(labels) = selector["matchLabels"].as_object() {
        for (key, value) in labels {
            requirements.push((key.clone(), format!("{key}={}", text(value))));
        }
    }
    for expression in list(&selector["matchExpressions"]) {
        let key = text(&expression["key"]);
        requirements.push((key.to_owned(), requirement(key, expression)?));
    }
    // Selector.Add keeps requirements sorted by key.
    requirements.sort_by(|a, b| a.0.cmp(&b.0));
    let parts: Vec<String> = requirements.into_iter().map(|(_, r)| r).collect();
    Some(parts.join(","))
}

/// One match expression as `labels.Requirement.String()` prints it.
fn requirement(key: &str, expression: &Value) -> Option<String> {
    let mut values: Vec<&str> = list(&expression["values"]).iter().map(text).collect();
    values.sort_unstable();
    let joined = values.join(",");
    match text(&expression["operator"]) {
        "In" if !values.is_empty() => Some(format!("{key} in ({joined})")),
        "NotIn" if !values.is_empty() => Some(format!("{key} notin ({joined})")),
        "Exists" if values.is_empty() => Some(key.to_owned()),
        "DoesNotExist" if values.is_empty() => Some(format!("!{key}")),
        _ => None,
    }
}

/// `metav1.FormatLabelSelector`: "<none>" for an empty selector, "<error>" for an invalid one.
pub(crate) fn format_label_selector(selector: &Value) -> String {
    selector_string(selector).map_or_else(|| "<error>".to_owned(), |s| or_none(&s))
}

/// `layoutContainerCells`: container names and images, each comma separated.
pub(crate) fn containers(pod_spec: &Value) -> (String, String) {
    let containers = list(&pod_spec["containers"]);
    let names: Vec<&str> = containers.iter().map(|c| text(&c["name"])).collect();
    let images: Vec<&str> = containers.iter().map(|c| text(&c["image"])).collect();
    (names.join(","), images.join(","))
}

/// The CONTAINERS and IMAGES cells of a pod template.
pub(crate) fn container_cells(pod_spec: &Value) -> [Value; 2] {
    let (names, images) = containers(pod_spec);
    [Value::from(names), Value::from(images)]
}

/// `listWithMoreString`: at most three items, then "+ N more...", "<unset>" when empty.
pub(crate) fn list_with_more(items: &[String], max: usize) -> String {
    let shown = items.iter().take(max).cloned().collect::<Vec<_>>().join(",");
    if items.len() > max {
        return format!("{shown} + {} more...", items.len() - max);
    }
    or(&shown, "<unset>")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn labels_print_sorted_by_key() {
        assert_eq!(format_labels(&json!({"tier": "web", "app": "shop"})), "app=shop,tier=web");
        assert_eq!(format_labels(&Value::Null), "<none>");
    }

    #[test]
    fn selectors_combine_labels_and_expressions_sorted_by_key() {
        let selector = json!({
            "matchLabels": {"app": "shop"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["web", "api"]},
                {"key": "canary", "operator": "DoesNotExist"}
            ]
        });
        assert_eq!(format_label_selector(&selector), "app=shop,!canary,tier in (api,web)");
    }

    #[test]
    fn empty_and_invalid_selectors_have_placeholders() {
        assert_eq!(format_label_selector(&json!({})), "<none>");
        assert_eq!(format_label_selector(&Value::Null), "<none>");
        let bad = json!({"matchExpressions": [{"key": "a", "operator": "Near"}]});
        assert_eq!(format_label_selector(&bad), "<error>");
    }

    #[test]
    fn long_lists_say_how_many_more() {
        let items: Vec<String> = (1..=5).map(|i| format!("10.0.0.{i}")).collect();
        assert_eq!(list_with_more(&items, 3), "10.0.0.1,10.0.0.2,10.0.0.3 + 2 more...");
        assert_eq!(list_with_more(&[], 3), "<unset>");
    }
}
