//! Container validation: validateContainers, validateInitContainers, validateContainerCommon and
//! what they call (ports, env, envFrom, probes, lifecycle) in pkg/apis/core/validation.

use super::volume::{self, Volumes};
use super::{handler, resources, security};
use crate::field::{ErrorList, Path, duplicate, forbidden, invalid, not_supported, required};
use crate::json;
use apimachinery::validation as v;
use serde_json::Value;
use std::collections::HashSet;

/// What every container check needs to know about the pod around it.
pub struct PodContext<'a> {
    pub volumes: &'a Volumes,
    pub grace_period: Option<i64>,
    pub restart_policy: &'a str,
}

/// validateContainers: the regular containers (at least one, names unique, probes checked).
pub fn validate_containers(spec: &Value, ctx: &PodContext, p: &Path) -> ErrorList {
    let containers = json::items(spec, "containers");
    if containers.is_empty() {
        return vec![required(p, "")];
    }
    let mut errs = Vec::new();
    let mut names = HashSet::new();
    for (i, c) in containers.iter().enumerate() {
        let cp = p.index(i);
        errs.extend(validate_common(c, ctx, &cp));
        let name = json::string(c, "name");
        if !names.insert(name) {
            errs.push(duplicate(&cp.child("name"), name));
        }
        errs.extend(validate_probes_and_lifecycle(c, ctx, &cp));
        if json::get(c, "restartPolicy").is_some() {
            errs.push(forbidden(&cp.child("restartPolicy"), "may not be set for non-init containers"));
        }
    }
    errs.extend(host_port_conflicts(containers, p, &mut HashSet::new()));
    errs
}

/// validateInitContainers: names unique across init and regular containers; probes only for
/// restartable (sidecar) init containers.
pub fn validate_init_containers(spec: &Value, ctx: &PodContext, p: &Path) -> ErrorList {
    let mut names: HashSet<&str> = json::items(spec, "containers").iter().map(|c| json::string(c, "name")).collect();
    let mut errs = Vec::new();
    for (i, c) in json::items(spec, "initContainers").iter().enumerate() {
        let cp = p.index(i);
        errs.extend(validate_common(c, ctx, &cp));
        let restart = json::str_of(c, "restartPolicy");
        if let Some(rp) = restart.filter(|r| *r != "Always") {
            errs.push(not_supported(&cp.child("restartPolicy"), rp, &["Always"]));
        }
        let name = json::string(c, "name");
        if names.contains(name) {
            errs.push(duplicate(&cp.child("name"), name));
        } else if !name.is_empty() {
            names.insert(name);
        }
        errs.extend(host_port_conflicts(std::slice::from_ref(c), p, &mut HashSet::new()));
        if restart == Some("Always") {
            errs.extend(validate_probes_and_lifecycle(c, ctx, &cp));
        } else {
            errs.extend(forbid_init_probes(c, &cp));
        }
    }
    errs
}

fn forbid_init_probes(c: &Value, p: &Path) -> ErrorList {
    ["lifecycle", "livenessProbe", "readinessProbe", "startupProbe"]
        .iter()
        .filter(|f| json::get(c, f).is_some())
        .map(|f| forbidden(&p.child(f), "may not be set for init containers without restartPolicy=Always"))
        .collect()
}

/// validateEphemeralContainers: common checks and names unique across all containers.
pub fn validate_ephemeral_containers(spec: &Value, ctx: &PodContext, p: &Path) -> ErrorList {
    let mut names: HashSet<&str> = ["containers", "initContainers"]
        .iter()
        .flat_map(|l| json::items(spec, l))
        .map(|c| json::string(c, "name"))
        .collect();
    let mut errs = Vec::new();
    for (i, c) in json::items(spec, "ephemeralContainers").iter().enumerate() {
        let cp = p.index(i);
        errs.extend(validate_common(c, ctx, &cp));
        let name = json::string(c, "name");
        if !names.insert(name) {
            errs.push(duplicate(&cp.child("name"), name));
        }
    }
    errs
}

