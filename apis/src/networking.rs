//! The networking.k8s.io group: Ingresses, IngressClasses and NetworkPolicies
//! (pkg/apis/networking/v1/defaults.go, pkg/apis/networking/validation).

use crate::core::port_num;
use crate::field::{ErrorList, Path, immutable, invalid, not_supported, required, too_long};
use crate::json::{self, default_nil, ensure_object, with_mut};
use crate::net;
use apimachinery::validation::{self as v, regex_error};
use serde_json::{Value, json};

pub fn default(kind: &str, obj: &mut Value) {
    match kind {
        "NetworkPolicy" => default_network_policy(obj),
        "IngressClass" => with_mut(obj, "/spec/parameters", |p| default_nil(p, "scope", json!("Cluster"))),
        _ => {}
    }
}

/// SetDefaults_NetworkPolicy and SetDefaults_NetworkPolicyPort.
fn default_network_policy(np: &mut Value) {
    let Some(spec) = ensure_object(np, "spec") else {
        return;
    };
    if json::items(spec, "policyTypes").is_empty() {
        let mut types = vec![json!("Ingress")];
        if !json::items(spec, "egress").is_empty() {
            types.push(json!("Egress"));
        }
        spec["policyTypes"] = Value::Array(types);
    }
    for dir in ["ingress", "egress"] {
        json::each_mut(spec, dir, |rule| json::each_mut(rule, "ports", |p| default_nil(p, "protocol", json!("TCP"))));
    }
}

pub fn validate(kind: &str, obj: &Value, old: Option<&Value>) -> ErrorList {
    match kind {
        "Ingress" => validate_ingress(obj, old),
        "IngressClass" => validate_ingress_class(obj, old),
        _ => Vec::new(),
    }
}

/// What an update may keep from before: invalid TLS secret names and wildcard rules that
/// already existed (IngressValidationOptions).
#[derive(Default)]
struct Allowances {
    invalid_secret_names: bool,
    invalid_wildcard_rules: bool,
}

fn allowances(old: Option<&Value>) -> Allowances {
    let Some(old) = old else {
        return Allowances::default();
    };
    let spec = json::get(old, "spec").cloned().unwrap_or_default();
    let invalid_secret_names = json::items(&spec, "tls").iter().any(|t| {
        let name = json::string(t, "secretName");
        !name.is_empty() && !v::is_dns1123_subdomain(name).is_empty()
    });
    let invalid_wildcard_rules = json::items(&spec, "rules")
        .iter()
        .any(|r| json::string(r, "host").contains('*') && !validate_rule_value(r, &Path::new("x")).is_empty());
    Allowances { invalid_secret_names, invalid_wildcard_rules }
}

/// ValidateIngressCreate / ValidateIngressUpdate.
fn validate_ingress(ing: &Value, old: Option<&Value>) -> ErrorList {
    let allow = allowances(old);
    let p = Path::new("spec");
    let spec = json::get(ing, "spec").cloned().unwrap_or_default();
    let rules = json::items(&spec, "rules");
    let mut errs = Vec::new();
    if rules.is_empty() && json::get(&spec, "defaultBackend").is_none() {
        let rendered = if spec.get("rules").is_some_and(Value::is_array) {
            "[]networking.IngressRule{}"
        } else {
            "[]networking.IngressRule(nil)"
        };
        errs.push(crate::field::invalid_go(&p, rendered, "either `defaultBackend` or `rules` must be specified"));
    }
    if let Some(b) = json::get(&spec, "defaultBackend") {
        errs.extend(validate_backend(b, &p.child("defaultBackend")));
    }
    for (i, rule) in rules.iter().enumerate() {
        errs.extend(validate_rule(rule, &allow, &p.child("rules").index(i)));
    }
    errs.extend(validate_tls(&spec, &allow, &p.child("tls")));
    if let Some(class) = json::str_of(&spec, "ingressClassName") {
        errs.extend(subdomain(class, &p.child("ingressClassName")));
    }
    if old.is_none() {
        errs.extend(validate_class_annotation(ing, &spec));
    }
    errs
}

fn subdomain(value: &str, p: &Path) -> ErrorList {
    v::is_dns1123_subdomain(value).into_iter().map(|m| invalid(p, value, m)).collect()
}

/// The deprecated class annotation must agree with `ingressClassName`.
fn validate_class_annotation(ing: &Value, spec: &Value) -> ErrorList {
    let key = "kubernetes.io/ingress.class";
    let annotation = ing.pointer("/metadata/annotations").and_then(|a| json::str_of(a, key));
    match (annotation, json::str_of(spec, "ingressClassName")) {
        (Some(a), Some(c)) if a != c => vec![invalid(
            &Path::new("annotations").child(key),
            a,
            "must match `ingressClassName` when both are specified",
        )],
        _ => Vec::new(),
    }
}

