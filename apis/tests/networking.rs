//! Ingresses, IngressClasses, NetworkPolicies and EndpointSlices.

mod common;

use common::{DNS_1035, create_errors, defaulted, update_errors};
use serde_json::{Value, json};

fn ingress(spec: Value) -> Value {
    json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "minimal-ingress", "namespace": "default"}, "spec": spec})
}

fn path(p: &str, service: &str) -> Value {
    json!({"path": p, "pathType": "Prefix", "backend": {"service": {"name": service, "port": {"number": 80}}}})
}

fn rule(paths: Value) -> Value {
    json!({"http": {"paths": paths}})
}

fn errors(i: Value) -> Vec<String> {
    create_errors("networking.k8s.io", "Ingress", i)
}

#[test]
fn the_seed_ingress_backend_root_svc_is_an_invalid_dns_1035_label() {
    let i = ingress(json!({"rules": [rule(json!([path("/", "rootSvc"), path("/testpath", "test")]))]}));
    assert_eq!(
        errors(i),
        vec![format!("spec.rules[0].http.paths[0].backend.service.name: Invalid value: \"rootSvc\": {DNS_1035}")]
    );
}

#[test]
fn a_valid_ingress_passes() {
    let i = ingress(json!({"rules": [rule(json!([path("/", "root-svc")]))]}));
    assert_eq!(errors(i), Vec::<String>::new());
}

#[test]
fn an_ingress_needs_rules_or_a_default_backend() {
    assert_eq!(
        errors(ingress(json!({}))),
        vec![
            "spec: Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` must be specified"
        ]
    );
}

#[test]
fn a_path_type_is_required() {
    let p = json!({"path": "/", "backend": {"service": {"name": "web", "port": {"number": 80}}}});
    assert_eq!(
        errors(ingress(json!({"rules": [rule(json!([p]))]}))),
        vec!["spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified"]
    );
}

#[test]
fn an_unknown_path_type_lists_the_supported_ones() {
    let mut p = path("/", "web");
    p["pathType"] = json!("Regex");
    assert_eq!(
        errors(ingress(json!({"rules": [rule(json!([p]))]}))),
        vec![
            r#"spec.rules[0].http.paths[0].pathType: Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix""#
        ]
    );
}

