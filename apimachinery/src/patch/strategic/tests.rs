//! Tests for strategic merge patch, mostly with the bodies kubectl sends.

use serde_json::{Value, json};

use super::*;

fn smp(kind: &str, doc: Value, patch: Value) -> Value {
    let result = strategic_merge_patch(kind, &doc, &patch).expect("patch applies");
    assert_no_directives(&result);
    result
}

fn smp_error(kind: &str, doc: Value, patch: Value) -> String {
    strategic_merge_patch(kind, &doc, &patch).expect_err("patch should fail").to_string()
}

fn assert_no_directives(value: &Value) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                assert!(!key.starts_with('$'), "directive {key} left in result");
                assert_no_directives(inner);
            }
        }
        Value::Array(items) => items.iter().for_each(assert_no_directives),
        _ => {}
    }
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array().expect("a list").iter().map(|item| item["name"].as_str().expect("a name")).collect()
}

fn deployment(containers: Value) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "annotations": {"a": "1"}},
        "spec": {
            "replicas": 2,
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": containers, "restartPolicy": "Always"}
            }
        }
    })
}

fn web_container() -> Value {
    json!({
        "name": "web",
        "image": "nginx:1.24",
        "ports": [{"containerPort": 80, "protocol": "TCP"}],
        "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
        "resources": {"limits": {"cpu": "1"}},
        "volumeMounts": [{"name": "data", "mountPath": "/data"}]
    })
}

#[test]
fn kubectl_apply_of_a_changed_image_keeps_the_other_container_fields() {
    let doc = deployment(json!([web_container()]));
    let patch = json!({
        "metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}},
        "spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "web"}],
            "containers": [{"image": "nginx:1.25", "name": "web"}]
        }}}
    });
    let result = smp("Deployment", doc, patch);
    let mut expected_container = web_container();
    expected_container["image"] = json!("nginx:1.25");
    assert_eq!(result["spec"]["template"]["spec"]["containers"], json!([expected_container]));
    assert_eq!(result["spec"]["template"]["spec"]["restartPolicy"], "Always");
    assert_eq!(result["spec"]["replicas"], 2);
    assert_eq!(
        result["metadata"]["annotations"],
        json!({"a": "1", "kubectl.kubernetes.io/last-applied-configuration": "{}"})
    );
}

#[test]
fn kubectl_set_image_merges_into_the_named_container() {
    let doc = deployment(json!([web_container(), {"name": "sidecar", "image": "busybox"}]));
    let patch = json!({"spec": {"template": {"spec": {"containers": [
        {"name": "sidecar", "image": "busybox:1.36"}
    ]}}}});
    let result = smp("Deployment", doc, patch);
    let containers = &result["spec"]["template"]["spec"]["containers"];
    assert_eq!(names(containers), vec!["web", "sidecar"]);
    assert_eq!(containers[0], web_container());
    assert_eq!(containers[1]["image"], "busybox:1.36");
}

#[test]
fn a_new_container_without_an_order_goes_first_as_in_kubernetes() {
    let doc = json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}]}});
    let patch = json!({"spec": {"containers": [{"name": "new", "image": "x"}]}});
    let result = smp("Pod", doc, patch);
    assert_eq!(names(&result["spec"]["containers"]), vec!["new", "a", "b"]);
}

#[test]
fn a_new_item_after_a_patched_live_item_follows_it() {
    let doc = json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}});
    let patch = json!({"spec": {"containers": [{"name": "b", "image": "y"}, {"name": "d"}]}});
    let result = smp("Pod", doc, patch);
    assert_eq!(names(&result["spec"]["containers"]), vec!["a", "b", "d", "c"]);
}

#[test]
fn set_element_order_puts_a_new_container_where_kubectl_asks() {
    let doc = deployment(json!([{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]));
    let patch = json!({"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "a"}, {"name": "c"}, {"name": "b"}],
        "containers": [{"name": "c", "image": "z"}]
    }}}});
    let result = smp("Deployment", doc, patch);
    assert_eq!(
        result["spec"]["template"]["spec"]["containers"],
        json!([{"name": "a", "image": "x"}, {"name": "c", "image": "z"}, {"name": "b", "image": "y"}])
    );
}

