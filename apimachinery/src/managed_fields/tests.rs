//! Tests of server-side apply and field ownership, as Kubernetes 1.33 behaves.

use serde_json::{Value, json};

use super::fieldpath::{FieldSet, Path, PathElement};
use super::*;

const T1: &str = "2025-01-01T00:00:00Z";
const T2: &str = "2025-01-02T00:00:00Z";
const T3: &str = "2025-01-03T00:00:00Z";

fn by(name: &str) -> Manager<'_> {
    Manager { name, subresource: "" }
}

fn deployment(replicas: i64, image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": image, "ports": [{"containerPort": 80}]}]}
            }
        }
    })
}

fn apply_ok(live: Option<&Value>, applied: &Value, manager: &str, now: &str) -> Value {
    apply("Deployment", live, applied, &by(manager), false, now).unwrap()
}

/// The managedFields entries of an object.
fn entries(object: &Value) -> Vec<Value> {
    object["metadata"]["managedFields"].as_array().cloned().unwrap_or_default()
}

/// The fieldsV1 of `manager`'s entry with this operation, or null.
fn fields_of(object: &Value, manager: &str, operation: &str) -> Value {
    entries(object)
        .into_iter()
        .find(|e| e["manager"] == manager && e["operation"] == operation)
        .map(|e| e["fieldsV1"].clone())
        .unwrap_or(Value::Null)
}

fn owns(object: &Value, manager: &str, operation: &str, dotted: &str) -> bool {
    let set = FieldSet::from_fields_v1(&fields_of(object, manager, operation)).unwrap_or_default();
    set.contains(&Path::fields(dotted))
}

fn image(object: &Value) -> &Value {
    &object["spec"]["template"]["spec"]["containers"][0]["image"]
}

fn conflicts(result: Result<Value, ApplyError>) -> Vec<Conflict> {
    match result {
        Err(ApplyError::Conflicts(conflicts)) => conflicts,
        other => panic!("expected conflicts, got {other:?}"),
    }
}

#[test]
fn applying_twice_is_a_no_op() {
    let config = deployment(2, "nginx:1.27");
    let first = apply_ok(None, &config, "kubectl", T1);
    let second = apply_ok(Some(&first), &config, "kubectl", T2);
    assert_eq!(second, first);
    assert_eq!(entries(&second)[0]["time"], T1);
}

#[test]
fn applying_creates_the_object_with_one_apply_entry() {
    let created = apply_ok(None, &deployment(2, "nginx:1.27"), "kubectl", T1);
    assert_eq!(created["spec"]["replicas"], 2);
    let entries = entries(&created);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["manager"], "kubectl");
    assert_eq!(entries[0]["operation"], "Apply");
    assert_eq!(entries[0]["apiVersion"], "apps/v1");
    assert_eq!(entries[0]["time"], T1);
    assert_eq!(entries[0]["fieldsType"], "FieldsV1");
    assert!(entries[0].get("subresource").is_none());
}

#[test]
fn fields_v1_of_an_applied_deployment_matches_kubernetes() {
    let created = apply_ok(None, &deployment(2, "nginx:1.27"), "kubectl", T1);
    let expected = concat!(
        r#"{"f:metadata":{"f:labels":{"f:app":{}}},"#,
        r#""f:spec":{"f:replicas":{},"f:selector":{},"#,
        r#""f:template":{"f:metadata":{"f:labels":{"f:app":{}}},"#,
        r#""f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{},"#,
        r#""f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}}}"#
    );
    assert_eq!(fields_of(&created, "kubectl", "Apply").to_string(), expected);
}

#[test]
fn fields_v1_of_a_created_deployment_marks_new_maps_and_items_like_kubernetes() {
    let mut created = deployment(2, "nginx:1.27");
    record_update("Deployment", None, &mut created, &by("kubectl-create"), T1);
    let expected = concat!(
        r#"{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"#,
        r#""f:spec":{"f:replicas":{},"f:selector":{},"#,
        r#""f:template":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"#,
        r#""f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{},"#,
        r#""f:ports":{".":{},"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}}}"#
    );
    assert_eq!(fields_of(&created, "kubectl-create", "Update").to_string(), expected);
}

#[test]
fn fields_v1_decodes_back_to_the_same_set() {
    let created = apply_ok(None, &deployment(2, "nginx:1.27"), "kubectl", T1);
    let encoded = fields_of(&created, "kubectl", "Apply");
    let set = FieldSet::from_fields_v1(&encoded).unwrap();
    assert_eq!(set.to_fields_v1(), encoded);
    assert!(set.contains(&Path::fields("spec.replicas")));
}

