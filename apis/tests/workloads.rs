//! Deployments, ReplicaSets, DaemonSets, StatefulSets and ReplicationControllers.

mod common;

use common::{assert_has, create_errors, defaulted, status_errors, update_errors};
use serde_json::{Value, json};

fn template(labels: Value) -> Value {
    json!({"metadata": {"labels": labels}, "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}]}})
}

fn workload(kind: &str, spec: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": "web", "namespace": "default"}, "spec": spec})
}

fn deployment() -> Value {
    workload(
        "Deployment",
        json!({"selector": {"matchLabels": {"app": "web"}}, "template": template(json!({"app": "web"}))}),
    )
}

fn apps_errors(kind: &str, obj: Value) -> Vec<String> {
    create_errors("apps", kind, obj)
}

#[test]
fn a_deployment_gets_rolling_update_25_percent_by_default() {
    let d = defaulted("apps", "Deployment", deployment());
    let spec = &d["spec"];
    assert_eq!(spec["replicas"], 1);
    assert_eq!(
        spec["strategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
    );
    assert_eq!(spec["revisionHistoryLimit"], 10);
    assert_eq!(spec["progressDeadlineSeconds"], 600);
}

#[test]
fn a_recreate_deployment_gets_no_rolling_update() {
    let mut d = deployment();
    d["spec"]["strategy"] = json!({"type": "Recreate"});
    let d = defaulted("apps", "Deployment", d);
    assert_eq!(d["spec"]["strategy"], json!({"type": "Recreate"}));
}

#[test]
fn a_template_gets_pod_spec_defaults_but_not_pod_only_ones() {
    let mut d = deployment();
    d["spec"]["template"]["spec"]["containers"][0]["resources"] = json!({"limits": {"cpu": "1"}});
    let d = defaulted("apps", "Deployment", d);
    let spec = &d["spec"]["template"]["spec"];
    assert_eq!(spec["restartPolicy"], "Always");
    assert_eq!(spec["containers"][0]["imagePullPolicy"], "IfNotPresent");
    assert!(spec.get("enableServiceLinks").is_none());
    assert!(spec["containers"][0]["resources"].get("requests").is_none());
}

#[test]
fn a_valid_deployment_passes() {
    assert_eq!(apps_errors("Deployment", deployment()), Vec::<String>::new());
}

#[test]
fn a_deployment_needs_a_selector_and_its_absence_matches_no_template() {
    let d = workload("Deployment", json!({"template": template(json!({"app": "web"}))}));
    assert_eq!(
        apps_errors("Deployment", d),
        vec![
            "spec.selector: Required value",
            r#"spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`"#
        ]
    );
}

#[test]
fn an_empty_selector_is_invalid_for_a_deployment() {
    let d = workload("Deployment", json!({"selector": {}, "template": template(json!({"app": "web"}))}));
    assert_eq!(
        apps_errors("Deployment", d),
        vec![
            "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment"
        ]
    );
}

#[test]
fn a_selector_that_misses_the_template_labels_is_rejected() {
    let d = workload(
        "Deployment",
        json!({"selector": {"matchLabels": {"app": "web"}}, "template": template(json!({"app": "api"}))}),
    );
    assert_eq!(
        apps_errors("Deployment", d),
        vec![
            r#"spec.template.metadata.labels: Invalid value: map[string]string{"app":"api"}: `selector` does not match template `labels`"#
        ]
    );
}

#[test]
fn negative_replicas_are_rejected() {
    let mut d = deployment();
    d["spec"]["replicas"] = json!(-1);
    assert_eq!(
        apps_errors("Deployment", d),
        vec!["spec.replicas: Invalid value: -1: must be greater than or equal to 0"]
    );
}

#[test]
fn max_surge_and_max_unavailable_may_not_both_be_zero() {
    let mut d = deployment();
    d["spec"]["strategy"] = json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 0}});
    assert_eq!(
        apps_errors("Deployment", d),
        vec![
            r#"spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:""}: may not be 0 when `maxSurge` is 0"#
        ]
    );
}

#[test]
fn max_unavailable_may_not_exceed_100_percent() {
    let mut d = deployment();
    d["spec"]["strategy"] = json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "150%"}});
    assert_eq!(
        apps_errors("Deployment", d),
        vec![
            r#"spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"150%"}: must not be greater than 100%"#
        ]
    );
}

#[test]
fn an_unknown_deployment_strategy_lists_the_supported_ones() {
    let mut d = deployment();
    d["spec"]["strategy"] = json!({"type": "BlueGreen"});
    assert_eq!(
        apps_errors("Deployment", d),
        vec![
            r#"spec.strategy: Unsupported value: apps.DeploymentStrategy{Type:"BlueGreen", RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}: supported values: "Recreate", "RollingUpdate""#
        ]
    );
}

