//! PodSpec validation (ValidatePodSpec) and what wraps it: ValidatePodCreate for Pods and
//! ValidatePodTemplateSpec for every template a workload embeds.

use super::container::{self, PodContext, dns_label};
use super::{scheduling, security, volume};
use crate::field::{ErrorList, Path, duplicate, enum_required, forbidden, invalid, not_supported, required};
use crate::{json, meta, net};
use apimachinery::validation::{self as v, inclusive_range_error, regex_error};
use serde_json::Value;

/// ValidatePodCreate: the spec, plus what only a real Pod must satisfy.
pub fn validate_pod(pod: &Value) -> ErrorList {
    let p = Path::new("spec");
    let spec = json::get(pod, "spec").cloned().unwrap_or_default();
    let mut errs = validate_pod_metadata_and_spec(&spec, &p);
    if !json::items(&spec, "ephemeralContainers").is_empty() {
        errs.push(forbidden(&p.child("ephemeralContainers"), "cannot be set on create"));
    }
    if !json::string(&spec, "nodeName").is_empty() && !json::items(&spec, "schedulingGates").is_empty() {
        errs.push(forbidden(&p.child("nodeName"), "cannot be set until all schedulingGates have been cleared"));
    }
    errs
}

/// validatePodMetadataAndSpec: ValidatePodSpec plus the checks kept for Pods only.
pub fn validate_pod_metadata_and_spec(spec: &Value, p: &Path) -> ErrorList {
    let mut errs = validate_pod_spec(spec, true, p);
    if json::string(spec, "serviceAccountName").is_empty() {
        errs.extend(forbid_token_projections(spec, p));
    }
    for list in ["containers", "initContainers"] {
        for (i, c) in json::items(spec, list).iter().enumerate() {
            let image = json::string(c, "image");
            if image.trim() != image {
                errs.push(invalid(
                    &p.child(list).index(i).child("image"),
                    image,
                    "must not have leading or trailing whitespace",
                ));
            }
        }
    }
    errs
}

fn forbid_token_projections(spec: &Value, p: &Path) -> ErrorList {
    let mut errs = Vec::new();
    for (vi, vol) in json::items(spec, "volumes").iter().enumerate() {
        let Some(proj) = json::get(vol, "projected") else {
            continue;
        };
        for (si, source) in json::items(proj, "sources").iter().enumerate() {
            if json::get(source, "serviceAccountToken").is_some() {
                let sp = p.child("volumes").index(vi).children(&["projected", "sources"]);
                errs.push(forbidden(
                    &sp.index(si).child("serviceAccountToken"),
                    "must not be specified when serviceAccountName is not set",
                ));
            }
        }
    }
    errs
}

/// ValidatePodTemplateSpec: labels, annotations and the pod spec of an embedded template.
pub fn validate_template(template: Option<&Value>, p: &Path) -> ErrorList {
    let empty = Value::Null;
    let template = template.unwrap_or(&empty);
    let md = json::get(template, "metadata");
    let mut errs = meta::validate_labels(md.and_then(|m| m.get("labels")), &p.child("labels"));
    errs.extend(meta::validate_annotations(md.and_then(|m| m.get("annotations")), &p.child("annotations")));
    let spec = json::get(template, "spec").cloned().unwrap_or_default();
    errs.extend(validate_pod_spec(&spec, false, &p.child("spec")));
    if !json::items(&spec, "ephemeralContainers").is_empty() {
        errs.push(forbidden(
            &p.children(&["spec", "ephemeralContainers"]),
            "ephemeral containers not allowed in pod template",
        ));
    }
    errs
}

/// The template's `spec.restartPolicy`, as workloads check it after ValidatePodTemplateSpec.
pub fn template_restart_policy(template: Option<&Value>) -> &str {
    template.and_then(|t| json::at(t, "/spec/restartPolicy")).and_then(Value::as_str).unwrap_or("")
}

