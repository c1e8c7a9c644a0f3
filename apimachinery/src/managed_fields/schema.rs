//! How server-side apply sees each part of an object: which lists are maps keyed by
//! which fields, which are sets, which are atomic, and which objects are atomic.
//!
//! The lists come from the strategic-merge table (`patch::schema`): a list with a
//! `patchMergeKey` is an associative list keyed by it, a primitive merge list is a set,
//! every other list is atomic. Where Kubernetes 1.33's `x-kubernetes-list-type` /
//! `x-kubernetes-list-map-keys` differ from the strategic tags (multi-field keys, lists
//! that strategic merge merges but apply treats atomically, or the reverse), the
//! overrides below win. Objects are granular (owned field by field) except the
//! `x-kubernetes-map-type: atomic` ones listed here (label selectors, owner references,
//! key selectors, node selectors, `spec.selector` of Services).

use serde_json::Value;

use crate::patch::schema::{ListStrategy, Struct, embeddings, list_strategy};

use super::fieldpath::{Path, PathElement};

/// One key field of an associative list, with the default Kubernetes assumes when an
/// item leaves it out (`protocol: TCP` for ports).
pub(crate) type KeyField = (&'static str, Option<&'static str>);

/// How the items of a list are identified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ListType {
    /// Owned and replaced as a whole.
    Atomic,
    /// Scalars identified by value (`v:"x"`).
    Set,
    /// Objects identified by these fields (`k:{"name":"web"}`).
    Map(Vec<KeyField>),
}

const CONTAINER_PORT: &[KeyField] = &[("containerPort", None), ("protocol", Some("TCP"))];
const SERVICE_PORT: &[KeyField] = &[("port", None), ("protocol", Some("TCP"))];
const NAME: &[KeyField] = &[("name", None)];
const TOPOLOGY_SPREAD: &[KeyField] = &[("topologyKey", None), ("whenUnsatisfiable", None)];

/// A list whose apply type differs from its strategic-merge tags: (struct, path, keys);
/// empty keys mean atomic.
const LIST_OVERRIDES: &[(Struct, &str, &[KeyField])] = &[
    (Struct::PodSpec, "containers.ports", CONTAINER_PORT),
    (Struct::PodSpec, "initContainers.ports", CONTAINER_PORT),
    (Struct::PodSpec, "ephemeralContainers.ports", CONTAINER_PORT),
    (Struct::PodSpec, "containers.resources.claims", NAME),
    (Struct::PodSpec, "initContainers.resources.claims", NAME),
    (Struct::PodSpec, "ephemeralContainers.resources.claims", NAME),
    (Struct::PodSpec, "topologySpreadConstraints", TOPOLOGY_SPREAD),
    (Struct::PodStatus, "hostIPs", &[]),
    (Struct::ServiceSpec, "ports", SERVICE_PORT),
];

/// Kind-specific list overrides: (kind, path, keys); empty keys mean atomic.
const KIND_LIST_OVERRIDES: &[(&str, &str, &[KeyField])] =
    &[("Job", "status.conditions", &[]), ("Namespace", "spec.finalizers", &[])];

/// Objects owned as a whole, relative to the struct that holds them. A list's items
/// share the list's path, so `ownerReferences` names each owner reference.
const ATOMIC_OBJECTS: &[(Struct, &str)] = &[
    (Struct::ObjectMeta, "ownerReferences"),
    (Struct::PodSpec, "nodeSelector"),
    (Struct::PodSpec, "imagePullSecrets"),
    (Struct::PodSpec, "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"),
    (Struct::PodSpec, "topologySpreadConstraints.labelSelector"),
    (Struct::PodSpec, "containers.env.valueFrom.configMapKeyRef"),
    (Struct::PodSpec, "containers.env.valueFrom.secretKeyRef"),
    (Struct::PodSpec, "containers.env.valueFrom.fieldRef"),
    (Struct::PodSpec, "containers.env.valueFrom.resourceFieldRef"),
    (Struct::PodSpec, "initContainers.env.valueFrom.configMapKeyRef"),
    (Struct::PodSpec, "initContainers.env.valueFrom.secretKeyRef"),
    (Struct::PodSpec, "initContainers.env.valueFrom.fieldRef"),
    (Struct::PodSpec, "initContainers.env.valueFrom.resourceFieldRef"),
    (Struct::ServiceSpec, "selector"),
];

