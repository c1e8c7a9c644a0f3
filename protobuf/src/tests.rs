//! Bodies built as Kubernetes' Go client writes them (every non-pointer field present, zero or
//! not; encoded with prost from k8s-pb's structs, or by hand), decoded and checked against the
//! JSON that `kubectl ... --dry-run=client -o json` shows, and round-tripped through
//! k8s-openapi's types to prove every field name is one the JSON API knows.

use std::collections::BTreeMap;

use k8s_pb::api::apps::v1 as apps;
use k8s_pb::api::batch::v1 as batch;
use k8s_pb::api::coordination::v1 as coordination;
use k8s_pb::api::core::v1 as core;
use k8s_pb::api::policy::v1 as policy;
use k8s_pb::apiextensions_apiserver::pkg::apis::apiextensions::v1 as apiext;
use k8s_pb::apimachinery::pkg::apis::meta::v1 as meta;
use k8s_pb::apimachinery::pkg::runtime::{RawExtension, TypeMeta, Unknown};
use k8s_pb::apimachinery::pkg::util::intstr::IntOrString;
use prost::Message as _;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::{DecodeError, decode, is_protobuf};

fn body(api_version: &str, kind: &str, object: &impl prost::Message) -> Vec<u8> {
    envelope(api_version, kind, object.encode_to_vec(), "")
}

fn envelope(api_version: &str, kind: &str, raw: Vec<u8>, content_type: &str) -> Vec<u8> {
    let unknown = Unknown {
        type_meta: Some(TypeMeta { api_version: s(api_version), kind: s(kind) }),
        raw: Some(raw),
        content_encoding: s(""),
        content_type: s(content_type),
    };
    let mut out = b"k8s\0".to_vec();
    out.extend(unknown.encode_to_vec());
    out
}

fn s(v: &str) -> Option<String> {
    Some(v.to_string())
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// ObjectMeta as Go writes it: all its non-pointer fields, and a zero creationTimestamp.
fn go_meta(name: &str, labels: &[(&str, &str)]) -> meta::ObjectMeta {
    meta::ObjectMeta {
        name: s(name),
        generate_name: s(""),
        namespace: s(""),
        self_link: s(""),
        uid: s(""),
        resource_version: s(""),
        generation: Some(0),
        creation_timestamp: Some(meta::Time::default()),
        labels: map(labels),
        ..Default::default()
    }
}

/// A container as kubectl create builds it, with Go's non-pointer zero fields.
fn go_container(name: &str, image: &str) -> core::Container {
    core::Container {
        name: s(name),
        image: s(image),
        working_dir: s(""),
        resources: Some(core::ResourceRequirements::default()),
        termination_message_path: s(""),
        termination_message_policy: s(""),
        image_pull_policy: s(""),
        stdin: Some(false),
        stdin_once: Some(false),
        tty: Some(false),
        ..Default::default()
    }
}

fn go_pod_spec(containers: Vec<core::Container>, restart_policy: &str) -> core::PodSpec {
    core::PodSpec {
        containers,
        restart_policy: s(restart_policy),
        dns_policy: s(""),
        service_account_name: s(""),
        service_account: s(""),
        node_name: s(""),
        host_network: Some(false),
        host_pid: Some(false),
        host_ipc: Some(false),
        hostname: s(""),
        subdomain: s(""),
        scheduler_name: s(""),
        priority_class_name: s(""),
        ..Default::default()
    }
}

/// Decodes, and checks that k8s-openapi's type `T` reads and writes back the same JSON.
fn decode_as<T: DeserializeOwned + serde::Serialize>(bytes: &[u8]) -> Value {
    let value = decode(bytes).expect("decodes");
    let typed: T = serde_json::from_value(value.clone()).expect("k8s-openapi reads it");
    let back = serde_json::to_value(typed).expect("serializes");
    // k8s-openapi leaves out nulls (a zero creationTimestamp); every other field must survive.
    assert_eq!(without_nulls(back), without_nulls(value.clone()), "k8s-openapi round trip");
    value
}

fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(m) => {
            Value::Object(m.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k, without_nulls(v))).collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(without_nulls).collect()),
        v => v,
    }
}

