//! Which lists a strategic merge patch merges, where they sit in each kind, and their merge keys.
//!
//! Source: the `patchStrategy:"merge"` / `patchMergeKey:"..."` Go struct tags of the
//! Kubernetes 1.33 built-in types, which the API server reads by reflection:
//! k8s.io/apimachinery/pkg/apis/meta/v1 (ObjectMeta), k8s.io/api/core/v1 (PodSpec,
//! Container, EphemeralContainerCommon, PodStatus, NodeSpec, NodeStatus, ServiceSpec,
//! ServiceStatus, ServiceAccount, NamespaceStatus, PersistentVolumeClaimStatus,
//! ReplicationControllerStatus), k8s.io/api/apps/v1, batch/v1, policy/v1 and
//! autoscaling/v2 status types.
//!
//! A list that is not in these tables has no patch strategy in Go (it is `atomic` or
//! untagged) and is replaced whole: e.g. `tolerations`, `readinessGates`,
//! `resizePolicy`, `envFrom`, `args`, Node `spec.taints`, CronJob `status.active`.
//!
//! Paths are dotted JSON field names; list elements do not add a segment, so the `env`
//! of each container of a PodSpec is `containers.env`.

/// How the elements of a merged list are matched up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ListStrategy {
    /// Objects matched by the value of this field (`patchMergeKey`).
    MergeKey(&'static str),
    /// Scalars; the patch is a set-union into the list.
    Set,
}

impl ListStrategy {
    pub(crate) fn merge_key(self) -> Option<&'static str> {
        match self {
            ListStrategy::MergeKey(key) => Some(key),
            ListStrategy::Set => None,
        }
    }
}

use ListStrategy::{MergeKey, Set};

/// A struct's merged lists, by path relative to the struct.
type Lists = &'static [(&'static str, ListStrategy)];

/// metav1.ObjectMeta.
const OBJECT_META: Lists = &[("finalizers", Set), ("ownerReferences", MergeKey("uid"))];

/// core/v1 PodSpec, with Container (and EphemeralContainerCommon, which has the same
/// tags) repeated under each of the three container lists.
const POD_SPEC: Lists = &[
    ("volumes", MergeKey("name")),
    ("initContainers", MergeKey("name")),
    ("initContainers.ports", MergeKey("containerPort")),
    ("initContainers.env", MergeKey("name")),
    ("initContainers.volumeMounts", MergeKey("mountPath")),
    ("initContainers.volumeDevices", MergeKey("devicePath")),
    ("containers", MergeKey("name")),
    ("containers.ports", MergeKey("containerPort")),
    ("containers.env", MergeKey("name")),
    ("containers.volumeMounts", MergeKey("mountPath")),
    ("containers.volumeDevices", MergeKey("devicePath")),
    ("ephemeralContainers", MergeKey("name")),
    ("ephemeralContainers.ports", MergeKey("containerPort")),
    ("ephemeralContainers.env", MergeKey("name")),
    ("ephemeralContainers.volumeMounts", MergeKey("mountPath")),
    ("ephemeralContainers.volumeDevices", MergeKey("devicePath")),
    ("imagePullSecrets", MergeKey("name")),
    ("hostAliases", MergeKey("ip")),
    ("topologySpreadConstraints", MergeKey("topologyKey")),
    ("schedulingGates", MergeKey("name")),
    ("resourceClaims", MergeKey("name")),
];

/// core/v1 PodStatus.
const POD_STATUS: Lists = &[
    ("conditions", MergeKey("type")),
    ("podIPs", MergeKey("ip")),
    ("hostIPs", MergeKey("ip")),
    ("resourceClaimStatuses", MergeKey("name")),
];

/// The `conditions` list every workload and most other statuses declare mergeable.
const CONDITIONS: Lists = &[("conditions", MergeKey("type"))];

/// core/v1 NodeSpec.
const NODE_SPEC: Lists = &[("podCIDRs", Set)];

/// core/v1 NodeStatus.
const NODE_STATUS: Lists = &[("conditions", MergeKey("type")), ("addresses", MergeKey("type"))];

/// core/v1 ServiceSpec.
const SERVICE_SPEC: Lists = &[("ports", MergeKey("port"))];

/// core/v1 ServiceAccount (top level).
const SERVICE_ACCOUNT: Lists = &[("secrets", MergeKey("name"))];

/// A struct type whose lists the tables above describe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Struct {
    ObjectMeta,
    PodSpec,
    PodStatus,
    /// Any status whose only merged list is `conditions`.
    Conditions,
    NodeSpec,
    NodeStatus,
    ServiceSpec,
    ServiceAccount,
}

impl Struct {
    fn lists(self) -> Lists {
        match self {
            Struct::ObjectMeta => OBJECT_META,
            Struct::PodSpec => POD_SPEC,
            Struct::PodStatus => POD_STATUS,
            Struct::Conditions => CONDITIONS,
            Struct::NodeSpec => NODE_SPEC,
            Struct::NodeStatus => NODE_STATUS,
            Struct::ServiceSpec => SERVICE_SPEC,
            Struct::ServiceAccount => SERVICE_ACCOUNT,
        }
    }
}

