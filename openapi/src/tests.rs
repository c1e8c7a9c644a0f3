//! Checks the documents against what kubectl reads from them.

use std::time::Instant;

use serde_json::Value;

use crate::schema::{self, Format};
use crate::{Cache, Resource, extensions, v2, v3_group_version, v3_root};

const ALL: &[&str] = &["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"];
const CREATE: &[&str] = &["create"];

const fn res(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
    subresources: &'static [&'static str],
) -> Resource {
    Resource { group, version, kind, plural, namespaced, verbs: ALL, subresources }
}

/// Roughly the table the API server serves, plus one custom resource.
const RESOURCES: &[Resource] = &[
    res("", "v1", "Namespace", "namespaces", false, &["status", "finalize"]),
    res(
        "",
        "v1",
        "Pod",
        "pods",
        true,
        &["status", "binding", "eviction", "log", "exec", "attach", "portforward", "ephemeralcontainers"],
    ),
    res("", "v1", "Service", "services", true, &["status", "proxy"]),
    res("", "v1", "Endpoints", "endpoints", true, &[]),
    res("", "v1", "ConfigMap", "configmaps", true, &[]),
    res("", "v1", "Secret", "secrets", true, &[]),
    res("", "v1", "ServiceAccount", "serviceaccounts", true, &["token"]),
    res("", "v1", "Node", "nodes", false, &["status", "proxy"]),
    res("", "v1", "Event", "events", true, &[]),
    res("", "v1", "PersistentVolume", "persistentvolumes", false, &["status"]),
    res("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true, &["status"]),
    res("", "v1", "ResourceQuota", "resourcequotas", true, &["status"]),
    res("", "v1", "LimitRange", "limitranges", true, &[]),
    res("", "v1", "ReplicationController", "replicationcontrollers", true, &["status", "scale"]),
    res("", "v1", "PodTemplate", "podtemplates", true, &[]),
    Resource { verbs: CREATE, ..res("", "v1", "Binding", "bindings", true, &[]) },
    res("apps", "v1", "Deployment", "deployments", true, &["status", "scale"]),
    res("apps", "v1", "ReplicaSet", "replicasets", true, &["status", "scale"]),
    res("apps", "v1", "DaemonSet", "daemonsets", true, &["status"]),
    res("apps", "v1", "StatefulSet", "statefulsets", true, &["status", "scale"]),
    res("apps", "v1", "ControllerRevision", "controllerrevisions", true, &[]),
    res("batch", "v1", "Job", "jobs", true, &["status"]),
    res("batch", "v1", "CronJob", "cronjobs", true, &["status"]),
    res("networking.k8s.io", "v1", "Ingress", "ingresses", true, &["status"]),
    res("networking.k8s.io", "v1", "IngressClass", "ingressclasses", false, &[]),
    res("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", true, &[]),
    res("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", true, &[]),
    res("coordination.k8s.io", "v1", "Lease", "leases", true, &[]),
    res("storage.k8s.io", "v1", "StorageClass", "storageclasses", false, &[]),
    res("rbac.authorization.k8s.io", "v1", "Role", "roles", true, &[]),
    res("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", true, &[]),
    res("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", false, &[]),
    res("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", false, &[]),
    res("events.k8s.io", "v1", "Event", "events", true, &[]),
    res("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true, &["status"]),
    res("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", false, &["status"]),
    Resource {
        verbs: CREATE,
        ..res("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", false, &[])
    },
    Resource {
        verbs: CREATE,
        ..res("authorization.k8s.io", "v1", "SubjectAccessReview", "subjectaccessreviews", false, &[])
    },
    Resource { verbs: CREATE, ..res("authentication.k8s.io", "v1", "TokenReview", "tokenreviews", false, &[]) },
    res("example.com", "v1", "Widget", "widgets", true, &["status", "scale"]),
];

fn apps_v1() -> Value {
    v3_group_version(RESOURCES, "apis/apps/v1").expect("apps/v1 is served")
}

fn schemas(document: &Value) -> &serde_json::Map<String, Value> {
    document["components"]["schemas"].as_object().expect("components.schemas")
}

fn gvk(group: &str, version: &str, kind: &str) -> Value {
    serde_json::json!({ "group": group, "kind": kind, "version": version })
}

/// The patch operations that carry this GVK, in every path of the document.
fn patch_operations<'a>(document: &'a Value, gvk: &Value) -> Vec<&'a Value> {
    let paths = document["paths"].as_object().expect("paths");
    paths
        .values()
        .filter_map(|item| item.get("patch"))
        .filter(|op| op.get("x-kubernetes-group-version-kind") == Some(gvk))
        .collect()
}