#[test]
fn a_prefix_path_must_be_absolute() {
    assert_eq!(
        errors(ingress(json!({"rules": [rule(json!([path("api", "web")]))]}))),
        vec![r#"spec.rules[0].http.paths[0].path: Invalid value: "api": must be an absolute path"#]
    );
}

#[test]
fn a_path_may_not_contain_double_slashes() {
    assert_eq!(
        errors(ingress(json!({"rules": [rule(json!([path("/a//b", "web")]))]}))),
        vec![r#"spec.rules[0].http.paths[0].path: Invalid value: "/a//b": must not contain '//'"#]
    );
}

#[test]
fn a_rule_host_may_be_a_wildcard() {
    let mut r = rule(json!([path("/", "web")]));
    r["host"] = json!("*.example.com");
    assert!(errors(ingress(json!({"rules": [r]}))).is_empty());
}

#[test]
fn a_rule_host_may_not_be_an_ip() {
    let mut r = rule(json!([path("/", "web")]));
    r["host"] = json!("10.0.0.1");
    assert_eq!(
        errors(ingress(json!({"rules": [r]}))),
        vec![r#"spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address"#]
    );
}

#[test]
fn a_malformed_wildcard_host_is_rejected() {
    let mut r = rule(json!([path("/", "web")]));
    r["host"] = json!("foo.*.com");
    assert_eq!(
        errors(ingress(json!({"rules": [r]}))),
        vec![
            r#"spec.rules[0].host: Invalid value: "foo.*.com": a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\*\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"#
        ]
    );
}

#[test]
fn a_backend_port_is_a_name_or_a_number_not_both() {
    let p = json!({"path": "/", "pathType": "Exact", "backend": {"service": {"name": "web", "port": {"name": "http", "number": 80}}}});
    assert_eq!(
        errors(ingress(json!({"rules": [rule(json!([p]))]}))),
        vec![r#"spec.rules[0].http.paths[0].backend: Invalid value: "": cannot set both port name & port number"#]
    );
}

#[test]
fn a_backend_port_is_required() {
    let p = json!({"path": "/", "pathType": "Exact", "backend": {"service": {"name": "web", "port": {}}}});
    assert_eq!(
        errors(ingress(json!({"rules": [rule(json!([p]))]}))),
        vec!["spec.rules[0].http.paths[0].backend: Required value: port name or number is required"]
    );
}

#[test]
fn a_tls_host_must_be_a_dns_name() {
    let i = ingress(
        json!({"rules": [rule(json!([path("/", "web")]))], "tls": [{"hosts": ["Example.com"], "secretName": "tls"}]}),
    );
    assert_eq!(
        errors(i),
        vec![format!("spec.tls[0].hosts[0]: Invalid value: \"Example.com\": {}", common::DNS_SUBDOMAIN)]
    );
}

#[test]
fn an_ingress_class_controller_is_a_domain_prefixed_path() {
    let ic = json!({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": "nginx"}, "spec": {"controller": "nginx"}});
    assert_eq!(
        create_errors("networking.k8s.io", "IngressClass", ic),
        vec![r#"spec.controller: Invalid value: "nginx": must be a domain-prefixed path (such as "acme.io/foo")"#]
    );
}

#[test]
fn an_ingress_class_controller_is_immutable() {
    let ic = |c: &str| json!({"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass", "metadata": {"name": "nginx"}, "spec": {"controller": c}});
    assert_eq!(
        update_errors("networking.k8s.io", "IngressClass", ic("k8s.io/ingress-nginx"), ic("example.com/other")),
        vec![r#"spec.controller: Invalid value: "example.com/other": field is immutable"#]
    );
}

#[test]
fn a_network_policy_defaults_to_ingress_and_tcp() {
    let np = json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "np"}, "spec": {"podSelector": {}, "ingress": [{"ports": [{"port": 80}]}]}});
    let np = defaulted("networking.k8s.io", "NetworkPolicy", np);
    assert_eq!(np["spec"]["policyTypes"], json!(["Ingress"]));
    assert_eq!(np["spec"]["ingress"][0]["ports"][0]["protocol"], "TCP");
}

fn slice(address_type: &str, addresses: Value) -> Value {
    json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": "web-abc", "namespace": "default"},
        "addressType": address_type,
        "endpoints": [{"addresses": addresses}],
        "ports": [{"port": 80}]
    })
}

#[test]
fn an_endpoint_slice_port_gets_a_name_and_tcp() {
    let s = defaulted("discovery.k8s.io", "EndpointSlice", slice("IPv4", json!(["10.233.64.5"])));
    assert_eq!(s["ports"][0], json!({"port": 80, "name": "", "protocol": "TCP"}));
    assert!(create_errors("discovery.k8s.io", "EndpointSlice", s).is_empty());
}

#[test]
fn an_unknown_address_type_lists_the_supported_ones() {
    assert_eq!(
        create_errors("discovery.k8s.io", "EndpointSlice", slice("IP", json!(["10.233.64.5"]))),
        vec![r#"addressType: Unsupported value: "IP": supported values: "FQDN", "IPv4", "IPv6""#]
    );
}

#[test]
fn an_ipv4_slice_holds_ipv4_addresses() {
    assert_eq!(
        create_errors("discovery.k8s.io", "EndpointSlice", slice("IPv4", json!(["fd00::5"]))),
        vec![r#"endpoints[0].addresses[0]: Invalid value: "fd00::5": must be a valid IPv4 address"#]
    );
}

#[test]
fn an_endpoint_needs_an_address() {
    assert_eq!(
        create_errors("discovery.k8s.io", "EndpointSlice", slice("IPv4", json!([]))),
        vec!["endpoints[0].addresses: Required value: must contain at least 1 address"]
    );
}

#[test]
fn an_endpoint_slice_address_type_is_immutable() {
    let old = slice("IPv4", json!(["10.233.64.5"]));
    let new = slice("IPv6", json!(["fd00::5"]));
    assert_eq!(
        update_errors("discovery.k8s.io", "EndpointSlice", old, new),
        vec![r#"addressType: Invalid value: "IPv6": field is immutable"#]
    );
}