#[test]
fn a_kubectl_create_deployment_body_decodes_to_kubectls_json() {
    let labels = [("app", "web")];
    let deployment = apps::Deployment {
        metadata: Some(go_meta("web", &labels)),
        spec: Some(apps::DeploymentSpec {
            replicas: Some(3),
            selector: Some(meta::LabelSelector { match_labels: map(&labels), match_expressions: vec![] }),
            template: Some(core::PodTemplateSpec {
                metadata: Some(go_meta("", &labels)),
                spec: Some(go_pod_spec(vec![go_container("nginx", "nginx")], "")),
            }),
            strategy: Some(apps::DeploymentStrategy { r#type: s(""), rolling_update: None }),
            min_ready_seconds: Some(0),
            paused: Some(false),
            ..Default::default()
        }),
        status: Some(apps::DeploymentStatus {
            observed_generation: Some(0),
            replicas: Some(0),
            updated_replicas: Some(0),
            ready_replicas: Some(0),
            available_replicas: Some(0),
            unavailable_replicas: Some(0),
            ..Default::default()
        }),
    };
    let got = decode_as::<k8s_openapi::api::apps::v1::Deployment>(&body("apps/v1", "Deployment", &deployment));
    assert_eq!(
        got,
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "creationTimestamp": null, "labels": {"app": "web"}},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"creationTimestamp": null, "labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "nginx", "image": "nginx", "resources": {}}]}
                },
                "strategy": {}
            },
            "status": {}
        })
    );
    let keys: Vec<&String> = got.as_object().expect("object").keys().collect();
    assert_eq!(keys[..2], ["apiVersion", "kind"], "apiVersion and kind come first");
}

#[test]
fn zero_replicas_is_kept_because_replicas_is_a_pointer() {
    let deployment = apps::Deployment {
        metadata: Some(go_meta("web", &[])),
        spec: Some(apps::DeploymentSpec { replicas: Some(0), min_ready_seconds: Some(0), ..Default::default() }),
        status: None,
    };
    let got = decode(&body("apps/v1", "Deployment", &deployment)).expect("decodes");
    assert_eq!(got["spec"], json!({"replicas": 0}));
}

#[test]
fn a_kubectl_expose_service_has_its_target_port_and_no_zero_node_port() {
    let labels = [("app", "web")];
    let service = core::Service {
        metadata: Some(go_meta("web", &labels)),
        spec: Some(core::ServiceSpec {
            ports: vec![core::ServicePort {
                name: s(""),
                protocol: s("TCP"),
                port: Some(80),
                target_port: Some(IntOrString { r#type: Some(0), int_val: Some(80), str_val: s("") }),
                node_port: Some(0),
                app_protocol: None,
            }],
            selector: map(&labels),
            cluster_ip: s(""),
            r#type: s("NodePort"),
            session_affinity: s(""),
            load_balancer_ip: s(""),
            external_name: s(""),
            external_traffic_policy: s(""),
            health_check_node_port: Some(0),
            publish_not_ready_addresses: Some(false),
            ..Default::default()
        }),
        status: Some(core::ServiceStatus {
            load_balancer: Some(core::LoadBalancerStatus::default()),
            conditions: vec![],
        }),
    };
    let got = decode_as::<k8s_openapi::api::core::v1::Service>(&body("v1", "Service", &service));
    assert_eq!(
        got,
        json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web", "creationTimestamp": null, "labels": {"app": "web"}},
            "spec": {
                "ports": [{"protocol": "TCP", "port": 80, "targetPort": 80}],
                "selector": {"app": "web"},
                "type": "NodePort"
            },
            "status": {"loadBalancer": {}}
        })
    );
}

#[test]
fn a_named_target_port_is_a_string() {
    let port = IntOrString { r#type: Some(1), int_val: Some(0), str_val: s("http") };
    let service = core::Service {
        metadata: None,
        spec: Some(core::ServiceSpec {
            ports: vec![core::ServicePort { port: Some(80), target_port: Some(port), ..Default::default() }],
            ..Default::default()
        }),
        status: None,
    };
    let got = decode(&body("v1", "Service", &service)).expect("decodes");
    assert_eq!(got["spec"]["ports"][0], json!({"port": 80, "targetPort": "http"}));
}

#[test]
fn a_configmap_keeps_its_data_including_empty_values() {
    let cm = core::ConfigMap {
        metadata: Some(go_meta("cfg", &[])),
        data: map(&[("a", "1"), ("empty", "")]),
        binary_data: [("bin".to_string(), vec![0u8, 1, 2])].into(),
        immutable: None,
    };
    let got = decode_as::<k8s_openapi::api::core::v1::ConfigMap>(&body("v1", "ConfigMap", &cm));
    assert_eq!(
        got,
        json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "cfg", "creationTimestamp": null},
            "data": {"a": "1", "empty": ""},
            "binaryData": {"bin": "AAEC"}
        })
    );
}