/// ValidatePodSpec.
pub fn validate_pod_spec(spec: &Value, is_pod: bool, p: &Path) -> ErrorList {
    let mut errs = Vec::new();
    let grace = json::int(spec, "terminationGracePeriodSeconds");
    if json::get(spec, "terminationGracePeriodSeconds").is_none() {
        errs.push(required(&p.child("terminationGracePeriodSeconds"), ""));
    }
    let (vols, vol_errs) = volume::validate_volumes(spec, is_pod, &p.child("volumes"));
    errs.extend(vol_errs);
    let ctx = PodContext { volumes: &vols, grace_period: grace, restart_policy: json::string(spec, "restartPolicy") };
    errs.extend(container::validate_containers(spec, &ctx, &p.child("containers")));
    errs.extend(container::validate_init_containers(spec, &ctx, &p.child("initContainers")));
    errs.extend(container::validate_ephemeral_containers(spec, &ctx, &p.child("ephemeralContainers")));
    errs.extend(validate_host_network(spec, is_pod, p));
    errs.extend(validate_policies(spec, p));
    errs.extend(meta::validate_labels(spec.get("nodeSelector"), &p.child("nodeSelector")));
    errs.extend(security::validate_pod_context(spec, &p.child("securityContext")));
    errs.extend(scheduling::validate_affinity(spec, &p.child("affinity")));
    errs.extend(validate_dns_config(spec, &p.child("dnsConfig")));
    errs.extend(validate_gates(spec, p));
    errs.extend(scheduling::validate_topology_spread(
        json::items(spec, "topologySpreadConstraints"),
        &p.child("topologySpreadConstraints"),
    ));
    errs.extend(validate_names(spec, p));
    errs.extend(validate_scalars(spec, p));
    errs
}

/// validatePodHostNetworkDeps: on the host network a host port must equal the container port.
fn validate_host_network(spec: &Value, is_pod: bool, p: &Path) -> ErrorList {
    if !json::boolean(spec, "hostNetwork") {
        return Vec::new();
    }
    let mut errs = Vec::new();
    for (i, c) in json::items(spec, "containers").iter().enumerate() {
        for (j, port) in json::items(c, "ports").iter().enumerate() {
            let hp = json::int(port, "hostPort").unwrap_or(0);
            let cp = json::int(port, "containerPort").unwrap_or(0);
            if (is_pod || hp != 0) && hp != cp {
                errs.push(invalid(
                    &p.child("containers").index(i).child("ports").index(j).child("hostPort"),
                    hp,
                    "must match `containerPort` when `hostNetwork` is true",
                ));
            }
        }
    }
    errs
}

/// restartPolicy, dnsPolicy and preemptionPolicy enums.
fn validate_policies(spec: &Value, p: &Path) -> ErrorList {
    let mut errs = enum_required(
        json::string(spec, "restartPolicy"),
        &["Always", "OnFailure", "Never"],
        &p.child("restartPolicy"),
    );
    errs.extend(enum_required(
        json::string(spec, "dnsPolicy"),
        &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"],
        &p.child("dnsPolicy"),
    ));
    if let Some(pp) = json::str_of(spec, "preemptionPolicy") {
        errs.extend(enum_required(pp, &["PreemptLowerPriority", "Never"], &p.child("preemptionPolicy")));
    }
    errs
}

/// validatePodDNSConfig, with 1.33's RelaxedDNSSearchValidation.
fn validate_dns_config(spec: &Value, p: &Path) -> ErrorList {
    let config = json::get(spec, "dnsConfig");
    if json::string(spec, "dnsPolicy") == "None" {
        let Some(c) = config else {
            return vec![required(p, "must provide `dnsConfig` when `dnsPolicy` is None")];
        };
        if json::items(c, "nameservers").is_empty() {
            return vec![required(
                &p.child("nameservers"),
                "must provide at least one DNS nameserver when `dnsPolicy` is None",
            )];
        }
    }
    let Some(c) = config else {
        return Vec::new();
    };
    let mut errs = validate_nameservers(c, &p.child("nameservers"));
    errs.extend(validate_searches(c, &p.child("searches")));
    for (i, o) in json::items(c, "options").iter().enumerate() {
        if json::string(o, "name").is_empty() {
            errs.push(required(&p.child("options").index(i), "must not be empty"));
        }
    }
    errs
}

fn validate_nameservers(c: &Value, p: &Path) -> ErrorList {
    let servers = json::items(c, "nameservers");
    let mut errs = Vec::new();
    if servers.len() > 3 {
        errs.push(crate::field::invalid_go(
            p,
            &crate::gofmt::string_slice(c.get("nameservers")),
            "must not have more than 3 nameservers",
        ));
    }
    for (i, ns) in servers.iter().enumerate() {
        errs.extend(net::validate_ip(&p.index(i), ns.as_str().unwrap_or_default()));
    }
    errs
}

fn validate_searches(c: &Value, p: &Path) -> ErrorList {
    let searches: Vec<&str> = json::items(c, "searches").iter().map(|s| s.as_str().unwrap_or_default()).collect();
    let mut errs = Vec::new();
    let rendered = crate::gofmt::string_slice(c.get("searches"));
    if searches.len() > 32 {
        errs.push(crate::field::invalid_go(p, &rendered, "must not have more than 32 search paths"));
    }
    if searches.join(" ").len() > 2048 {
        errs.push(crate::field::invalid_go(
            p,
            &rendered,
            "must not have more than 2048 characters (including spaces) in the search list",
        ));
    }
    for (i, s) in searches.iter().enumerate() {
        if *s != "." {
            errs.extend(subdomain_with_underscore(s.trim_end_matches('.'), &p.index(i)));
        }
    }
    errs
}