#[test]
fn set_element_order_alone_reorders_the_live_list() {
    let doc = json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}]}});
    let patch = json!({"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}]}});
    let result = smp("Pod", doc, patch);
    assert_eq!(names(&result["spec"]["containers"]), vec!["b", "a"]);
}

#[test]
fn kubectl_apply_removing_a_container_sends_a_delete_directive() {
    let doc = deployment(json!([{"name": "a"}, {"name": "b"}]));
    let patch = json!({"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "a"}],
        "containers": [{"$patch": "delete", "name": "b"}]
    }}}});
    let result = smp("Deployment", doc, patch);
    assert_eq!(names(&result["spec"]["template"]["spec"]["containers"]), vec!["a"]);
}

#[test]
fn kubectl_apply_removing_an_env_var_merges_inside_the_container() {
    let doc = deployment(json!([web_container()]));
    let patch = json!({"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "web"}],
        "containers": [{
            "$setElementOrder/env": [{"name": "A"}],
            "env": [{"$patch": "delete", "name": "B"}],
            "name": "web",
            "resources": null
        }]
    }}}});
    let result = smp("Deployment", doc, patch);
    let container = &result["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["env"], json!([{"name": "A", "value": "1"}]));
    assert!(container.get("resources").is_none());
    assert_eq!(container["image"], "nginx:1.24");
}

#[test]
fn env_vars_merge_by_name() {
    let doc = json!({"spec": {"containers": [web_container()]}});
    let patch = json!({"spec": {"containers": [{"name": "web", "env": [{"name": "A", "value": "9"}]}]}});
    let result = smp("Pod", doc, patch);
    assert_eq!(
        result["spec"]["containers"][0]["env"],
        json!([{"name": "A", "value": "9"}, {"name": "B", "value": "2"}])
    );
}

#[test]
fn volume_mounts_merge_by_mount_path_and_ports_by_container_port() {
    let doc = json!({"spec": {"containers": [web_container()]}});
    let patch = json!({"spec": {"containers": [{
        "name": "web",
        "volumeMounts": [{"mountPath": "/data", "readOnly": true}],
        "ports": [{"containerPort": 80, "name": "http"}]
    }]}});
    let result = smp("Pod", doc, patch);
    let container = &result["spec"]["containers"][0];
    assert_eq!(container["volumeMounts"], json!([{"name": "data", "mountPath": "/data", "readOnly": true}]));
    assert_eq!(container["ports"], json!([{"containerPort": 80, "protocol": "TCP", "name": "http"}]));
}

#[test]
fn kubectl_rollout_restart_adds_a_template_annotation() {
    let doc = deployment(json!([web_container()]));
    let patch = json!({"spec": {"template": {"metadata": {"annotations": {
        "kubectl.kubernetes.io/restartedAt": "2024-01-01T00:00:00Z"
    }}}}});
    let result = smp("Deployment", doc, patch);
    assert_eq!(
        result["spec"]["template"]["metadata"],
        json!({
            "labels": {"app": "web"},
            "annotations": {"kubectl.kubernetes.io/restartedAt": "2024-01-01T00:00:00Z"}
        })
    );
}

#[test]
fn null_deletes_a_key_and_unmatched_nulls_are_ignored() {
    let doc = json!({"metadata": {"labels": {"a": "b", "c": "d"}}});
    let patch = json!({"metadata": {"labels": {"a": null, "zzz": null}}});
    let result = smp("Pod", doc, patch);
    assert_eq!(result, json!({"metadata": {"labels": {"c": "d"}}}));
}

#[test]
fn nulls_inside_a_new_value_are_dropped() {
    let doc = json!({"metadata": {"name": "x"}});
    let patch = json!({"metadata": {"labels": {"a": null, "b": "c"}}});
    let result = smp("Pod", doc, patch);
    assert_eq!(result, json!({"metadata": {"name": "x", "labels": {"b": "c"}}}));
}

#[test]
fn finalizers_are_a_set_union() {
    let doc = json!({"metadata": {"finalizers": ["a", "b"]}});
    let patch = json!({"metadata": {"finalizers": ["b", "c"]}});
    let result = smp("ConfigMap", doc, patch);
    assert_eq!(result["metadata"]["finalizers"], json!(["a", "b", "c"]));
}

