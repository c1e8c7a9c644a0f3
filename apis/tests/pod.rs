//! Pods: their defaults and validation, as Kubernetes 1.33 applies them.

mod common;

use common::{DNS_LABEL, assert_has, create_errors, defaulted, status_errors, update_errors};
use serde_json::{Value, json};

fn pod(spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"}, "spec": spec})
}

fn nginx() -> Value {
    pod(json!({"containers": [{"name": "nginx", "image": "nginx:1.25"}]}))
}

fn with_container(c: Value) -> Value {
    pod(json!({"containers": [c]}))
}

fn pod_errors(p: Value) -> Vec<String> {
    create_errors("", "Pod", p)
}

fn container0(p: &Value) -> &Value {
    &p["spec"]["containers"][0]
}

#[test]
fn a_pod_gets_the_pod_spec_defaults() {
    let p = defaulted("", "Pod", nginx());
    let spec = &p["spec"];
    assert_eq!(spec["restartPolicy"], "Always");
    assert_eq!(spec["dnsPolicy"], "ClusterFirst");
    assert_eq!(spec["terminationGracePeriodSeconds"], 30);
    assert_eq!(spec["schedulerName"], "default-scheduler");
    assert_eq!(spec["securityContext"], json!({}));
    assert_eq!(spec["enableServiceLinks"], true);
}

#[test]
fn preemption_policy_and_priority_are_left_alone() {
    let p = defaulted("", "Pod", nginx());
    assert!(p["spec"].get("preemptionPolicy").is_none());
    assert!(p["spec"].get("priority").is_none());
}

#[test]
fn an_image_without_tag_is_pulled_always() {
    let p = defaulted("", "Pod", with_container(json!({"name": "c", "image": "nginx"})));
    assert_eq!(container0(&p)["imagePullPolicy"], "Always");
}

#[test]
fn an_image_tagged_latest_is_pulled_always() {
    let p = defaulted("", "Pod", with_container(json!({"name": "c", "image": "busybox:latest"})));
    assert_eq!(container0(&p)["imagePullPolicy"], "Always");
}

#[test]
fn an_image_with_a_tag_is_pulled_if_not_present() {
    let p = defaulted("", "Pod", nginx());
    assert_eq!(container0(&p)["imagePullPolicy"], "IfNotPresent");
}

#[test]
fn an_image_by_digest_is_pulled_if_not_present() {
    let image = "busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let p = defaulted("", "Pod", with_container(json!({"name": "c", "image": image})));
    assert_eq!(container0(&p)["imagePullPolicy"], "IfNotPresent");
}

#[test]
fn a_written_pull_policy_is_kept() {
    let c = json!({"name": "c", "image": "nginx", "imagePullPolicy": "Never"});
    let p = defaulted("", "Pod", with_container(c));
    assert_eq!(container0(&p)["imagePullPolicy"], "Never");
}

#[test]
fn a_container_gets_termination_message_defaults() {
    let p = defaulted("", "Pod", nginx());
    assert_eq!(container0(&p)["terminationMessagePath"], "/dev/termination-log");
    assert_eq!(container0(&p)["terminationMessagePolicy"], "File");
}

#[test]
fn a_container_port_is_tcp_by_default() {
    let c = json!({"name": "c", "image": "nginx", "ports": [{"containerPort": 80}]});
    let p = defaulted("", "Pod", with_container(c));
    assert_eq!(container0(&p)["ports"][0]["protocol"], "TCP");
}

#[test]
fn probes_get_their_timings_and_http_defaults() {
    let c = json!({"name": "c", "image": "nginx", "livenessProbe": {"httpGet": {"port": 80}}});
    let p = defaulted("", "Pod", with_container(c));
    let probe = &container0(&p)["livenessProbe"];
    assert_eq!(probe["timeoutSeconds"], 1);
    assert_eq!(probe["periodSeconds"], 10);
    assert_eq!(probe["successThreshold"], 1);
    assert_eq!(probe["failureThreshold"], 3);
    assert_eq!(probe["httpGet"]["scheme"], "HTTP");
    assert_eq!(probe["httpGet"]["path"], "/");
}

