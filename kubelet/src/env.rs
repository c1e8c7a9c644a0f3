//! A container's environment (the kubelet's makeEnvironmentVariables): service links, envFrom,
//! env with valueFrom (configMapKeyRef, secretKeyRef, fieldRef, resourceFieldRef), and `$(VAR)`
//! expansion. Pure: the ConfigMaps and Secrets are fetched beforehand.

use std::collections::{BTreeSet, HashMap};

use k8s_openapi::api::core::v1::{ConfigMap, Container, EnvVarSource, Pod, Secret};

/// What env values may come from; a None entry means "looked up, does not exist".
#[derive(Clone, Debug, Default)]
pub struct Sources {
    pub config_maps: HashMap<String, Option<ConfigMap>>,
    pub secrets: HashMap<String, Option<Secret>>,
    pub pod_ip: String,
    pub host_ip: String,
    pub node_milli_cpu: i64,
    pub node_memory_bytes: i64,
    /// Docker-link variables of the namespace's Services (enableServiceLinks).
    pub service_env: Vec<(String, String)>,
}

/// Why a container cannot be created yet (waiting reason CreateContainerConfigError).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvError {
    #[error("configmap \"{0}\" not found")]
    ConfigMapNotFound(String),
    #[error("secret \"{0}\" not found")]
    SecretNotFound(String),
    #[error("couldn't find key {key} in ConfigMap {namespace}/{name}")]
    ConfigMapKey { key: String, namespace: String, name: String },
    #[error("couldn't find key {key} in Secret {namespace}/{name}")]
    SecretKey { key: String, namespace: String, name: String },
    #[error("unsupported fieldPath: {0}")]
    FieldPath(String),
}

/// The ConfigMap and Secret names a pod's containers refer to from env and envFrom.
pub fn referenced(pod: &Pod) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut cms, mut secrets) = (BTreeSet::new(), BTreeSet::new());
    let spec = pod.spec.clone().unwrap_or_default();
    for c in spec.containers.iter().chain(spec.init_containers.iter().flatten()) {
        for f in c.env_from.iter().flatten() {
            cms.extend(f.config_map_ref.as_ref().map(|r| r.name.clone()));
            secrets.extend(f.secret_ref.as_ref().map(|r| r.name.clone()));
        }
        for e in c.env.iter().flatten().filter_map(|e| e.value_from.as_ref()) {
            cms.extend(e.config_map_key_ref.as_ref().map(|r| r.name.clone()));
            secrets.extend(e.secret_key_ref.as_ref().map(|r| r.name.clone()));
        }
    }
    (cms, secrets)
}

fn namespace(pod: &Pod) -> String {
    pod.metadata.namespace.clone().unwrap_or_else(|| "default".into())
}

fn cm_data(cm: &ConfigMap) -> HashMap<String, String> {
    cm.data.clone().unwrap_or_default().into_iter().collect()
}

fn secret_data(s: &Secret) -> HashMap<String, String> {
    let mut out: HashMap<String, String> = s.string_data.clone().unwrap_or_default().into_iter().collect();
    for (k, v) in s.data.clone().unwrap_or_default() {
        out.insert(k, String::from_utf8_lossy(&v.0).into_owned());
    }
    out
}

/// Kubernetes' C_IDENTIFIER-ish rule for env names from envFrom: invalid ones are skipped.
fn valid_env_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn env_from(pod: &Pod, c: &Container, src: &Sources, out: &mut Vec<(String, String)>) -> Result<(), EnvError> {
    for f in c.env_from.iter().flatten() {
        let prefix = f.prefix.clone().unwrap_or_default();
        let data = if let Some(r) = &f.config_map_ref {
            match src.config_maps.get(&r.name).cloned().flatten() {
                Some(cm) => cm_data(&cm),
                None if r.optional == Some(true) => continue,
                None => return Err(EnvError::ConfigMapNotFound(r.name.clone())),
            }
        } else if let Some(r) = &f.secret_ref {
            match src.secrets.get(&r.name).cloned().flatten() {
                Some(s) => secret_data(&s),
                None if r.optional == Some(true) => continue,
                None => return Err(EnvError::SecretNotFound(r.name.clone())),
            }
        } else {
            continue;
        };
        let _ = pod;
        let mut keys: Vec<_> = data.into_iter().collect();
        keys.sort();
        for (k, v) in keys {
            let name = format!("{prefix}{k}");
            if valid_env_name(&name) {
                set(out, name, v);
            }
        }
    }
    Ok(())
}