/// validateIngressRules for one rule: a DNS host (wildcards allowed), then its paths.
fn validate_rule(rule: &Value, allow: &Allowances, p: &Path) -> ErrorList {
    let host = json::string(rule, "host");
    let hp = p.child("host");
    let mut errs = Vec::new();
    let wildcard = host.contains('*');
    if !host.is_empty() {
        if net::parse_ip(host).is_some() {
            errs.push(invalid(&hp, host, "must be a DNS name, not an IP address"));
        }
        let msgs = if wildcard { wildcard_subdomain(host) } else { v::is_dns1123_subdomain(host) };
        errs.extend(msgs.into_iter().map(|m| invalid(&hp, host, m)));
    }
    if !wildcard || !allow.invalid_wildcard_rules {
        errs.extend(validate_rule_value(rule, p));
    }
    errs
}

/// IsWildcardDNS1123Subdomain: `*.` followed by a DNS subdomain.
fn wildcard_subdomain(value: &str) -> Vec<String> {
    let mut msgs = Vec::new();
    if value.len() > 253 {
        msgs.push(v::max_len_error(253));
    }
    let ok = value.strip_prefix("*.").is_some_and(|rest| v::is_dns1123_subdomain(rest).is_empty());
    if !ok {
        msgs.push(regex_error(
            "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character",
            "\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*",
            &["*.example.com"],
        ));
    }
    msgs
}

fn validate_rule_value(rule: &Value, p: &Path) -> ErrorList {
    let Some(http) = json::get(rule, "http") else {
        return Vec::new();
    };
    let hp = p.child("http");
    let paths = json::items(http, "paths");
    let mut errs = Vec::new();
    if paths.is_empty() {
        errs.push(required(&hp.child("paths"), ""));
    }
    for (i, path) in paths.iter().enumerate() {
        errs.extend(validate_path(path, &hp.child("paths").index(i)));
    }
    errs
}

/// validateHTTPIngressPath: a pathType, an absolute path for Exact and Prefix, a backend.
fn validate_path(path: &Value, p: &Path) -> ErrorList {
    let Some(path_type) = json::str_of(path, "pathType") else {
        return vec![required(&p.child("pathType"), "pathType must be specified")];
    };
    let value = json::string(path, "path");
    let pp = p.child("path");
    let mut errs = Vec::new();
    match path_type {
        "Exact" | "Prefix" => {
            if !value.starts_with('/') {
                errs.push(invalid(&pp, value, "must be an absolute path"));
            }
            errs.extend(path_sequences(value, &pp));
        }
        "ImplementationSpecific" => {
            if !value.is_empty() && !value.starts_with('/') {
                errs.push(invalid(&pp, value, "must be an absolute path"));
            }
        }
        other => errs.push(not_supported(&p.child("pathType"), other, &["Exact", "ImplementationSpecific", "Prefix"])),
    }
    let backend = json::get(path, "backend").cloned().unwrap_or_default();
    errs.extend(validate_backend(&backend, &p.child("backend")));
    errs
}

/// invalidPathSequences and invalidPathSuffixes.
fn path_sequences(value: &str, p: &Path) -> ErrorList {
    let mut errs = Vec::new();
    if value.is_empty() {
        return errs;
    }
    for seq in ["//", "/./", "/../", "%2f", "%2F"] {
        if value.contains(seq) {
            errs.push(invalid(p, value, format!("must not contain '{seq}'")));
        }
    }
    for suffix in ["/..", "/."] {
        if value.ends_with(suffix) {
            errs.push(invalid(p, value, format!("cannot end with '{suffix}'")));
        }
    }
    errs
}

/// validateIngressBackend: a service (DNS-1035 name; port name or number) or a resource.
fn validate_backend(b: &Value, p: &Path) -> ErrorList {
    match (json::get(b, "resource"), json::get(b, "service")) {
        (Some(_), Some(_)) => vec![invalid(p, "", "cannot set both resource and service backends")],
        (Some(r), None) => validate_resource_backend(r, &p.child("resource")),
        (None, Some(s)) => validate_service_backend(s, p),
        (None, None) => vec![invalid(p, "", "resource or service backend is required")],
    }
}

