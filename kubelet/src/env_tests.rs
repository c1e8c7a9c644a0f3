//! Environments built from env, envFrom, the downward API and Services.

use super::*;
use k8s_openapi::ByteString;

fn pod(spec: serde_json::Value) -> Pod {
    let v = serde_json::json!({"metadata": {"name": "p", "namespace": "web", "uid": "u1", "labels": {"app": "x"}}, "spec": spec});
    serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"))
}

fn first(p: &Pod) -> Container {
    p.spec.clone().unwrap_or_default().containers[0].clone()
}

fn sources() -> Sources {
    let cm: ConfigMap = serde_json::from_value(
        serde_json::json!({"metadata": {"name": "cfg"}, "data": {"MODE": "fast", "LEVEL": "3"}}),
    )
    .unwrap_or_default();
    let secret =
        Secret { data: Some([("password".to_string(), ByteString(b"s3cret".to_vec()))].into()), ..Default::default() };
    Sources {
        config_maps: HashMap::from([("cfg".into(), Some(cm)), ("gone".into(), None)]),
        secrets: HashMap::from([("db".into(), Some(secret))]),
        pod_ip: "10.233.64.9".into(),
        host_ip: "192.168.0.2".into(),
        node_milli_cpu: 2000,
        node_memory_bytes: 1 << 30,
        service_env: Vec::new(),
    }
}

fn get<'a>(env: &'a [(String, String)], k: &str) -> Option<&'a str> {
    env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

#[test]
fn values_from_config_maps_secrets_and_the_downward_api_are_filled_in() {
    let p = pod(serde_json::json!({"containers": [{"name": "c", "env": [
        {"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "MODE"}}},
        {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
        {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        {"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}}
    ]}]}));
    let env = resolve(&p, &first(&p), &sources()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(get(&env, "MODE"), Some("fast"));
    assert_eq!(get(&env, "PW"), Some("s3cret"));
    assert_eq!(get(&env, "POD_IP"), Some("10.233.64.9"));
    assert_eq!(get(&env, "NS"), Some("web"));
    assert_eq!(get(&env, "APP"), Some("x"));
}

#[test]
fn env_from_a_config_map_takes_every_key_with_the_prefix() {
    let p = pod(
        serde_json::json!({"containers": [{"name": "c", "envFrom": [{"prefix": "CFG_", "configMapRef": {"name": "cfg"}}]}]}),
    );
    let env = resolve(&p, &first(&p), &sources()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(get(&env, "CFG_MODE"), Some("fast"));
    assert_eq!(get(&env, "CFG_LEVEL"), Some("3"));
}

#[test]
fn a_missing_config_map_is_a_create_container_config_error() {
    let p = pod(
        serde_json::json!({"containers": [{"name": "c", "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "gone", "key": "k"}}}]}]}),
    );
    assert_eq!(resolve(&p, &first(&p), &sources()), Err(EnvError::ConfigMapNotFound("gone".into())));
    let optional = pod(
        serde_json::json!({"containers": [{"name": "c", "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "gone", "key": "k", "optional": true}}}]}]}),
    );
    assert_eq!(resolve(&optional, &first(&optional), &sources()), Ok(vec![]));
}

#[test]
fn resource_limits_are_exposed_in_the_divisors_unit_and_default_to_the_node() {
    let p = pod(
        serde_json::json!({"containers": [{"name": "c", "resources": {"requests": {"cpu": "250m", "memory": "32Mi"}}, "env": [
            {"name": "CPU_REQ", "valueFrom": {"resourceFieldRef": {"resource": "requests.cpu", "divisor": "1m"}}},
            {"name": "MEM_REQ", "valueFrom": {"resourceFieldRef": {"resource": "requests.memory", "divisor": "1Mi"}}},
            {"name": "CPU_LIM", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}}
        ]}]}),
    );
    let env = resolve(&p, &first(&p), &sources()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(get(&env, "CPU_REQ"), Some("250"));
    assert_eq!(get(&env, "MEM_REQ"), Some("32"));
    assert_eq!(get(&env, "CPU_LIM"), Some("2"));
}

#[test]
fn dollar_references_expand_to_earlier_variables() {
    let vars = vec![("A".to_string(), "one".to_string())];
    assert_eq!(expand("$(A)-$(B)-$$(A)", &vars), "one-$(B)-$(A)");
    let p = pod(
        serde_json::json!({"containers": [{"name": "c", "env": [{"name": "A", "value": "x"}, {"name": "B", "value": "$(A)y"}]}]}),
    );
    let env = resolve(&p, &first(&p), &sources()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(get(&env, "B"), Some("xy"));
}

#[test]
fn services_become_docker_link_variables() {
    let svc: k8s_openapi::api::core::v1::Service = serde_json::from_value(serde_json::json!({"metadata": {"name": "foo-svc"}, "spec": {"clusterIP": "10.233.0.10", "ports": [{"port": 80, "protocol": "TCP"}]}})).unwrap_or_default();
    let env = service_env(&[svc]);
    assert_eq!(get(&env, "FOO_SVC_SERVICE_HOST"), Some("10.233.0.10"));
    assert_eq!(get(&env, "FOO_SVC_SERVICE_PORT"), Some("80"));
    assert_eq!(get(&env, "FOO_SVC_PORT_80_TCP_ADDR"), Some("10.233.0.10"));
    assert_eq!(get(&env, "FOO_SVC_PORT"), Some("tcp://10.233.0.10:80"));
}