#[test]
fn a_workload_template_must_restart_always() {
    let mut d = deployment();
    d["spec"]["template"]["spec"]["restartPolicy"] = json!("Never");
    assert_eq!(
        apps_errors("Deployment", d),
        vec![r#"spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always""#]
    );
}

#[test]
fn a_deployment_template_container_is_validated() {
    let mut d = deployment();
    d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("");
    assert_eq!(apps_errors("Deployment", d), vec!["spec.template.spec.containers[0].image: Required value"]);
}

#[test]
fn a_progress_deadline_must_exceed_min_ready_seconds() {
    let mut d = deployment();
    d["spec"]["minReadySeconds"] = json!(700);
    assert_eq!(
        apps_errors("Deployment", d),
        vec!["spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds"]
    );
}

#[test]
fn a_deployment_selector_is_immutable() {
    let mut new = deployment();
    new["spec"]["selector"] = json!({"matchLabels": {"app": "web2"}});
    new["spec"]["template"]["metadata"]["labels"] = json!({"app": "web2"});
    assert_eq!(
        update_errors("apps", "Deployment", deployment(), new),
        vec![
            r#"spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web2"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"#
        ]
    );
}

#[test]
fn a_deployment_may_scale_and_change_its_image() {
    let mut new = deployment();
    new["spec"]["replicas"] = json!(5);
    new["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.26");
    assert!(update_errors("apps", "Deployment", deployment(), new).is_empty());
}

#[test]
fn a_replica_set_gets_one_replica() {
    let rs = workload(
        "ReplicaSet",
        json!({"selector": {"matchLabels": {"app": "web"}}, "template": template(json!({"app": "web"}))}),
    );
    let rs = defaulted("apps", "ReplicaSet", rs);
    assert_eq!(rs["spec"]["replicas"], 1);
    assert!(apps_errors("ReplicaSet", rs).is_empty());
}

#[test]
fn a_replica_set_template_may_not_set_an_active_deadline() {
    let mut t = template(json!({"app": "web"}));
    t["spec"]["activeDeadlineSeconds"] = json!(10);
    let rs = workload("ReplicaSet", json!({"selector": {"matchLabels": {"app": "web"}}, "template": t}));
    assert_eq!(
        apps_errors("ReplicaSet", rs),
        vec![
            "spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported"
        ]
    );
}

fn daemon_set() -> Value {
    workload(
        "DaemonSet",
        json!({"selector": {"matchLabels": {"name": "fluentd-elasticsearch"}}, "template": template(json!({"name": "fluentd-elasticsearch"}))}),
    )
}

#[test]
fn a_daemon_set_rolls_one_pod_at_a_time_by_default() {
    let ds = defaulted("apps", "DaemonSet", daemon_set());
    assert_eq!(
        ds["spec"]["updateStrategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
    );
    assert_eq!(ds["spec"]["revisionHistoryLimit"], 10);
}

#[test]
fn the_seed_daemon_set_is_valid() {
    let mut ds = daemon_set();
    ds["spec"]["template"]["spec"] = json!({
        "tolerations": [{"key": "node-role.kubernetes.io/master", "operator": "Exists", "effect": "NoSchedule"}],
        "containers": [{
            "name": "fluentd-elasticsearch",
            "image": "quay.io/fluentd_elasticsearch/fluentd:v2.5.2",
            "resources": {"limits": {"memory": "200Mi"}, "requests": {"cpu": "100m", "memory": "200Mi"}},
            "volumeMounts": [
                {"name": "varlog", "mountPath": "/var/log"},
                {"name": "varlibdockercontainers", "mountPath": "/var/lib/docker/containers", "readOnly": true}
            ]
        }],
        "terminationGracePeriodSeconds": 30,
        "volumes": [
            {"name": "varlog", "hostPath": {"path": "/var/log"}},
            {"name": "varlibdockercontainers", "hostPath": {"path": "/var/lib/docker/containers"}}
        ]
    });
    assert_eq!(apps_errors("DaemonSet", ds), Vec::<String>::new());
}

#[test]
fn a_daemon_set_may_not_surge_and_be_unavailable_at_once() {
    let mut ds = daemon_set();
    ds["spec"]["updateStrategy"] =
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 1}});
    assert_eq!(
        apps_errors("DaemonSet", ds),
        vec![
            r#"spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{Type:0, IntVal:1, StrVal:""}: may not be set when maxUnavailable is non-zero"#
        ]
    );
}

#[test]
fn a_daemon_set_without_selector_matches_no_template() {
    let mut ds = daemon_set();
    ds["spec"].as_object_mut().map(|s| s.remove("selector"));
    assert_eq!(
        apps_errors("DaemonSet", ds),
        vec![
            r#"spec.template.metadata.labels: Invalid value: map[string]string{"name":"fluentd-elasticsearch"}: `selector` does not match template `labels`"#
        ]
    );
}