#[test]
fn a_secrets_bytes_become_base64() {
    let secret = core::Secret {
        metadata: Some(go_meta("db", &[])),
        data: [("password".to_string(), b"s3cret".to_vec()), ("none".to_string(), vec![])].into(),
        r#type: s("Opaque"),
        ..Default::default()
    };
    let got = decode_as::<k8s_openapi::api::core::v1::Secret>(&body("v1", "Secret", &secret));
    assert_eq!(
        got,
        json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "db", "creationTimestamp": null},
            "data": {"password": "czNjcmV0", "none": ""},
            "type": "Opaque"
        })
    );
}

#[test]
fn a_namespace_has_empty_spec_and_status() {
    let ns = core::Namespace {
        metadata: Some(go_meta("team-a", &[])),
        spec: Some(core::NamespaceSpec::default()),
        status: Some(core::NamespaceStatus { phase: s(""), conditions: vec![] }),
    };
    let got = decode_as::<k8s_openapi::api::core::v1::Namespace>(&body("v1", "Namespace", &ns));
    assert_eq!(
        got,
        json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": "team-a", "creationTimestamp": null},
            "spec": {},
            "status": {}
        })
    );
}

#[test]
fn a_pod_has_times_probes_volumes_and_security_context() {
    let mut container = go_container("app", "busybox");
    container.liveness_probe = Some(core::Probe {
        handler: Some(core::ProbeHandler {
            http_get: Some(core::HttpGetAction {
                path: s("/healthz"),
                port: Some(IntOrString { r#type: Some(1), int_val: Some(0), str_val: s("http") }),
                host: s(""),
                scheme: s("HTTP"),
                http_headers: vec![],
            }),
            ..Default::default()
        }),
        initial_delay_seconds: Some(0),
        period_seconds: Some(5),
        ..Default::default()
    });
    container.volume_mounts = vec![core::VolumeMount {
        name: s("cfg"),
        read_only: Some(false),
        mount_path: s("/etc/cfg"),
        sub_path: s(""),
        ..Default::default()
    }];
    let mut spec = go_pod_spec(vec![container], "Always");
    spec.volumes = vec![core::Volume {
        name: s("cfg"),
        volume_source: Some(core::VolumeSource {
            config_map: Some(core::ConfigMapVolumeSource {
                local_object_reference: Some(core::LocalObjectReference { name: s("app-config") }),
                default_mode: Some(0o644),
                ..Default::default()
            }),
            ..Default::default()
        }),
    }];
    spec.security_context = Some(core::PodSecurityContext {
        run_as_user: Some(1000),
        supplemental_groups: vec![1, 2],
        ..Default::default()
    });
    spec.termination_grace_period_seconds = Some(0);
    let mut metadata = go_meta("app", &[]);
    metadata.namespace = s("default");
    metadata.creation_timestamp = Some(meta::Time { seconds: Some(1_704_164_645), nanos: None });
    let pod = core::Pod {
        metadata: Some(metadata),
        spec: Some(spec),
        status: Some(core::PodStatus {
            phase: s("Pending"),
            conditions: vec![core::PodCondition {
                r#type: s("PodScheduled"),
                status: s("True"),
                last_probe_time: Some(meta::Time::default()),
                last_transition_time: Some(meta::Time { seconds: Some(1_704_164_646), nanos: Some(500) }),
                reason: s(""),
                message: s(""),
                observed_generation: Some(0),
            }],
            ..Default::default()
        }),
    };
    let got = decode_as::<k8s_openapi::api::core::v1::Pod>(&body("v1", "Pod", &pod));
    assert_eq!(
        got["metadata"],
        json!({"name": "app", "namespace": "default", "creationTimestamp": "2024-01-02T03:04:05Z"})
    );
    assert_eq!(
        got["spec"]["containers"][0]["livenessProbe"],
        json!({"httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"}, "periodSeconds": 5})
    );
    assert_eq!(got["spec"]["containers"][0]["volumeMounts"], json!([{"name": "cfg", "mountPath": "/etc/cfg"}]));
    assert_eq!(
        got["spec"]["volumes"],
        json!([{"name": "cfg", "configMap": {"name": "app-config", "defaultMode": 420}}])
    );
    assert_eq!(got["spec"]["securityContext"], json!({"runAsUser": 1000, "supplementalGroups": [1, 2]}));
    assert_eq!(got["spec"]["terminationGracePeriodSeconds"], json!(0));
    assert_eq!(got["spec"]["restartPolicy"], json!("Always"));
    assert_eq!(
        got["status"],
        json!({"phase": "Pending", "conditions": [{
            "type": "PodScheduled", "status": "True", "lastProbeTime": null,
            "lastTransitionTime": "2024-01-02T03:04:06Z"
        }]})
    );
}

#[test]
fn a_kubectl_create_job_keeps_a_zero_backoff_limit() {
    let job = batch::Job {
        metadata: Some(go_meta("pi", &[])),
        spec: Some(batch::JobSpec {
            backoff_limit: Some(0),
            template: Some(core::PodTemplateSpec {
                metadata: Some(go_meta("", &[])),
                spec: Some(go_pod_spec(vec![go_container("pi", "perl")], "Never")),
            }),
            ..Default::default()
        }),
        status: Some(batch::JobStatus { succeeded: Some(0), failed: Some(0), ..Default::default() }),
    };
    let got = decode_as::<k8s_openapi::api::batch::v1::Job>(&body("batch/v1", "Job", &job));
    assert_eq!(
        got,
        json!({
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "pi", "creationTimestamp": null},
            "spec": {
                "backoffLimit": 0,
                "template": {
                    "metadata": {"creationTimestamp": null},
                    "spec": {
                        "containers": [{"name": "pi", "image": "perl", "resources": {}}],
                        "restartPolicy": "Never"
                    }
                }
            },
            "status": {}
        })
    );
}

