//! The registry of kinds: one row per resource, one generic REST path serves them all.
//!
//! What differs per kind is data: its names, scope, subresources, how its names are checked,
//! whether writes to its spec bump `metadata.generation`, and its typed decoder (k8s-openapi),
//! which is how bad shapes are rejected with the field named and unknown fields found.

use crate::decode::{TypedDecoder, typed};
use k8s_openapi::api::{
    apps::v1 as apps, batch::v1 as batch, coordination::v1 as coordination, core::v1 as core,
    discovery::v1 as discovery, events::v1 as events, networking::v1 as networking, rbac::v1 as rbac,
    storage::v1 as storage,
};

/// How an object's name is validated, as each Kubernetes strategy chooses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameRule {
    Dns1123Subdomain,
    Dns1123Label,
    Dns1035Label,
    /// Only `.`/`..` and names containing `/` or `%` are refused (RBAC, events).
    PathSegment,
}

/// One resource the server serves.
#[derive(Clone, Debug)]
pub struct Kind {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    pub namespaced: bool,
    pub subresources: &'static [&'static str],
    pub names: NameRule,
    /// Spec changes bump metadata.generation (kinds whose strategy tracks it).
    pub generation: bool,
    /// Extra field selectors beyond metadata.name/metadata.namespace.
    pub fields: &'static [&'static str],
    pub decode: TypedDecoder,
}

impl Kind {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() { self.version.to_string() } else { format!("{}/{}", self.group, self.version) }
    }

    /// `deployments.apps`, as Kubernetes names a resource in messages.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() { self.plural.to_string() } else { format!("{}.{}", self.plural, self.group) }
    }

    pub fn has_subresource(&self, sub: &str) -> bool {
        self.subresources.contains(&sub)
    }

    /// The storage prefix of this resource, or of one namespace of it.
    pub fn prefix(&self, namespace: Option<&str>) -> String {
        let group = if self.group.is_empty() { "core" } else { self.group };
        match namespace {
            Some(ns) if self.namespaced => format!("/registry/{group}/{}/{ns}/", self.plural),
            _ => format!("/registry/{group}/{}/", self.plural),
        }
    }

    pub fn key(&self, namespace: Option<&str>, name: &str) -> String {
        format!("{}{name}", self.prefix(namespace))
    }
}

const ALL: &[&str] = &["all"];
const STATUS: &[&str] = &["status"];
const SCALABLE: &[&str] = &["status", "scale"];
/// Pod subresources: log, exec, attach and portforward are proxied to the node's kubelet.
const POD_SUBRESOURCES: &[&str] = &["status", "binding", "eviction", "log", "exec", "attach", "portforward"];
const POD_FIELDS: &[&str] = &[
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.podIPs",
    "status.nominatedNodeName",
];
const EVENT_FIELDS: &[&str] = &[
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
];

macro_rules! kind {
    ($group:expr, $version:expr, $ty:ty, $kind:expr, $plural:expr, $singular:expr,
     short: $short:expr, cat: $cat:expr, ns: $ns:expr, sub: $sub:expr, names: $names:ident,
     gen: $gen:expr, fields: $fields:expr) => {
        Kind {
            group: $group,
            version: $version,
            kind: $kind,
            plural: $plural,
            singular: $singular,
            short_names: $short,
            categories: $cat,
            namespaced: $ns,
            subresources: $sub,
            names: NameRule::$names,
            generation: $gen,
            fields: $fields,
            decode: typed::<$ty>,
        }
    };
}

