//! Services: defaults, the clusterIPs/IP family normalisation, validation and updates.

mod common;

use common::{DNS_LABEL, DNS_SUBDOMAIN, assert_has, create_errors, defaulted, update_errors};
use serde_json::{Value, json};

fn svc(spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "my-service", "namespace": "default"}, "spec": spec})
}

fn web() -> Value {
    svc(json!({"selector": {"app": "MyApp"}, "ports": [{"port": 80, "targetPort": 9376}]}))
}

fn errors(s: Value) -> Vec<String> {
    create_errors("", "Service", s)
}

#[test]
fn a_service_is_cluster_ip_with_tcp_ports_by_default() {
    let s = defaulted("", "Service", svc(json!({"selector": {"app": "a"}, "ports": [{"port": 80}]})));
    let spec = &s["spec"];
    assert_eq!(spec["type"], "ClusterIP");
    assert_eq!(spec["sessionAffinity"], "None");
    assert_eq!(spec["ports"][0]["protocol"], "TCP");
    assert_eq!(spec["ports"][0]["targetPort"], 80);
    assert_eq!(spec["internalTrafficPolicy"], "Cluster");
    assert_eq!(spec["ipFamilyPolicy"], "SingleStack");
    assert_eq!(spec["ipFamilies"], json!(["IPv4"]));
    assert!(spec.get("externalTrafficPolicy").is_none());
}

#[test]
fn a_named_target_port_is_kept() {
    let s = defaulted("", "Service", svc(json!({"ports": [{"port": 80, "targetPort": "http"}]})));
    assert_eq!(s["spec"]["ports"][0]["targetPort"], "http");
}