/// IsDNS1123SubdomainWithUnderscore.
fn subdomain_with_underscore(value: &str, p: &Path) -> ErrorList {
    let label_ok = |l: &str| {
        let l = l.strip_prefix('_').unwrap_or(l);
        let b = l.as_bytes();
        let edge = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
        !b.is_empty() && edge(b[0]) && edge(b[b.len() - 1]) && b.iter().all(|c| edge(*c) || *c == b'-' || *c == b'_')
    };
    let mut msgs = Vec::new();
    if value.len() > 253 {
        msgs.push(v::max_len_error(253));
    }
    if !value.split('.').all(label_ok) {
        msgs.push(regex_error(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '_', '-' or '.', and must start and end with an alphanumeric character",
            "_?[a-z0-9]([-_a-z0-9]*[a-z0-9])?(\\._?[a-z0-9]([-_a-z0-9]*[a-z0-9])?)*",
            &["example.com"],
        ));
    }
    msgs.into_iter().map(|m| invalid(p, value, m)).collect()
}

/// readinessGates and schedulingGates: qualified names, scheduling gates unique.
fn validate_gates(spec: &Value, p: &Path) -> ErrorList {
    let mut errs = Vec::new();
    for (i, g) in json::items(spec, "readinessGates").iter().enumerate() {
        let cp = p.child("readinessGates").index(i).child("conditionType");
        errs.extend(meta::validate_label_name(json::string(g, "conditionType"), &cp));
    }
    let mut seen = Vec::new();
    for (i, g) in json::items(spec, "schedulingGates").iter().enumerate() {
        let gp = p.child("schedulingGates").index(i);
        let name = json::string(g, "name");
        errs.extend(meta::validate_label_name(name, &gp));
        if seen.contains(&name) {
            errs.push(duplicate(&gp, name));
        }
        seen.push(name);
    }
    errs
}

/// Names a PodSpec refers to: service account, node, priority and runtime classes, host names.
fn validate_names(spec: &Value, p: &Path) -> ErrorList {
    let mut errs = Vec::new();
    for f in ["serviceAccountName", "nodeName", "priorityClassName", "runtimeClassName"] {
        let value = json::string(spec, f);
        if !value.is_empty() || (f == "runtimeClassName" && json::get(spec, f).is_some()) {
            errs.extend(v::is_dns1123_subdomain(value).into_iter().map(|m| invalid(&p.child(f), value, m)));
        }
    }
    for f in ["hostname", "subdomain"] {
        let value = json::string(spec, f);
        if !value.is_empty() {
            errs.extend(dns_label(value, &p.child(f)));
        }
    }
    errs
}

/// activeDeadlineSeconds, tolerations, hostAliases and os.
fn validate_scalars(spec: &Value, p: &Path) -> ErrorList {
    let mut errs = Vec::new();
    if let Some(d) = json::int(spec, "activeDeadlineSeconds")
        && !(1..=i64::from(i32::MAX)).contains(&d)
    {
        errs.push(invalid(&p.child("activeDeadlineSeconds"), d, inclusive_range_error(1, i64::from(i32::MAX))));
    }
    errs.extend(scheduling::validate_tolerations(json::items(spec, "tolerations"), &p.child("tolerations")));
    for (i, alias) in json::items(spec, "hostAliases").iter().enumerate() {
        let ap = p.child("hostAliases").index(i);
        errs.extend(net::validate_ip(&ap.child("ip"), json::string(alias, "ip")));
        for (j, h) in json::items(alias, "hostnames").iter().enumerate() {
            let h = h.as_str().unwrap_or_default();
            errs.extend(v::is_dns1123_subdomain(h).into_iter().map(|m| invalid(&ap.child("hostnames").index(j), h, m)));
        }
    }
    errs.extend(validate_os(spec, &p.child("os")));
    errs
}

fn validate_os(spec: &Value, p: &Path) -> ErrorList {
    let Some(os) = json::get(spec, "os") else {
        return Vec::new();
    };
    match json::string(os, "name") {
        "" => vec![required(&p.child("name"), "cannot be empty")],
        "linux" | "windows" => Vec::new(),
        other => vec![not_supported(p, other, &["linux", "windows"])],
    }
}
