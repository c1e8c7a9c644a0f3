//! ConfigMaps, Secrets, PersistentVolumes and Claims, StorageClasses, Nodes and Namespaces.

mod common;

use common::{assert_has, create_errors, defaulted, status_errors, update_errors};
use serde_json::{Value, json};

fn config_map(data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "default"}, "data": data})
}

fn secret(ty: &str, data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "default"}, "type": ty, "data": data})
}

#[test]
fn a_config_map_with_valid_keys_passes() {
    assert!(create_errors("", "ConfigMap", config_map(json!({"game.properties": "x", "UI_COLOR": "red"}))).is_empty());
}

#[test]
fn a_config_map_key_with_a_slash_is_rejected() {
    assert_eq!(
        create_errors("", "ConfigMap", config_map(json!({"a/b": "x"}))),
        vec![
            r#"data[a/b]: Invalid value: "a/b": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"#
        ]
    );
}

#[test]
fn a_config_map_key_may_not_be_dot_dot() {
    assert_eq!(
        create_errors("", "ConfigMap", config_map(json!({"..": "x"}))),
        vec![r#"data[..]: Invalid value: "..": must not be '..'"#]
    );
}

#[test]
fn a_key_in_both_data_and_binary_data_is_rejected() {
    let mut cm = config_map(json!({"k": "x"}));
    cm["binaryData"] = json!({"k": "eA=="});
    assert_eq!(
        create_errors("", "ConfigMap", cm),
        vec![r#"data[k]: Invalid value: "k": duplicate of key present in binaryData"#]
    );
}

#[test]
fn a_config_map_over_one_mebibyte_is_too_long() {
    let cm = config_map(json!({"big": "x".repeat(1024 * 1024 + 1)}));
    assert_eq!(create_errors("", "ConfigMap", cm), vec!["[]: Too long: may not be more than 1048576 bytes"]);
}

#[test]
fn an_immutable_config_map_keeps_its_data() {
    let mut old = config_map(json!({"k": "x"}));
    old["immutable"] = json!(true);
    let mut new = old.clone();
    new["data"]["k"] = json!("y");
    assert_eq!(
        update_errors("", "ConfigMap", old, new),
        vec!["data: Forbidden: field is immutable when `immutable` is set"]
    );
}

#[test]
fn an_immutable_config_map_stays_immutable() {
    let mut old = config_map(json!({"k": "x"}));
    old["immutable"] = json!(true);
    let mut new = old.clone();
    new["immutable"] = json!(false);
    assert_eq!(
        update_errors("", "ConfigMap", old, new),
        vec!["immutable: Forbidden: field is immutable when `immutable` is set"]
    );
}

#[test]
fn a_secret_is_opaque_by_default() {
    let s = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {}});
    assert_eq!(defaulted("", "Secret", s)["type"], "Opaque");
}

#[test]
fn string_data_is_folded_into_data() {
    let s = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"a": "eA=="}, "stringData": {"password": "hello", "a": "y"}});
    let s = defaulted("", "Secret", s);
    assert!(s.get("stringData").is_none());
    assert_eq!(s["data"], json!({"a": "eQ==", "password": "aGVsbG8="}));
}