#[test]
fn fields_v1_with_an_unknown_prefix_is_rejected() {
    assert!(FieldSet::from_fields_v1(&json!({"x:spec": {}})).is_err());
    assert!(FieldSet::from_fields_v1(&json!({"f:spec": 1})).is_err());
}

#[test]
fn name_namespace_and_other_server_fields_are_not_owned() {
    let mut config = deployment(2, "nginx:1.27");
    config["metadata"]["uid"] = json!("1234");
    let created = apply_ok(None, &config, "kubectl", T1);
    let metadata = &fields_of(&created, "kubectl", "Apply")["f:metadata"];
    assert_eq!(metadata, &json!({"f:labels": {"f:app": {}}}));
}

#[test]
fn a_field_dropped_from_the_applied_config_is_removed() {
    let mut config = deployment(2, "nginx:1.27");
    config["metadata"]["labels"]["tier"] = json!("frontend");
    let first = apply_ok(None, &config, "kubectl", T1);
    let second = apply_ok(Some(&first), &deployment(2, "nginx:1.27"), "kubectl", T2);
    assert_eq!(second["metadata"]["labels"], json!({"app": "web"}));
    assert!(!owns(&second, "kubectl", "Apply", "metadata.labels.tier"));
    assert_eq!(entries(&second)[0]["time"], T2);
}

#[test]
fn a_dropped_field_another_manager_also_owns_only_loses_this_owner() {
    let mut config = deployment(2, "nginx:1.27");
    config["metadata"]["labels"]["tier"] = json!("frontend");
    let first = apply_ok(None, &config, "alice", T1);
    let shared = apply_ok(Some(&first), &config, "bob", T2);
    let dropped = apply_ok(Some(&shared), &deployment(2, "nginx:1.27"), "alice", T3);
    assert_eq!(dropped["metadata"]["labels"]["tier"], "frontend");
    assert!(!owns(&dropped, "alice", "Apply", "metadata.labels.tier"));
    assert!(owns(&dropped, "bob", "Apply", "metadata.labels.tier"));
}

#[test]
fn a_dropped_field_an_updater_changed_stays() {
    let first = apply_ok(None, &deployment(2, "nginx:1.27"), "kubectl", T1);
    let mut edited = first.clone();
    edited["metadata"]["labels"]["app"] = json!("api");
    record_update("Deployment", Some(&first), &mut edited, &by("kubectl-edit"), T2);
    let mut config = deployment(2, "nginx:1.27");
    config["metadata"].as_object_mut().unwrap().remove("labels");
    let applied = apply_ok(Some(&edited), &config, "kubectl", T3);
    assert_eq!(applied["metadata"]["labels"], json!({"app": "api"}));
}

#[test]
fn a_map_emptied_by_pruning_is_removed_too() {
    let first = apply_ok(None, &deployment(2, "nginx:1.27"), "kubectl", T1);
    let mut config = deployment(2, "nginx:1.27");
    config["metadata"].as_object_mut().unwrap().remove("labels");
    let second = apply_ok(Some(&first), &config, "kubectl", T2);
    assert!(second["metadata"].get("labels").is_none());
}

#[test]
fn a_field_owned_by_another_manager_conflicts_unless_forced() {
    let first = apply_ok(None, &deployment(2, "nginx:1.27"), "alice", T1);
    let config = deployment(3, "nginx:1.27");
    let found = conflicts(apply("Deployment", Some(&first), &config, &by("bob"), false, T2));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].manager, "alice");
    assert_eq!(found[0].operation, Operation::Apply);
    assert_eq!(found[0].field, ".spec.replicas");

    let forced = apply("Deployment", Some(&first), &config, &by("bob"), true, T2).unwrap();
    assert_eq!(forced["spec"]["replicas"], 3);
    assert!(owns(&forced, "bob", "Apply", "spec.replicas"));
    assert!(!owns(&forced, "alice", "Apply", "spec.replicas"));
    assert!(owns(&forced, "alice", "Apply", "metadata.labels.app"));
}

#[test]
fn applying_the_value_another_manager_owns_is_shared_ownership() {
    let first = apply_ok(None, &deployment(2, "nginx:1.27"), "alice", T1);
    let second = apply_ok(Some(&first), &deployment(2, "nginx:1.27"), "bob", T2);
    assert!(owns(&second, "alice", "Apply", "spec.replicas"));
    assert!(owns(&second, "bob", "Apply", "spec.replicas"));
    assert_eq!(entries(&second).len(), 2);
}