#[test]
fn a_pod_copies_limits_into_missing_requests() {
    let c = json!({"name": "c", "image": "nginx", "resources": {"limits": {"cpu": "1", "memory": "200Mi"}, "requests": {"cpu": "100m"}}});
    let p = defaulted("", "Pod", with_container(c));
    assert_eq!(container0(&p)["resources"]["requests"], json!({"cpu": "100m", "memory": "200Mi"}));
}

#[test]
fn quantities_are_stored_in_canonical_form() {
    let c = json!({"name": "c", "image": "nginx", "resources": {"limits": {"cpu": "0.5", "memory": "1024Mi"}}});
    let p = defaulted("", "Pod", with_container(c));
    assert_eq!(container0(&p)["resources"]["limits"], json!({"cpu": "500m", "memory": "1Gi"}));
}

#[test]
fn env_field_refs_default_to_api_version_v1() {
    let c = json!({"name": "c", "image": "nginx", "env": [{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}]});
    let p = defaulted("", "Pod", with_container(c));
    assert_eq!(container0(&p)["env"][0]["valueFrom"]["fieldRef"]["apiVersion"], "v1");
}

#[test]
fn volumes_get_their_source_defaults() {
    let spec = json!({
        "containers": [{"name": "c", "image": "nginx"}],
        "volumes": [
            {"name": "cm", "configMap": {"name": "x"}},
            {"name": "s", "secret": {"secretName": "x"}},
            {"name": "h", "hostPath": {"path": "/var/log"}},
            {"name": "scratch"}
        ]
    });
    let p = defaulted("", "Pod", pod(spec));
    let vols = &p["spec"]["volumes"];
    assert_eq!(vols[0]["configMap"]["defaultMode"], 420);
    assert_eq!(vols[1]["secret"]["defaultMode"], 420);
    assert_eq!(vols[2]["hostPath"]["type"], "");
    assert_eq!(vols[3]["emptyDir"], json!({}));
}

#[test]
fn a_host_network_pod_copies_container_ports_to_host_ports() {
    let spec = json!({"hostNetwork": true, "containers": [{"name": "c", "image": "nginx", "ports": [{"containerPort": 8080}]}]});
    let p = defaulted("", "Pod", pod(spec));
    assert_eq!(container0(&p)["ports"][0]["hostPort"], 8080);
    assert!(pod_errors(p).is_empty());
}

#[test]
fn a_plain_nginx_pod_is_valid() {
    assert_eq!(pod_errors(nginx()), Vec::<String>::new());
}

#[test]
fn a_pod_without_containers_is_rejected() {
    assert_eq!(pod_errors(pod(json!({"containers": []}))), vec!["spec.containers: Required value"]);
}

#[test]
fn a_container_without_an_image_is_rejected() {
    let errs = pod_errors(with_container(json!({"name": "c"})));
    assert_eq!(errs, vec!["spec.containers[0].image: Required value"]);
}

#[test]
fn a_container_name_must_be_a_dns_label() {
    let errs = pod_errors(with_container(json!({"name": "Nginx", "image": "nginx"})));
    assert_eq!(errs, vec![format!("spec.containers[0].name: Invalid value: \"Nginx\": {DNS_LABEL}")]);
}

#[test]
fn a_container_name_may_not_repeat_in_the_init_containers() {
    let spec = json!({
        "containers": [{"name": "a", "image": "nginx"}],
        "initContainers": [{"name": "a", "image": "busybox"}]
    });
    assert_eq!(pod_errors(pod(spec)), vec!["spec.initContainers[0].name: Duplicate value: \"a\""]);
}

#[test]
fn a_container_port_out_of_range_is_rejected() {
    let c = json!({"name": "c", "image": "nginx", "ports": [{"containerPort": 70000}]});
    assert_eq!(
        pod_errors(with_container(c)),
        vec!["spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive"]
    );
}

#[test]
fn an_unknown_port_protocol_lists_the_supported_ones() {
    let c = json!({"name": "c", "image": "nginx", "ports": [{"containerPort": 80, "protocol": "HTTP"}]});
    assert_eq!(
        pod_errors(with_container(c)),
        vec![
            r#"spec.containers[0].ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP""#
        ]
    );
}