#[test]
fn an_eviction_carries_its_delete_options_with_a_zero_grace_period() {
    let mut metadata = go_meta("web-1", &[]);
    metadata.namespace = s("default");
    let eviction = policy::Eviction {
        metadata: Some(metadata),
        delete_options: Some(meta::DeleteOptions { grace_period_seconds: Some(0), ..Default::default() }),
    };
    let got = decode_as::<k8s_openapi::api::policy::v1::Eviction>(&body("policy/v1", "Eviction", &eviction));
    assert_eq!(
        got,
        json!({
            "apiVersion": "policy/v1",
            "kind": "Eviction",
            "metadata": {"name": "web-1", "namespace": "default", "creationTimestamp": null},
            "deleteOptions": {"gracePeriodSeconds": 0}
        })
    );
}

#[test]
fn delete_options_decode_under_any_group_version() {
    let opts =
        meta::DeleteOptions { propagation_policy: s("Foreground"), dry_run: vec!["All".into()], ..Default::default() };
    let got = decode(&body("apps/v1", "DeleteOptions", &opts)).expect("decodes");
    assert_eq!(
        got,
        json!({"apiVersion": "apps/v1", "kind": "DeleteOptions", "propagationPolicy": "Foreground", "dryRun": ["All"]})
    );
}

#[test]
fn a_lease_renew_time_is_a_micro_time() {
    let lease = coordination::Lease {
        metadata: Some(go_meta("node-1", &[])),
        spec: Some(coordination::LeaseSpec {
            holder_identity: s("node-1"),
            lease_duration_seconds: Some(40),
            renew_time: Some(meta::MicroTime { seconds: Some(1_704_164_645), nanos: Some(123_456_789) }),
            ..Default::default()
        }),
    };
    let got = decode_as::<k8s_openapi::api::coordination::v1::Lease>(&body("coordination.k8s.io/v1", "Lease", &lease));
    assert_eq!(
        got["spec"],
        json!({"holderIdentity": "node-1", "leaseDurationSeconds": 40, "renewTime": "2024-01-02T03:04:05.123456Z"})
    );
}

#[test]
fn raw_extensions_hold_json_or_a_nested_protobuf_object() {
    let revision = |raw: Vec<u8>| apps::ControllerRevision {
        metadata: Some(go_meta("rev", &[])),
        data: Some(RawExtension { raw: Some(raw) }),
        revision: Some(2),
    };
    let got =
        decode(&body("apps/v1", "ControllerRevision", &revision(br#"{"spec":{"x":1}}"#.to_vec()))).expect("decodes");
    assert_eq!(got["data"], json!({"spec": {"x": 1}}));
    assert_eq!(got["revision"], json!(2));

    let cm = core::ConfigMap { metadata: Some(go_meta("inner", &[])), data: map(&[("k", "v")]), ..Default::default() };
    let got = decode(&body("apps/v1", "ControllerRevision", &revision(body("v1", "ConfigMap", &cm)))).expect("decodes");
    assert_eq!(
        got["data"],
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "inner", "creationTimestamp": null}, "data": {"k": "v"}})
    );

    let bad = decode(&body("apps/v1", "ControllerRevision", &revision(b"{nope".to_vec())));
    assert!(matches!(bad, Err(DecodeError::Malformed { ref path, .. }) if path == "data"), "{bad:?}");
}