#[test]
fn a_secret_type_is_immutable() {
    let old = secret("Opaque", json!({}));
    let new = secret("kubernetes.io/tls", json!({"tls.crt": "eA==", "tls.key": "eA=="}));
    assert_eq!(
        update_errors("", "Secret", old, new),
        vec![r#"type: Invalid value: "kubernetes.io/tls": field is immutable"#]
    );
}

#[test]
fn a_tls_secret_needs_its_certificate_and_key() {
    assert_eq!(
        create_errors("", "Secret", secret("kubernetes.io/tls", json!({}))),
        vec!["data[tls.crt]: Required value", "data[tls.key]: Required value"]
    );
}

#[test]
fn a_docker_config_secret_needs_json() {
    let errs = create_errors(
        "",
        "Secret",
        secret("kubernetes.io/dockerconfigjson", json!({".dockerconfigjson": "bm90IGpzb24="})),
    );
    assert_eq!(errs.len(), 1);
    assert!(
        errs[0].starts_with(r#"data[.dockerconfigjson]: Invalid value: "<secret contents redacted>": "#),
        "{errs:?}"
    );
}

#[test]
fn a_service_account_token_secret_names_its_account() {
    assert_eq!(
        create_errors("", "Secret", secret("kubernetes.io/service-account-token", json!({}))),
        vec!["metadata.annotations[kubernetes.io/service-account.name]: Required value"]
    );
}

#[test]
fn a_secret_over_one_mebibyte_is_too_long() {
    let big = "A".repeat(1024 * 1024 / 3 * 4 + 8);
    assert_eq!(
        create_errors("", "Secret", secret("Opaque", json!({"big": big}))),
        vec!["data: Too long: may not be more than 1048576 bytes"]
    );
}

fn pvc(spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data", "namespace": "default"}, "spec": spec})
}

fn claim() -> Value {
    pvc(json!({"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}))
}

#[test]
fn a_claim_is_pending_with_a_filesystem() {
    let c = defaulted("", "PersistentVolumeClaim", claim());
    assert_eq!(c["status"]["phase"], "Pending");
    assert_eq!(c["spec"]["volumeMode"], "Filesystem");
    assert!(create_errors("", "PersistentVolumeClaim", claim()).is_empty());
}

#[test]
fn a_claim_needs_an_access_mode() {
    let c = pvc(json!({"resources": {"requests": {"storage": "1Gi"}}}));
    assert_eq!(
        create_errors("", "PersistentVolumeClaim", c),
        vec!["spec.accessModes: Required value: at least 1 access mode is required"]
    );
}

#[test]
fn a_claim_needs_a_storage_request() {
    let c = pvc(json!({"accessModes": ["ReadWriteOnce"]}));
    assert_eq!(create_errors("", "PersistentVolumeClaim", c), vec!["spec.resources[storage]: Required value"]);
}

#[test]
fn an_unknown_access_mode_lists_the_supported_ones() {
    let c = pvc(json!({"accessModes": ["ReadWriteSome"], "resources": {"requests": {"storage": "1Gi"}}}));
    assert_eq!(
        create_errors("", "PersistentVolumeClaim", c),
        vec![
            r#"spec.accessModes: Unsupported value: "ReadWriteSome": supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod""#
        ]
    );
}

#[test]
fn a_zero_storage_request_is_rejected() {
    let c = pvc(json!({"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "0"}}}));
    assert_eq!(
        create_errors("", "PersistentVolumeClaim", c),
        vec![r#"spec.resources[storage]: Invalid value: "0": must be greater than zero"#]
    );
}

#[test]
fn a_claim_may_be_bound_to_a_volume_once() {
    let mut new = claim();
    new["spec"]["volumeName"] = json!("pv-1");
    assert!(update_errors("", "PersistentVolumeClaim", claim(), new).is_empty());
}

#[test]
fn a_claim_spec_is_otherwise_immutable() {
    let mut new = claim();
    new["spec"]["accessModes"] = json!(["ReadWriteMany"]);
    assert_eq!(
        update_errors("", "PersistentVolumeClaim", claim(), new),
        vec![
            "spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"
        ]
    );
}

#[test]
fn a_bound_claim_may_grow_but_not_shrink() {
    let mut old = claim();
    old["status"] = json!({"phase": "Bound"});
    let mut bigger = old.clone();
    bigger["spec"]["resources"]["requests"]["storage"] = json!("2Gi");
    assert!(update_errors("", "PersistentVolumeClaim", old.clone(), bigger).is_empty());
    let mut smaller = old.clone();
    smaller["spec"]["resources"]["requests"]["storage"] = json!("500Mi");
    assert_eq!(
        update_errors("", "PersistentVolumeClaim", old, smaller),
        vec!["spec.resources.requests.storage: Forbidden: field can not be less than previous value"]
    );
}

fn pv(spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": "pv-1"}, "spec": spec})
}

#[test]
fn a_volume_is_retained_with_a_filesystem_by_default() {
    let v = defaulted(
        "",
        "PersistentVolume",
        pv(json!({"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "hostPath": {"path": "/data"}})),
    );
    assert_eq!(v["spec"]["persistentVolumeReclaimPolicy"], "Retain");
    assert_eq!(v["spec"]["volumeMode"], "Filesystem");
    assert_eq!(v["status"]["phase"], "Pending");
    assert!(create_errors("", "PersistentVolume", v).is_empty());
}

#[test]
fn a_volume_needs_capacity_access_modes_and_a_source() {
    assert_eq!(
        create_errors("", "PersistentVolume", pv(json!({}))),
        vec![
            "spec.accessModes: Required value",
            "spec.capacity: Required value",
            r#"spec.capacity: Unsupported value: core.ResourceList(nil): supported values: "storage""#,
            "spec: Required value: must specify a volume type"
        ]
    );
}

#[test]
fn a_local_volume_needs_node_affinity() {
    let v =
        pv(json!({"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "local": {"path": "/mnt/disk"}}));
    assert_eq!(
        create_errors("", "PersistentVolume", v),
        vec!["spec.nodeAffinity: Required value: Local volume requires node affinity"]
    );
}

#[test]
fn a_volume_source_is_immutable() {
    let old =
        pv(json!({"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], "hostPath": {"path": "/data"}}));
    let mut new = old.clone();
    new["spec"]["hostPath"]["path"] = json!("/other");
    assert_eq!(
        update_errors("", "PersistentVolume", old, new),
        vec!["spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is immutable after creation"]
    );
}

fn storage_class(provisioner: &str) -> Value {
    json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "local-path"}, "provisioner": provisioner})
}

#[test]
fn a_storage_class_deletes_and_binds_immediately_by_default() {
    let sc = defaulted("storage.k8s.io", "StorageClass", storage_class("rancher.io/local-path"));
    assert_eq!(sc["reclaimPolicy"], "Delete");
    assert_eq!(sc["volumeBindingMode"], "Immediate");
    assert!(create_errors("storage.k8s.io", "StorageClass", sc).is_empty());
}

#[test]
fn a_storage_class_needs_a_provisioner() {
    assert_eq!(create_errors("storage.k8s.io", "StorageClass", storage_class("")), vec!["provisioner: Required value"]);
}

#[test]
fn an_unknown_binding_mode_lists_the_supported_ones() {
    let mut sc = storage_class("example.com/x");
    sc["volumeBindingMode"] = json!("Later");
    assert_eq!(
        create_errors("storage.k8s.io", "StorageClass", sc),
        vec![r#"volumeBindingMode: Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer""#]
    );
}

#[test]
fn storage_class_parameters_may_not_change() {
    let mut old = storage_class("example.com/x");
    old["parameters"] = json!({"type": "ssd"});
    let mut new = old.clone();
    new["parameters"] = json!({"type": "hdd"});
    assert_eq!(
        update_errors("storage.k8s.io", "StorageClass", old, new),
        vec!["parameters: Forbidden: updates to parameters are forbidden."]
    );
}

#[test]
fn a_csi_driver_gets_its_defaults() {
    let d = json!({"apiVersion": "storage.k8s.io/v1", "kind": "CSIDriver", "metadata": {"name": "x.example.com"}, "spec": {}});
    let d = defaulted("storage.k8s.io", "CSIDriver", d);
    assert_eq!(d["spec"]["attachRequired"], true);
    assert_eq!(d["spec"]["volumeLifecycleModes"], json!(["Persistent"]));
}

fn node(spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1"}, "spec": spec})
}

#[test]
fn a_node_pod_cidr_is_mirrored_into_pod_cidrs() {
    let n = defaulted("", "Node", node(json!({"podCIDR": "10.233.64.0/24"})));
    assert_eq!(n["spec"]["podCIDRs"], json!(["10.233.64.0/24"]));
    assert!(create_errors("", "Node", n).is_empty());
}

#[test]
fn a_node_pod_cidr_must_be_a_cidr() {
    assert_eq!(
        create_errors("", "Node", node(json!({"podCIDR": "10.233.64.0"}))),
        vec![
            r#"spec.podCIDRs[0]: Invalid value: "10.233.64.0": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"#
        ]
    );
}

#[test]
fn a_node_pod_cidr_may_not_change() {
    let old = node(json!({"podCIDR": "10.233.64.0/24"}));
    let new = node(json!({"podCIDR": "10.233.65.0/24"}));
    assert_eq!(
        update_errors("", "Node", old, new),
        vec![r#"spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid"#]
    );
}

#[test]
fn a_node_may_get_its_pod_cidr_later() {
    assert!(update_errors("", "Node", node(json!({})), node(json!({"podCIDR": "10.233.64.0/24"}))).is_empty());
}

#[test]
fn node_allocatable_defaults_to_capacity() {
    let mut n = node(json!({}));
    n["status"] = json!({"capacity": {"cpu": "2", "memory": "4Gi"}});
    let n = defaulted("", "Node", n);
    assert_eq!(n["status"]["allocatable"], json!({"cpu": "2", "memory": "4Gi"}));
}

#[test]
fn a_taint_effect_must_be_known() {
    let n = node(json!({"taints": [{"key": "dedicated", "value": "gpu", "effect": "NoRun"}]}));
    assert_eq!(
        create_errors("", "Node", n),
        vec![
            r#"metadata.taints[0].effect: Unsupported value: "NoRun": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute""#
        ]
    );
}

#[test]
fn a_namespace_finalizer_must_be_standard_or_qualified() {
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "dev"}, "spec": {"finalizers": ["custom"]}});
    assert_eq!(
        create_errors("", "Namespace", ns),
        vec![
            r#"spec.finalizers: Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified"#
        ]
    );
}

#[test]
fn a_namespace_is_active_until_it_is_deleted() {
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "dev"}});
    let ns = defaulted("", "Namespace", ns);
    assert_eq!(ns["status"]["phase"], "Active");
    let mut terminating = ns.clone();
    terminating["status"]["phase"] = json!("Terminating");
    assert_has(
        &status_errors("", "Namespace", ns, terminating),
        r#"status.Phase: Invalid value: "Terminating": may only be 'Active' if `deletionTimestamp` is empty"#,
    );
}
