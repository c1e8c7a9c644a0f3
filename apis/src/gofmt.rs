//! Go's `%#v` rendering of the few composite values Kubernetes 1.33 prints in its messages
//! (`map[string]string{"app":"x"}`, `[]string{"10.0.0.1"}`, `v1.LabelSelector{...}`).
//! Kubernetes 1.34 switched to JSON; 1.33 is the spec here.

use serde_json::Value;

/// Go's `%q` of a string.
pub fn quote(s: &str) -> String {
    format!("{s:?}")
}

/// A `map[string]string`: `map[string]string(nil)` when absent, keys sorted.
pub fn string_map(v: Option<&Value>) -> String {
    let Some(m) = v.and_then(Value::as_object) else {
        return "map[string]string(nil)".to_string();
    };
    let mut pairs: Vec<(&String, &Value)> = m.iter().collect();
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    let body: Vec<String> =
        pairs.iter().map(|(k, v)| format!("{}:{}", quote(k), quote(v.as_str().unwrap_or_default()))).collect();
    format!("map[string]string{{{}}}", body.join(", "))
}

/// A `[]string`: `[]string(nil)` when absent.
pub fn string_slice(v: Option<&Value>) -> String {
    let Some(a) = v.and_then(Value::as_array) else {
        return "[]string(nil)".to_string();
    };
    let body: Vec<String> = a.iter().map(|s| quote(s.as_str().unwrap_or_default())).collect();
    format!("[]string{{{}}}", body.join(", "))
}

/// A `metav1.LabelSelector` as the apps and batch validators print it.
pub fn label_selector(v: Option<&Value>) -> String {
    let Some(sel) = v.filter(|s| s.is_object()) else {
        return "(*v1.LabelSelector)(nil)".to_string();
    };
    let exprs = match sel.get("matchExpressions").and_then(Value::as_array) {
        None => "[]v1.LabelSelectorRequirement(nil)".to_string(),
        Some(list) => {
            let body: Vec<String> = list.iter().map(requirement).collect();
            format!("[]v1.LabelSelectorRequirement{{{}}}", body.join(", "))
        }
    };
    format!("v1.LabelSelector{{MatchLabels:{}, MatchExpressions:{exprs}}}", string_map(sel.get("matchLabels")))
}

fn requirement(r: &Value) -> String {
    format!(
        "v1.LabelSelectorRequirement{{Key:{}, Operator:{}, Values:{}}}",
        quote(crate::json::string(r, "key")),
        quote(crate::json::string(r, "operator")),
        string_slice(r.get("values"))
    )
}

/// An `intstr.IntOrString` (Type 0 is an int, 1 a string).
pub fn int_or_string(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => {
            format!("intstr.IntOrString{{Type:1, IntVal:0, StrVal:{}}}", quote(s))
        }
        other => {
            format!("intstr.IntOrString{{Type:0, IntVal:{}, StrVal:\"\"}}", other.and_then(Value::as_i64).unwrap_or(0))
        }
    }
}

/// A strategy struct `<go_type>{Type:"...", RollingUpdate:(*<rolling_type>)(nil)}`, as the apps
/// validators print an unknown strategy (a set pointer prints as an address in Go).
pub fn strategy(go_type: &str, rolling_type: &str, v: Option<&Value>) -> String {
    let s = v.cloned().unwrap_or(Value::Null);
    let rolling = if crate::json::get(&s, "rollingUpdate").is_some() { "0xc000000000" } else { "nil" };
    format!("{go_type}{{Type:{}, RollingUpdate:(*{rolling_type})({rolling})}}", quote(crate::json::string(&s, "type")))
}

/// An `rbac.RoleRef`.
pub fn role_ref(v: Option<&Value>) -> String {
    let r = v.cloned().unwrap_or(Value::Null);
    format!(
        "rbac.RoleRef{{APIGroup:{}, Kind:{}, Name:{}}}",
        quote(crate::json::string(&r, "apiGroup")),
        quote(crate::json::string(&r, "kind")),
        quote(crate::json::string(&r, "name"))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_label_selector_prints_as_go_prints_it() {
        let sel = json!({"matchLabels": {"b": "2", "a": "1"}});
        assert_eq!(
            label_selector(Some(&sel)),
            r#"v1.LabelSelector{MatchLabels:map[string]string{"a":"1", "b":"2"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}"#
        );
    }

    #[test]
    fn absent_maps_and_slices_print_as_nil() {
        assert_eq!(string_map(None), "map[string]string(nil)");
        assert_eq!(string_slice(Some(&json!(["a"]))), r#"[]string{"a"}"#);
    }
}