/// validateContainerCommon: what regular, init and ephemeral containers all pass.
fn validate_common(c: &Value, ctx: &PodContext, p: &Path) -> ErrorList {
    let mut errs = validate_name(c, p);
    if json::string(c, "image").is_empty() {
        errs.push(required(&p.child("image"), ""));
    }
    errs.extend(validate_termination_message_policy(c, p));
    errs.extend(validate_ports(json::items(c, "ports"), &p.child("ports")));
    errs.extend(validate_env(json::items(c, "env"), &p.child("env")));
    errs.extend(validate_env_from(json::items(c, "envFrom"), &p.child("envFrom")));
    errs.extend(volume::validate_mounts(c, ctx.volumes, &p.child("volumeMounts")));
    errs.extend(volume::validate_devices(c, ctx.volumes, &p.child("volumeDevices")));
    errs.extend(validate_pull_policy(c, &p.child("imagePullPolicy")));
    errs.extend(resources::validate_container_resources(json::get(c, "resources"), &p.child("resources")));
    errs.extend(resources::validate_resize_policy(c, ctx.restart_policy, &p.child("resizePolicy")));
    errs.extend(security::validate_container_context(json::get(c, "securityContext"), &p.child("securityContext")));
    errs
}

fn validate_name(c: &Value, p: &Path) -> ErrorList {
    let name = json::string(c, "name");
    let np = p.child("name");
    if name.is_empty() {
        return vec![required(&np, "")];
    }
    dns_label(name, &np)
}

/// ValidateDNS1123Label.
pub fn dns_label(value: &str, p: &Path) -> ErrorList {
    v::is_dns1123_label(value).into_iter().map(|m| invalid(p, value, m)).collect()
}

fn validate_termination_message_policy(c: &Value, p: &Path) -> ErrorList {
    let policy = json::string(c, "terminationMessagePolicy");
    let fp = p.child("terminationMessagePolicy");
    match policy {
        "File" | "FallbackToLogsOnError" => Vec::new(),
        "" => vec![required(&fp, "")],
        other => vec![not_supported(&fp, other, &["File", "FallbackToLogsOnError"])],
    }
}

fn validate_pull_policy(c: &Value, p: &Path) -> ErrorList {
    match json::string(c, "imagePullPolicy") {
        "Always" | "IfNotPresent" | "Never" => Vec::new(),
        "" => vec![required(p, "")],
        other => vec![not_supported(p, other, &["Always", "IfNotPresent", "Never"])],
    }
}

/// validateContainerPorts.
fn validate_ports(ports: &[Value], p: &Path) -> ErrorList {
    let mut errs = Vec::new();
    let mut names = HashSet::new();
    for (i, port) in ports.iter().enumerate() {
        let pp = p.index(i);
        let name = json::string(port, "name");
        if !name.is_empty() {
            let msgs = v::is_valid_port_name(name);
            if !msgs.is_empty() {
                errs.extend(msgs.into_iter().map(|m| invalid(&pp.child("name"), name, m)));
            } else if !names.insert(name) {
                errs.push(duplicate(&pp.child("name"), name));
            }
        }
        errs.extend(validate_port_numbers(port, &pp));
        errs.extend(validate_protocol(json::string(port, "protocol"), &pp.child("protocol")));
    }
    errs
}

fn validate_port_numbers(port: &Value, p: &Path) -> ErrorList {
    let mut errs = Vec::new();
    match json::int(port, "containerPort").unwrap_or(0) {
        0 => errs.push(required(&p.child("containerPort"), "")),
        n => errs.extend(port_num(n, &p.child("containerPort"))),
    }
    match json::int(port, "hostPort").unwrap_or(0) {
        0 => {}
        n => errs.extend(port_num(n, &p.child("hostPort"))),
    }
    errs
}

/// IsValidPortNum as an error list.
pub fn port_num(n: i64, p: &Path) -> ErrorList {
    v::is_valid_port_num(n).into_iter().map(|m| invalid(p, n, m)).collect()
}

/// The protocol of a port: TCP, UDP or SCTP (supportedPortProtocols).
pub fn validate_protocol(protocol: &str, p: &Path) -> ErrorList {
    match protocol {
        "TCP" | "UDP" | "SCTP" => Vec::new(),
        "" => vec![required(p, "")],
        other => vec![not_supported(p, other, &["SCTP", "TCP", "UDP"])],
    }
}