/// kubectl resolves "#/components/schemas/X" (v3) or "#/definitions/X" (v2) by name.
fn unresolved_refs(document: &Value, prefix: &str, definitions: &Value) -> Vec<String> {
    let mut missing = Vec::new();
    walk(document, &mut |value| {
        if let Some(Value::String(reference)) = value.get("$ref") {
            let found = reference.strip_prefix(prefix).is_some_and(|name| definitions.get(name).is_some());
            if !found {
                missing.push(reference.clone());
            }
        }
    });
    missing
}

fn walk(value: &Value, visit: &mut impl FnMut(&Value)) {
    visit(value);
    match value {
        Value::Object(map) => map.values().for_each(|v| walk(v, visit)),
        Value::Array(list) => list.iter().for_each(|v| walk(v, visit)),
        _ => {}
    }
}

/// A property of a definition, seen through v3's `allOf` wrapping like kubectl sees it.
fn property<'a>(document: &'a Value, definition: &str, property: &str) -> &'a Value {
    &schemas(document)[definition]["properties"][property]
}

#[test]
fn the_deployment_schema_has_the_gvk_extension_and_a_description() {
    let document = apps_v1();
    let deployment = &schemas(&document)["io.k8s.api.apps.v1.Deployment"];
    assert_eq!(deployment["x-kubernetes-group-version-kind"], serde_json::json!([gvk("apps", "v1", "Deployment")]));
    let description = deployment["description"].as_str().unwrap_or_default();
    assert!(description.starts_with("Deployment enables declarative updates"));
    let spec = &deployment["properties"]["spec"];
    assert_eq!(spec["allOf"][0]["$ref"], "#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec");
    assert_eq!(spec["description"], "Specification of the desired behavior of the Deployment.");
}

#[test]
fn apps_v1_has_a_patch_operation_for_deployment_with_a_field_validation_query_parameter() {
    let document = apps_v1();
    let operations = patch_operations(&document, &gvk("apps", "v1", "Deployment"));
    // The deployment itself and its status; kubectl stops at whichever it meets first.
    assert_eq!(operations.len(), 2);
    for operation in operations {
        let parameters = operation["parameters"].as_array().expect("parameters");
        assert!(parameters.iter().any(|p| p["name"] == "fieldValidation" && p["in"] == "query"));
        assert_eq!(operation["x-kubernetes-action"], "patch");
    }
}

#[test]
fn every_patch_operation_accepts_field_validation() {
    for path in ["api/v1", "apis/apps/v1", "apis/example.com/v1"] {
        let document = v3_group_version(RESOURCES, path).expect("served");
        for item in document["paths"].as_object().expect("paths").values() {
            let Some(patch) = item.get("patch") else {
                continue;
            };
            let names: Vec<&Value> =
                patch["parameters"].as_array().map(|ps| ps.iter().map(|p| &p["name"]).collect()).unwrap_or_default();
            let connect = patch["x-kubernetes-action"] == "connect";
            assert!(connect || names.contains(&&Value::from("fieldValidation")), "{path}");
        }
    }
}

#[test]
fn every_ref_in_a_document_resolves_inside_it() {
    for path in v3_root(RESOURCES)["paths"].as_object().expect("paths").keys() {
        let document = v3_group_version(RESOURCES, path).expect("listed in the root");
        let definitions = &document["components"]["schemas"];
        let missing = unresolved_refs(&document, "#/components/schemas/", definitions);
        assert!(missing.is_empty(), "{path}: {missing:?}");
    }
    let document = v2(RESOURCES);
    let missing = unresolved_refs(&document, "#/definitions/", &document["definitions"]);
    assert!(missing.is_empty(), "v2: {missing:?}");
}

#[test]
fn the_hash_is_stable() {
    let first = v3_root(RESOURCES);
    assert_eq!(first, v3_root(RESOURCES));
    let url = first["paths"]["apis/apps/v1"]["serverRelativeURL"].as_str().expect("serverRelativeURL");
    let cache = Cache::new(RESOURCES);
    let document = cache.v3_group_version("apis/apps/v1").expect("served");
    assert_eq!(url, format!("/openapi/v3/apis/apps/v1?hash={}", document.hash()));
    assert_eq!(document.hash().len(), 32);
    assert!(document.hash().chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase()));
    assert_eq!(cache.v3_root().json(), crate::Document::new(&first).json());
}

