//! The REST semantics, driving the router as a service (no port, no TLS).

use apiserver::authn::Authenticator;
use apiserver::registry::{Registry, builtin};
use apiserver::rest::Api;
use apiserver::routes::{App, router};
use apiserver::storage::{SledStore, Storage};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::sync::Arc;
use tower::ServiceExt;

const TOKEN: &str = "test-token";

struct Server {
    _dir: tempfile::TempDir,
    router: Router,
}

async fn server() -> Server {
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Arc<dyn Storage> = Arc::new(SledStore::open(dir.path(), 50).expect("open"));
    let registry = Registry::new(builtin());
    apiserver::bootstrap::namespaces(store.as_ref(), &registry).await.expect("bootstrap");
    let ranges = apiserver::allocator::ServiceRanges::new("10.233.0.0/18", (30000, 32767)).expect("ranges");
    let app = Arc::new(App::new(Api::new(store, registry, ranges), "127.0.0.1:6443".into()));
    Server { _dir: dir, router: router(app, Arc::new(Authenticator::new(TOKEN.into()))) }
}

impl Server {
    async fn call(&self, method: &str, uri: &str, body: Option<Value>, content_type: &str) -> (StatusCode, Value) {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header("Authorization", format!("Bearer {TOKEN}"))
            .header("Content-Type", content_type)
            .body(body.map(|b| Body::from(b.to_string())).unwrap_or_else(Body::empty))
            .expect("request");
        let resp = self.router.clone().oneshot(req).await.expect("response");
        let status = resp.status();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()));
        (status, value)
    }

    async fn get(&self, uri: &str) -> (StatusCode, Value) {
        self.call("GET", uri, None, "application/json").await
    }

    async fn post(&self, uri: &str, body: Value) -> (StatusCode, Value) {
        self.call("POST", uri, Some(body), "application/json").await
    }
}

fn cm(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": {"app": name}}, "data": {"k": "v"}})
}

const CMS: &str = "/api/v1/namespaces/default/configmaps";

#[tokio::test]
async fn an_update_with_a_stale_resource_version_gets_409() {
    let s = server().await;
    let (code, created) = s.post(CMS, cm("a")).await;
    assert_eq!(code, StatusCode::CREATED);
    let mut first = created.clone();
    first["data"]["k"] = json!("v2");
    let (code, _) = s.call("PUT", &format!("{CMS}/a"), Some(first), "application/json").await;
    assert_eq!(code, StatusCode::OK);
    let mut stale = created;
    stale["data"]["k"] = json!("v3");
    let (code, status) = s.call("PUT", &format!("{CMS}/a"), Some(stale), "application/json").await;
    assert_eq!(code, StatusCode::CONFLICT);
    assert_eq!(status["reason"], "Conflict");
}

#[tokio::test]
async fn a_duplicate_create_is_already_exists() {
    let s = server().await;
    s.post(CMS, cm("a")).await;
    let (code, status) = s.post(CMS, cm("a")).await;
    assert_eq!(code, StatusCode::CONFLICT);
    assert_eq!(status["message"], "configmaps \"a\" already exists");
    assert_eq!(status["details"]["kind"], "configmaps");
}

#[tokio::test]
async fn generate_name_makes_a_unique_name() {
    let s = server().await;
    let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "web-"}});
    let (code, obj) = s.post(CMS, body).await;
    assert_eq!(code, StatusCode::CREATED);
    let name = obj["metadata"]["name"].as_str().expect("name");
    assert!(name.starts_with("web-") && name.len() == 9, "{name}");
}

#[tokio::test]
async fn lists_page_with_limit_and_continue() {
    let s = server().await;
    for n in ["a", "b", "c"] {
        s.post(CMS, cm(n)).await;
    }
    let (_, page) = s.get(&format!("{CMS}?limit=2")).await;
    assert_eq!(page["items"].as_array().map(Vec::len), Some(2));
    let token = page["metadata"]["continue"].as_str().expect("continue");
    let (_, rest) = s.get(&format!("{CMS}?limit=2&continue={token}")).await;
    assert_eq!(rest["items"][0]["metadata"]["name"], "c");
    assert!(rest["metadata"].get("continue").is_none());
}

#[tokio::test]
async fn label_and_field_selectors_filter_lists() {
    let s = server().await;
    for n in ["a", "b", "c"] {
        s.post(CMS, cm(n)).await;
    }
    let (_, l) = s.get(&format!("{CMS}?labelSelector=app%20in%20(a,c)")).await;
    let names: Vec<&str> =
        l["items"].as_array().expect("items").iter().filter_map(|i| i["metadata"]["name"].as_str()).collect();
    assert_eq!(names, ["a", "c"]);
    let (_, f) = s.get(&format!("{CMS}?fieldSelector=metadata.name!=a")).await;
    assert_eq!(f["items"].as_array().map(Vec::len), Some(2));
    let (code, status) = s.get(&format!("{CMS}?fieldSelector=spec.nodeName=x")).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(status["message"].as_str().is_some_and(|m| m.contains("field label not supported")));
}

