//! ReplicaSet and ReplicationController seen as one thing: a replica count, a selector and a
//! pod template. The controller is written once over [`ReplicaOwner`].

use crate::label_selector::{self, Labels};
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetStatus};
use k8s_openapi::api::core::v1::{PodTemplateSpec, ReplicationController};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::Resource;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt::Debug;

/// How the owner selects pods.
#[derive(Clone, Debug, PartialEq)]
pub enum Selector {
    /// A ReplicaSet's label selector.
    Labels(LabelSelector),
    /// A ReplicationController's equality-based map.
    Set(Labels),
}

impl Selector {
    pub fn matches(&self, labels: &Labels) -> bool {
        match self {
            Selector::Labels(s) => label_selector::matches(s, labels),
            Selector::Set(s) => label_selector::matches_set(s, labels),
        }
    }
}

/// What the plan reads off a ReplicaSet or ReplicationController, with defaults applied.
#[derive(Clone, Debug)]
pub struct Spec {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub deleting: bool,
    pub generation: i64,
    pub replicas: i32,
    pub min_ready_seconds: i32,
    pub selector: Selector,
    pub template: Option<PodTemplateSpec>,
    /// The status in ReplicaSet's shape (a ReplicationController's is the same JSON).
    pub status: ReplicaSetStatus,
}

impl Spec {
    /// The labels a fully labeled pod carries: the template's.
    pub fn template_labels(&self) -> Labels {
        self.template.as_ref().and_then(|t| t.metadata.as_ref()).and_then(|m| m.labels.clone()).unwrap_or_default()
    }
}

/// A kind the replica controller manages.
pub trait ReplicaOwner:
    Resource<DynamicType = (), Scope = NamespaceResourceScope>
    + Clone
    + Serialize
    + DeserializeOwned
    + Debug
    + Send
    + Sync
    + 'static
{
    /// The owner as the plan sees it.
    fn spec_view(&self) -> Spec;
}

fn base(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> (String, String, String, bool, i64) {
    (
        meta.name.clone().unwrap_or_default(),
        meta.namespace.clone().unwrap_or_default(),
        meta.uid.clone().unwrap_or_default(),
        meta.deletion_timestamp.is_some(),
        meta.generation.unwrap_or_default(),
    )
}

impl ReplicaOwner for ReplicaSet {
    fn spec_view(&self) -> Spec {
        let (name, namespace, uid, deleting, generation) = base(&self.metadata);
        let spec = self.spec.clone().unwrap_or_default();
        Spec {
            name,
            namespace,
            uid,
            deleting,
            generation,
            replicas: spec.replicas.unwrap_or(1),
            min_ready_seconds: spec.min_ready_seconds.unwrap_or(0),
            selector: Selector::Labels(spec.selector),
            template: spec.template,
            status: self.status.clone().unwrap_or_default(),
        }
    }
}

impl ReplicaOwner for ReplicationController {
    fn spec_view(&self) -> Spec {
        let (name, namespace, uid, deleting, generation) = base(&self.metadata);
        let spec = self.spec.clone().unwrap_or_default();
        let template_labels = spec.template.as_ref().and_then(|t| t.metadata.as_ref()).and_then(|m| m.labels.clone());
        // An RC without a selector selects its template's labels (Kubernetes' defaulting).
        let selector = spec.selector.filter(|s| !s.is_empty()).or(template_labels).unwrap_or_default();
        let status =
            serde_json::to_value(&self.status).ok().and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default();
        Spec {
            name,
            namespace,
            uid,
            deleting,
            generation,
            replicas: spec.replicas.unwrap_or(1),
            min_ready_seconds: spec.min_ready_seconds.unwrap_or(0),
            selector: Selector::Set(selector),
            template: spec.template,
            status,
        }
    }
}
