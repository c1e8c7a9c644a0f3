//! Binds a pod to its node through pods/binding (DefaultBinder), after asking for and waiting on
//! the provisioning of claims that wait for their first consumer (VolumeBinding's PreBind).

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Binding, ObjectReference, PersistentVolumeClaim, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Client;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::runtime::wait::await_condition;
use serde_json::json;
use tokio::sync::{Semaphore, mpsc};

use crate::filter::volume_binding::SELECTED_NODE;
use crate::pod_info::PodInfo;
use crate::watch::Input;

/// Binds in flight at once.
const CONCURRENCY: usize = 64;
/// How long a claim may take to be provisioned and bound (kube-scheduler's bindTimeoutSeconds).
pub const CLAIM_BIND_TIMEOUT: Duration = Duration::from_secs(600);

/// Why a bind failed.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    /// Setting the selected-node annotation on a claim failed.
    #[error("selecting node {node} for persistentvolumeclaim {claim:?}: {source}")]
    SelectNode {
        /// The claim.
        claim: String,
        /// The node.
        node: String,
        /// The API error.
        #[source]
        source: kube::Error,
    },
    /// A claim was not bound in time (or watching it failed).
    #[error("persistentvolumeclaim {claim:?} was not bound within {timeout:?}")]
    ClaimNotBound {
        /// The claim.
        claim: String,
        /// How long we waited.
        timeout: Duration,
    },
    /// The binding was rejected.
    #[error("binding rejected: {source}")]
    Bind {
        /// The API error.
        #[source]
        source: kube::Error,
    },
}

impl BindError {
    /// The pod is gone (404) or was bound by someone else (409): nothing to retry.
    pub fn is_final(&self) -> bool {
        match self {
            BindError::Bind { source: kube::Error::Api(status), .. } => status.code == 404 || status.code == 409,
            _ => false,
        }
    }
}

/// The v1 Binding that assigns `pod` to `node`.
pub fn binding(pod: &PodInfo, node: &str) -> Binding {
    Binding {
        metadata: ObjectMeta {
            name: Some(pod.name.clone()),
            namespace: Some(pod.namespace.clone()),
            uid: pod.pod.metadata.uid.clone(),
            ..Default::default()
        },
        target: ObjectReference {
            api_version: Some("v1".into()),
            kind: Some("Node".into()),
            name: Some(node.into()),
            ..Default::default()
        },
    }
}

/// Runs binds in the background, a bounded number at a time.
#[derive(Clone)]
pub struct Binder {
    client: Client,
    permits: Arc<Semaphore>,
}

impl Binder {
    /// A binder using `client`.
    pub fn new(client: Client) -> Binder {
        Binder { client, permits: Arc::new(Semaphore::new(CONCURRENCY)) }
    }

    /// Binds in the background and reports the result to the loop.
    pub fn spawn(&self, pod: Arc<PodInfo>, node: String, claims: Vec<String>, done: mpsc::Sender<Input>) {
        let client = self.client.clone();
        let permits = self.permits.clone();
        tokio::spawn(async move {
            let result = match permits.acquire_owned().await {
                Ok(_permit) => bind(client, &pod, &node, &claims).await,
                Err(_) => return,
            };
            let _ = done.send(Input::Bound { pod, node, result }).await;
        });
    }
}

/// Provisions the claims on `node`, waits for them to bind, then binds the pod.
pub async fn bind(client: Client, pod: &PodInfo, node: &str, claims: &[String]) -> Result<(), BindError> {
    if !claims.is_empty() {
        let api: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &pod.namespace);
        for claim in claims {
            select_node(&api, claim, node).await?;
        }
        for claim in claims {
            wait_bound(&api, claim).await?;
        }
    }
    let api: Api<Pod> = Api::namespaced(client, &pod.namespace);
    let body = binding(pod, node);
    api.create_subresource::<Binding, serde_json::Value>("binding", &pod.name, &PostParams::default(), &body)
        .await
        .map_err(|source| BindError::Bind { source })?;
    Ok(())
}

async fn select_node(api: &Api<PersistentVolumeClaim>, claim: &str, node: &str) -> Result<(), BindError> {
    let patch = json!({"metadata": {"annotations": {SELECTED_NODE: node}}});
    api.patch(claim, &PatchParams::default(), &Patch::Merge(patch)).await.map_err(|source| BindError::SelectNode {
        claim: claim.into(),
        node: node.into(),
        source,
    })?;
    Ok(())
}

