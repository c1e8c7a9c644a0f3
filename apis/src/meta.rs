//! metav1 validation for what objects embed: labels, annotations and label selectors
//! (k8s.io/apimachinery/pkg/apis/meta/v1/validation, pkg/api/validation).

use crate::field::{ErrorList, Path, forbidden, invalid, invalid_go, required, too_long};
use crate::{gofmt, json};
use apimachinery::labels::Selector;
use apimachinery::validation as v;
use serde_json::{Map, Value};

/// Kubernetes' TotalAnnotationSizeLimitB.
const TOTAL_ANNOTATION_SIZE: usize = 256 * 1024;

/// ValidateLabelName.
pub fn validate_label_name(name: &str, p: &Path) -> ErrorList {
    v::is_qualified_name(name).into_iter().map(|m| invalid(p, name, m)).collect()
}

/// ValidateLabels: every key a qualified name, every value a label value.
pub fn validate_labels(labels: Option<&Value>, p: &Path) -> ErrorList {
    let Some(m) = labels.and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut errs = Vec::new();
    for (k, val) in m {
        errs.extend(validate_label_name(k, p));
        let val = val.as_str().unwrap_or_default();
        errs.extend(v::is_valid_label_value(val).into_iter().map(|m| invalid(p, val, m)));
    }
    errs
}

/// ValidateAnnotations: keys qualified names (any case), 256 KiB in all.
pub fn validate_annotations(annotations: Option<&Value>, p: &Path) -> ErrorList {
    let Some(m) = annotations.and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut errs = Vec::new();
    let mut size = 0;
    for (k, val) in m {
        errs.extend(v::is_qualified_name(&k.to_lowercase()).into_iter().map(|msg| invalid(p, k.as_str(), msg)));
        size += k.len() + val.as_str().map_or(0, str::len);
    }
    if size > TOTAL_ANNOTATION_SIZE {
        errs.push(too_long(p, TOTAL_ANNOTATION_SIZE));
    }
    errs
}

/// ValidateLabelSelector (strict label values).
pub fn validate_label_selector(sel: Option<&Value>, p: &Path) -> ErrorList {
    let Some(sel) = sel.filter(|s| s.is_object()) else {
        return Vec::new();
    };
    let mut errs = validate_labels(sel.get("matchLabels"), &p.child("matchLabels"));
    for (i, expr) in json::items(sel, "matchExpressions").iter().enumerate() {
        errs.extend(validate_requirement(expr, &p.child("matchExpressions").index(i)));
    }
    errs
}

/// ValidateLabelSelectorRequirement.
fn validate_requirement(r: &Value, p: &Path) -> ErrorList {
    let values = json::items(r, "values");
    let op = json::string(r, "operator");
    let mut errs = Vec::new();
    match op {
        "In" | "NotIn" if values.is_empty() => {
            errs.push(required(&p.child("values"), "must be specified when `operator` is 'In' or 'NotIn'"))
        }
        "Exists" | "DoesNotExist" if !values.is_empty() => errs
            .push(forbidden(&p.child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")),
        "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
        _ => errs.push(invalid(&p.child("operator"), op, "not a valid selector operator")),
    }
    errs.extend(validate_label_name(json::string(r, "key"), &p.child("key")));
    for (i, val) in values.iter().enumerate() {
        let val = val.as_str().unwrap_or_default();
        errs.extend(v::is_valid_label_value(val).into_iter().map(|m| invalid(&p.child("values").index(i), val, m)));
    }
    errs
}

/// IsValidPathSegmentName (RBAC names, typed references): not `.`/`..`, no `/` or `%`.
pub fn validate_path_segment(name: &str, p: &Path) -> ErrorList {
    if name == "." || name == ".." {
        return vec![invalid(p, name, format!("may not be '{name}'"))];
    }
    ["/", "%"]
        .iter()
        .filter(|s| name.contains(*s))
        .map(|s| invalid(p, name, format!("may not contain '{s}'")))
        .collect()
}

/// LabelSelectorAsSelector; None when the selector cannot be built.
pub fn selector(sel: Option<&Value>) -> Option<Selector> {
    Selector::from_label_selector(sel.unwrap_or(&Value::Null)).ok()
}

/// Whether a selector has neither matchLabels nor matchExpressions.
pub fn selector_is_empty(sel: &Value) -> bool {
    json::items(sel, "matchExpressions").is_empty() && json::object(sel, "matchLabels").is_none_or(Map::is_empty)
}

/// Whether a built selector matches a labels map (absent labels are none).
pub fn matches(sel: &Selector, labels: Option<&Value>) -> bool {
    let empty = Map::new();
    sel.matches(labels.and_then(Value::as_object).unwrap_or(&empty))
}

/// The `selector` does not match template `labels` error of the workload validators.
pub fn selector_mismatch(template_labels: Option<&Value>, p: &Path) -> crate::FieldError {
    invalid_go(p, &gofmt::string_map(template_labels), "`selector` does not match template `labels`")
}

/// ValidateHasLabel: `metadata.labels[key]` must be `expected`.
pub fn validate_has_label(meta: Option<&Value>, p: &Path, key: &str, expected: &str) -> ErrorList {
    let labels = meta.and_then(|m| json::get(m, "labels"));
    let actual = labels.and_then(|l| json::str_of(l, key));
    let lp = p.child("labels").key(key);
    match actual {
        None => vec![required(&lp, format!("must be '{expected}'"))],
        Some(a) if a != expected => vec![invalid_go(&lp, &gofmt::string_map(labels), &format!("must be '{expected}'"))],
        Some(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_selector_operator_must_be_known() {
        let sel = json!({"matchExpressions": [{"key": "a", "operator": "Is", "values": ["b"]}]});
        let errs = validate_label_selector(Some(&sel), &Path::new("spec").child("selector"));
        assert_eq!(
            errs[0].message(),
            "spec.selector.matchExpressions[0].operator: Invalid value: \"Is\": not a valid selector operator"
        );
    }

    #[test]
    fn in_needs_values() {
        let sel = json!({"matchExpressions": [{"key": "a", "operator": "In"}]});
        let errs = validate_label_selector(Some(&sel), &Path::new("s"));
        assert_eq!(
            errs[0].message(),
            "s.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"
        );
    }

    #[test]
    fn label_values_are_checked() {
        let errs = validate_labels(Some(&json!({"app": "a b"})), &Path::new("l"));
        assert_eq!(errs.len(), 1);
        assert!(errs[0].message().starts_with("l: Invalid value: \"a b\": a valid label"));
    }
}