#[test]
fn delete_from_primitive_list_removes_finalizers() {
    let doc = json!({"metadata": {"finalizers": ["a", "b", "c"]}});
    let patch = json!({"metadata": {
        "$setElementOrder/finalizers": ["a", "c"],
        "$deleteFromPrimitiveList/finalizers": ["b"]
    }});
    let result = smp("Namespace", doc, patch);
    assert_eq!(result["metadata"]["finalizers"], json!(["a", "c"]));
}

#[test]
fn owner_references_merge_by_uid() {
    let doc = json!({"metadata": {"ownerReferences": [
        {"uid": "1", "kind": "ReplicaSet", "name": "rs"}
    ]}});
    let patch = json!({"metadata": {"ownerReferences": [
        {"uid": "1", "controller": true},
        {"uid": "2", "kind": "Job", "name": "j"}
    ]}});
    let result = smp("Pod", doc, patch);
    assert_eq!(
        result["metadata"]["ownerReferences"],
        json!([
            {"uid": "1", "kind": "ReplicaSet", "name": "rs", "controller": true},
            {"uid": "2", "kind": "Job", "name": "j"}
        ])
    );
}

#[test]
fn tolerations_are_replaced_whole() {
    let doc = json!({"spec": {"tolerations": [{"key": "a", "operator": "Exists"}]}});
    let patch = json!({"spec": {"tolerations": [{"key": "b", "operator": "Exists"}]}});
    let result = smp("Pod", doc, patch);
    assert_eq!(result["spec"]["tolerations"], json!([{"key": "b", "operator": "Exists"}]));
}

#[test]
fn node_taints_are_replaced_but_addresses_merge_by_type() {
    let doc = json!({
        "spec": {"taints": [{"key": "a", "effect": "NoSchedule"}]},
        "status": {"addresses": [
            {"type": "InternalIP", "address": "10.0.0.1"},
            {"type": "Hostname", "address": "n1"}
        ]}
    });
    let patch = json!({
        "spec": {"taints": [{"key": "b", "effect": "NoExecute"}]},
        "status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.2"}]}
    });
    let result = smp("Node", doc, patch);
    assert_eq!(result["spec"]["taints"], json!([{"key": "b", "effect": "NoExecute"}]));
    assert_eq!(
        result["status"]["addresses"],
        json!([
            {"type": "InternalIP", "address": "10.0.0.2"},
            {"type": "Hostname", "address": "n1"}
        ])
    );
}

#[test]
fn status_conditions_merge_by_type() {
    let doc = json!({"status": {"conditions": [
        {"type": "Ready", "status": "False"},
        {"type": "Initialized", "status": "True"}
    ]}});
    let patch = json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}});
    for kind in ["Pod", "Node", "Deployment", "Job"] {
        let result = smp(kind, doc.clone(), patch.clone());
        assert_eq!(
            result["status"]["conditions"],
            json!([
                {"type": "Ready", "status": "True"},
                {"type": "Initialized", "status": "True"}
            ]),
            "{kind}"
        );
    }
}

#[test]
fn service_ports_merge_by_port() {
    let doc = json!({"spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443}]}});
    let patch = json!({"spec": {"ports": [{"port": 80, "targetPort": 9090}]}});
    let result = smp("Service", doc, patch);
    assert_eq!(result["spec"]["ports"], json!([{"port": 80, "targetPort": 9090}, {"port": 443}]));
}

#[test]
fn cron_job_pod_specs_merge_containers_deep_inside() {
    let doc = json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {
        "containers": [{"name": "job", "image": "a", "args": ["x"]}]
    }}}}}});
    let patch = json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {
        "containers": [{"name": "job", "image": "b"}]
    }}}}}});
    let result = smp("CronJob", doc, patch);
    assert_eq!(
        result["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"],
        json!([{"name": "job", "image": "b", "args": ["x"]}])
    );
}

#[test]
fn an_empty_patch_list_leaves_a_merged_list_alone() {
    let doc = json!({"spec": {"containers": [{"name": "a"}]}});
    let result = smp("Pod", doc.clone(), json!({"spec": {"containers": []}}));
    assert_eq!(result, doc);
}