/// Every built-in kind, as Kubernetes 1.33 serves it.
#[rustfmt::skip]
pub fn builtin() -> Vec<Kind> {
    vec![
        kind!("", "v1", core::Namespace, "Namespace", "namespaces", "namespace", short: &["ns"], cat: &[], ns: false, sub: &["status", "finalize"], names: Dns1123Label, gen: false, fields: &["status.phase"]),
        kind!("", "v1", core::Pod, "Pod", "pods", "pod", short: &["po"], cat: ALL, ns: true, sub: POD_SUBRESOURCES, names: Dns1123Subdomain, gen: true, fields: POD_FIELDS),
        kind!("", "v1", core::Service, "Service", "services", "service", short: &["svc"], cat: ALL, ns: true, sub: STATUS, names: Dns1035Label, gen: false, fields: &[]),
        kind!("", "v1", core::Endpoints, "Endpoints", "endpoints", "endpoints", short: &["ep"], cat: &[], ns: true, sub: &[], names: Dns1123Subdomain, gen: false, fields: &[]),
        kind!("", "v1", core::ConfigMap, "ConfigMap", "configmaps", "configmap", short: &["cm"], cat: &[], ns: true, sub: &[], names: Dns1123Subdomain, gen: false, fields: &[]),
        kind!("", "v1", core::Secret, "Secret", "secrets", "secret", short: &[], cat: &[], ns: true, sub: &[], names: Dns1123Subdomain, gen: false, fields: &["type"]),
        kind!("", "v1", core::ServiceAccount, "ServiceAccount", "serviceaccounts", "serviceaccount", short: &["sa"], cat: &[], ns: true, sub: &[], names: Dns1123Subdomain, gen: false, fields: &[]),
        kind!("", "v1", core::Node, "Node", "nodes", "node", short: &["no"], cat: &[], ns: false, sub: STATUS, names: Dns1123Subdomain, gen: false, fields: &["spec.unschedulable"]),
        kind!("", "v1", core::Event, "Event", "events", "event", short: &["ev"], cat: &[], ns: true, sub: &[], names: Dns1123Subdomain, gen: false, fields: EVENT_FIELDS),
        kind!("", "v1", core::PersistentVolume, "PersistentVolume", "persistentvolumes", "persistentvolume", short: &["pv"], cat: &[], ns: false, sub: STATUS, names: Dns1123Subdomain, gen: false, fields: &[]),
        kind!("", "v1", core::PersistentVolumeClaim, "PersistentVolumeClaim", "persistentvolumeclaims", "persistentvolumeclaim", short: &["pvc"], cat: &[], ns: true, sub: STATUS, names: Dns1123Subdomain, gen: false, fields: &[]),
        kind!("", "v1", core::ResourceQuota, "ResourceQuota", "resourcequotas", "resourcequota", short: &["quota"], cat: &[], ns: true, sub: STATUS, names: Dns1123Subdomain, gen: false, fields: &[]),
        kind!("", "v1", core::LimitRange, "LimitRange", "limitranges", "limitrange", short: &["limits"], cat: &[], ns: true, sub: &[], names: Dns1123Subdomain, gen: false, fields: &[]),
        kind!("", "v1", core::ReplicationController, "ReplicationController", "replicationcontrollers", "replicationcontroller", short: &["rc"], cat: ALL, ns: true, sub: SCALABLE, names: Dns1123Subdomain, gen: true, fields: &["status.replicas"]),
        kind!("", "v1", core::PodTemplate, "PodTemplate", "podtemplates", "podtemplate", short: &[], cat: &[], ns: true, sub: &[], names: Dns1123Subdomain, gen: false, fields: &[]),
        kind!("apps", "v1", apps::Deployment, "Deployment", "deployments", "deployment", short: &["deploy"], cat: ALL, ns: true, sub: SCALABLE, names: Dns1123Subdomain, gen: true, fields: &[]),
        kind!("apps", "v1", apps::ReplicaSet, "ReplicaSet", "replicasets", "replicaset", short: &["rs"], cat: ALL, ns: true, sub: SCALABLE, names: Dns1123Subdomain, gen: true, fields: &["status.replicas"]),
        kind!("apps", "v1", apps::DaemonSet, "DaemonSet", "daemonsets", "daemonset", short: &["ds"], cat: ALL, ns: true, sub: STATUS, names: Dns1123Subdomain, gen: true, fields: &[]),
        kind!("apps", "v1", apps::StatefulSet, "StatefulSet", "statefulsets", "statefulset", short: &["sts"], cat: ALL, ns: true, sub: SCALABLE, names: Dns1123Subdomain, gen: true, fields: &[]),
        kind!("apps", "v1", apps::ControllerRevision, "ControllerRevision", "controllerrevisions", "controllerrevision", short: &[], cat: &[], ns: true, sub: &[], names: Dns1123Subdomain, gen: false, fields: &[]),
        kind!("batch", "v1", batch::Job, "Job", "jobs", "job", short: &[], cat: ALL, ns: true, sub: STATUS, names: Dns1123Subdomain, gen: true, fields: &["status.successful"]),
        kind!("batch", "v1", batch::CronJob, "CronJob", "cronjobs", "cronjob", short: &["cj"], cat: ALL, ns: true, sub: STATUS, names: Dns1123Subdomain, gen: true, fields: &[]),
        kind!("networking.k8s.io", "v1", networking::Ingress, "Ingress", "ingresses", "ingress", short: &["ing"], cat: &[], ns: true, sub: STATUS, names: Dns1123Subdomain, gen: true, fields: &[]),
        kind!("networking.k8s.io", "v1", networking::IngressClass, "IngressClass", "ingressclasses", "ingressclass", short: &[], cat: &[], ns: false, sub: &[], names: Dns1123Subdomain, gen: true, fields: &[]),
        kind!("networking.k8s.io", "v1", networking::NetworkPolicy, "NetworkPolicy", "networkpolicies", "networkpolicy", short: &["netpol"], cat: &[], ns: true, sub: &[], names: Dns1123Subdomain, gen: true, fields: &[]),
        kind!("discovery.k8s.io", "v1", discovery::EndpointSlice, "EndpointSlice", "endpointslices", "endpointslice", short: &[], cat: &[], ns: true, sub: &[], names: Dns1123Subdomain, gen: true, fields: &[]),
        kind!("coordination.k8s.io", "v1", coordination::Lease, "Lease", "leases", "lease", short: &[], cat: &[], ns: true, sub: &[], names: Dns1123Subdomain, gen: false, fields: &[]),
        kind!("storage.k8s.io", "v1", storage::StorageClass, "StorageClass", "storageclasses", "storageclass", short: &["sc"], cat: &[], ns: false, sub: &[], names: Dns1123Subdomain, gen: false, fields: &[]),
        kind!("rbac.authorization.k8s.io", "v1", rbac::Role, "Role", "roles", "role", short: &[], cat: &[], ns: true, sub: &[], names: PathSegment, gen: false, fields: &[]),
        kind!("rbac.authorization.k8s.io", "v1", rbac::RoleBinding, "RoleBinding", "rolebindings", "rolebinding", short: &[], cat: &[], ns: true, sub: &[], names: PathSegment, gen: false, fields: &[]),
        kind!("rbac.authorization.k8s.io", "v1", rbac::ClusterRole, "ClusterRole", "clusterroles", "clusterrole", short: &[], cat: &[], ns: false, sub: &[], names: PathSegment, gen: false, fields: &[]),
        kind!("rbac.authorization.k8s.io", "v1", rbac::ClusterRoleBinding, "ClusterRoleBinding", "clusterrolebindings", "clusterrolebinding", short: &[], cat: &[], ns: false, sub: &[], names: PathSegment, gen: false, fields: &[]),
        kind!("apiextensions.k8s.io", "v1", k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition, "CustomResourceDefinition", "customresourcedefinitions", "customresourcedefinition", short: &["crd", "crds"], cat: &["api-extensions"], ns: false, sub: STATUS, names: Dns1123Subdomain, gen: true, fields: &[]),
        kind!("events.k8s.io", "v1", events::Event, "Event", "events", "event", short: &["ev"], cat: &[], ns: true, sub: &[], names: Dns1123Subdomain, gen: false, fields: &[]),
    ]
}