#[test]
fn a_daemon_set_selector_is_immutable() {
    let mut new = daemon_set();
    new["spec"]["selector"]["matchLabels"]["tier"] = json!("logs");
    new["spec"]["template"]["metadata"]["labels"]["tier"] = json!("logs");
    let errs = update_errors("apps", "DaemonSet", daemon_set(), new);
    assert_eq!(errs.len(), 1);
    assert!(errs[0].ends_with(": field is immutable"), "{errs:?}");
}

fn stateful_set() -> Value {
    workload(
        "StatefulSet",
        json!({
            "serviceName": "web",
            "selector": {"matchLabels": {"app": "web"}},
            "template": template(json!({"app": "web"})),
            "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]
        }),
    )
}

#[test]
fn a_stateful_set_gets_its_defaults() {
    let s = defaulted("apps", "StatefulSet", stateful_set());
    let spec = &s["spec"];
    assert_eq!(spec["replicas"], 1);
    assert_eq!(spec["podManagementPolicy"], "OrderedReady");
    assert_eq!(spec["updateStrategy"], json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}));
    assert_eq!(spec["revisionHistoryLimit"], 10);
    assert_eq!(spec["persistentVolumeClaimRetentionPolicy"], json!({"whenDeleted": "Retain", "whenScaled": "Retain"}));
    let claim = &spec["volumeClaimTemplates"][0];
    assert_eq!(claim["status"]["phase"], "Pending");
    assert_eq!(claim["spec"]["volumeMode"], "Filesystem");
}

#[test]
fn a_valid_stateful_set_passes() {
    assert_eq!(apps_errors("StatefulSet", stateful_set()), Vec::<String>::new());
}

#[test]
fn an_unknown_pod_management_policy_is_rejected() {
    let mut s = stateful_set();
    s["spec"]["podManagementPolicy"] = json!("Random");
    assert_eq!(
        apps_errors("StatefulSet", s),
        vec![r#"spec.podManagementPolicy: Invalid value: "Random": must be 'OrderedReady' or 'Parallel'"#]
    );
}

#[test]
fn a_stateful_set_may_scale() {
    let mut new = stateful_set();
    new["spec"]["replicas"] = json!(3);
    assert!(update_errors("apps", "StatefulSet", stateful_set(), new).is_empty());
}

#[test]
fn a_stateful_set_may_not_change_its_service_name() {
    let mut new = stateful_set();
    new["spec"]["serviceName"] = json!("other");
    assert_eq!(
        update_errors("apps", "StatefulSet", stateful_set(), new),
        vec![
            "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
        ]
    );
}

#[test]
fn a_stateful_set_partition_is_not_negative() {
    let mut s = stateful_set();
    s["spec"]["updateStrategy"] = json!({"type": "RollingUpdate", "rollingUpdate": {"partition": -1}});
    assert_eq!(
        apps_errors("StatefulSet", s),
        vec!["spec.updateStrategy.rollingUpdate.partition: Invalid value: -1: must be greater than or equal to 0"]
    );
}

#[test]
fn a_deployment_status_may_not_report_more_ready_than_replicas() {
    let old = deployment();
    let mut new = deployment();
    new["status"] = json!({"replicas": 1, "readyReplicas": 2, "availableReplicas": 1});
    assert_has(
        &status_errors("apps", "Deployment", old, new),
        "status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas",
    );
}

#[test]
fn a_collision_count_may_not_decrease() {
    let mut old = deployment();
    old["status"] = json!({"collisionCount": 2});
    let mut new = deployment();
    new["status"] = json!({"collisionCount": 1});
    assert_eq!(
        status_errors("apps", "Deployment", old, new),
        vec!["status.collisionCount: Invalid value: 1: cannot be decremented"]
    );
}

fn rc() -> Value {
    json!({"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "web"}, "spec": {"template": template(json!({"app": "web"}))}})
}

#[test]
fn a_replication_controller_takes_selector_and_labels_from_its_template() {
    let r = defaulted("", "ReplicationController", rc());
    assert_eq!(r["spec"]["selector"], json!({"app": "web"}));
    assert_eq!(r["metadata"]["labels"], json!({"app": "web"}));
    assert_eq!(r["spec"]["replicas"], 1);
    assert!(create_errors("", "ReplicationController", rc()).is_empty());
}

#[test]
fn a_replication_controller_selector_must_match_the_template() {
    let mut r = rc();
    r["spec"]["selector"] = json!({"app": "api"});
    assert_eq!(
        create_errors("", "ReplicationController", r),
        vec![
            r#"spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`"#
        ]
    );
}