#[test]
fn a_node_port_service_gets_external_traffic_policy_cluster() {
    let s = defaulted("", "Service", svc(json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": 30000}]})));
    assert_eq!(s["spec"]["externalTrafficPolicy"], "Cluster");
    assert!(s["spec"].get("allocateLoadBalancerNodePorts").is_none());
}

#[test]
fn a_load_balancer_allocates_node_ports_by_default() {
    let s = defaulted("", "Service", svc(json!({"type": "LoadBalancer", "ports": [{"port": 80}]})));
    assert_eq!(s["spec"]["allocateLoadBalancerNodePorts"], true);
    assert_eq!(s["spec"]["externalTrafficPolicy"], "Cluster");
}

#[test]
fn client_ip_affinity_gets_a_three_hour_timeout() {
    let s = defaulted("", "Service", svc(json!({"sessionAffinity": "ClientIP", "ports": [{"port": 80}]})));
    assert_eq!(s["spec"]["sessionAffinityConfig"], json!({"clientIP": {"timeoutSeconds": 10800}}));
}

#[test]
fn no_affinity_drops_an_affinity_config() {
    let s = defaulted(
        "",
        "Service",
        svc(json!({"sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 5}}, "ports": [{"port": 80}]})),
    );
    assert!(s["spec"].get("sessionAffinityConfig").is_none());
}

#[test]
fn an_external_name_service_gets_no_ip_families() {
    let s = defaulted("", "Service", svc(json!({"type": "ExternalName", "externalName": "db.example.com"})));
    assert!(s["spec"].get("ipFamilies").is_none());
    assert!(s["spec"].get("ipFamilyPolicy").is_none());
    assert!(s["spec"].get("internalTrafficPolicy").is_none());
    assert!(errors(s).is_empty());
}

#[test]
fn a_headless_service_without_a_selector_requires_dual_stack() {
    let s = defaulted("", "Service", svc(json!({"clusterIP": "None", "ports": [{"port": 80}]})));
    assert_eq!(s["spec"]["ipFamilyPolicy"], "RequireDualStack");
    assert_eq!(s["spec"]["clusterIPs"], json!(["None"]));
}

#[test]
fn a_cluster_ip_alone_fills_cluster_ips() {
    let s = defaulted("", "Service", svc(json!({"clusterIP": "10.233.10.10", "ports": [{"port": 80}]})));
    assert_eq!(s["spec"]["clusterIPs"], json!(["10.233.10.10"]));
    assert!(errors(s).is_empty());
}

#[test]
fn an_ipv6_cluster_ip_gives_an_ipv6_family() {
    let s = defaulted("", "Service", svc(json!({"clusterIP": "fd00::10", "ports": [{"port": 80}]})));
    assert_eq!(s["spec"]["ipFamilies"], json!(["IPv6"]));
}

#[test]
fn the_seed_web_service_is_valid() {
    assert_eq!(errors(web()), Vec::<String>::new());
}

#[test]
fn a_service_with_session_affinity_clusterip_is_rejected_with_the_supported_values() {
    let mut s = web();
    s["spec"]["sessionAffinity"] = json!("ClusterIP");
    assert_eq!(
        errors(s),
        vec![r#"spec.sessionAffinity: Unsupported value: "ClusterIP": supported values: "ClientIP", "None""#]
    );
}

#[test]
fn a_service_needs_ports() {
    assert_eq!(errors(svc(json!({"selector": {"app": "a"}}))), vec!["spec.ports: Required value"]);
}

#[test]
fn a_headless_service_needs_no_ports() {
    assert!(errors(svc(json!({"clusterIP": "None", "selector": {"app": "a"}}))).is_empty());
}

#[test]
fn several_ports_each_need_a_name() {
    let s = svc(json!({"ports": [{"port": 80}, {"port": 443}]}));
    assert_eq!(errors(s), vec!["spec.ports[0].name: Required value", "spec.ports[1].name: Required value"]);
}

#[test]
fn the_seed_multi_port_service_is_valid() {
    let s = svc(json!({"selector": {"app": "MyApp"}, "ports": [
        {"name": "http", "protocol": "TCP", "port": 80, "targetPort": 9376},
        {"name": "https", "protocol": "TCP", "port": 443, "targetPort": 9377}
    ]}));
    assert!(errors(s).is_empty());
}

#[test]
fn service_port_names_are_unique() {
    let s = svc(json!({"ports": [{"name": "web", "port": 80}, {"name": "web", "port": 81}]}));
    assert_eq!(errors(s), vec![r#"spec.ports[1].name: Duplicate value: "web""#]);
}

#[test]
fn a_service_port_name_must_be_a_dns_label() {
    let s = svc(json!({"ports": [{"name": "Web", "port": 80}]}));
    assert_eq!(errors(s), vec![format!("spec.ports[0].name: Invalid value: \"Web\": {DNS_LABEL}")]);
}

#[test]
fn a_service_port_must_be_in_range() {
    let s = svc(json!({"ports": [{"port": 0}]}));
    assert_has(&errors(s), "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive");
}

#[test]
fn a_target_port_name_must_be_an_iana_name() {
    let s = svc(json!({"ports": [{"port": 80, "targetPort": "web-"}]}));
    assert_eq!(
        errors(s),
        vec![r#"spec.ports[0].targetPort: Invalid value: "web-": must not begin or end with a hyphen"#]
    );
}

#[test]
fn a_service_protocol_must_be_known() {
    let s = svc(json!({"ports": [{"port": 80, "protocol": "ICMP"}]}));
    assert_eq!(
        errors(s),
        vec![r#"spec.ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP""#]
    );
}

#[test]
fn the_same_port_and_protocol_twice_is_a_duplicate() {
    let s = svc(json!({"ports": [{"name": "a", "port": 80}, {"name": "b", "port": 80}]}));
    assert_eq!(
        errors(s),
        vec![
            r#"spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}"#
        ]
    );
}

#[test]
fn an_unknown_service_type_lists_the_supported_ones() {
    let s = svc(json!({"type": "Internal", "ports": [{"port": 80}]}));
    assert_eq!(
        errors(s),
        vec![
            r#"spec.type: Unsupported value: "Internal": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort""#
        ]
    );
}

#[test]
fn a_cluster_ip_must_be_an_ip() {
    let s = svc(json!({"clusterIP": "10.233.0.300", "ports": [{"port": 80}]}));
    assert_eq!(
        errors(s),
        vec![
            r#"spec.clusterIPs[0]: Invalid value: "10.233.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"#
        ]
    );
}

#[test]
fn cluster_ips_must_start_with_the_cluster_ip() {
    let s = svc(json!({"clusterIP": "10.233.0.10", "clusterIPs": ["10.233.0.11"], "ports": [{"port": 80}]}));
    assert_eq!(
        errors(s),
        vec![r#"spec.clusterIPs: Invalid value: []string{"10.233.0.11"}: first value must match `clusterIP`"#]
    );
}

#[test]
fn a_headless_node_port_service_is_rejected() {
    let s = svc(json!({"type": "NodePort", "clusterIP": "None", "ports": [{"port": 80}]}));
    assert_has(
        &errors(s),
        r#"spec.clusterIPs[0]: Invalid value: "None": may not be set to 'None' for NodePort services"#,
    );
}

#[test]
fn a_node_port_on_a_cluster_ip_service_is_forbidden() {
    let s = svc(json!({"ports": [{"port": 80, "nodePort": 30080}]}));
    assert_eq!(errors(s), vec!["spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]);
}

#[test]
fn the_seed_node_port_service_is_valid() {
    let s = svc(
        json!({"type": "NodePort", "selector": {"app": "np-pods"}, "ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": 80, "nodePort": 30000}]}),
    );
    assert!(errors(s).is_empty());
}

#[test]
fn an_external_name_service_needs_its_name() {
    assert_eq!(errors(svc(json!({"type": "ExternalName"}))), vec!["spec.externalName: Required value"]);
}

#[test]
fn an_external_name_must_be_a_dns_subdomain() {
    let errs = errors(svc(json!({"type": "ExternalName", "externalName": "DB.example.com."})));
    assert_eq!(errs, vec![format!("spec.externalName: Invalid value: \"DB.example.com\": {DNS_SUBDOMAIN}")]);
}

#[test]
fn an_external_name_service_may_not_carry_cluster_ips() {
    let s = svc(json!({"type": "ExternalName", "externalName": "db.example.com", "clusterIP": "10.233.0.5"}));
    assert_eq!(errors(s), vec!["spec.clusterIPs: Forbidden: may not be set for ExternalName services"]);
}

#[test]
fn a_client_ip_timeout_beyond_a_day_is_rejected() {
    let s = svc(
        json!({"sessionAffinity": "ClientIP", "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 86401}}, "ports": [{"port": 80}]}),
    );
    assert_eq!(
        errors(s),
        vec![
            "spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 86401: must be greater than 0 and less than 86400"
        ]
    );
}

#[test]
fn external_traffic_policy_needs_an_externally_reachable_service() {
    let s = svc(json!({"externalTrafficPolicy": "Local", "ports": [{"port": 80}]}));
    assert_eq!(
        errors(s),
        vec![
            r#"spec.externalTrafficPolicy: Invalid value: "Local": may only be set for externally-accessible services"#
        ]
    );
}

#[test]
fn a_local_load_balancer_needs_a_health_check_node_port() {
    let s = svc(json!({"type": "LoadBalancer", "externalTrafficPolicy": "Local", "ports": [{"port": 80}]}));
    assert_eq!(errors(s), vec!["spec.healthCheckNodePort: Required value"]);
}

#[test]
fn an_external_ip_may_not_be_loopback() {
    let s = svc(json!({"externalIPs": ["127.0.0.1"], "ports": [{"port": 80}]}));
    assert_eq!(
        errors(s),
        vec![
            r#"spec.externalIPs[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)"#
        ]
    );
}

#[test]
fn source_ranges_need_a_load_balancer() {
    let s = svc(json!({"loadBalancerSourceRanges": ["10.0.0.0/8"], "ports": [{"port": 80}]}));
    assert_eq!(
        errors(s),
        vec!["spec.LoadBalancerSourceRanges: Forbidden: may only be used when `type` is 'LoadBalancer'"]
    );
}

fn allocated() -> Value {
    let mut s = web();
    s["spec"]["clusterIP"] = json!("10.233.0.20");
    s["spec"]["clusterIPs"] = json!(["10.233.0.20"]);
    s
}

#[test]
fn the_cluster_ip_may_not_change_once_set() {
    let mut new = allocated();
    new["spec"]["clusterIP"] = json!("10.233.0.21");
    new["spec"]["clusterIPs"] = json!(["10.233.0.21"]);
    assert_eq!(
        update_errors("", "Service", allocated(), new),
        vec![r#"spec.clusterIPs[0]: Invalid value: []string{"10.233.0.21"}: may not change once set"#]
    );
}

#[test]
fn changing_only_the_cluster_ip_also_changes_cluster_ips_and_is_rejected() {
    let mut new = allocated();
    new["spec"]["clusterIP"] = json!("10.233.0.21");
    assert_eq!(
        update_errors("", "Service", allocated(), new),
        vec![r#"spec.clusterIPs[0]: Invalid value: []string{"10.233.0.21"}: may not change once set"#]
    );
}

#[test]
fn an_update_without_the_cluster_ip_keeps_the_allocated_one() {
    let new = web();
    let old = defaulted("", "Service", allocated());
    let mut new = defaulted("", "Service", new);
    apis::prepare_update("", "Service", &mut new, &old);
    assert_eq!(new["spec"]["clusterIP"], "10.233.0.20");
    assert_eq!(new["spec"]["clusterIPs"], json!(["10.233.0.20"]));
    assert!(apis::validate("", "Service", &new, Some(&old)).is_empty());
}

#[test]
fn an_update_without_node_ports_keeps_the_allocated_ones() {
    let old = svc(
        json!({"type": "NodePort", "clusterIP": "10.233.0.20", "ports": [{"name": "http", "port": 80, "nodePort": 30001}]}),
    );
    let new = svc(json!({"type": "NodePort", "ports": [{"name": "http", "port": 80}]}));
    let old = defaulted("", "Service", old);
    let mut new = defaulted("", "Service", new);
    apis::prepare_update("", "Service", &mut new, &old);
    assert_eq!(new["spec"]["ports"][0]["nodePort"], 30001);
}

#[test]
fn switching_from_node_port_to_cluster_ip_drops_the_node_ports() {
    let old = svc(json!({"type": "NodePort", "clusterIP": "10.233.0.20", "ports": [{"port": 80, "nodePort": 30001}]}));
    let mut new = old.clone();
    new["spec"]["type"] = json!("ClusterIP");
    assert!(update_errors("", "Service", old.clone(), new.clone()).is_empty());
    let old = defaulted("", "Service", old);
    let mut new = defaulted("", "Service", new);
    apis::prepare_update("", "Service", &mut new, &old);
    assert!(new["spec"]["ports"][0].get("nodePort").is_none());
    assert!(new["spec"].get("externalTrafficPolicy").is_none());
}

#[test]
fn switching_to_external_name_drops_the_cluster_ips() {
    let old = allocated();
    let mut new = old.clone();
    new["spec"]["type"] = json!("ExternalName");
    new["spec"]["externalName"] = json!("db.example.com");
    assert_eq!(update_errors("", "Service", old, new), Vec::<String>::new());
}

#[test]
fn a_load_balancer_status_needs_a_load_balancer() {
    let old = web();
    let mut new = web();
    new["status"] = json!({"loadBalancer": {"ingress": [{"ip": "192.168.1.10"}]}});
    assert_eq!(
        common::status_errors("", "Service", old, new),
        vec!["status.loadBalancer.ingress: Forbidden: may only be used when `spec.type` is 'LoadBalancer'"]
    );
}

#[test]
fn a_load_balancer_ingress_ip_gets_the_vip_mode() {
    let mut s = svc(json!({"type": "LoadBalancer", "ports": [{"port": 80}]}));
    s["status"] = json!({"loadBalancer": {"ingress": [{"ip": "192.168.1.10"}]}});
    let s = defaulted("", "Service", s);
    assert_eq!(s["status"]["loadBalancer"]["ingress"][0]["ipMode"], "VIP");
}