async fn wait_bound(api: &Api<PersistentVolumeClaim>, claim: &str) -> Result<(), BindError> {
    let bound = |pvc: Option<&PersistentVolumeClaim>| {
        pvc.and_then(|p| p.spec.as_ref()).and_then(|s| s.volume_name.as_deref()).is_some_and(|v| !v.is_empty())
    };
    let waited = tokio::time::timeout(CLAIM_BIND_TIMEOUT, await_condition(api.clone(), claim, bound)).await;
    match waited {
        Ok(Ok(Some(_))) => Ok(()),
        _ => Err(BindError::ClaimNotBound { claim: claim.into(), timeout: CLAIM_BIND_TIMEOUT }),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use http_body_util::BodyExt;
    use kube::client::Body;

    use super::*;
    use crate::testing::pod;

    type Seen = Arc<Mutex<Vec<(String, String, serde_json::Value)>>>;

    /// A client whose API answers every request with `status` and records what was asked.
    fn mock(status: u16, reply: serde_json::Value) -> (Client, Seen) {
        let seen: Seen = Arc::default();
        let record = seen.clone();
        let service = tower::service_fn(move |request: http::Request<Body>| {
            let record = record.clone();
            let reply = reply.clone();
            async move {
                let method = request.method().to_string();
                let path = request.uri().path().to_string();
                let bytes = request.into_body().collect().await?.to_bytes();
                let body = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
                record.lock().unwrap().push((method, path, body));
                let response =
                    http::Response::builder().status(status).body(Body::from(serde_json::to_vec(&reply)?))?;
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(response)
            }
        });
        (Client::new(service, "default"), seen)
    }

    #[tokio::test]
    async fn binding_posts_a_v1_binding_to_the_pods_binding_subresource() {
        let (client, seen) = mock(201, json!({"kind": "Status", "apiVersion": "v1", "status": "Success", "code": 201}));
        let web = PodInfo::new(pod("web").build());
        bind(client, &web, "node1", &[]).await.unwrap();
        let seen = seen.lock().unwrap();
        let (method, path, body) = &seen[0];
        assert_eq!(method, "POST");
        assert_eq!(path, "/api/v1/namespaces/default/pods/web/binding");
        assert_eq!(body["kind"], "Binding");
        assert_eq!(body["metadata"]["uid"], "uid-web");
        assert_eq!(body["target"], json!({"apiVersion": "v1", "kind": "Node", "name": "node1"}));
    }

    #[tokio::test]
    async fn a_conflict_means_someone_else_bound_the_pod_and_is_not_retried() {
        let status = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Conflict", "code": 409,
                            "message": "pod web is already assigned to node \"node2\""});
        let (client, _) = mock(409, status);
        let web = PodInfo::new(pod("web").build());
        let error = bind(client, &web, "node1", &[]).await.unwrap_err();
        assert!(error.is_final(), "{error}");
    }

    #[tokio::test]
    async fn a_waiting_claim_is_annotated_with_the_selected_node_first() {
        let bound_claim = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data", "namespace": "default", "resourceVersion": "1"},
            "spec": {"volumeName": "pv-1"}});
        let list = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaimList", "metadata": {"resourceVersion": "1"},
            "items": [bound_claim.clone()]});
        let seen: Seen = Arc::default();
        let record = seen.clone();
        let service = tower::service_fn(move |request: http::Request<Body>| {
            let record = record.clone();
            let (bound_claim, list) = (bound_claim.clone(), list.clone());
            async move {
                let method = request.method().to_string();
                let path = request.uri().path().to_string();
                let bytes = request.into_body().collect().await?.to_bytes();
                let body = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
                record.lock().unwrap().push((method.clone(), path.clone(), body));
                let reply = match (method.as_str(), path.ends_with("persistentvolumeclaims")) {
                    ("GET", true) => list,
                    ("PATCH", _) => bound_claim,
                    _ => json!({"kind": "Status", "status": "Success", "code": 201}),
                };
                let response = http::Response::builder().status(200).body(Body::from(serde_json::to_vec(&reply)?))?;
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(response)
            }
        });
        let client = Client::new(service, "default");
        let db = PodInfo::new(pod("db").claim("data").build());
        bind(client, &db, "node1", &["data".to_string()]).await.unwrap();
        let seen = seen.lock().unwrap();
        assert_eq!(seen[0].0, "PATCH");
        assert_eq!(seen[0].2["metadata"]["annotations"][SELECTED_NODE], "node1");
        assert!(seen.last().unwrap().1.ends_with("/pods/db/binding"));
    }
}