fn set(out: &mut Vec<(String, String)>, name: String, value: String) {
    match out.iter_mut().find(|(n, _)| *n == name) {
        Some(slot) => slot.1 = value,
        None => out.push((name, value)),
    }
}

/// metadata.labels['key'] and friends.
fn bracket<'a>(path: &'a str, prefix: &str) -> Option<&'a str> {
    path.strip_prefix(prefix)?.strip_prefix("['")?.strip_suffix("']")
}

pub fn field_value(pod: &Pod, path: &str, src: &Sources) -> Result<String, EnvError> {
    let m = &pod.metadata;
    let spec = pod.spec.clone().unwrap_or_default();
    let v = match path {
        "metadata.name" => m.name.clone().unwrap_or_default(),
        "metadata.namespace" => namespace(pod),
        "metadata.uid" => m.uid.clone().unwrap_or_default(),
        "spec.nodeName" => spec.node_name.unwrap_or_default(),
        "spec.serviceAccountName" => spec.service_account_name.unwrap_or_default(),
        "status.hostIP" | "status.hostIPs" => src.host_ip.clone(),
        "status.podIP" | "status.podIPs" => src.pod_ip.clone(),
        p => {
            if let Some(k) = bracket(p, "metadata.labels") {
                m.labels.as_ref().and_then(|l| l.get(k)).cloned().unwrap_or_default()
            } else if let Some(k) = bracket(p, "metadata.annotations") {
                m.annotations.as_ref().and_then(|l| l.get(k)).cloned().unwrap_or_default()
            } else {
                return Err(EnvError::FieldPath(p.into()));
            }
        }
    };
    Ok(v)
}

/// limits.cpu, requests.memory, ... of a container in units of `divisor`, rounded up; an unset
/// limit is the node's allocatable, as Kubernetes reports it.
pub fn resource_value(
    pod: &Pod,
    own: &Container,
    r: &k8s_openapi::api::core::v1::ResourceFieldSelector,
    src: &Sources,
) -> String {
    let spec = pod.spec.clone().unwrap_or_default();
    let c = match r.container_name.as_deref().filter(|n| !n.is_empty()) {
        Some(n) => spec.containers.iter().find(|c| c.name == n).cloned().unwrap_or_else(|| own.clone()),
        None => own.clone(),
    };
    let res = c.resources.clone().unwrap_or_default();
    let (kind, name) = r.resource.split_once('.').unwrap_or(("limits", "cpu"));
    let get = |limits: bool| {
        let map = if limits { res.limits.as_ref() } else { res.requests.as_ref() };
        map.and_then(|m| m.get(name)).map(|q| q.0.clone())
    };
    let value = if kind == "requests" { get(false).or_else(|| get(true)) } else { get(true) };
    let divisor = r.divisor.as_ref().map(|q| q.0.clone()).unwrap_or_else(|| "1".into());
    let div = crate::quantity::parse(&divisor).filter(|d| *d > 0.0).unwrap_or(1.0);
    let base = match (name, value) {
        (_, Some(v)) => crate::quantity::parse(&v).unwrap_or(0.0),
        ("cpu", None) if kind == "limits" => src.node_milli_cpu as f64 / 1000.0,
        ("memory", None) if kind == "limits" => src.node_memory_bytes as f64,
        _ => 0.0,
    };
    format!("{}", (base / div - 1e-9).ceil().max(0.0) as i64)
}