#[tokio::test]
async fn a_finalizer_holds_a_delete_until_it_is_removed() {
    let s = server().await;
    let mut body = cm("f");
    body["metadata"]["finalizers"] = json!(["example.com/hold"]);
    s.post(CMS, body).await;
    let (code, marked) = s.call("DELETE", &format!("{CMS}/f"), None, "application/json").await;
    assert_eq!(code, StatusCode::OK);
    assert!(marked["metadata"]["deletionTimestamp"].is_string());
    let patch = json!({"metadata": {"finalizers": null}});
    let (code, _) = s.call("PATCH", &format!("{CMS}/f"), Some(patch), "application/merge-patch+json").await;
    assert_eq!(code, StatusCode::OK);
    let (code, _) = s.get(&format!("{CMS}/f")).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_main_resource_cannot_write_status_and_status_cannot_write_spec() {
    let s = server().await;
    let deploy = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}, "status": {"replicas": 9}});
    let url = "/apis/apps/v1/namespaces/default/deployments";
    let (_, created) = s.post(url, deploy).await;
    assert!(created.get("status").is_none_or(|st| st.get("replicas").is_none()), "status reset on create");
    assert_eq!(created["spec"]["strategy"]["rollingUpdate"]["maxSurge"], "25%", "defaulted");
    let patch = json!({"spec": {"replicas": 5}, "status": {"replicas": 2}});
    let (_, after) = s.call("PATCH", &format!("{url}/d/status"), Some(patch), "application/merge-patch+json").await;
    assert_eq!(after["status"]["replicas"], 2);
    assert_eq!(after["spec"]["replicas"], 1, "status subresource ignores spec (1 is the default)");
    assert_eq!(after["metadata"]["generation"], 1);
}

#[tokio::test]
async fn unauthenticated_requests_get_401_but_health_is_public() {
    let s = server().await;
    let req = Request::builder().uri("/api/v1/namespaces").body(Body::empty()).expect("req");
    let resp = s.router.clone().oneshot(req).await.expect("resp");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let req = Request::builder().uri("/readyz").body(Body::empty()).expect("req");
    assert_eq!(s.router.clone().oneshot(req).await.expect("resp").status(), StatusCode::OK);
}

#[tokio::test]
async fn an_unknown_resource_is_404_and_an_oversized_body_is_413() {
    let s = server().await;
    let (code, status) = s.get("/api/v1/potatoes").await;
    assert_eq!((code, status["kind"].as_str()), (StatusCode::NOT_FOUND, Some("Status")));
    let big = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big"}, "data": {"k": "x".repeat(3 << 20)}});
    let (code, status) = s.post(CMS, big).await;
    assert_eq!(code, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(status["code"], 413);
}

#[tokio::test]
async fn a_watch_from_a_compacted_revision_reports_410_gone() {
    let s = server().await;
    for i in 0..60 {
        s.post(CMS, cm(&format!("c{i}"))).await;
    }
    let (code, body) = s.get(&format!("{CMS}?watch=1&resourceVersion=2&timeoutSeconds=1")).await;
    assert_eq!(code, StatusCode::OK);
    let text = body.as_str().map(String::from).unwrap_or_else(|| body.to_string());
    let first: Value = serde_json::from_str(text.lines().next().expect("an event")).expect("json");
    assert_eq!(first["type"], "ERROR");
    assert_eq!(first["object"]["code"], 410);
}

#[tokio::test]
async fn a_watch_replays_from_a_revision_and_ends_at_its_timeout() {
    let s = server().await;
    let (_, a) = s.post(CMS, cm("a")).await;
    s.post(CMS, cm("b")).await;
    s.call("DELETE", &format!("{CMS}/a"), None, "application/json").await;
    let rv = a["metadata"]["resourceVersion"].as_str().expect("rv");
    let (_, body) = s.get(&format!("{CMS}?watch=1&resourceVersion={rv}&timeoutSeconds=1")).await;
    let text = body.as_str().map(String::from).unwrap_or_else(|| body.to_string());
    let events: Vec<(String, String)> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("json"))
        .map(|e| {
            (
                e["type"].as_str().unwrap_or_default().into(),
                e["object"]["metadata"]["name"].as_str().unwrap_or_default().into(),
            )
        })
        .collect();
    assert_eq!(events, [("ADDED".into(), "b".into()), ("DELETED".into(), "a".into())]);
}