/// Kind-specific atomic objects: label selectors of workloads and the like.
const KIND_ATOMIC_OBJECTS: &[(&str, &str)] = &[
    ("Deployment", "spec.selector"),
    ("ReplicaSet", "spec.selector"),
    ("DaemonSet", "spec.selector"),
    ("StatefulSet", "spec.selector"),
    ("Job", "spec.selector"),
    ("CronJob", "spec.jobTemplate.spec.selector"),
    ("ReplicationController", "spec.selector"),
    ("PodDisruptionBudget", "spec.selector"),
];

/// Struct-typed fields Go always serialises (non-pointer structs), by name: in Kubernetes
/// they exist, empty, even in a freshly created object, so they are never "added".
const ALWAYS_PRESENT: &[&str] =
    &["metadata", "spec", "status", "template", "jobTemplate", "strategy", "updateStrategy"];

/// Lists without `omitempty` in Go, null rather than absent in a zero object.
const ALWAYS_PRESENT_LISTS: &[&str] = &["containers"];

/// The schema of one kind, looked up by dotted path (list items add no segment).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Schema<'a> {
    pub kind: &'a str,
}

impl Schema<'_> {
    /// How the list at `path` identifies its items.
    pub(crate) fn list_type(&self, path: &str) -> ListType {
        if let Some(keys) = self.list_override(path) {
            return from_keys(keys);
        }
        match list_strategy(self.kind, path) {
            Some(ListStrategy::MergeKey(key)) => ListType::Map(vec![(key, None)]),
            Some(ListStrategy::Set) => ListType::Set,
            None => ListType::Atomic,
        }
    }

    fn list_override(&self, path: &str) -> Option<&'static [KeyField]> {
        let by_kind = KIND_LIST_OVERRIDES.iter().find(|(kind, p, _)| *kind == self.kind && *p == path);
        if let Some((_, _, keys)) = by_kind {
            return Some(keys);
        }
        embeddings(self.kind, path).find_map(|(embedded, relative)| {
            LIST_OVERRIDES.iter().find(|(s, p, _)| *s == embedded && *p == relative).map(|(_, _, keys)| *keys)
        })
    }

    /// Whether the object at `path` is owned and replaced as a whole.
    pub(crate) fn is_atomic_object(&self, path: &str) -> bool {
        KIND_ATOMIC_OBJECTS.iter().any(|(kind, p)| *kind == self.kind && *p == path)
            || embeddings(self.kind, path)
                .any(|(embedded, relative)| ATOMIC_OBJECTS.iter().any(|(s, p)| *s == embedded && *p == relative))
    }
}

fn from_keys(keys: &'static [KeyField]) -> ListType {
    if keys.is_empty() { ListType::Atomic } else { ListType::Map(keys.to_vec()) }
}

/// Whether `path` is a field Kubernetes' typed objects always carry (a non-pointer struct,
/// or a list Go serialises as null), so that it exists even in a zero object.
pub(crate) fn always_present(path: &Path) -> bool {
    let Some((last, parents)) = path.0.split_last() else {
        return false;
    };
    let named = |element: &PathElement, names: &[&str]| matches!(element, PathElement::Field(name) if names.contains(&name.as_str()));
    parents.iter().all(|element| named(element, ALWAYS_PRESENT))
        && (named(last, ALWAYS_PRESENT) || named(last, ALWAYS_PRESENT_LISTS))
}

/// The path element of one list item: its key fields, its value, or (for an item that
/// cannot be identified) its index, as `Err` with the reason.
pub(crate) fn item_element(list: &ListType, item: &Value) -> Result<PathElement, String> {
    match list {
        ListType::Map(keys) => key_element(keys, item),
        ListType::Set => Ok(PathElement::Value(item.clone())),
        ListType::Atomic => Err("atomic lists have no items".into()),
    }
}

fn key_element(keys: &[KeyField], item: &Value) -> Result<PathElement, String> {
    let Value::Object(map) = item else {
        return Err(format!("expected an object in an associative list, got {item}"));
    };
    let mut fields = Vec::with_capacity(keys.len());
    for (name, default) in keys {
        let value = match (map.get(*name), default) {
            (Some(value), _) if !value.is_null() => value.clone(),
            (_, Some(default)) => Value::String((*default).to_string()),
            _ => {
                return Err(format!(
                    "associative list with keys has an element that omits key field {name:?} (and doesn't have default value)"
                ));
            }
        };
        fields.push((name.to_string(), value));
    }
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(PathElement::Key(fields))
}

/// The dotted schema path of a field below `parent`.
pub(crate) fn join(parent: &str, field: &str) -> String {
    if parent.is_empty() { field.to_string() } else { format!("{parent}.{field}") }
}