fn value_from(pod: &Pod, c: &Container, v: &EnvVarSource, src: &Sources) -> Result<Option<String>, EnvError> {
    let ns = namespace(pod);
    if let Some(r) = &v.config_map_key_ref {
        let optional = r.optional == Some(true);
        return match src.config_maps.get(&r.name).cloned().flatten() {
            None if optional => Ok(None),
            None => Err(EnvError::ConfigMapNotFound(r.name.clone())),
            Some(cm) => match cm_data(&cm).remove(&r.key) {
                Some(v) => Ok(Some(v)),
                None if optional => Ok(None),
                None => Err(EnvError::ConfigMapKey { key: r.key.clone(), namespace: ns, name: r.name.clone() }),
            },
        };
    }
    if let Some(r) = &v.secret_key_ref {
        let optional = r.optional == Some(true);
        return match src.secrets.get(&r.name).cloned().flatten() {
            None if optional => Ok(None),
            None => Err(EnvError::SecretNotFound(r.name.clone())),
            Some(s) => match secret_data(&s).remove(&r.key) {
                Some(v) => Ok(Some(v)),
                None if optional => Ok(None),
                None => Err(EnvError::SecretKey { key: r.key.clone(), namespace: ns, name: r.name.clone() }),
            },
        };
    }
    if let Some(f) = &v.field_ref {
        return field_value(pod, &f.field_path, src).map(Some);
    }
    if let Some(r) = &v.resource_field_ref {
        return Ok(Some(resource_value(pod, c, r, src)));
    }
    Ok(None)
}

/// The container's environment in order: service links, envFrom, then env (later wins).
pub fn resolve(pod: &Pod, c: &Container, src: &Sources) -> Result<Vec<(String, String)>, EnvError> {
    let mut out = Vec::new();
    let links = pod.spec.as_ref().and_then(|s| s.enable_service_links).unwrap_or(true);
    if links {
        for (k, v) in &src.service_env {
            set(&mut out, k.clone(), v.clone());
        }
    }
    env_from(pod, c, src, &mut out)?;
    for e in c.env.iter().flatten() {
        let value = match (&e.value, &e.value_from) {
            (_, Some(from)) => match value_from(pod, c, from, src)? {
                Some(v) => v,
                None => continue,
            },
            (Some(v), None) => expand(v, &out),
            (None, None) => String::new(),
        };
        set(&mut out, e.name.clone(), value);
    }
    Ok(out)
}

/// `$(VAR)` references replaced by earlier variables; `$$` is a literal `$`; unknown references
/// stay as written (Kubernetes' expansion rules).
pub fn expand(s: &str, vars: &[(String, String)]) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(r) = after.strip_prefix('$') {
            out.push('$');
            rest = r;
        } else if let Some(close) = after.strip_prefix('(').and_then(|a| a.find(')')) {
            let name = &after[1..=close];
            match vars.iter().rev().find(|(n, _)| n == name) {
                Some((_, v)) => out.push_str(v),
                None => {
                    out.push_str("$(");
                    out.push_str(name);
                    out.push(')');
                }
            }
            rest = &after[close + 2..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// Docker-link variables for Services (FOO_SERVICE_HOST, FOO_PORT_80_TCP, ...), the kubelet's
/// getServiceEnvVarMap; headless Services give none.
pub fn service_env(services: &[k8s_openapi::api::core::v1::Service]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for svc in services {
        let spec = svc.spec.clone().unwrap_or_default();
        let ip = spec.cluster_ip.clone().unwrap_or_default();
        if ip.is_empty() || ip == "None" {
            continue;
        }
        let name = svc.metadata.name.clone().unwrap_or_default().to_uppercase().replace('-', "_");
        let ports = spec.ports.unwrap_or_default();
        let Some(first) = ports.first() else { continue };
        out.push((format!("{name}_SERVICE_HOST"), ip.clone()));
        out.push((format!("{name}_SERVICE_PORT"), first.port.to_string()));
        for p in &ports {
            if let Some(pn) = p.name.as_deref().filter(|n| !n.is_empty()) {
                let pn = pn.to_uppercase().replace('-', "_");
                out.push((format!("{name}_SERVICE_PORT_{pn}"), p.port.to_string()));
            }
        }
        let proto = |p: &k8s_openapi::api::core::v1::ServicePort| p.protocol.clone().unwrap_or_else(|| "TCP".into());
        out.push((format!("{name}_PORT"), format!("{}://{ip}:{}", proto(first).to_lowercase(), first.port)));
        for p in &ports {
            let pr = proto(p);
            let prefix = format!("{name}_PORT_{}_{pr}", p.port);
            out.push((prefix.clone(), format!("{}://{ip}:{}", pr.to_lowercase(), p.port)));
            out.push((format!("{prefix}_PROTO"), pr.to_lowercase()));
            out.push((format!("{prefix}_PORT"), p.port.to_string()));
            out.push((format!("{prefix}_ADDR"), ip.clone()));
        }
    }
    out
}

#[cfg(test)]
#[path = "env_tests.rs"]
mod tests;