#[test]
fn managed_fields_carry_their_fields_v1_json() {
    let mut metadata = go_meta("cfg", &[]);
    metadata.managed_fields = vec![meta::ManagedFieldsEntry {
        manager: s("kubectl-create"),
        operation: s("Update"),
        api_version: s("v1"),
        time: Some(meta::Time { seconds: Some(0), nanos: None }),
        fields_type: s("FieldsV1"),
        fields_v1: Some(meta::FieldsV1 { raw: Some(br#"{"f:data":{".":{}}}"#.to_vec()) }),
        subresource: s(""),
    }];
    let cm = core::ConfigMap { metadata: Some(metadata), ..Default::default() };
    let got = decode_as::<k8s_openapi::api::core::v1::ConfigMap>(&body("v1", "ConfigMap", &cm));
    assert_eq!(
        got["metadata"]["managedFields"],
        json!([{
            "manager": "kubectl-create", "operation": "Update", "apiVersion": "v1",
            "time": "1970-01-01T00:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {".": {}}}
        }])
    );
}

#[test]
fn a_crd_schema_keeps_json_schema_names_and_forms() {
    let string = apiext::JsonSchemaProps { r#type: s("string"), ..Default::default() };
    let schema = apiext::JsonSchemaProps {
        r#type: s("object"),
        properties: [
            (
                "replicas".to_string(),
                apiext::JsonSchemaProps {
                    r#type: s("integer"),
                    default: Some(apiext::Json { raw: Some(b"1".to_vec()) }),
                    minimum: Some(0.0),
                    ..Default::default()
                },
            ),
            (
                "tags".to_string(),
                apiext::JsonSchemaProps {
                    r#type: s("array"),
                    items: Some(Box::new(apiext::JsonSchemaPropsOrArray {
                        schema: Some(Box::new(string.clone())),
                        j_son_schemas: vec![],
                    })),
                    ..Default::default()
                },
            ),
            (
                "labels".to_string(),
                apiext::JsonSchemaProps {
                    r#type: s("object"),
                    additional_properties: Some(Box::new(apiext::JsonSchemaPropsOrBool {
                        allows: Some(true),
                        schema: Some(Box::new(string)),
                    })),
                    ..Default::default()
                },
            ),
            (
                "extra".to_string(),
                apiext::JsonSchemaProps {
                    x_kubernetes_preserve_unknown_fields: Some(true),
                    additional_properties: Some(Box::new(apiext::JsonSchemaPropsOrBool {
                        allows: Some(false),
                        schema: None,
                    })),
                    r#ref: s("#/definitions/x"),
                    ..Default::default()
                },
            ),
        ]
        .into(),
        ..Default::default()
    };
    let version = apiext::CustomResourceDefinitionVersion {
        name: s("v1"),
        served: Some(true),
        storage: Some(true),
        schema: Some(apiext::CustomResourceValidation { open_apiv3_schema: Some(schema) }),
        ..Default::default()
    };
    let crd = apiext::CustomResourceDefinition {
        metadata: Some(go_meta("widgets.example.com", &[])),
        spec: Some(apiext::CustomResourceDefinitionSpec {
            group: s("example.com"),
            names: Some(apiext::CustomResourceDefinitionNames {
                plural: s("widgets"),
                kind: s("Widget"),
                ..Default::default()
            }),
            scope: s("Namespaced"),
            versions: vec![version],
            ..Default::default()
        }),
        status: None,
    };
    let got = decode_as::<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition>(
        &body("apiextensions.k8s.io/v1", "CustomResourceDefinition", &crd),
    );
    assert_eq!(
        got["spec"]["versions"][0]["schema"]["openAPIV3Schema"],
        json!({
            "type": "object",
            "properties": {
                "extra": {"$ref": "#/definitions/x", "additionalProperties": false, "x-kubernetes-preserve-unknown-fields": true},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "replicas": {"type": "integer", "default": 1, "minimum": 0.0},
                "tags": {"type": "array", "items": {"type": "string"}}
            }
        })
    );
    assert_eq!(got["spec"]["names"], json!({"plural": "widgets", "kind": "Widget"}));
}

/// Appends one field to hand-built protobuf bytes.
fn field(out: &mut Vec<u8>, tag: u32, wire: u8, payload: &[u8]) {
    varint(out, u64::from(tag << 3 | u32::from(wire)));
    if wire == 2 {
        varint(out, payload.len() as u64);
    }
    out.extend_from_slice(payload);
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

#[test]
fn packed_and_unpacked_repeated_numbers_both_decode() {
    // PodSecurityContext.supplementalGroups = 4, inside PodSpec.securityContext = 14.
    let mut packed = Vec::new();
    varint(&mut packed, 1);
    varint(&mut packed, 300);
    let mut ctx = Vec::new();
    field(&mut ctx, 4, 2, &packed);
    let mut one = Vec::new();
    varint(&mut one, 7);
    field(&mut ctx, 4, 0, &one);
    let mut spec = Vec::new();
    field(&mut spec, 14, 2, &ctx);
    let mut pod = Vec::new();
    field(&mut pod, 2, 2, &spec);
    let got = decode(&envelope("v1", "Pod", pod, "")).expect("decodes");
    assert_eq!(got["spec"]["securityContext"]["supplementalGroups"], json!([1, 300, 7]));
}

#[test]
fn negative_numbers_and_unknown_fields_are_handled_as_protobuf_does() {
    let terminated = core::ContainerStateTerminated { exit_code: Some(-1), signal: Some(9), ..Default::default() };
    let status = core::ContainerStatus {
        name: s("app"),
        state: Some(core::ContainerState { terminated: Some(terminated), ..Default::default() }),
        ..Default::default()
    };
    let pod = core::Pod {
        status: Some(core::PodStatus { container_statuses: vec![status], ..Default::default() }),
        ..Default::default()
    };
    let mut raw = pod.encode_to_vec();
    field(&mut raw, 999, 2, b"from a newer Kubernetes");
    field(&mut raw, 998, 5, &[1, 2, 3, 4]);
    field(&mut raw, 997, 1, &[1, 2, 3, 4, 5, 6, 7, 8]);
    let got = decode(&envelope("v1", "Pod", raw, "")).expect("decodes");
    assert_eq!(got["status"]["containerStatuses"][0]["state"]["terminated"], json!({"exitCode": -1, "signal": 9}));
}

#[test]
fn a_json_raw_inside_the_envelope_is_taken_as_is() {
    let got =
        decode(&envelope("v1", "ConfigMap", br#"{"data":{"a":"b"}}"#.to_vec(), "application/json")).expect("decodes");
    assert_eq!(got, json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "b"}}));
}

#[test]
fn bad_bodies_are_refused_with_a_reason() {
    assert_eq!(decode(b"{\"kind\":\"Pod\"}"), Err(DecodeError::NotProtobuf));
    assert_eq!(
        decode(&body("v1", "Widget", &core::ConfigMap::default())),
        Err(DecodeError::UnknownKind { api_version: "v1".into(), kind: "Widget".into() })
    );
    let mut gz = envelope("v1", "Pod", vec![], "");
    field(&mut gz, 3, 2, b"gzip");
    assert_eq!(decode(&gz), Err(DecodeError::ContentEncoding("gzip".into())));

    let mut truncated =
        body("v1", "ConfigMap", &core::ConfigMap { metadata: Some(go_meta("x", &[])), ..Default::default() });
    truncated.truncate(truncated.len() - 3);
    assert!(matches!(decode(&truncated), Err(DecodeError::Malformed { .. })));

    let mut meta = Vec::new();
    field(&mut meta, 1, 2, &[0xff, 0xfe]);
    let mut cm = Vec::new();
    field(&mut cm, 1, 2, &meta);
    let err = decode(&envelope("v1", "ConfigMap", cm, "")).expect_err("not UTF-8");
    assert_eq!(err.to_string(), "malformed protobuf at metadata.name: a string that is not UTF-8");

    let mut wrong = Vec::new();
    field(&mut wrong, 1, 0, &[1]);
    let err = decode(&envelope("v1", "ConfigMap", wrong, "")).expect_err("wire type");
    assert_eq!(err.to_string(), "malformed protobuf at metadata: unexpected wire type 0");
}

#[test]
fn deeply_nested_bodies_are_refused_not_overflowed() {
    // JSONSchemaProps.not = 28, nested far past any real schema.
    let mut inner = Vec::new();
    for _ in 0..300 {
        let mut outer = Vec::new();
        field(&mut outer, 28, 2, &inner);
        inner = outer;
    }
    let mut validation = Vec::new();
    field(&mut validation, 1, 2, &inner);
    let err = crate::convert::message(
        index_of("apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceValidation"),
        &validation,
        0,
    );
    assert!(matches!(err, Err(DecodeError::Malformed { ref reason, .. }) if reason == "nested too deeply"), "{err:?}");
}

fn index_of(name: &str) -> u16 {
    let i = crate::table::MESSAGES.iter().position(|m| m.name == name).expect("in the table");
    u16::try_from(i).expect("fits")
}

#[test]
fn the_protobuf_content_type_is_recognised_with_or_without_parameters() {
    assert!(is_protobuf("application/vnd.kubernetes.protobuf"));
    assert!(is_protobuf("Application/VND.Kubernetes.Protobuf; charset=utf-8"));
    assert!(!is_protobuf("application/json"));
    assert!(!is_protobuf("application/vnd.kubernetes.protobuf+json"));
}

#[test]
fn the_table_is_sorted_and_consistent() {
    use crate::schema::Ty;
    let messages = crate::table::MESSAGES;
    for m in messages {
        assert!(m.fields.windows(2).all(|w| w[0].tag < w[1].tag), "{} tags sorted", m.name);
        for f in m.fields {
            if let Ty::Message(i) = f.ty {
                assert!(usize::from(i) < messages.len(), "{}.{}", m.name, f.name);
            }
        }
    }
    let kinds = crate::table::KINDS;
    assert!(kinds.windows(2).all(|w| (w[0].api_version, w[0].kind) < (w[1].api_version, w[1].kind)));
}

#[test]
fn every_kind_kubectls_typed_clients_send_has_a_schema() {
    for (api_version, kind) in [
        ("v1", "Pod"),
        ("v1", "Service"),
        ("v1", "ConfigMap"),
        ("v1", "Secret"),
        ("v1", "Namespace"),
        ("v1", "ServiceAccount"),
        ("v1", "ResourceQuota"),
        ("v1", "Binding"),
        ("v1", "Node"),
        ("v1", "DeleteOptions"),
        ("apps/v1", "Deployment"),
        ("apps/v1", "StatefulSet"),
        ("apps/v1", "DaemonSet"),
        ("apps/v1", "ReplicaSet"),
        ("batch/v1", "Job"),
        ("batch/v1", "CronJob"),
        ("rbac.authorization.k8s.io/v1", "Role"),
        ("rbac.authorization.k8s.io/v1", "RoleBinding"),
        ("rbac.authorization.k8s.io/v1", "ClusterRole"),
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
        ("networking.k8s.io/v1", "Ingress"),
        ("policy/v1", "Eviction"),
        ("policy/v1", "PodDisruptionBudget"),
        ("autoscaling/v1", "Scale"),
        ("autoscaling/v1", "HorizontalPodAutoscaler"),
        ("authentication.k8s.io/v1", "TokenRequest"),
        ("authorization.k8s.io/v1", "SelfSubjectAccessReview"),
        ("scheduling.k8s.io/v1", "PriorityClass"),
        ("certificates.k8s.io/v1", "CertificateSigningRequest"),
        ("coordination.k8s.io/v1", "Lease"),
        ("events.k8s.io/v1", "Event"),
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
    ] {
        assert!(crate::schema::kind(api_version, kind).is_some(), "{api_version} {kind}");
    }
}

#[test]
fn an_ingress_rule_value_is_inlined_into_its_rule() {
    use k8s_pb::api::networking::v1 as net;
    let path = net::HttpIngressPath {
        path: s("/"),
        path_type: s("Prefix"),
        backend: Some(net::IngressBackend {
            service: Some(net::IngressServiceBackend {
                name: s("web"),
                port: Some(net::ServiceBackendPort { name: s(""), number: Some(80) }),
            }),
            resource: None,
        }),
    };
    let ingress = net::Ingress {
        metadata: Some(go_meta("web", &[])),
        spec: Some(net::IngressSpec {
            rules: vec![net::IngressRule {
                host: s("foo.com"),
                ingress_rule_value: Some(net::IngressRuleValue {
                    http: Some(net::HttpIngressRuleValue { paths: vec![path] }),
                }),
            }],
            ..Default::default()
        }),
        status: Some(net::IngressStatus { load_balancer: Some(net::IngressLoadBalancerStatus::default()) }),
    };
    let got =
        decode_as::<k8s_openapi::api::networking::v1::Ingress>(&body("networking.k8s.io/v1", "Ingress", &ingress));
    assert_eq!(
        got["spec"],
        json!({"rules": [{"host": "foo.com", "http": {"paths": [{
            "path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"number": 80}}}
        }]}}]})
    );
    assert_eq!(got["status"], json!({"loadBalancer": {}}));
}

#[test]
fn a_quota_has_quantities_as_strings() {
    use k8s_pb::apimachinery::pkg::api::resource::Quantity;
    let quantity = |v: &str| Quantity { string: s(v) };
    let quota = core::ResourceQuota {
        metadata: Some(go_meta("q", &[])),
        spec: Some(core::ResourceQuotaSpec {
            hard: [("pods".to_string(), quantity("10")), ("requests.cpu".to_string(), quantity("500m"))].into(),
            ..Default::default()
        }),
        status: Some(core::ResourceQuotaStatus::default()),
    };
    let got = decode_as::<k8s_openapi::api::core::v1::ResourceQuota>(&body("v1", "ResourceQuota", &quota));
    assert_eq!(got["spec"], json!({"hard": {"pods": "10", "requests.cpu": "500m"}}));
    assert_eq!(got["status"], json!({}));
}

#[test]
fn a_rolebinding_keeps_its_required_role_ref() {
    use k8s_pb::api::rbac::v1 as rbac;
    let binding = rbac::RoleBinding {
        metadata: Some(go_meta("view", &[])),
        subjects: vec![rbac::Subject {
            kind: s("User"),
            api_group: s("rbac.authorization.k8s.io"),
            name: s("alice"),
            namespace: s(""),
        }],
        role_ref: Some(rbac::RoleRef {
            api_group: s("rbac.authorization.k8s.io"),
            kind: s("ClusterRole"),
            name: s("view"),
        }),
    };
    let got = decode_as::<k8s_openapi::api::rbac::v1::RoleBinding>(&body(
        "rbac.authorization.k8s.io/v1",
        "RoleBinding",
        &binding,
    ));
    assert_eq!(got["subjects"], json!([{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "alice"}]));
    assert_eq!(got["roleRef"], json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"}));

    // A role ref to a core-group kind has apiGroup "": required, so it stays.
    let binding = rbac::RoleBinding {
        role_ref: Some(rbac::RoleRef { api_group: s(""), kind: s("Role"), name: s("r") }),
        ..Default::default()
    };
    let got = decode(&body("rbac.authorization.k8s.io/v1", "RoleBinding", &binding)).expect("decodes");
    assert_eq!(got["roleRef"], json!({"apiGroup": "", "kind": "Role", "name": "r"}));
}

#[test]
fn a_cronjob_nests_a_job_template() {
    let cronjob = batch::CronJob {
        metadata: Some(go_meta("nightly", &[])),
        spec: Some(batch::CronJobSpec {
            schedule: s("0 3 * * *"),
            concurrency_policy: s(""),
            job_template: Some(batch::JobTemplateSpec {
                metadata: Some(go_meta("nightly", &[])),
                spec: Some(batch::JobSpec {
                    template: Some(core::PodTemplateSpec {
                        metadata: Some(go_meta("", &[])),
                        spec: Some(go_pod_spec(vec![go_container("nightly", "busybox")], "OnFailure")),
                    }),
                    ..Default::default()
                }),
            }),
            ..Default::default()
        }),
        status: Some(batch::CronJobStatus::default()),
    };
    let got = decode_as::<k8s_openapi::api::batch::v1::CronJob>(&body("batch/v1", "CronJob", &cronjob));
    assert_eq!(
        got["spec"],
        json!({
            "schedule": "0 3 * * *",
            "jobTemplate": {
                "metadata": {"name": "nightly", "creationTimestamp": null},
                "spec": {"template": {
                    "metadata": {"creationTimestamp": null},
                    "spec": {"containers": [{"name": "nightly", "image": "busybox", "resources": {}}], "restartPolicy": "OnFailure"}
                }}
            }
        })
    );
}