#[tokio::test]
async fn tables_carry_the_columns_kubectl_prints() {
    let s = server().await;
    s.post(CMS, cm("a")).await;
    let req = Request::builder()
        .uri(CMS)
        .header("Authorization", format!("Bearer {TOKEN}"))
        .header("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json")
        .body(Body::empty())
        .expect("req");
    let resp = s.router.clone().oneshot(req).await.expect("resp");
    let table: Value =
        serde_json::from_slice(&resp.into_body().collect().await.expect("body").to_bytes()).expect("json");
    assert_eq!(table["kind"], "Table");
    let names: Vec<&str> =
        table["columnDefinitions"].as_array().expect("cols").iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(names, ["Name", "Data", "Age"]);
    assert_eq!(table["rows"][0]["cells"][0], "a");
    assert_eq!(table["rows"][0]["cells"][1], 1);
}

#[tokio::test]
async fn a_crd_serves_its_custom_resources_until_it_is_deleted() {
    let s = server().await;
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
                 "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "shortNames": ["wd"]},
                 "versions": [{"name": "v1", "served": true, "storage": true,
                               "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}});
    let (code, created) = s.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd).await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    assert_eq!(created["status"]["conditions"][1]["type"], "Established");
    let (_, discovery) = s.get("/apis/example.com/v1").await;
    assert_eq!(discovery["resources"][0]["name"], "widgets");
    let url = "/apis/example.com/v1/namespaces/default/widgets";
    let widget =
        json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"size": 3}});
    let (code, w) = s.post(url, widget).await;
    assert_eq!(code, StatusCode::CREATED, "{w}");
    assert_eq!(w["spec"]["size"], 3);
    let (code, _) = s
        .call(
            "DELETE",
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com",
            None,
            "application/json",
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    let (code, _) = s.get(url).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_pinned_cluster_ip_is_honoured_and_a_second_claim_refused() {
    let s = server().await;
    let svc = |name: &str| {
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
        "spec": {"clusterIP": "10.233.10.10", "ports": [{"port": 80}]}})
    };
    let url = "/api/v1/namespaces/default/services";
    let (code, a) = s.post(url, svc("a")).await;
    assert_eq!(code, StatusCode::CREATED, "{a}");
    assert_eq!(a["spec"]["clusterIPs"], json!(["10.233.10.10"]));
    let (code, b) = s.post(url, svc("b")).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(b["message"].as_str().is_some_and(|m| m.contains("provided IP is already allocated")), "{b}");
    s.call("DELETE", &format!("{url}/a"), None, "application/json").await;
    let (code, _) = s.post(url, svc("b")).await;
    assert_eq!(code, StatusCode::CREATED, "released on delete");
}

#[tokio::test]
async fn binding_assigns_a_pod_once_and_scale_changes_replicas() {
    let s = server().await;
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}});
    s.post("/api/v1/namespaces/default/pods", pod).await;
    let binding = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p"}, "target": {"kind": "Node", "name": "n1"}});
    let (code, _) = s.post("/api/v1/namespaces/default/pods/p/binding", binding.clone()).await;
    assert_eq!(code, StatusCode::CREATED);
    let (_, p) = s.get("/api/v1/namespaces/default/pods/p").await;
    assert_eq!(p["spec"]["nodeName"], "n1");
    assert_eq!(p["status"]["conditions"][0]["type"], "PodScheduled");
    let (code, _) = s.post("/api/v1/namespaces/default/pods/p/binding", binding).await;
    assert_eq!(code, StatusCode::CONFLICT);
    let deploy = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}});
    s.post("/apis/apps/v1/namespaces/default/deployments", deploy).await;
    let patch = json!({"spec": {"replicas": 4}});
    let (code, scale) = s
        .call(
            "PATCH",
            "/apis/apps/v1/namespaces/default/deployments/d/scale",
            Some(patch),
            "application/merge-patch+json",
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{scale}");
    assert_eq!((scale["kind"].as_str(), scale["spec"]["replicas"].as_i64()), (Some("Scale"), Some(4)));
    assert_eq!(scale["status"]["selector"], "a=b");
    let (_, d) = s.get("/apis/apps/v1/namespaces/default/deployments/d").await;
    assert_eq!((d["spec"]["replicas"].as_i64(), d["metadata"]["generation"].as_i64()), (Some(4), Some(2)));
}

#[tokio::test]
async fn seed_004s_session_affinity_cluster_ip_is_rejected_with_the_supported_values() {
    let s = server().await;
    let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"sessionAffinity": "ClusterIP", "selector": {"app": "web"}, "ports": [{"port": 80}]}});
    let (code, status) = s.post("/api/v1/namespaces/default/services", svc).await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY);
    let msg = status["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains(r#"spec.sessionAffinity: Unsupported value: "ClusterIP": supported values: "ClientIP", "None""#),
        "{msg}"
    );
    let (_, list) = s.get("/api/v1/namespaces/default/services").await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0), "nothing is stored");
}
