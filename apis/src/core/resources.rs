//! Container resources: ValidateContainerResourceRequirements (names, quantities, requests <=
//! limits) and validateResizePolicy, with pkg/apis/core/helper's resource-name predicates.

use crate::field::{ErrorList, Path, duplicate, forbidden, invalid, not_supported, required};
use crate::json;
use crate::quantity::{self, Quantity};
use apimachinery::validation as v;
use serde_json::{Map, Value};
use std::cmp::Ordering;

/// standardResources of pkg/apis/core/helper (names valid without a domain prefix).
const STANDARD_RESOURCES: [&str; 20] = [
    "cpu",
    "memory",
    "ephemeral-storage",
    "requests.cpu",
    "requests.memory",
    "requests.ephemeral-storage",
    "limits.cpu",
    "limits.memory",
    "limits.ephemeral-storage",
    "pods",
    "services",
    "replicationcontrollers",
    "resourcequotas",
    "secrets",
    "configmaps",
    "persistentvolumeclaims",
    "storage",
    "requests.storage",
    "services.nodeports",
    "services.loadbalancers",
];

fn is_hugepages(name: &str) -> bool {
    name.starts_with("hugepages-")
}

fn is_native(name: &str) -> bool {
    !name.contains('/') || name.contains("kubernetes.io/")
}

fn is_extended(name: &str) -> bool {
    !is_native(name) && !name.starts_with("requests.") && v::is_qualified_name(&format!("requests.{name}")).is_empty()
}

fn overcommit_allowed(name: &str) -> bool {
    is_native(name) && !is_hugepages(name)
}

/// validateContainerResourceName.
fn validate_resource_name(name: &str, p: &Path) -> ErrorList {
    let mut errs: ErrorList = v::is_qualified_name(name).into_iter().map(|m| invalid(p, name, m)).collect();
    if !errs.is_empty() {
        return errs;
    }
    if !name.contains('/') {
        if !STANDARD_RESOURCES.contains(&name) && !is_hugepages(name) {
            errs.push(invalid(p, name, "must be a standard resource type or fully qualified"));
        }
        if !["cpu", "memory", "ephemeral-storage"].contains(&name) && !is_hugepages(name) {
            errs.push(invalid(p, name, "must be a standard resource for containers"));
        }
    } else if !is_native(name) && !is_extended(name) {
        errs.push(invalid(p, name, "doesn't follow extended resource name standard"));
    }
    errs
}

/// A quantity as written (string or number); an Invalid error when it does not parse.
pub fn parse_quantity(raw: &Value, p: &Path) -> Result<Quantity, Box<crate::FieldError>> {
    let text = match raw {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    };
    quantity::parse(&text).map_err(|e| Box::new(invalid(p, text, e.to_string())))
}

/// ValidateResourceQuantityValue: not negative; whole for integer (extended) resources.
fn validate_quantity(name: &str, q: &Quantity, p: &Path) -> ErrorList {
    let mut errs = Vec::new();
    if q.is_negative() {
        errs.push(invalid(p, q.canonical(), "must be greater than or equal to 0"));
    }
    if is_extended(name) && !q.is_integer() {
        errs.push(invalid(p, q.canonical(), "must be an integer"));
    }
    errs
}

/// One resource list: names and quantities checked, parsed quantities returned by name.
fn validate_list(list: Option<&Map<String, Value>>, p: &Path, errs: &mut ErrorList) -> Vec<(String, Quantity)> {
    let mut parsed = Vec::new();
    for (name, raw) in list.into_iter().flatten() {
        let rp = p.key(name);
        errs.extend(validate_resource_name(name, &rp));
        match parse_quantity(raw, &rp) {
            Ok(q) => {
                errs.extend(validate_quantity(name, &q, &rp));
                errs.extend(validate_hugepages(name, &q, &rp));
                parsed.push((name.clone(), q));
            }
            Err(e) => errs.push(*e),
        }
    }
    parsed
}

/// validateResourceQuantityHugePageValue: a whole multiple of the page size.
fn validate_hugepages(name: &str, q: &Quantity, p: &Path) -> ErrorList {
    let Some(size) = name.strip_prefix("hugepages-") else {
        return Vec::new();
    };
    let divisible = match (quantity::parse(size).ok().and_then(|s| s.as_integer()), q.as_integer()) {
        (Some(s), Some(n)) if s > 0 => n % s == 0,
        _ => false,
    };
    if divisible {
        return Vec::new();
    }
    vec![invalid(p, q.canonical(), format!("{} is not positive integer multiple of {name}", q.canonical()))]
}

/// ValidateContainerResourceRequirements.
pub fn validate_container_resources(res: Option<&Value>, p: &Path) -> ErrorList {
    let Some(res) = res else {
        return Vec::new();
    };
    let mut errs = Vec::new();
    let (lim_path, req_path) = (p.child("limits"), p.child("requests"));
    let limits = validate_list(json::object(res, "limits"), &lim_path, &mut errs);
    let requests = validate_list(json::object(res, "requests"), &req_path, &mut errs);
    for (name, q) in &requests {
        let limit = limits.iter().find(|(n, _)| n == name).map(|(_, l)| l);
        errs.extend(compare_to_limit(name, q, limit, &lim_path, &req_path));
    }
    let has_cpu_or_memory = limits.iter().chain(&requests).any(|(n, _)| n == "cpu" || n == "memory");
    let has_hugepages = limits.iter().chain(&requests).any(|(n, _)| is_hugepages(n));
    if has_hugepages && !has_cpu_or_memory {
        errs.push(forbidden(p, "HugePages require cpu or memory"));
    }
    errs
}

/// Requests may not exceed limits; non-overcommitable resources must equal them.
fn compare_to_limit(
    name: &str,
    req: &Quantity,
    limit: Option<&Quantity>,
    lim_path: &Path,
    req_path: &Path,
) -> ErrorList {
    let Some(limit) = limit else {
        if overcommit_allowed(name) {
            return Vec::new();
        }
        return vec![required(lim_path, "Limit must be set for non overcommitable resources")];
    };
    let ord = req.cmp(limit);
    let detail = if ord != Ordering::Equal && !overcommit_allowed(name) {
        format!("must be equal to {name} limit of {}", limit.canonical())
    } else if ord == Ordering::Greater {
        format!("must be less than or equal to {name} limit of {}", limit.canonical())
    } else {
        return Vec::new();
    };
    vec![invalid(req_path, req.canonical(), detail)]
}

/// validateResizePolicy.
pub fn validate_resize_policy(c: &Value, pod_restart_policy: &str, p: &Path) -> ErrorList {
    let mut errs = Vec::new();
    let mut seen = Vec::new();
    for (i, rp) in json::items(c, "resizePolicy").iter().enumerate() {
        let name = json::string(rp, "resourceName");
        if seen.contains(&name) {
            errs.push(duplicate(&p.index(i), name));
        }
        seen.push(name);
        match name {
            "cpu" | "memory" => {}
            "" => errs.push(required(p, "")),
            other => errs.push(not_supported(p, other, &["cpu", "memory"])),
        }
        let policy = json::string(rp, "restartPolicy");
        match policy {
            "NotRequired" | "RestartContainer" => {}
            "" => errs.push(required(p, "")),
            other => errs.push(not_supported(p, other, &["NotRequired", "RestartContainer"])),
        }
        if pod_restart_policy == "Never" && policy != "NotRequired" {
            errs.push(invalid(p, policy, "must be 'NotRequired' when `restartPolicy` is 'Never'"));
        }
    }
    errs
}