#[test]
fn scaling_with_kubectl_scale_then_applying_replicas_conflicts() {
    let applied = apply_ok(None, &deployment(2, "nginx:1.27"), "kubectl", T1);
    let mut scaled = applied.clone();
    scaled["spec"]["replicas"] = json!(5);
    let scale = Manager { name: "kubectl", subresource: "scale" };
    record_update("Deployment", Some(&applied), &mut scaled, &scale, T2);
    assert!(!owns(&scaled, "kubectl", "Apply", "spec.replicas"));

    let result = apply("Deployment", Some(&scaled), &deployment(2, "nginx:1.27"), &by("kubectl"), false, T3);
    let found = conflicts(result);
    assert_eq!(
        conflict_message(&found),
        r#"Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps/v1: .spec.replicas"#
    );
}

#[test]
fn client_side_apply_then_server_side_apply_of_the_same_manifest_does_not_conflict() {
    let mut created = deployment(2, "nginx:1.27");
    record_update("Deployment", None, &mut created, &by("kubectl-client-side-apply"), T1);
    let applied = apply_ok(Some(&created), &deployment(2, "nginx:1.27"), "kubectl", T2);
    assert!(owns(&applied, "kubectl", "Apply", "spec.replicas"));
    assert!(owns(&applied, "kubectl-client-side-apply", "Update", "spec.replicas"));
}

#[test]
fn client_side_apply_then_changing_replicas_server_side_conflicts() {
    let mut created = deployment(2, "nginx:1.27");
    record_update("Deployment", None, &mut created, &by("kubectl-client-side-apply"), T1);
    let result = apply("Deployment", Some(&created), &deployment(3, "nginx:1.27"), &by("kubectl"), false, T2);
    assert_eq!(
        result.unwrap_err().to_string(),
        r#"Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas"#
    );
}