#[test]
fn a_port_name_must_be_an_iana_service_name() {
    let c = json!({"name": "c", "image": "nginx", "ports": [{"name": "8080", "containerPort": 80}]});
    assert_eq!(
        pod_errors(with_container(c)),
        vec![r#"spec.containers[0].ports[0].name: Invalid value: "8080": must contain at least one letter (a-z)"#]
    );
}

#[test]
fn port_names_are_unique_in_a_container() {
    let c = json!({"name": "c", "image": "nginx", "ports": [{"name": "http", "containerPort": 80}, {"name": "http", "containerPort": 81}]});
    assert_eq!(pod_errors(with_container(c)), vec![r#"spec.containers[0].ports[1].name: Duplicate value: "http""#]);
}

#[test]
fn two_containers_may_not_claim_one_host_port() {
    let spec = json!({"containers": [
        {"name": "a", "image": "nginx", "ports": [{"containerPort": 80, "hostPort": 80}]},
        {"name": "b", "image": "nginx", "ports": [{"containerPort": 81, "hostPort": 80}]}
    ]});
    assert_eq!(pod_errors(pod(spec)), vec![r#"spec.containers[1].ports[0].hostPort: Duplicate value: "TCP//80""#]);
}

#[test]
fn a_host_port_must_match_the_container_port_on_the_host_network() {
    let spec = json!({"hostNetwork": true, "containers": [{"name": "c", "image": "nginx", "ports": [{"containerPort": 80, "hostPort": 8080}]}]});
    assert_eq!(
        pod_errors(pod(spec)),
        vec![
            "spec.containers[0].ports[0].hostPort: Invalid value: 8080: must match `containerPort` when `hostNetwork` is true"
        ]
    );
}

#[test]
fn an_env_name_may_not_contain_an_equals_sign() {
    let c = json!({"name": "c", "image": "nginx", "env": [{"name": "A=B", "value": "x"}]});
    assert_eq!(
        pod_errors(with_container(c)),
        vec![
            r#"spec.containers[0].env[0].name: Invalid value: "A=B": a valid environment variable name must consist only of printable ASCII characters other than '='"#
        ]
    );
}

#[test]
fn env_names_may_start_with_a_digit_in_1_33() {
    let c = json!({"name": "c", "image": "nginx", "env": [{"name": "1ST.VAR-x", "value": "x"}]});
    assert!(pod_errors(with_container(c)).is_empty());
}

#[test]
fn an_env_var_needs_a_name() {
    let c = json!({"name": "c", "image": "nginx", "env": [{"value": "x"}]});
    assert_eq!(pod_errors(with_container(c)), vec!["spec.containers[0].env[0].name: Required value"]);
}

#[test]
fn an_env_var_may_not_have_both_a_value_and_a_source() {
    let c = json!({"name": "c", "image": "nginx", "env": [{"name": "A", "value": "x", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]});
    assert_eq!(
        pod_errors(with_container(c)),
        vec![
            r#"spec.containers[0].env[0].valueFrom: Invalid value: "": may not be specified when `value` is not empty"#
        ]
    );
}

#[test]
fn a_field_ref_may_only_name_a_downward_api_field() {
    let c = json!({"name": "c", "image": "nginx", "env": [{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "spec.restartPolicy"}}}]});
    assert_eq!(
        pod_errors(with_container(c)),
        vec![
            r#"spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "spec.restartPolicy": supported values: "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs""#
        ]
    );
}

#[test]
fn an_env_from_source_needs_a_config_map_or_secret() {
    let c = json!({"name": "c", "image": "nginx", "envFrom": [{"prefix": "P_"}]});
    assert_eq!(
        pod_errors(with_container(c)),
        vec![r#"spec.containers[0].envFrom: Invalid value: "": must specify one of: `configMapRef` or `secretRef`"#]
    );
}

#[test]
fn a_volume_mount_must_name_a_volume() {
    let c = json!({"name": "c", "image": "nginx", "volumeMounts": [{"name": "x", "mountPath": "/x"}]});
    let p = defaulted("", "Pod", with_container(c));
    let errs = apis::validate("", "Pod", &p, None);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].field, "spec.containers[0].volumeMounts[0].name");
    assert_eq!(errs[0].value, Some(json!("x")));
}

#[test]
fn a_mount_path_is_used_once_per_container() {
    let spec = json!({
        "containers": [{"name": "c", "image": "nginx", "volumeMounts": [{"name": "v", "mountPath": "/x"}, {"name": "v", "mountPath": "/x"}]}],
        "volumes": [{"name": "v", "emptyDir": {}}]
    });
    assert_eq!(
        pod_errors(pod(spec)),
        vec![r#"spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/x": must be unique"#]
    );
}

#[test]
fn volume_names_are_unique() {
    let spec = json!({
        "containers": [{"name": "c", "image": "nginx"}],
        "volumes": [{"name": "data", "emptyDir": {}}, {"name": "data", "emptyDir": {}}]
    });
    assert_eq!(pod_errors(pod(spec)), vec![r#"spec.volumes[1].name: Duplicate value: "data""#]);
}

#[test]
fn a_volume_name_must_be_a_dns_label() {
    let spec =
        json!({"containers": [{"name": "c", "image": "nginx"}], "volumes": [{"name": "my_data", "emptyDir": {}}]});
    assert_eq!(pod_errors(pod(spec)), vec![format!("spec.volumes[0].name: Invalid value: \"my_data\": {DNS_LABEL}")]);
}

#[test]
fn a_volume_may_have_only_one_source() {
    let spec = json!({
        "containers": [{"name": "c", "image": "nginx"}],
        "volumes": [{"name": "v", "emptyDir": {}, "hostPath": {"path": "/tmp"}}]
    });
    assert_eq!(
        pod_errors(pod(spec)),
        vec!["spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type"]
    );
}

#[test]
fn a_host_path_may_not_climb_out() {
    let spec = json!({"containers": [{"name": "c", "image": "nginx"}], "volumes": [{"name": "v", "hostPath": {"path": "/var/../etc"}}]});
    assert_eq!(
        pod_errors(pod(spec)),
        vec![r#"spec.volumes[0].hostPath.path: Invalid value: "/var/../etc": must not contain '..'"#]
    );
}

#[test]
fn a_secret_volume_needs_a_secret_name() {
    let spec = json!({"containers": [{"name": "c", "image": "nginx"}], "volumes": [{"name": "v", "secret": {}}]});
    assert_eq!(pod_errors(pod(spec)), vec!["spec.volumes[0].secret.secretName: Required value"]);
}

#[test]
fn an_unknown_restart_policy_lists_the_valid_ones() {
    let mut p = nginx();
    p["spec"]["restartPolicy"] = json!("Sometimes");
    assert_eq!(
        pod_errors(p),
        vec![r#"spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never""#]
    );
}

#[test]
fn an_unknown_dns_policy_lists_the_valid_ones() {
    let mut p = nginx();
    p["spec"]["dnsPolicy"] = json!("Cluster");
    assert_eq!(
        pod_errors(p),
        vec![
            r#"spec.dnsPolicy: Unsupported value: "Cluster": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None""#
        ]
    );
}

#[test]
fn dns_policy_none_needs_a_dns_config() {
    let mut p = nginx();
    p["spec"]["dnsPolicy"] = json!("None");
    assert_eq!(
        pod_errors(p),
        vec!["spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None"]
    );
}

#[test]
fn requests_above_limits_are_rejected() {
    let c = json!({"name": "c", "image": "nginx", "resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}});
    assert_eq!(
        pod_errors(with_container(c)),
        vec![
            r#"spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1"#
        ]
    );
}

#[test]
fn requests_compare_across_suffixes() {
    let c = json!({"name": "c", "image": "nginx", "resources": {"requests": {"memory": "1Gi"}, "limits": {"memory": "1024Mi"}}});
    assert!(pod_errors(with_container(c)).is_empty());
}

#[test]
fn a_malformed_quantity_is_rejected() {
    let c = json!({"name": "c", "image": "nginx", "resources": {"requests": {"cpu": "abc"}}});
    assert_eq!(
        pod_errors(with_container(c)),
        vec![
            r#"spec.containers[0].resources.requests[cpu]: Invalid value: "abc": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"#
        ]
    );
}

#[test]
fn a_negative_quantity_is_rejected() {
    let c = json!({"name": "c", "image": "nginx", "resources": {"requests": {"memory": "-1"}}});
    assert_eq!(
        pod_errors(with_container(c)),
        vec![
            r#"spec.containers[0].resources.requests[memory]: Invalid value: "-1": must be greater than or equal to 0"#
        ]
    );
}

#[test]
fn an_unprefixed_unknown_resource_is_rejected_in_limits_and_the_copied_requests() {
    let c = json!({"name": "c", "image": "nginx", "resources": {"limits": {"gpu": "1"}}});
    assert_eq!(
        pod_errors(with_container(c)),
        vec![
            r#"spec.containers[0].resources.limits[gpu]: Invalid value: "gpu": must be a standard resource type or fully qualified"#,
            r#"spec.containers[0].resources.limits[gpu]: Invalid value: "gpu": must be a standard resource for containers"#,
            r#"spec.containers[0].resources.requests[gpu]: Invalid value: "gpu": must be a standard resource type or fully qualified"#,
            r#"spec.containers[0].resources.requests[gpu]: Invalid value: "gpu": must be a standard resource for containers"#
        ]
    );
}

#[test]
fn an_extended_resource_needs_an_equal_limit() {
    let c = json!({"name": "c", "image": "nginx", "resources": {"requests": {"example.com/gpu": "1"}}});
    assert_eq!(
        pod_errors(with_container(c)),
        vec!["spec.containers[0].resources.limits: Required value: Limit must be set for non overcommitable resources"]
    );
}

#[test]
fn a_liveness_probe_succeeds_once() {
    let c = json!({"name": "c", "image": "nginx", "livenessProbe": {"tcpSocket": {"port": 80}, "successThreshold": 2}});
    assert_eq!(
        pod_errors(with_container(c)),
        vec!["spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1"]
    );
}

#[test]
fn a_probe_needs_a_handler() {
    let c = json!({"name": "c", "image": "nginx", "readinessProbe": {"periodSeconds": 5}});
    assert_eq!(
        pod_errors(with_container(c)),
        vec!["spec.containers[0].readinessProbe: Required value: must specify a handler type"]
    );
}

#[test]
fn a_probe_with_two_handlers_is_rejected() {
    let c = json!({"name": "c", "image": "nginx", "readinessProbe": {"exec": {"command": ["true"]}, "tcpSocket": {"port": 80}}});
    assert_eq!(
        pod_errors(with_container(c)),
        vec!["spec.containers[0].readinessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type"]
    );
}

#[test]
fn an_http_probe_scheme_is_http_or_https() {
    let c = json!({"name": "c", "image": "nginx", "readinessProbe": {"httpGet": {"port": 80, "scheme": "FTP"}}});
    assert_eq!(
        pod_errors(with_container(c)),
        vec![
            r#"spec.containers[0].readinessProbe.httpGet.scheme: Unsupported value: "FTP": supported values: "HTTP", "HTTPS""#
        ]
    );
}

#[test]
fn a_probe_port_name_must_be_an_iana_name() {
    let c = json!({"name": "c", "image": "nginx", "readinessProbe": {"tcpSocket": {"port": "HTTP"}}});
    let errs = pod_errors(with_container(c));
    assert_has(
        &errs,
        r#"spec.containers[0].readinessProbe.tcpSocket.port: Invalid value: "HTTP": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"#,
    );
}

#[test]
fn init_containers_may_not_have_probes_unless_they_restart() {
    let spec = json!({
        "containers": [{"name": "c", "image": "nginx"}],
        "initContainers": [{"name": "i", "image": "busybox", "readinessProbe": {"exec": {"command": ["true"]}}}]
    });
    assert_eq!(
        pod_errors(pod(spec)),
        vec![
            "spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers without restartPolicy=Always"
        ]
    );
}

#[test]
fn a_node_name_must_be_a_subdomain() {
    let mut p = nginx();
    p["spec"]["nodeName"] = json!("Node_1");
    assert_eq!(pod_errors(p), vec![format!("spec.nodeName: Invalid value: \"Node_1\": {}", common::DNS_SUBDOMAIN)]);
}

#[test]
fn a_toleration_without_a_key_must_use_exists() {
    let mut p = nginx();
    p["spec"]["tolerations"] = json!([{"operator": "Equal", "value": "x"}]);
    assert_eq!(
        pod_errors(p),
        vec![
            r#"spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, which means "match all values and all keys""#
        ]
    );
}

#[test]
fn the_seed_daemon_set_toleration_is_valid_in_a_pod() {
    let mut p = nginx();
    p["spec"]["tolerations"] =
        json!([{"key": "node-role.kubernetes.io/master", "operator": "Exists", "effect": "NoSchedule"}]);
    assert!(pod_errors(p).is_empty());
}

#[test]
fn an_active_deadline_must_be_positive() {
    let mut p = nginx();
    p["spec"]["activeDeadlineSeconds"] = json!(0);
    assert_eq!(
        pod_errors(p),
        vec!["spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive"]
    );
}

#[test]
fn a_pod_may_not_be_created_with_ephemeral_containers() {
    let mut p = nginx();
    p["spec"]["ephemeralContainers"] = json!([{"name": "debug", "image": "busybox"}]);
    assert_eq!(pod_errors(p), vec!["spec.ephemeralContainers: Forbidden: cannot be set on create"]);
}

#[test]
fn an_image_with_surrounding_spaces_is_rejected_in_a_pod() {
    let errs = pod_errors(with_container(json!({"name": "c", "image": " nginx"})));
    assert_eq!(
        errs,
        vec![r#"spec.containers[0].image: Invalid value: " nginx": must not have leading or trailing whitespace"#]
    );
}

#[test]
fn a_pod_update_may_change_the_image() {
    let mut new = nginx();
    new["spec"]["containers"][0]["image"] = json!("nginx:1.26");
    assert!(update_errors("", "Pod", nginx(), new).is_empty());
}

#[test]
fn a_pod_update_may_not_change_other_fields() {
    let mut new = nginx();
    new["spec"]["containers"][0]["ports"] = json!([{"containerPort": 80}]);
    let errs = update_errors("", "Pod", nginx(), new);
    assert_eq!(errs.len(), 1);
    assert!(
        errs[0].starts_with("spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n"),
        "{errs:?}"
    );
}

#[test]
fn a_pod_update_may_not_add_containers() {
    let mut new = nginx();
    new["spec"]["containers"] = json!([{"name": "nginx", "image": "nginx:1.25"}, {"name": "b", "image": "busybox"}]);
    assert_eq!(
        update_errors("", "Pod", nginx(), new),
        vec!["spec.containers: Forbidden: pod updates may not add or remove containers"]
    );
}

#[test]
fn an_active_deadline_may_only_shrink() {
    let mut old = nginx();
    old["spec"]["activeDeadlineSeconds"] = json!(100);
    let mut new = old.clone();
    new["spec"]["activeDeadlineSeconds"] = json!(200);
    assert_eq!(
        update_errors("", "Pod", old.clone(), new),
        vec!["spec.activeDeadlineSeconds: Invalid value: 200: must be less than or equal to previous value"]
    );
    let mut shorter = old.clone();
    shorter["spec"]["activeDeadlineSeconds"] = json!(50);
    assert!(update_errors("", "Pod", old, shorter).is_empty());
}

#[test]
fn tolerations_may_be_added_but_not_changed() {
    let mut old = nginx();
    old["spec"]["tolerations"] = json!([{"key": "a", "operator": "Exists"}]);
    let mut added = old.clone();
    added["spec"]["tolerations"] = json!([{"key": "a", "operator": "Exists"}, {"key": "b", "operator": "Exists"}]);
    assert!(update_errors("", "Pod", old.clone(), added).is_empty());
    let mut changed = old.clone();
    changed["spec"]["tolerations"] = json!([{"key": "c", "operator": "Exists"}]);
    let errs = update_errors("", "Pod", old, changed);
    assert_has(
        &errs,
        "spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds",
    );
}

#[test]
fn a_pod_status_may_not_change_its_qos_class() {
    let mut old = nginx();
    old["status"] = json!({"qosClass": "BestEffort"});
    let mut new = old.clone();
    new["status"]["qosClass"] = json!("Guaranteed");
    assert_eq!(
        status_errors("", "Pod", old, new),
        vec![r#"status.qosClass: Invalid value: "Guaranteed": field is immutable"#]
    );
}

#[test]
fn a_pod_status_ip_must_be_an_ip() {
    let old = nginx();
    let mut new = old.clone();
    new["status"] = json!({"podIPs": [{"ip": "10.233.64.300"}]});
    assert_eq!(
        status_errors("", "Pod", old, new),
        vec![
            r#"status.podIPs[0]: Invalid value: "10.233.64.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"#
        ]
    );
}

#[test]
fn a_pod_template_is_validated_at_template_spec() {
    let pt = json!({"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "t"}, "template": {"spec": {"containers": [{"name": "c"}]}}});
    assert_eq!(create_errors("", "PodTemplate", pt), vec!["template.spec.containers[0].image: Required value"]);
}