#[test]
fn the_root_lists_one_entry_per_group_version_and_nothing_else() {
    let root = v3_root(RESOURCES);
    let paths: Vec<&String> = root["paths"].as_object().expect("paths").keys().collect();
    assert_eq!(paths.len(), 14);
    assert_eq!(paths[0], "api/v1");
    assert!(paths.iter().all(|p| *p == "api/v1" || p.starts_with("apis/")));
    assert!(v3_group_version(RESOURCES, "apis/apps/v2").is_none());
    assert!(Cache::new(RESOURCES).v3_group_version("apis/nope/v1").is_none());
}

#[test]
fn definitions_keep_kubernetes_dotted_names() {
    let definitions = schema::definitions_for_all_kinds(Format::V3);
    for name in definitions.keys() {
        assert!(name.starts_with("io.k8s."), "{name}");
        // schemars appends a digit when two types claim one name ("WatchEvent2").
        let base = name.trim_end_matches(|c: char| c.is_ascii_digit());
        assert!(base == name || !definitions.contains_key(base), "{name}");
    }
    assert!(definitions.contains_key("io.k8s.apimachinery.pkg.api.resource.Quantity"));
    assert!(
        definitions.contains_key("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition")
    );
}

#[test]
fn every_extension_row_names_a_real_property() {
    let definitions = Value::Object(schema::definitions_for_all_kinds(Format::V2));
    for (definition, property) in extensions::rows() {
        let schema = &definitions[definition];
        let exists = match property {
            "" => schema.is_object(),
            _ => schema["properties"].get(property).is_some(),
        };
        // Rows for kinds outside the table (e.g. alpha APIs' helpers) are fine to skip.
        if schema.is_object() {
            assert!(exists, "{definition}.{property}");
        }
    }
}

#[test]
fn list_fields_carry_kubernetes_patch_extensions() {
    let core = v3_group_version(RESOURCES, "api/v1").expect("core");
    let merge_on = |definition: &str, field: &str, key: Option<&str>| {
        let prop = property(&core, definition, field);
        assert_eq!(prop["x-kubernetes-patch-strategy"], "merge", "{definition}.{field}");
        assert_eq!(prop.get("x-kubernetes-patch-merge-key").and_then(Value::as_str), key, "{definition}.{field}");
    };
    merge_on("io.k8s.api.core.v1.PodSpec", "containers", Some("name"));
    merge_on("io.k8s.api.core.v1.Container", "env", Some("name"));
    merge_on("io.k8s.api.core.v1.Container", "ports", Some("containerPort"));
    merge_on("io.k8s.api.core.v1.Container", "volumeMounts", Some("mountPath"));
    merge_on("io.k8s.api.core.v1.ServiceSpec", "ports", Some("port"));
    merge_on("io.k8s.api.core.v1.PodStatus", "conditions", Some("type"));
    let meta = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
    merge_on(meta, "ownerReferences", Some("uid"));
    merge_on(meta, "finalizers", None);
    let volumes = property(&core, "io.k8s.api.core.v1.PodSpec", "volumes");
    assert_eq!(volumes["x-kubernetes-patch-strategy"], "merge,retainKeys");
    let ports = property(&core, "io.k8s.api.core.v1.Container", "ports");
    assert_eq!(ports["x-kubernetes-list-type"], "map");
    assert_eq!(ports["x-kubernetes-list-map-keys"], serde_json::json!(["containerPort", "protocol"]));
    let tolerations = property(&core, "io.k8s.api.core.v1.PodSpec", "tolerations");
    assert!(tolerations.get("x-kubernetes-patch-strategy").is_none());
    assert_eq!(tolerations["x-kubernetes-list-type"], "atomic");
}

#[test]
fn a_ref_with_a_patch_strategy_keeps_it_beside_the_all_of() {
    let document = apps_v1();
    let strategy = property(&document, "io.k8s.api.apps.v1.DeploymentSpec", "strategy");
    assert_eq!(strategy["x-kubernetes-patch-strategy"], "retainKeys");
    assert!(strategy.get("$ref").is_none());
    assert!(strategy["allOf"][0]["$ref"].is_string());
}