/// AccumulateUniqueHostPorts: `protocol/hostIP/port` may appear once.
fn host_port_conflicts(containers: &[Value], p: &Path, seen: &mut HashSet<String>) -> ErrorList {
    let mut errs = Vec::new();
    for (ci, c) in containers.iter().enumerate() {
        for (pi, port) in json::items(c, "ports").iter().enumerate() {
            let host_port = json::int(port, "hostPort").unwrap_or(0);
            if host_port == 0 {
                continue;
            }
            let key = format!("{}/{}/{host_port}", json::string(port, "protocol"), json::string(port, "hostIP"));
            let hp = p.index(ci).child("ports").index(pi).child("hostPort");
            if !seen.insert(key.clone()) {
                errs.push(duplicate(&hp, key));
            }
        }
    }
    errs
}

/// ValidateEnv, with 1.33's relaxed names (RelaxedEnvironmentVariableValidation is on by default).
fn validate_env(env: &[Value], p: &Path) -> ErrorList {
    let mut errs = Vec::new();
    for (i, e) in env.iter().enumerate() {
        let ep = p.index(i);
        let name = json::string(e, "name");
        if name.is_empty() {
            errs.push(required(&ep.child("name"), ""));
        } else {
            errs.extend(env_var_name(name, &ep.child("name")));
        }
        errs.extend(super::env_source::validate_value_from(e, &ep.child("valueFrom")));
    }
    errs
}

/// IsRelaxedEnvVarName: printable ASCII other than '='.
pub fn env_var_name(name: &str, p: &Path) -> ErrorList {
    if name.bytes().all(|b| (b' '..=b'~').contains(&b) && b != b'=') {
        return Vec::new();
    }
    vec![invalid(
        p,
        name,
        "a valid environment variable name must consist only of printable ASCII characters other than '='",
    )]
}

/// ValidateEnvFrom.
fn validate_env_from(list: &[Value], p: &Path) -> ErrorList {
    let mut errs = Vec::new();
    for (i, e) in list.iter().enumerate() {
        let ep = p.index(i);
        let prefix = json::string(e, "prefix");
        if !prefix.is_empty() {
            errs.extend(env_var_name(prefix, &ep.child("prefix")));
        }
        errs.extend(super::env_source::validate_env_from_sources(e, &ep, p));
    }
    errs
}

/// Lifecycle hooks and probes, allowed on regular and restartable init containers.
fn validate_probes_and_lifecycle(c: &Value, ctx: &PodContext, p: &Path) -> ErrorList {
    let mut errs = Vec::new();
    if let Some(lc) = json::get(c, "lifecycle") {
        for hook in ["postStart", "preStop"] {
            if let Some(h) = json::get(lc, hook) {
                let hp = p.child("lifecycle").child(hook);
                errs.extend(handler::validate_handler(h, ctx.grace_period, true, &hp));
            }
        }
    }
    for (probe, must_succeed_once) in [("livenessProbe", true), ("readinessProbe", false), ("startupProbe", true)] {
        if let Some(pr) = json::get(c, probe) {
            let pp = p.child(probe);
            errs.extend(handler::validate_probe(pr, ctx.grace_period, &pp));
            errs.extend(probe_specifics(pr, must_succeed_once, &pp));
        }
    }
    errs
}

/// Liveness and startup probes succeed once; readiness probes have no grace period.
fn probe_specifics(pr: &Value, must_succeed_once: bool, p: &Path) -> ErrorList {
    if must_succeed_once {
        let st = json::int(pr, "successThreshold").unwrap_or(0);
        if st != 1 {
            return vec![invalid(&p.child("successThreshold"), st, "must be 1")];
        }
        return Vec::new();
    }
    match json::get(pr, "terminationGracePeriodSeconds") {
        Some(g) => {
            vec![invalid(&p.child("terminationGracePeriodSeconds"), g.clone(), "must not be set for readinessProbes")]
        }
        None => Vec::new(),
    }
}