/// Lookup over the kinds, by URL and by apiVersion/kind.
pub struct Registry {
    kinds: Vec<Kind>,
}

impl Registry {
    pub fn new(kinds: Vec<Kind>) -> Self {
        Registry { kinds }
    }

    /// The built-in kinds plus those of the given CRDs (a CRD never shadows a built-in).
    pub fn with_crds(crds: &[serde_json::Value]) -> Self {
        let mut kinds = builtin();
        for crd in crds {
            for k in crate::crd::kinds(crd) {
                if !kinds.iter().any(|b| b.group == k.group && b.version == k.version && b.plural == k.plural) {
                    kinds.push(k);
                }
            }
        }
        Registry { kinds }
    }

    pub fn kinds(&self) -> &[Kind] {
        &self.kinds
    }

    pub fn resource(&self, group: &str, version: &str, plural: &str) -> Option<&Kind> {
        self.kinds.iter().find(|k| k.group == group && k.version == version && k.plural == plural)
    }

    pub fn by_kind(&self, api_version: &str, kind: &str) -> Option<&Kind> {
        self.kinds.iter().find(|k| k.kind == kind && k.api_version() == api_version)
    }

    /// Groups in the order Kubernetes lists them (core first), each with its versions.
    pub fn groups(&self) -> Vec<(&'static str, Vec<&'static str>)> {
        let mut out: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
        for k in &self.kinds {
            match out.iter_mut().find(|(g, _)| *g == k.group) {
                Some((_, vs)) if !vs.contains(&k.version) => vs.push(k.version),
                Some(_) => {}
                None => out.push((k.group, vec![k.version])),
            }
        }
        out
    }

    pub fn in_group_version<'a>(&'a self, group: &'a str, version: &'a str) -> impl Iterator<Item = &'a Kind> {
        self.kinds.iter().filter(move |k| k.group == group && k.version == version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_found_by_url_and_by_api_version() {
        let r = Registry::new(builtin());
        let d = r.resource("apps", "v1", "deployments").expect("deployments");
        assert_eq!(d.kind, "Deployment");
        assert_eq!(r.by_kind("apps/v1", "Deployment").map(|k| k.plural), Some("deployments"));
        assert!(r.by_kind("v1", "Deployment").is_none());
        assert_eq!(d.key(Some("default"), "web"), "/registry/apps/deployments/default/web");
    }

    #[test]
    fn the_core_group_is_listed_first() {
        let r = Registry::new(builtin());
        assert_eq!(r.groups().first().map(|g| g.0), Some(""));
    }
}
