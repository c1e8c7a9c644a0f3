//! Pod and PodSpec defaults: pkg/apis/core/v1/defaults.go (SetDefaults_Pod, SetDefaults_PodSpec,
//! SetDefaults_Container, SetDefaults_Probe, SetDefaults_Volume, ...) as the generated
//! SetObjectDefaults_* functions apply them to everything a PodSpec holds.

use crate::json::{self, default_nil, default_zero, each_mut, with_mut};
use crate::{image, quantity};
use serde_json::{Value, json};

/// The container lists of a PodSpec.
pub const CONTAINER_LISTS: [&str; 3] = ["containers", "initContainers", "ephemeralContainers"];

/// SetDefaults_Pod then the PodSpec defaults: what a Pod, and only a Pod, gets.
pub fn default_pod(pod: &mut Value) {
    let Some(spec) = json::ensure_object(pod, "spec") else {
        return;
    };
    for list in ["containers", "initContainers"] {
        each_mut(spec, list, requests_from_limits);
    }
    default_nil(spec, "enableServiceLinks", json!(true));
    // Only Pods (not templates) copy container ports to host ports on the host network,
    // while DefaultHostNetworkHostPortsInPodTemplates is off (as in 1.33).
    if json::boolean(spec, "hostNetwork") {
        for list in ["containers", "initContainers"] {
            each_mut(spec, list, |c| each_mut(c, "ports", host_port_from_container_port));
        }
    }
    default_pod_spec(spec);
}

/// SetDefaults_PodSpec and the defaults of its containers and volumes (any PodSpec, templates too).
pub fn default_pod_spec(spec: &mut Value) {
    default_zero(spec, "dnsPolicy", json!("ClusterFirst"));
    default_zero(spec, "restartPolicy", json!("Always"));
    default_nil(spec, "securityContext", json!({}));
    default_nil(spec, "terminationGracePeriodSeconds", json!(30));
    default_zero(spec, "schedulerName", json!("default-scheduler"));
    for list in CONTAINER_LISTS {
        each_mut(spec, list, default_container);
    }
    each_mut(spec, "volumes", default_volume);
}

/// "If limits are specified, but requests are not, default requests to limits" (Pods only).
fn requests_from_limits(container: &mut Value) {
    let Some(limits) = container.pointer("/resources/limits").and_then(Value::as_object).cloned() else {
        return;
    };
    let Some(requests) = json::ensure_object(container, "resources")
        .and_then(|r| json::ensure_object(r, "requests"))
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for (k, v) in limits {
        requests.entry(k).or_insert(v);
    }
}

fn host_port_from_container_port(port: &mut Value) {
    let container_port = port.get("containerPort").cloned().unwrap_or(json!(0));
    default_zero(port, "hostPort", container_port);
}

/// SetDefaults_Container (also used for ephemeral containers) and what a container holds.
pub fn default_container(c: &mut Value) {
    if json::is_zero(c.get("imagePullPolicy")) {
        let policy = if image::tag(json::string(c, "image")) == "latest" { "Always" } else { "IfNotPresent" };
        default_zero(c, "imagePullPolicy", json!(policy));
    }
    default_zero(c, "terminationMessagePath", json!("/dev/termination-log"));
    default_zero(c, "terminationMessagePolicy", json!("File"));
    each_mut(c, "ports", |p| default_zero(p, "protocol", json!("TCP")));
    each_mut(c, "env", |e| {
        with_mut(e, "/valueFrom/fieldRef", default_field_ref);
    });
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        with_mut(c, &format!("/{probe}"), default_probe);
    }
    for hook in ["postStart", "preStop"] {
        with_mut(c, &format!("/lifecycle/{hook}"), default_handler);
    }
    with_mut(c, "/resources", |r| {
        with_mut(r, "/limits", round_resource_list);
        with_mut(r, "/requests", round_resource_list);
    });
}

/// SetDefaults_ResourceList: values are rounded up to milli precision, and stored in the
/// canonical form Kubernetes serializes a Quantity in (`0.5` is stored as `500m`).
pub fn round_resource_list(list: &mut Value) {
    let Some(m) = list.as_object_mut() else {
        return;
    };
    for v in m.values_mut() {
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => continue,
        };
        if let Ok(q) = quantity::parse(&text) {
            *v = json!(q.round_up_to_milli().canonical());
        }
    }
}

/// SetDefaults_ObjectFieldSelector.
fn default_field_ref(f: &mut Value) {
    default_zero(f, "apiVersion", json!("v1"));
}

/// SetDefaults_Probe and its handler's defaults.
fn default_probe(p: &mut Value) {
    default_zero(p, "timeoutSeconds", json!(1));
    default_zero(p, "periodSeconds", json!(10));
    default_zero(p, "successThreshold", json!(1));
    default_zero(p, "failureThreshold", json!(3));
    default_handler(p);
}

/// SetDefaults_HTTPGetAction and SetDefaults_GRPCAction.
fn default_handler(h: &mut Value) {
    with_mut(h, "/httpGet", |g| {
        default_zero(g, "path", json!("/"));
        default_zero(g, "scheme", json!("HTTP"));
    });
    with_mut(h, "/grpc", |g| default_nil(g, "service", json!("")));
}

/// SetDefaults_Volume (no source at all is an emptyDir) and the sources' own defaults.
pub fn default_volume(v: &mut Value) {
    let has_source = v.as_object().is_some_and(|m| m.iter().any(|(k, val)| k != "name" && !val.is_null()));
    if !has_source && let Value::Object(m) = v {
        m.insert("emptyDir".to_string(), json!({}));
    }
    for source in ["secret", "configMap", "downwardAPI", "projected"] {
        with_mut(v, &format!("/{source}"), |s| default_nil(s, "defaultMode", json!(420)));
    }
    with_mut(v, "/downwardAPI", default_downward_items);
    with_mut(v, "/hostPath", |h| default_nil(h, "type", json!("")));
    with_mut(v, "/projected", |p| each_mut(p, "sources", default_projection));
    with_mut(v, "/iscsi", |s| default_zero(s, "iscsiInterface", json!("default")));
    with_mut(v, "/rbd", default_rbd);
    with_mut(v, "/ephemeral/volumeClaimTemplate/spec", super::pv::default_claim_spec);
}

fn default_downward_items(d: &mut Value) {
    each_mut(d, "items", |i| with_mut(i, "/fieldRef", default_field_ref));
}

/// SetDefaults_ServiceAccountTokenProjection and the downward API items of a projection.
fn default_projection(source: &mut Value) {
    with_mut(source, "/serviceAccountToken", |t| default_nil(t, "expirationSeconds", json!(3600)));
    with_mut(source, "/downwardAPI", default_downward_items);
}

/// SetDefaults_RBDVolumeSource.
pub fn default_rbd(r: &mut Value) {
    default_zero(r, "pool", json!("rbd"));
    default_zero(r, "user", json!("admin"));
    default_zero(r, "keyring", json!("/etc/ceph/keyring"));
}