#[test]
fn replace_inside_a_list_replaces_the_whole_list() {
    let doc = json!({"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b"}]}});
    let patch = json!({"spec": {"containers": [{"$patch": "replace"}, {"name": "c"}]}});
    let result = smp("Pod", doc, patch);
    assert_eq!(result["spec"]["containers"], json!([{"name": "c"}]));
}

#[test]
fn replace_on_a_map_takes_the_patch_as_the_map() {
    let doc = json!({"metadata": {"labels": {"a": "1", "b": "2"}}});
    let patch = json!({"metadata": {"labels": {"$patch": "replace", "c": "3"}}});
    let result = smp("Pod", doc, patch);
    assert_eq!(result["metadata"]["labels"], json!({"c": "3"}));
}

#[test]
fn delete_on_a_map_empties_it() {
    let doc = json!({"spec": {"selector": {"a": "1"}, "type": "ClusterIP"}});
    let patch = json!({"spec": {"selector": {"$patch": "delete"}}});
    let result = smp("Service", doc, patch);
    assert_eq!(result["spec"], json!({"selector": {}, "type": "ClusterIP"}));
}

#[test]
fn retain_keys_clears_the_keys_not_listed() {
    let doc = json!({"spec": {"strategy": {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1}
    }}});
    let patch = json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}});
    let result = smp("Deployment", doc, patch);
    assert_eq!(result["spec"]["strategy"], json!({"type": "Recreate"}));
}

#[test]
fn retain_keys_rejects_a_patch_setting_an_unlisted_key() {
    let doc = json!({"spec": {"strategy": {"type": "RollingUpdate"}}});
    let patch = json!({"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {}}}});
    assert_eq!(smp_error("Deployment", doc, patch), "invalid patch format of retainKeys");
}

#[test]
fn an_unknown_kind_merges_maps_but_replaces_lists() {
    let doc = json!({"spec": {"a": {"x": 1}, "items": [{"name": "a", "v": 1}]}});
    let patch = json!({"spec": {"a": {"y": 2}, "items": [{"name": "a", "w": 2}]}});
    let result = smp("Widget", doc, patch);
    assert_eq!(result, json!({"spec": {"a": {"x": 1, "y": 2}, "items": [{"name": "a", "w": 2}]}}));
}

#[test]
fn directives_in_values_the_object_lacks_are_applied_not_copied() {
    let doc = json!({"spec": {"containers": [{"name": "a"}]}});
    let patch = json!({"spec": {
        "initContainers": [{"name": "init", "env": [{"name": "X", "$patch": "delete"}]}],
        "volumes": [{"$patch": "replace"}, {"name": "v", "emptyDir": {}}],
        "securityContext": {"$patch": "replace", "runAsUser": 1000},
        "$setElementOrder/imagePullSecrets": [{"name": "s"}],
        "imagePullSecrets": [{"name": "s"}]
    }});
    let result = smp("Pod", doc, patch);
    assert_eq!(
        result["spec"],
        json!({
            "containers": [{"name": "a"}],
            "initContainers": [{"name": "init", "env": []}],
            "volumes": [{"name": "v", "emptyDir": {}}],
            "securityContext": {"runAsUser": 1000},
            "imagePullSecrets": [{"name": "s"}]
        })
    );
}

#[test]
fn a_changed_type_takes_the_patch_value() {
    let doc = json!({"spec": {"replicas": "2"}});
    let result = smp("Deployment", doc, json!({"spec": {"replicas": 3}}));
    assert_eq!(result, json!({"spec": {"replicas": 3}}));
}

#[test]
fn a_merged_list_element_without_its_merge_key_is_an_error() {
    let doc = json!({"spec": {"containers": [{"name": "a"}]}});
    let patch = json!({"spec": {"containers": [{"image": "x"}]}});
    assert_eq!(smp_error("Pod", doc, patch), "map: {\"image\":\"x\"} does not contain declared merge key: name");
}

#[test]
fn an_unknown_patch_directive_is_an_error() {
    let doc = json!({"metadata": {"labels": {}}});
    let patch = json!({"metadata": {"labels": {"$patch": "frob"}}});
    assert_eq!(smp_error("Pod", doc, patch), "unknown patch type: frob in map: {\"$patch\":\"frob\"}");
}

#[test]
fn merge_directive_in_a_list_is_an_error() {
    let doc = json!({"spec": {"containers": [{"name": "a"}]}});
    let patch = json!({"spec": {"containers": [{"$patch": "merge"}]}});
    assert_eq!(smp_error("Pod", doc, patch), "merging lists cannot yet be specified in the patch");
}

#[test]
fn a_patch_list_out_of_its_element_order_is_an_error() {
    let doc = json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}]}});
    let patch = json!({"spec": {
        "$setElementOrder/containers": [{"name": "a"}, {"name": "b"}],
        "containers": [{"name": "b"}, {"name": "a"}]
    }});
    assert!(smp_error("Pod", doc, patch).starts_with("The order in patch list:\n"));
}

