//! The table mapping each built-in (group, version, kind) to its k8s-openapi Rust type.

use std::borrow::Cow;

use k8s_openapi::api::{
    admissionregistration, apps, authentication, authorization, autoscaling, batch, certificates, coordination, core,
    discovery, events, flowcontrol, networking, node, policy, rbac, scheduling, storage,
};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions;
use k8s_openapi::kube_aggregator::pkg::apis::apiregistration;
use schemars::{JsonSchema, Schema, SchemaGenerator};

/// A group, version and kind; the group is "" for the core API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Gvk<'a> {
    pub group: &'a str,
    pub version: &'a str,
    pub kind: &'a str,
}

/// One built-in kind: its GVK and how to make schemars emit its schema.
pub(crate) struct KindType {
    pub gvk: Gvk<'static>,
    /// The Kubernetes definition name, e.g. "io.k8s.api.apps.v1.Deployment".
    pub name: fn() -> Cow<'static, str>,
    /// Adds the kind's schema (and everything it reaches) to the generator.
    pub add: fn(&mut SchemaGenerator) -> Schema,
}

const fn kind<T: k8s_openapi::Resource + JsonSchema>() -> KindType {
    KindType {
        gvk: Gvk { group: T::GROUP, version: T::VERSION, kind: T::KIND },
        name: T::schema_name,
        add: SchemaGenerator::subschema_for::<T>,
    }
}

/// Every stable built-in kind that k8s-openapi knows for Kubernetes 1.33.
static KINDS: &[KindType] = &[
    kind::<core::v1::Binding>(),
    kind::<core::v1::ComponentStatus>(),
    kind::<core::v1::ConfigMap>(),
    kind::<core::v1::Endpoints>(),
    kind::<core::v1::Event>(),
    kind::<core::v1::LimitRange>(),
    kind::<core::v1::Namespace>(),
    kind::<core::v1::Node>(),
    kind::<core::v1::PersistentVolume>(),
    kind::<core::v1::PersistentVolumeClaim>(),
    kind::<core::v1::Pod>(),
    kind::<core::v1::PodTemplate>(),
    kind::<core::v1::ReplicationController>(),
    kind::<core::v1::ResourceQuota>(),
    kind::<core::v1::Secret>(),
    kind::<core::v1::Service>(),
    kind::<core::v1::ServiceAccount>(),
    kind::<apps::v1::ControllerRevision>(),
    kind::<apps::v1::DaemonSet>(),
    kind::<apps::v1::Deployment>(),
    kind::<apps::v1::ReplicaSet>(),
    kind::<apps::v1::StatefulSet>(),
    kind::<batch::v1::CronJob>(),
    kind::<batch::v1::Job>(),
    kind::<networking::v1::Ingress>(),
    kind::<networking::v1::IngressClass>(),
    kind::<networking::v1::IPAddress>(),
    kind::<networking::v1::NetworkPolicy>(),
    kind::<networking::v1::ServiceCIDR>(),
    kind::<discovery::v1::EndpointSlice>(),
    kind::<coordination::v1::Lease>(),
    kind::<storage::v1::CSIDriver>(),
    kind::<storage::v1::CSINode>(),
    kind::<storage::v1::CSIStorageCapacity>(),
    kind::<storage::v1::StorageClass>(),
    kind::<storage::v1::VolumeAttachment>(),
    kind::<rbac::v1::ClusterRole>(),
    kind::<rbac::v1::ClusterRoleBinding>(),
    kind::<rbac::v1::Role>(),
    kind::<rbac::v1::RoleBinding>(),
    kind::<events::v1::Event>(),
    kind::<policy::v1::Eviction>(),
    kind::<policy::v1::PodDisruptionBudget>(),
    kind::<apiextensions::v1::CustomResourceDefinition>(),
    kind::<apiregistration::v1::APIService>(),
    kind::<autoscaling::v1::HorizontalPodAutoscaler>(),
    kind::<autoscaling::v1::Scale>(),
    kind::<autoscaling::v2::HorizontalPodAutoscaler>(),
    kind::<authorization::v1::LocalSubjectAccessReview>(),
    kind::<authorization::v1::SelfSubjectAccessReview>(),
    kind::<authorization::v1::SelfSubjectRulesReview>(),
    kind::<authorization::v1::SubjectAccessReview>(),
    kind::<authentication::v1::SelfSubjectReview>(),
    kind::<authentication::v1::TokenRequest>(),
    kind::<authentication::v1::TokenReview>(),
    kind::<admissionregistration::v1::MutatingWebhookConfiguration>(),
    kind::<admissionregistration::v1::ValidatingAdmissionPolicy>(),
    kind::<admissionregistration::v1::ValidatingAdmissionPolicyBinding>(),
    kind::<admissionregistration::v1::ValidatingWebhookConfiguration>(),
    kind::<certificates::v1::CertificateSigningRequest>(),
    kind::<flowcontrol::v1::FlowSchema>(),
    kind::<flowcontrol::v1::PriorityLevelConfiguration>(),
    kind::<node::v1::RuntimeClass>(),
    kind::<scheduling::v1::PriorityClass>(),
];

/// The built-in kind with this GVK, if k8s-openapi has a type for it.
pub(crate) fn lookup(gvk: Gvk<'_>) -> Option<&'static KindType> {
    KINDS.iter().find(|k| k.gvk == gvk)
}

/// Every built-in kind, for tests that check the whole table.
#[cfg(test)]
pub(crate) fn all() -> &'static [KindType] {
    KINDS
}
