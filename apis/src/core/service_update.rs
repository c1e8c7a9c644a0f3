//! validateUpgradeDowngradeClusterIPs and validateUpgradeDowngradeIPFamilies: a Service's
//! primary cluster IP and family never change; a secondary may be added or released.

use crate::field::{ErrorList, Path, invalid, invalid_go};
use crate::{gofmt, json};
use serde_json::Value;

fn is_headless(spec: &Value) -> bool {
    let ips = json::items(spec, "clusterIPs");
    ips.len() == 1 && ips[0].as_str() == Some("None")
}

fn either_external_name(new: &Value, old: &Value) -> bool {
    json::string(new, "type") == "ExternalName" || json::string(old, "type") == "ExternalName"
}

fn strings(spec: &Value, f: &str) -> Vec<String> {
    json::items(spec, f).iter().map(|v| v.as_str().unwrap_or_default().to_string()).collect()
}

fn single_stack_policy(new: &Value) -> bool {
    json::str_of(new, "ipFamilyPolicy") == Some("SingleStack")
}

fn policy_value(new: &Value) -> Value {
    new.get("ipFamilyPolicy").cloned().unwrap_or(Value::Null)
}

pub fn validate_cluster_ip_changes(new: &Value, old: &Value) -> ErrorList {
    if either_external_name(new, old) || (is_headless(new) && is_headless(old)) {
        return Vec::new();
    }
    let (n, o) = (strings(new, "clusterIPs"), strings(old, "clusterIPs"));
    let p = Path::new("spec").child("clusterIPs");
    let rendered = gofmt::string_slice(new.get("clusterIPs"));
    let changed = |i: usize| invalid_go(&p.index(i), &rendered, "may not change once set");
    let mut errs = Vec::new();
    if n.len() == o.len() {
        errs.extend((0..o.len()).filter(|i| o[*i] != n[*i]).map(changed));
    } else if o.len() > n.len() {
        if n.is_empty() {
            errs.push(invalid_go(&p.index(0), &rendered, "primary clusterIP can not be unset"));
        }
        if !o.is_empty() && !n.is_empty() && n[0] != o[0] {
            errs.push(changed(0));
        }
        if n.len() == 1 && !single_stack_policy(new) {
            errs.push(invalid(
                &Path::new("spec").child("ipFamilyPolicy"),
                policy_value(new),
                "must be set to 'SingleStack' when releasing the secondary clusterIP",
            ));
        }
    } else if !o.is_empty() && n[0] != o[0] {
        errs.push(changed(0));
    }
    errs
}

pub fn validate_family_changes(new: &Value, old: &Value) -> ErrorList {
    if either_external_name(new, old) || is_headless(new) || is_headless(old) {
        return Vec::new();
    }
    let (n, o) = (strings(new, "ipFamilies"), strings(old, "ipFamilies"));
    let p = Path::new("spec").child("ipFamilies").index(0);
    let families = format!("[]core.IPFamily{{{}}}", n.iter().map(|f| gofmt::quote(f)).collect::<Vec<_>>().join(", "));
    let ips = gofmt::string_slice(new.get("clusterIPs"));
    let mut errs = Vec::new();
    if n.len() == o.len() {
        for i in 0..o.len() {
            if o[i] != n[i] {
                errs.push(invalid_go(&p, &families, "may not change once set"));
            }
        }
    } else if o.len() > n.len() {
        if json::items(new, "clusterIPs").is_empty() {
            errs.push(invalid_go(&p, &families, "primary ipFamily can not be unset"));
        }
        if !n.is_empty() && n[0] != o[0] {
            errs.push(invalid_go(&p, &ips, "may not change once set"));
        }
        if n.len() == 1 && !single_stack_policy(new) {
            errs.push(invalid(
                &Path::new("spec").child("ipFamilyPolicy"),
                policy_value(new),
                "must be set to 'SingleStack' when releasing the secondary ipFamily",
            ));
        }
    } else if !o.is_empty() && !n.is_empty() && n[0] != o[0] {
        errs.push(invalid_go(&p, &ips, "may not change once set"));
    }
    errs
}