#[test]
fn mixed_element_types_in_a_merged_list_are_an_error() {
    let doc = json!({"metadata": {"finalizers": ["a"]}});
    let patch = json!({"metadata": {"finalizers": [1]}});
    assert!(smp_error("Pod", doc, patch).starts_with("list element types are not identical"));
}

#[test]
fn documents_and_patches_must_be_objects() {
    assert_eq!(smp_error("Pod", json!([]), json!({})), "invalid JSON document");
    assert_eq!(smp_error("Pod", json!({}), json!("x")), "invalid JSON document");
}

#[test]
fn field_order_of_the_live_object_is_kept() {
    let doc = json!({"a": 1, "b": 2, "c": 3});
    let result = smp("Pod", doc, json!({"d": 4, "b": null, "a": 5}));
    let keys: Vec<&String> = result.as_object().unwrap().keys().collect();
    assert_eq!(keys, vec!["a", "c", "d"]);
}

#[test]
fn kubectl_apply_adding_an_env_var_keeps_the_applied_order() {
    let doc = json!({"spec": {"containers": [web_container()]}});
    let patch = json!({"spec": {
        "$setElementOrder/containers": [{"name": "web"}],
        "containers": [{
            "$setElementOrder/env": [{"name": "A"}, {"name": "B"}, {"name": "C"}],
            "env": [{"name": "C", "value": "3"}],
            "name": "web"
        }]
    }});
    let result = smp("Pod", doc, patch);
    assert_eq!(
        result["spec"]["containers"][0]["env"],
        json!([
            {"name": "A", "value": "1"},
            {"name": "B", "value": "2"},
            {"name": "C", "value": "3"}
        ])
    );
}

#[test]
fn a_new_finalizer_goes_first_unless_an_order_is_given() {
    let doc = json!({"metadata": {"finalizers": ["a", "b"]}});
    let unordered = smp("Pod", doc.clone(), json!({"metadata": {"finalizers": ["c"]}}));
    assert_eq!(unordered["metadata"]["finalizers"], json!(["c", "a", "b"]));
    let ordered = smp(
        "Pod",
        doc,
        json!({"metadata": {
            "$setElementOrder/finalizers": ["a", "b", "c"],
            "finalizers": ["c"]
        }}),
    );
    assert_eq!(ordered["metadata"]["finalizers"], json!(["a", "b", "c"]));
}

#[test]
fn service_account_secrets_merge_by_name_at_the_top_level() {
    let doc = json!({"secrets": [{"name": "a"}]});
    let result = smp("ServiceAccount", doc, json!({"secrets": [{"name": "b"}]}));
    assert_eq!(result["secrets"], json!([{"name": "b"}, {"name": "a"}]));
}

#[test]
fn merge_keys_compare_numbers_by_value() {
    let doc = json!({"spec": {"ports": [{"port": 80, "name": "http"}]}});
    let patch = json!({"spec": {"ports": [{"port": 80.0, "targetPort": 8080}]}});
    let result = smp("Service", doc, patch);
    assert_eq!(result["spec"]["ports"].as_array().map(Vec::len), Some(1));
    assert_eq!(result["spec"]["ports"][0]["name"], "http");
}