#[test]
fn containers_are_merged_by_name() {
    let mut live = deployment(2, "nginx:1.27");
    live["spec"]["template"]["spec"]["containers"] = json!([
        {"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}]},
        {"name": "sidecar", "image": "envoy:1"}
    ]);
    record_update("Deployment", None, &mut live, &by("kubectl-create"), T1);
    let mut config = deployment(2, "nginx:1.28");
    config["spec"]["template"]["spec"]["containers"][0].as_object_mut().unwrap().remove("ports");
    let applied = apply("Deployment", Some(&live), &config, &by("kubectl"), true, T2).unwrap();
    let containers = &applied["spec"]["template"]["spec"]["containers"];
    assert_eq!(
        containers,
        &json!([
            {"name": "web", "image": "nginx:1.28", "ports": [{"containerPort": 80}]},
            {"name": "sidecar", "image": "envoy:1"}
        ])
    );
}

#[test]
fn a_container_dropped_from_the_applied_config_is_removed() {
    let mut config = deployment(2, "nginx:1.27");
    config["spec"]["template"]["spec"]["containers"] =
        json!([{"name": "web", "image": "nginx:1.27"}, {"name": "sidecar", "image": "envoy:1"}]);
    let first = apply_ok(None, &config, "kubectl", T1);
    config["spec"]["template"]["spec"]["containers"] = json!([{"name": "web", "image": "nginx:1.27"}]);
    let second = apply_ok(Some(&first), &config, "kubectl", T2);
    assert_eq!(second["spec"]["template"]["spec"]["containers"], json!([{"name": "web", "image": "nginx:1.27"}]));
    let containers = &fields_of(&second, "kubectl", "Apply")["f:spec"]["f:template"]["f:spec"]["f:containers"];
    assert!(containers.get(r#"k:{"name":"sidecar"}"#).is_none());
}

#[test]
fn conflicting_container_images_are_named_by_their_key() {
    let first = apply_ok(None, &deployment(2, "nginx:1.27"), "alice", T1);
    let found = conflicts(apply("Deployment", Some(&first), &deployment(3, "nginx:1.28"), &by("bob"), false, T2));
    let fields: Vec<&str> = found.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(fields, [".spec.replicas", r#".spec.template.spec.containers[name="web"].image"#]);
}

#[test]
fn new_list_items_go_where_the_config_puts_them() {
    let mut config = deployment(2, "nginx:1.27");
    config["spec"]["template"]["spec"]["containers"] = json!([{"name": "a"}, {"name": "b"}]);
    let mut live = config.clone();
    record_update("Deployment", None, &mut live, &by("kubectl-create"), T1);
    config["spec"]["template"]["spec"]["containers"] = json!([{"name": "c"}, {"name": "a"}]);
    let applied = apply_ok(Some(&live), &config, "kubectl", T2);
    let names: Vec<&str> = applied["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["c", "a", "b"]);
}

#[test]
fn atomic_lists_are_replaced_and_owned_whole() {
    let mut config = deployment(2, "nginx:1.27");
    config["spec"]["template"]["spec"]["containers"][0]["args"] = json!(["a", "b"]);
    let first = apply_ok(None, &config, "kubectl", T1);
    config["spec"]["template"]["spec"]["containers"][0]["args"] = json!(["c"]);
    let second = apply_ok(Some(&first), &config, "kubectl", T2);
    assert_eq!(second["spec"]["template"]["spec"]["containers"][0]["args"], json!(["c"]));
    let web = &fields_of(&second, "kubectl", "Apply")["f:spec"]["f:template"]["f:spec"]["f:containers"][r#"k:{"name":"web"}"#];
    assert_eq!(web["f:args"], json!({}));
}

#[test]
fn set_lists_merge_by_value() {
    let mut first_config = deployment(2, "nginx:1.27");
    first_config["metadata"]["finalizers"] = json!(["a"]);
    let first = apply_ok(None, &first_config, "alice", T1);
    let mut second_config = deployment(2, "nginx:1.27");
    second_config["metadata"]["finalizers"] = json!(["b"]);
    let second = apply_ok(Some(&first), &second_config, "bob", T2);
    assert_eq!(second["metadata"]["finalizers"], json!(["a", "b"]));
    assert_eq!(fields_of(&second, "bob", "Apply")["f:metadata"]["f:finalizers"], json!({"v:\"b\"": {}}));
}

#[test]
fn services_ports_are_keyed_by_port_and_protocol() {
    let config = json!({
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 53, "protocol": "UDP"}]}
    });
    let created = apply("Service", None, &config, &by("kubectl"), false, T1).unwrap();
    let ports = &fields_of(&created, "kubectl", "Apply")["f:spec"]["f:ports"];
    let keys: Vec<&String> = ports.as_object().unwrap().keys().collect();
    assert_eq!(keys, [r#"k:{"port":53,"protocol":"UDP"}"#, r#"k:{"port":80,"protocol":"TCP"}"#]);
}

#[test]
fn an_owner_reference_is_owned_as_a_whole() {
    let mut config = deployment(2, "nginx:1.27");
    config["metadata"]["ownerReferences"] = json!([{"apiVersion": "v1", "kind": "X", "name": "x", "uid": "u1"}]);
    let created = apply_ok(None, &config, "kubectl", T1);
    let refs = &fields_of(&created, "kubectl", "Apply")["f:metadata"]["f:ownerReferences"];
    assert_eq!(refs, &json!({r#"k:{"uid":"u1"}"#: {}}));
}

#[test]
fn a_list_item_without_its_key_is_invalid() {
    let mut config = deployment(2, "nginx:1.27");
    config["spec"]["template"]["spec"]["containers"] = json!([{"image": "nginx"}]);
    let err = apply("Deployment", None, &config, &by("kubectl"), false, T1).unwrap_err();
    assert_eq!(
        err,
        ApplyError::Invalid(
            r#"failed to create typed patch object (apps/v1, Kind=Deployment): .spec.template.spec.containers: element 0: associative list with keys has an element that omits key field "name" (and doesn't have default value)"#.into()
        )
    );
}

#[test]
fn duplicate_list_items_are_invalid() {
    let mut config = deployment(2, "nginx:1.27");
    config["spec"]["template"]["spec"]["containers"] = json!([{"name": "a"}, {"name": "a"}]);
    let err = apply("Deployment", None, &config, &by("kubectl"), false, T1).unwrap_err();
    assert!(
        err.to_string().ends_with(r#".spec.template.spec.containers: duplicate entries for key [name="a"]"#),
        "{err}"
    );
}

#[test]
fn managed_fields_in_the_applied_config_are_rejected() {
    let mut config = deployment(2, "nginx:1.27");
    config["metadata"]["managedFields"] = json!([]);
    let err = apply("Deployment", None, &config, &by("kubectl"), false, T1).unwrap_err();
    assert_eq!(err, ApplyError::Invalid("metadata.managedFields must be nil".into()));
}

#[test]
fn an_apply_needs_a_field_manager() {
    let err = apply("Deployment", None, &deployment(1, "x"), &by(""), false, T1).unwrap_err();
    assert!(matches!(err, ApplyError::Invalid(m) if m.contains("fieldManager")));
}

#[test]
fn a_null_in_the_applied_config_removes_the_field() {
    let first = apply_ok(None, &deployment(2, "nginx:1.27"), "kubectl", T1);
    let mut config = deployment(2, "nginx:1.27");
    config["spec"]["replicas"] = Value::Null;
    let second = apply_ok(Some(&first), &config, "kubectl", T2);
    assert!(second["spec"].get("replicas").is_none());
    assert!(owns(&second, "kubectl", "Apply", "spec.replicas"));
}

#[test]
fn fields_the_config_does_not_mention_are_left_alone() {
    let mut live = deployment(2, "nginx:1.27");
    live["spec"]["paused"] = json!(true);
    let mut config = deployment(2, "nginx:1.27");
    config["spec"].as_object_mut().unwrap().remove("replicas");
    let applied = apply_ok(Some(&live), &config, "kubectl", T1);
    assert_eq!(applied["spec"]["paused"], true);
    assert_eq!(applied["spec"]["replicas"], 2);
}

#[test]
fn the_status_subresource_applies_only_status() {
    let live = apply_ok(None, &deployment(2, "nginx:1.27"), "kubectl", T1);
    let mut config = deployment(9, "other");
    config["status"] = json!({"replicas": 2});
    let status = Manager { name: "kube-controller-manager", subresource: "status" };
    let applied = apply("Deployment", Some(&live), &config, &status, false, T2).unwrap();
    assert_eq!(applied["spec"]["replicas"], 2);
    assert_eq!(applied["status"]["replicas"], 2);
    let entry = entries(&applied).into_iter().find(|e| e["manager"] == "kube-controller-manager").unwrap();
    assert_eq!(entry["subresource"], "status");
    assert_eq!(entry["fieldsV1"], json!({"f:status": {"f:replicas": {}}}));
}

#[test]
fn record_update_takes_ownership_of_changed_fields() {
    let applied = apply_ok(None, &deployment(2, "nginx:1.27"), "kubectl", T1);
    let mut updated = applied.clone();
    updated["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.28");
    record_update("Deployment", Some(&applied), &mut updated, &by("kube-controller-manager"), T2);
    assert_eq!(image(&updated), "nginx:1.28");
    let kcm = &fields_of(&updated, "kube-controller-manager", "Update");
    assert_eq!(
        kcm,
        &json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {r#"k:{"name":"web"}"#: {"f:image": {}}}}}}})
    );
    let kubectl = &fields_of(&updated, "kubectl", "Apply")["f:spec"]["f:template"]["f:spec"]["f:containers"];
    assert_eq!(kubectl[r#"k:{"name":"web"}"#].get("f:image"), None);
    assert!(kubectl[r#"k:{"name":"web"}"#].get("f:name").is_some());
    let entry = entries(&updated).into_iter().find(|e| e["manager"] == "kube-controller-manager").unwrap();
    assert_eq!(entry["time"], T2);
    assert_eq!(entry["apiVersion"], "apps/v1");
}

#[test]
fn record_update_of_removed_fields_drops_their_owners() {
    let applied = apply_ok(None, &deployment(2, "nginx:1.27"), "kubectl", T1);
    let mut updated = applied.clone();
    updated["metadata"].as_object_mut().unwrap().remove("labels");
    record_update("Deployment", Some(&applied), &mut updated, &by("kubectl-edit"), T2);
    assert!(!owns(&updated, "kubectl", "Apply", "metadata.labels.app"));
    assert!(entries(&updated).iter().all(|e| e["manager"] != "kubectl-edit"));
}

#[test]
fn record_update_without_changes_keeps_entries_and_times() {
    let applied = apply_ok(None, &deployment(2, "nginx:1.27"), "kubectl", T1);
    let mut same = applied.clone();
    same["metadata"]["resourceVersion"] = json!("42");
    record_update("Deployment", Some(&applied), &mut same, &by("kubectl-edit"), T2);
    assert_eq!(entries(&same), entries(&applied));
}

#[test]
fn record_update_merges_into_the_managers_earlier_entry() {
    let mut v1 = deployment(2, "nginx:1.27");
    record_update("Deployment", None, &mut v1, &by("kubectl-edit"), T1);
    let mut v2 = v1.clone();
    v2["spec"]["paused"] = json!(true);
    record_update("Deployment", Some(&v1), &mut v2, &by("kubectl-edit"), T2);
    let all = entries(&v2);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["time"], T2);
    assert!(owns(&v2, "kubectl-edit", "Update", "spec.paused"));
    assert!(owns(&v2, "kubectl-edit", "Update", "spec.replicas"));
}

#[test]
fn an_update_entry_is_kept_per_subresource() {
    let mut created = deployment(2, "nginx:1.27");
    record_update("Deployment", None, &mut created, &by("kube-controller-manager"), T1);
    let mut with_status = created.clone();
    with_status["status"] = json!({"replicas": 2});
    let status = Manager { name: "kube-controller-manager", subresource: "status" };
    record_update("Deployment", Some(&created), &mut with_status, &status, T2);
    let all = entries(&with_status);
    assert_eq!(all.len(), 2);
    assert_eq!(all[1]["subresource"], "status");
    assert_eq!(all[1]["fieldsV1"], json!({"f:status": {"f:replicas": {}}}));
}

#[test]
fn a_client_can_replace_or_clear_managed_fields_on_the_main_resource() {
    let applied = apply_ok(None, &deployment(2, "nginx:1.27"), "kubectl", T1);
    let mut cleared = applied.clone();
    cleared["metadata"]["managedFields"] = json!([{}]);
    record_update("Deployment", Some(&applied), &mut cleared, &by("kubectl-edit"), T2);
    assert!(cleared["metadata"].get("managedFields").is_none());

    let mut renamed = applied.clone();
    renamed["metadata"]["managedFields"][0]["manager"] = json!("someone");
    record_update("Deployment", Some(&applied), &mut renamed, &by("kubectl-edit"), T2);
    assert_eq!(entries(&renamed)[0]["manager"], "someone");
}

#[test]
fn managed_fields_a_client_sends_to_a_subresource_are_ignored() {
    let applied = apply_ok(None, &deployment(2, "nginx:1.27"), "kubectl", T1);
    let mut written = applied.clone();
    written["metadata"]["managedFields"] = json!([]);
    let status = Manager { name: "x", subresource: "status" };
    record_update("Deployment", Some(&applied), &mut written, &status, T2);
    assert_eq!(entries(&written), entries(&applied));
}

#[test]
fn managed_fields_are_sorted_apply_first_then_by_time() {
    let mut created = deployment(2, "nginx:1.27");
    record_update("Deployment", None, &mut created, &by("kubectl-create"), T1);
    let mut edited = created.clone();
    edited["spec"]["paused"] = json!(true);
    record_update("Deployment", Some(&created), &mut edited, &by("a-editor"), T2);
    let mut config = deployment(2, "nginx:1.27");
    config["metadata"]["labels"]["tier"] = json!("x");
    let applied = apply_ok(Some(&edited), &config, "kubectl", T3);
    let order: Vec<(String, String)> = entries(&applied)
        .iter()
        .map(|e| (e["manager"].as_str().unwrap().into(), e["operation"].as_str().unwrap().into()))
        .collect();
    let expected = [("kubectl", "Apply"), ("kubectl-create", "Update"), ("a-editor", "Update")];
    assert_eq!(order, expected.map(|(m, o)| (m.to_string(), o.to_string())));
}

#[test]
fn the_conflict_message_reads_like_kubernetes() {
    let conflict = |field: &str| Conflict {
        manager: "m".into(),
        operation: Operation::Update,
        api_version: "apps/v1".into(),
        subresource: String::new(),
        field: field.into(),
    };
    let one = [conflict(".spec.replicas")];
    assert_eq!(
        conflict_message(&one),
        r#"Apply failed with 1 conflict: conflict with "m" using apps/v1: .spec.replicas"#
    );
    let two = [conflict(".spec.replicas"), conflict(r#".spec.template.spec.containers[name="web"].image"#)];
    assert_eq!(
        conflict_message(&two),
        "Apply failed with 2 conflicts: conflicts with \"m\" using apps/v1:\n- .spec.replicas\n- .spec.template.spec.containers[name=\"web\"].image"
    );
    assert_eq!(one[0].cause_message(), r#"conflict with "m" using apps/v1"#);
}

#[test]
fn conflicts_with_several_managers_are_grouped_by_manager() {
    let base = apply_ok(None, &deployment(2, "nginx:1.27"), "alice", T1);
    let mut edited = base.clone();
    edited["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.28");
    record_update("Deployment", Some(&base), &mut edited, &by("bob"), T2);
    let found = conflicts(apply("Deployment", Some(&edited), &deployment(3, "nginx:1.29"), &by("carol"), false, T3));
    assert_eq!(
        conflict_message(&found),
        "Apply failed with 2 conflicts: conflicts with \"alice\":\n- .spec.replicas\nconflicts with \"bob\" using apps/v1:\n- .spec.template.spec.containers[name=\"web\"].image"
    );
}

#[test]
fn kubectl_server_side_apply_keeps_the_last_applied_annotation_in_step() {
    let mut live = deployment(2, "nginx:1.27");
    live["metadata"]["annotations"] = json!({"kubectl.kubernetes.io/last-applied-configuration": "{\"old\":true}\n"});
    record_update("Deployment", None, &mut live, &by("kubectl-client-side-apply"), T1);
    let config =
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 2}});
    let applied = apply_ok(Some(&live), &config, "kubectl", T2);
    assert_eq!(
        applied["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"],
        "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\"},\"spec\":{\"replicas\":2}}\n"
    );
}

#[test]
fn an_undecodable_live_managed_fields_is_started_afresh() {
    let mut live = deployment(2, "nginx:1.27");
    live["metadata"]["managedFields"] = json!([{"manager": "x", "operation": "Bogus"}]);
    let applied = apply_ok(Some(&live), &deployment(2, "nginx:1.27"), "kubectl", T1);
    assert_eq!(entries(&applied).len(), 1);
}

#[test]
fn manager_name_is_the_field_manager_or_the_user_agent_prefix() {
    assert_eq!(manager_name(Some("helm"), "kubectl/v1.33.0"), "helm");
    assert_eq!(manager_name(None, "kubectl/v1.33.0 (linux/amd64) kubernetes/abc"), "kubectl");
    assert_eq!(manager_name(Some(""), "kube-controller-manager/v1.33.0"), "kube-controller-manager");
    assert_eq!(manager_name(None, &"x".repeat(300)).len(), 128);
}

#[test]
fn path_elements_print_and_encode_like_kubernetes() {
    let key = PathElement::Key(vec![("containerPort".into(), json!(80)), ("protocol".into(), json!("TCP"))]);
    assert_eq!(key.to_string(), r#"[containerPort=80,protocol="TCP"]"#);
    assert_eq!(key.encode(), r#"k:{"containerPort":80,"protocol":"TCP"}"#);
    assert_eq!(PathElement::Value(json!("x")).to_string(), r#"[="x"]"#);
    assert_eq!(PathElement::Index(3).encode(), "i:3");
    assert_eq!(PathElement::decode(r#"v:"x""#).unwrap(), PathElement::Value(json!("x")));
}

#[test]
fn field_names_sort_before_keys_and_values() {
    let mut set = FieldSet::new();
    let list = Path::fields("metadata.finalizers");
    set.insert(list.child(PathElement::Value(json!("b"))));
    set.insert(list.child(PathElement::Value(json!(1))));
    set.insert(Path::fields("metadata.finalizers.f"));
    let encoded = set.to_fields_v1().to_string();
    assert_eq!(encoded, r#"{"f:metadata":{"f:finalizers":{"f:f":{},"v:1":{},"v:\"b\"":{}}}}"#);
}

#[test]
fn forcing_takes_a_field_from_the_scaler_and_the_next_apply_is_quiet() {
    let applied = apply_ok(None, &deployment(2, "nginx:1.27"), "kubectl", T1);
    let mut scaled = applied.clone();
    scaled["spec"]["replicas"] = json!(5);
    record_update("Deployment", Some(&applied), &mut scaled, &Manager { name: "kubectl", subresource: "scale" }, T2);
    let forced = apply("Deployment", Some(&scaled), &deployment(2, "nginx:1.27"), &by("kubectl"), true, T3).unwrap();
    assert_eq!(forced["spec"]["replicas"], 2);
    assert!(entries(&forced).iter().all(|e| e["subresource"] != "scale"));
    let again = apply_ok(Some(&forced), &deployment(2, "nginx:1.27"), "kubectl", T3);
    assert_eq!(again, forced);
}

#[test]
fn a_list_item_another_applier_owns_stays_whole() {
    let mut both = deployment(2, "nginx:1.27");
    both["spec"]["template"]["spec"]["containers"] =
        json!([{"name": "web", "image": "nginx:1.27"}, {"name": "sidecar", "image": "envoy:1"}]);
    let first = apply_ok(None, &both, "alice", T1);
    let mut sidecar_only = deployment(2, "nginx:1.27");
    sidecar_only["spec"]["template"]["spec"]["containers"] = json!([{"name": "sidecar", "image": "envoy:1"}]);
    let shared = apply_ok(Some(&first), &sidecar_only, "bob", T2);
    let mut web_only = deployment(2, "nginx:1.27");
    web_only["spec"]["template"]["spec"]["containers"] = json!([{"name": "web", "image": "nginx:1.27"}]);
    let dropped = apply_ok(Some(&shared), &web_only, "alice", T3);
    assert_eq!(
        dropped["spec"]["template"]["spec"]["containers"],
        json!([{"name": "web", "image": "nginx:1.27"}, {"name": "sidecar", "image": "envoy:1"}])
    );
}

#[test]
fn objects_emptied_by_pruning_go_up_to_the_first_one_still_in_use() {
    let mut config = deployment(2, "nginx:1.27");
    config["spec"]["strategy"] = json!({"rollingUpdate": {"maxSurge": 1}});
    let first = apply_ok(None, &config, "kubectl", T1);
    let second = apply_ok(Some(&first), &deployment(2, "nginx:1.27"), "kubectl", T2);
    assert!(second["spec"].get("strategy").is_none());
    assert_eq!(second["spec"]["replicas"], 2);
}

#[test]
fn a_list_emptied_by_pruning_is_removed() {
    let mut config = deployment(2, "nginx:1.27");
    config["metadata"]["finalizers"] = json!(["example.com/a"]);
    let first = apply_ok(None, &config, "kubectl", T1);
    let second = apply_ok(Some(&first), &deployment(2, "nginx:1.27"), "kubectl", T2);
    assert!(second["metadata"].get("finalizers").is_none());
}

#[test]
fn env_vars_merge_by_name() {
    let mut config = deployment(2, "nginx:1.27");
    config["spec"]["template"]["spec"]["containers"][0]["env"] = json!([{"name": "A", "value": "1"}]);
    let first = apply_ok(None, &config, "alice", T1);
    let mut other = deployment(2, "nginx:1.27");
    other["spec"]["template"]["spec"]["containers"][0]["env"] = json!([{"name": "B", "value": "2"}]);
    let second = apply_ok(Some(&first), &other, "bob", T2);
    assert_eq!(
        second["spec"]["template"]["spec"]["containers"][0]["env"],
        json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}])
    );
}

#[test]
fn the_selector_is_atomic() {
    let first = apply_ok(None, &deployment(2, "nginx:1.27"), "alice", T1);
    let mut config = deployment(2, "nginx:1.27");
    config["spec"]["selector"] = json!({"matchLabels": {"app": "web", "tier": "x"}});
    let found = conflicts(apply("Deployment", Some(&first), &config, &by("bob"), false, T2));
    assert_eq!(found.iter().map(|c| c.field.as_str()).collect::<Vec<_>>(), [".spec.selector"]);
}

#[test]
fn status_writes_do_not_conflict_with_applying_the_spec() {
    let applied = apply_ok(None, &deployment(2, "nginx:1.27"), "kubectl", T1);
    let mut with_status = applied.clone();
    with_status["status"] = json!({"replicas": 2, "readyReplicas": 1});
    let kcm = Manager { name: "kube-controller-manager", subresource: "status" };
    record_update("Deployment", Some(&applied), &mut with_status, &kcm, T2);
    let again = apply_ok(Some(&with_status), &deployment(3, "nginx:1.27"), "kubectl", T3);
    assert_eq!(again["spec"]["replicas"], 3);
    assert_eq!(again["status"]["readyReplicas"], 1);
}

#[test]
fn managed_fields_sent_on_create_are_kept() {
    let mut created = deployment(2, "nginx:1.27");
    created["metadata"]["managedFields"] = json!([{
        "manager": "importer", "operation": "Update", "apiVersion": "apps/v1",
        "time": T1, "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:paused": {}}}
    }]);
    record_update("Deployment", None, &mut created, &by("kubectl-create"), T2);
    let managers: Vec<&str> = created["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["manager"].as_str().unwrap())
        .collect();
    assert_eq!(managers, ["importer", "kubectl-create"]);
}