#[test]
fn v2_keeps_descriptions_beside_refs() {
    let document = v2(RESOURCES);
    let deployment = &document["definitions"]["io.k8s.api.apps.v1.Deployment"];
    let metadata = &deployment["properties"]["metadata"];
    assert_eq!(metadata["$ref"], "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
    assert!(metadata["description"].is_string());
    let patch = &document["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
    assert!(patch["consumes"].as_array().expect("consumes").contains(&"application/strategic-merge-patch+json".into()));
    assert_eq!(document["swagger"], "2.0");
}

#[test]
fn strategic_merge_patch_is_offered_for_built_in_kinds_only() {
    let content = |document: &Value, gvk: &Value| {
        let operations = patch_operations(document, gvk);
        operations[0]["requestBody"]["content"].clone()
    };
    let smp = "application/strategic-merge-patch+json";
    let deployment = content(&apps_v1(), &gvk("apps", "v1", "Deployment"));
    assert!(deployment.get(smp).is_some());
    assert!(deployment.get("application/merge-patch+json").is_some());
    let custom = v3_group_version(RESOURCES, "apis/example.com/v1").expect("custom");
    let widget = content(&custom, &gvk("example.com", "v1", "Widget"));
    assert!(widget.get(smp).is_none());
    assert!(widget.get("application/merge-patch+json").is_some());
}

#[test]
fn explain_finds_every_resource_kind_through_its_paths() {
    // kubectl explain takes the GVK from the list or item path's operations, then
    // looks for the schema whose GVK list contains it.
    for resource in RESOURCES {
        let path = crate::paths::gv_path(resource.group, resource.version);
        let document = v3_group_version(RESOURCES, &path).expect("served");
        let base = crate::paths::prefix(resource.group, resource.version);
        let plural = resource.plural;
        let candidates = [
            format!("{base}/{plural}"),
            format!("{base}/{plural}/{{name}}"),
            format!("{base}/namespaces/{{namespace}}/{plural}"),
            format!("{base}/namespaces/{{namespace}}/{plural}/{{name}}"),
        ];
        let found = candidates.iter().find_map(|p| {
            let item = document["paths"].get(p)?;
            ["get", "post", "put", "patch", "delete"]
                .iter()
                .find_map(|m| item.get(*m)?.get("x-kubernetes-group-version-kind"))
        });
        let found = found.unwrap_or_else(|| panic!("no GVK for {plural}"));
        assert_eq!(found, &gvk(resource.group, resource.version, resource.kind));
        let schema = schemas(&document)
            .values()
            .find(|s| s["x-kubernetes-group-version-kind"].as_array().is_some_and(|gvks| gvks.contains(found)));
        let schema = schema.unwrap_or_else(|| panic!("no schema for {plural}"));
        assert!(schema["description"].is_string(), "{plural}");
    }
}

#[test]
fn lists_and_meta_kinds_are_in_each_document() {
    let document = apps_v1();
    let list = &schemas(&document)["io.k8s.api.apps.v1.DeploymentList"];
    assert_eq!(list["x-kubernetes-group-version-kind"], serde_json::json!([gvk("apps", "v1", "DeploymentList")]));
    assert_eq!(list["properties"]["items"]["items"]["$ref"], "#/components/schemas/io.k8s.api.apps.v1.Deployment");
    for name in [
        schema::STATUS,
        schema::DELETE_OPTIONS,
        schema::WATCH_EVENT,
        schema::PATCH,
        schema::RESOURCE_LIST,
        "io.k8s.api.autoscaling.v1.Scale",
    ] {
        assert!(schemas(&document).contains_key(name), "{name}");
    }
}

#[test]
fn a_custom_resource_gets_an_open_schema_named_by_its_reversed_group() {
    let document = v3_group_version(RESOURCES, "apis/example.com/v1").expect("custom");
    let widget = &schemas(&document)["com.example.v1.Widget"];
    assert_eq!(widget["x-kubernetes-preserve-unknown-fields"], true);
    assert_eq!(widget["x-kubernetes-group-version-kind"], serde_json::json!([gvk("example.com", "v1", "Widget")]));
}

#[test]
fn document_sizes_and_generation_times() {
    let cache = Cache::new(RESOURCES);
    let root = cache.v3_root();
    println!("/openapi/v3: {} bytes", root.json().len());
    let paths: Vec<String> = v3_root(RESOURCES)["paths"].as_object().expect("paths").keys().cloned().collect();
    for path in paths {
        let start = Instant::now();
        let document = v3_group_version(RESOURCES, &path).expect("served");
        let elapsed = start.elapsed();
        let bytes = crate::Document::new(&document).json().len();
        println!("/openapi/v3/{path}: {bytes} bytes, built in {elapsed:?}");
    }
    let start = Instant::now();
    let document = v2(RESOURCES);
    let elapsed = start.elapsed();
    let bytes = crate::Document::new(&document).json().len();
    println!("/openapi/v2: {bytes} bytes, built in {elapsed:?}");
}