fn validate_service_backend(s: &Value, p: &Path) -> ErrorList {
    let sp = p.child("service");
    let name = json::string(s, "name");
    let mut errs = Vec::new();
    if name.is_empty() {
        errs.push(required(&sp.child("name"), ""));
    } else {
        errs.extend(v::is_dns1035_label(name).into_iter().map(|m| invalid(&sp.child("name"), name, m)));
    }
    let port = json::get(s, "port").cloned().unwrap_or_default();
    let port_name = json::string(&port, "name");
    let number = json::int(&port, "number").unwrap_or(0);
    match (port_name.is_empty(), number == 0) {
        (false, false) => errs.push(invalid(p, "", "cannot set both port name & port number")),
        (false, true) => errs.extend(
            v::is_valid_port_name(port_name)
                .into_iter()
                .map(|m| invalid(&sp.children(&["port", "name"]), port_name, m)),
        ),
        (true, false) => errs.extend(port_num(number, &sp.children(&["port", "number"]))),
        (true, true) => errs.push(required(p, "port name or number is required")),
    }
    errs
}

/// validateIngressTypedLocalObjectReference.
fn validate_resource_backend(r: &Value, p: &Path) -> ErrorList {
    let mut errs = Vec::new();
    if let Some(group) = json::str_of(r, "apiGroup") {
        errs.extend(subdomain(group, &p.child("apiGroup")));
    }
    for f in ["kind", "name"] {
        let value = json::string(r, f);
        if value.is_empty() {
            errs.push(required(&p.child(f), format!("{f} is required")));
        } else {
            errs.extend(crate::meta::validate_path_segment(value, &p.child(f)));
        }
    }
    errs
}

/// validateIngressTLS.
fn validate_tls(spec: &Value, allow: &Allowances, p: &Path) -> ErrorList {
    let mut errs = Vec::new();
    for (i, tls) in json::items(spec, "tls").iter().enumerate() {
        let tp = p.index(i);
        for (j, host) in json::items(tls, "hosts").iter().enumerate() {
            let host = host.as_str().unwrap_or_default();
            let msgs = if host.contains('*') { wildcard_subdomain(host) } else { v::is_dns1123_subdomain(host) };
            errs.extend(msgs.into_iter().map(|m| invalid(&tp.child("hosts").index(j), host, m)));
        }
        let secret = json::string(tls, "secretName");
        if !allow.invalid_secret_names && !secret.is_empty() {
            errs.extend(subdomain(secret, &tp.child("secretName")));
        }
    }
    errs
}

/// ValidateIngressClass(Update): a domain-prefixed controller that never changes.
fn validate_ingress_class(ic: &Value, old: Option<&Value>) -> ErrorList {
    let p = Path::new("spec");
    let controller = ic.pointer("/spec/controller").and_then(Value::as_str).unwrap_or("");
    let cp = p.child("controller");
    let mut errs = Vec::new();
    if controller.len() > 250 {
        errs.push(too_long(&cp, 250));
    }
    errs.extend(domain_prefixed_path(controller, &cp));
    if let Some(params) = ic.pointer("/spec/parameters") {
        errs.extend(validate_class_parameters(params, &p.child("parameters")));
    }
    if let Some(old) = old {
        errs.extend(immutable(ic.pointer("/spec/controller"), old.pointer("/spec/controller"), &cp));
    }
    errs
}

/// IsDomainPrefixedPath: `example.com/path`.
fn domain_prefixed_path(value: &str, p: &Path) -> ErrorList {
    if value.is_empty() {
        return vec![required(p, "")];
    }
    let Some((host, path)) = value.split_once('/').filter(|(h, r)| !h.is_empty() && !r.is_empty()) else {
        return vec![invalid(p, value, "must be a domain-prefixed path (such as \"acme.io/foo\")")];
    };
    let mut errs = subdomain(host, p);
    let path_ok = path.bytes().all(|b| b.is_ascii_alphanumeric() || b"/-._~%!$&'()*+,;=:".contains(&b));
    if !path_ok {
        errs.push(invalid(p, path, regex_error("Invalid path", "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+", &[])));
    }
    errs
}

/// validateIngressClassParametersReference.
fn validate_class_parameters(params: &Value, p: &Path) -> ErrorList {
    let mut errs = validate_resource_backend(params, p);
    let Some(scope) = json::str_of(params, "scope") else {
        errs.push(required(&p.child("scope"), ""));
        return errs;
    };
    let namespace = json::str_of(params, "namespace");
    match scope {
        "Cluster" if namespace.is_some() => {
            errs.push(crate::field::forbidden(&p.child("namespace"), "`parameters.scope` is set to 'Cluster'"))
        }
        "Namespace" if namespace.is_none_or(str::is_empty) => {
            errs.push(required(&p.child("namespace"), "`parameters.scope` is set to 'Namespace'"))
        }
        "Cluster" | "Namespace" => {}
        other => errs.push(not_supported(&p.child("scope"), other, &["Cluster", "Namespace"])),
    }
    errs
}