use Struct::{Conditions, NodeSpec, NodeStatus, ObjectMeta, PodSpec, PodStatus, ServiceAccount, ServiceSpec};

/// Where each kind embeds the structs above: (kind, path of the struct, the struct).
/// Kind `*` applies to every kind, known or not: every object has an ObjectMeta.
const EMBEDDED: &[(&str, &str, Struct)] = &[
    ("*", "metadata", ObjectMeta),
    ("Pod", "spec", PodSpec),
    ("Pod", "status", PodStatus),
    ("PodTemplate", "template.metadata", ObjectMeta),
    ("PodTemplate", "template.spec", PodSpec),
    ("ReplicationController", "spec.template.metadata", ObjectMeta),
    ("ReplicationController", "spec.template.spec", PodSpec),
    ("ReplicationController", "status", Conditions),
    ("Deployment", "spec.template.metadata", ObjectMeta),
    ("Deployment", "spec.template.spec", PodSpec),
    ("Deployment", "status", Conditions),
    ("ReplicaSet", "spec.template.metadata", ObjectMeta),
    ("ReplicaSet", "spec.template.spec", PodSpec),
    ("ReplicaSet", "status", Conditions),
    ("DaemonSet", "spec.template.metadata", ObjectMeta),
    ("DaemonSet", "spec.template.spec", PodSpec),
    ("DaemonSet", "status", Conditions),
    ("StatefulSet", "spec.template.metadata", ObjectMeta),
    ("StatefulSet", "spec.template.spec", PodSpec),
    ("StatefulSet", "spec.volumeClaimTemplates.metadata", ObjectMeta),
    ("StatefulSet", "status", Conditions),
    ("Job", "spec.template.metadata", ObjectMeta),
    ("Job", "spec.template.spec", PodSpec),
    ("Job", "status", Conditions),
    ("CronJob", "spec.jobTemplate.metadata", ObjectMeta),
    ("CronJob", "spec.jobTemplate.spec.template.metadata", ObjectMeta),
    ("CronJob", "spec.jobTemplate.spec.template.spec", PodSpec),
    ("Node", "spec", NodeSpec),
    ("Node", "status", NodeStatus),
    ("Service", "spec", ServiceSpec),
    ("Service", "status", Conditions),
    ("ServiceAccount", "", ServiceAccount),
    ("Namespace", "status", Conditions),
    ("PersistentVolumeClaim", "status", Conditions),
    ("PodDisruptionBudget", "status", Conditions),
    ("HorizontalPodAutoscaler", "status", Conditions),
];

/// The strategy of the list at `path` in an object of `kind`; `None` means "replace".
pub(crate) fn list_strategy(kind: &str, path: &str) -> Option<ListStrategy> {
    embeddings(kind, path).find_map(|(embedded, relative)| {
        embedded.lists().iter().find(|(list, _)| *list == relative).map(|(_, strategy)| *strategy)
    })
}

/// Each struct of the table that `path` (in an object of `kind`) lies in, with the path
/// relative to that struct.
pub(crate) fn embeddings<'a>(kind: &'a str, path: &'a str) -> impl Iterator<Item = (Struct, &'a str)> + 'a {
    EMBEDDED
        .iter()
        .filter(move |(k, _, _)| *k == "*" || *k == kind)
        .filter_map(move |(_, prefix, embedded)| Some((*embedded, relative_path(path, prefix)?)))
}

fn relative_path<'a>(path: &'a str, prefix: &str) -> Option<&'a str> {
    if prefix.is_empty() {
        return Some(path);
    }
    path.strip_prefix(prefix)?.strip_prefix('.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_merge_by_name_wherever_a_pod_spec_sits() {
        for (kind, path) in [
            ("Pod", "spec.containers"),
            ("Deployment", "spec.template.spec.containers"),
            ("CronJob", "spec.jobTemplate.spec.template.spec.containers"),
            ("PodTemplate", "template.spec.containers"),
        ] {
            assert_eq!(list_strategy(kind, path), Some(MergeKey("name")), "{kind}");
        }
    }

    #[test]
    fn container_fields_are_found_through_the_list() {
        assert_eq!(
            list_strategy("StatefulSet", "spec.template.spec.initContainers.volumeMounts"),
            Some(MergeKey("mountPath"))
        );
    }

    #[test]
    fn tolerations_taints_and_resize_policy_are_replaced() {
        assert_eq!(list_strategy("Pod", "spec.tolerations"), None);
        assert_eq!(list_strategy("Node", "spec.taints"), None);
        assert_eq!(list_strategy("Pod", "spec.containers.resizePolicy"), None);
    }

    #[test]
    fn metadata_lists_merge_for_every_kind() {
        assert_eq!(list_strategy("Widget", "metadata.finalizers"), Some(Set));
        assert_eq!(list_strategy("ConfigMap", "metadata.ownerReferences"), Some(MergeKey("uid")));
    }

    #[test]
    fn a_pod_spec_path_means_nothing_in_an_unknown_kind() {
        assert_eq!(list_strategy("Widget", "spec.template.spec.containers"), None);
    }
}
