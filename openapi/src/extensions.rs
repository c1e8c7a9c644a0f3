//! Kubernetes' list, map and patch extensions for the built-in schemas, which k8s-openapi omits.
//!
//! k8s-openapi's schemas carry descriptions and types but not the Go struct tags
//! (`+listType`, `+listMapKey`, `patchStrategy`, `patchMergeKey`, `+mapType`) that
//! Kubernetes publishes as `x-kubernetes-*` extensions. kubectl needs the patch ones
//! to build strategic merge patches from our OpenAPI v3, so they are restored here
//! from a table transcribed from the Kubernetes 1.33 OpenAPI document (stable
//! group-versions only). A test checks that every row names a real property.

use serde_json::{Map, Value};

/// The extensions of one property (or, with an empty property name, of the schema itself).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ext {
    list_type: Option<&'static str>,
    map_keys: &'static [&'static str],
    map_type: Option<&'static str>,
    patch_strategy: Option<&'static str>,
    merge_key: Option<&'static str>,
}

const NONE: Ext = Ext { list_type: None, map_keys: &[], map_type: None, patch_strategy: None, merge_key: None };

const fn atomic() -> Ext {
    Ext { list_type: Some("atomic"), ..NONE }
}

const fn set() -> Ext {
    Ext { list_type: Some("set"), ..NONE }
}

const fn map(keys: &'static [&'static str]) -> Ext {
    Ext { list_type: Some("map"), map_keys: keys, ..NONE }
}

/// `x-kubernetes-map-type`, for objects and string maps.
const fn struct_type(map_type: &'static str) -> Ext {
    Ext { map_type: Some(map_type), ..NONE }
}

impl Ext {
    const fn patch(self, strategy: &'static str) -> Ext {
        Ext { patch_strategy: Some(strategy), ..self }
    }

    const fn key(self, merge_key: &'static str) -> Ext {
        Ext { merge_key: Some(merge_key), ..self }
    }

    /// Writes the extensions into a schema object, in Kubernetes' (alphabetical) key order.
    fn apply(&self, schema: &mut Map<String, Value>) {
        if !self.map_keys.is_empty() {
            let keys = self.map_keys.iter().map(|k| Value::from(*k)).collect();
            schema.insert("x-kubernetes-list-map-keys".into(), Value::Array(keys));
        }
        let strings = [
            ("x-kubernetes-list-type", self.list_type),
            ("x-kubernetes-map-type", self.map_type),
            ("x-kubernetes-patch-merge-key", self.merge_key),
            ("x-kubernetes-patch-strategy", self.patch_strategy),
        ];
        for (name, value) in strings {
            if let Some(value) = value {
                schema.insert(name.into(), value.into());
            }
        }
    }
}

/// Adds the table's extensions to whichever of its definitions are present.
pub(crate) fn apply(definitions: &mut Map<String, Value>) {
    for (name, fields) in TABLE {
        let Some(Value::Object(schema)) = definitions.get_mut(*name) else {
            continue;
        };
        for (property, ext) in *fields {
            if property.is_empty() {
                ext.apply(schema);
            } else if let Some(Value::Object(prop)) =
                schema.get_mut("properties").and_then(|props| props.get_mut(*property))
            {
                ext.apply(prop);
            }
        }
    }
}

/// Every (definition, property) the table names, for tests.
#[cfg(test)]
pub(crate) fn rows() -> impl Iterator<Item = (&'static str, &'static str)> {
    TABLE.iter().flat_map(|(name, fields)| fields.iter().map(move |(prop, _)| (*name, *prop)))
}

/// (definition, [(property, extensions)]); property "" is the definition itself.
type Row = (&'static str, &'static [(&'static str, Ext)]);

static TABLE: &[Row] = &[
    (
        "io.k8s.api.admissionregistration.v1.MatchResources",
        &[("", struct_type("atomic")), ("excludeResourceRules", atomic()), ("resourceRules", atomic())],
    ),
    (
        "io.k8s.api.admissionregistration.v1.MutatingWebhook",
        &[
            ("admissionReviewVersions", atomic()),
            ("matchConditions", map(&["name"]).patch("merge").key("name")),
            ("rules", atomic()),
        ],
    ),
    (
        "io.k8s.api.admissionregistration.v1.MutatingWebhookConfiguration",
        &[("webhooks", map(&["name"]).patch("merge").key("name"))],
    ),
    (
        "io.k8s.api.admissionregistration.v1.NamedRuleWithOperations",
        &[
            ("", struct_type("atomic")),
            ("apiGroups", atomic()),
            ("apiVersions", atomic()),
            ("operations", atomic()),
            ("resourceNames", atomic()),
            ("resources", atomic()),
        ],
    ),
    ("io.k8s.api.admissionregistration.v1.ParamKind", &[("", struct_type("atomic"))]),
    ("io.k8s.api.admissionregistration.v1.ParamRef", &[("", struct_type("atomic"))]),
    (
        "io.k8s.api.admissionregistration.v1.RuleWithOperations",
        &[("apiGroups", atomic()), ("apiVersions", atomic()), ("operations", atomic()), ("resources", atomic())],
    ),
    ("io.k8s.api.admissionregistration.v1.TypeChecking", &[("expressionWarnings", atomic())]),
    ("io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyBindingSpec", &[("validationActions", set())]),
    (
        "io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicySpec",
        &[
            ("auditAnnotations", atomic()),
            ("matchConditions", map(&["name"]).patch("merge").key("name")),
            ("validations", atomic()),
            ("variables", map(&["name"]).patch("merge").key("name")),
        ],
    ),
    ("io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyStatus", &[("conditions", map(&["type"]))]),
    (
        "io.k8s.api.admissionregistration.v1.ValidatingWebhook",
        &[
            ("admissionReviewVersions", atomic()),
            ("matchConditions", map(&["name"]).patch("merge").key("name")),
            ("rules", atomic()),
        ],
    ),
    (
        "io.k8s.api.admissionregistration.v1.ValidatingWebhookConfiguration",
        &[("webhooks", map(&["name"]).patch("merge").key("name"))],
    ),
    ("io.k8s.api.admissionregistration.v1.Variable", &[("", struct_type("atomic"))]),
    ("io.k8s.api.apps.v1.DaemonSetStatus", &[("conditions", map(&["type"]).patch("merge").key("type"))]),
    ("io.k8s.api.apps.v1.DeploymentSpec", &[("strategy", NONE.patch("retainKeys"))]),
    ("io.k8s.api.apps.v1.DeploymentStatus", &[("conditions", map(&["type"]).patch("merge").key("type"))]),
    ("io.k8s.api.apps.v1.ReplicaSetStatus", &[("conditions", map(&["type"]).patch("merge").key("type"))]),
    ("io.k8s.api.apps.v1.StatefulSetSpec", &[("volumeClaimTemplates", atomic())]),
    ("io.k8s.api.apps.v1.StatefulSetStatus", &[("conditions", map(&["type"]).patch("merge").key("type"))]),
    ("io.k8s.api.authentication.v1.TokenRequestSpec", &[("audiences", atomic())]),
    ("io.k8s.api.authentication.v1.TokenReviewSpec", &[("audiences", atomic())]),
    ("io.k8s.api.authentication.v1.TokenReviewStatus", &[("audiences", atomic())]),
    ("io.k8s.api.authentication.v1.UserInfo", &[("groups", atomic())]),
    ("io.k8s.api.authorization.v1.FieldSelectorAttributes", &[("requirements", atomic())]),
    ("io.k8s.api.authorization.v1.LabelSelectorAttributes", &[("requirements", atomic())]),
    ("io.k8s.api.authorization.v1.NonResourceRule", &[("nonResourceURLs", atomic()), ("verbs", atomic())]),
    (
        "io.k8s.api.authorization.v1.ResourceRule",
        &[("apiGroups", atomic()), ("resourceNames", atomic()), ("resources", atomic()), ("verbs", atomic())],
    ),
    ("io.k8s.api.authorization.v1.SubjectAccessReviewSpec", &[("groups", atomic())]),
    (
        "io.k8s.api.authorization.v1.SubjectRulesReviewStatus",
        &[("nonResourceRules", atomic()), ("resourceRules", atomic())],
    ),
    ("io.k8s.api.autoscaling.v1.CrossVersionObjectReference", &[("", struct_type("atomic"))]),
    ("io.k8s.api.autoscaling.v2.HPAScalingRules", &[("policies", atomic())]),
    ("io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec", &[("metrics", atomic())]),
    (
        "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus",
        &[("conditions", map(&["type"]).patch("merge").key("type")), ("currentMetrics", atomic())],
    ),
    ("io.k8s.api.batch.v1.CronJobStatus", &[("active", atomic())]),
    ("io.k8s.api.batch.v1.JobStatus", &[("conditions", atomic().patch("merge").key("type"))]),
    ("io.k8s.api.batch.v1.PodFailurePolicy", &[("rules", atomic())]),
    ("io.k8s.api.batch.v1.PodFailurePolicyOnExitCodesRequirement", &[("values", set())]),
    ("io.k8s.api.batch.v1.PodFailurePolicyRule", &[("onPodConditions", atomic())]),
    ("io.k8s.api.batch.v1.SuccessPolicy", &[("rules", atomic())]),
    ("io.k8s.api.batch.v1.UncountedTerminatedPods", &[("failed", set()), ("succeeded", set())]),
    (
        "io.k8s.api.certificates.v1.CertificateSigningRequestSpec",
        &[("groups", atomic()), ("request", atomic()), ("usages", atomic())],
    ),
    (
        "io.k8s.api.certificates.v1.CertificateSigningRequestStatus",
        &[("certificate", atomic()), ("conditions", map(&["type"]))],
    ),
    ("io.k8s.api.core.v1.Capabilities", &[("add", atomic()), ("drop", atomic())]),
    ("io.k8s.api.core.v1.CephFSPersistentVolumeSource", &[("monitors", atomic())]),
    ("io.k8s.api.core.v1.CephFSVolumeSource", &[("monitors", atomic())]),
    ("io.k8s.api.core.v1.ComponentStatus", &[("conditions", map(&["type"]).patch("merge").key("type"))]),
    ("io.k8s.api.core.v1.ConfigMapKeySelector", &[("", struct_type("atomic"))]),
    ("io.k8s.api.core.v1.ConfigMapProjection", &[("items", atomic())]),
    ("io.k8s.api.core.v1.ConfigMapVolumeSource", &[("items", atomic())]),
    (
        "io.k8s.api.core.v1.Container",
        &[
            ("args", atomic()),
            ("command", atomic()),
            ("env", map(&["name"]).patch("merge").key("name")),
            ("envFrom", atomic()),
            ("ports", map(&["containerPort", "protocol"]).patch("merge").key("containerPort")),
            ("resizePolicy", atomic()),
            ("volumeDevices", map(&["devicePath"]).patch("merge").key("devicePath")),
            ("volumeMounts", map(&["mountPath"]).patch("merge").key("mountPath")),
        ],
    ),
    ("io.k8s.api.core.v1.ContainerImage", &[("names", atomic())]),
    (
        "io.k8s.api.core.v1.ContainerStatus",
        &[
            ("allocatedResourcesStatus", map(&["name"]).patch("merge").key("name")),
            ("volumeMounts", map(&["mountPath"]).patch("merge").key("mountPath")),
        ],
    ),
    ("io.k8s.api.core.v1.DownwardAPIProjection", &[("items", atomic())]),
    ("io.k8s.api.core.v1.DownwardAPIVolumeSource", &[("items", atomic())]),
    ("io.k8s.api.core.v1.EndpointAddress", &[("", struct_type("atomic"))]),
    ("io.k8s.api.core.v1.EndpointPort", &[("", struct_type("atomic"))]),
    (
        "io.k8s.api.core.v1.EndpointSubset",
        &[("addresses", atomic()), ("notReadyAddresses", atomic()), ("ports", atomic())],
    ),
    ("io.k8s.api.core.v1.Endpoints", &[("subsets", atomic())]),
    (
        "io.k8s.api.core.v1.EphemeralContainer",
        &[
            ("args", atomic()),
            ("command", atomic()),
            ("env", map(&["name"]).patch("merge").key("name")),
            ("envFrom", atomic()),
            ("ports", map(&["containerPort", "protocol"]).patch("merge").key("containerPort")),
            ("resizePolicy", atomic()),
            ("volumeDevices", map(&["devicePath"]).patch("merge").key("devicePath")),
            ("volumeMounts", map(&["mountPath"]).patch("merge").key("mountPath")),
        ],
    ),
    ("io.k8s.api.core.v1.ExecAction", &[("command", atomic())]),
    ("io.k8s.api.core.v1.FCVolumeSource", &[("targetWWNs", atomic()), ("wwids", atomic())]),
    ("io.k8s.api.core.v1.HTTPGetAction", &[("httpHeaders", atomic())]),
    ("io.k8s.api.core.v1.HostAlias", &[("hostnames", atomic())]),
    ("io.k8s.api.core.v1.ISCSIPersistentVolumeSource", &[("portals", atomic())]),
    ("io.k8s.api.core.v1.ISCSIVolumeSource", &[("portals", atomic())]),
    ("io.k8s.api.core.v1.LimitRangeSpec", &[("limits", atomic())]),
    ("io.k8s.api.core.v1.LinuxContainerUser", &[("supplementalGroups", atomic())]),
    ("io.k8s.api.core.v1.LoadBalancerIngress", &[("ports", atomic())]),
    ("io.k8s.api.core.v1.LoadBalancerStatus", &[("ingress", atomic())]),
    ("io.k8s.api.core.v1.LocalObjectReference", &[("", struct_type("atomic"))]),
    ("io.k8s.api.core.v1.NamespaceSpec", &[("finalizers", atomic())]),
    ("io.k8s.api.core.v1.NamespaceStatus", &[("conditions", map(&["type"]).patch("merge").key("type"))]),
    ("io.k8s.api.core.v1.NodeAffinity", &[("preferredDuringSchedulingIgnoredDuringExecution", atomic())]),
    ("io.k8s.api.core.v1.NodeSelector", &[("", struct_type("atomic")), ("nodeSelectorTerms", atomic())]),
    ("io.k8s.api.core.v1.NodeSelectorRequirement", &[("values", atomic())]),
    (
        "io.k8s.api.core.v1.NodeSelectorTerm",
        &[("", struct_type("atomic")), ("matchExpressions", atomic()), ("matchFields", atomic())],
    ),
    ("io.k8s.api.core.v1.NodeSpec", &[("podCIDRs", set().patch("merge")), ("taints", atomic())]),
    (
        "io.k8s.api.core.v1.NodeStatus",
        &[
            ("addresses", map(&["type"]).patch("merge").key("type")),
            ("conditions", map(&["type"]).patch("merge").key("type")),
            ("images", atomic()),
            ("runtimeHandlers", atomic()),
            ("volumesAttached", atomic()),
            ("volumesInUse", atomic()),
        ],
    ),
    ("io.k8s.api.core.v1.ObjectFieldSelector", &[("", struct_type("atomic"))]),
    ("io.k8s.api.core.v1.ObjectReference", &[("", struct_type("atomic"))]),
    ("io.k8s.api.core.v1.PersistentVolumeClaimSpec", &[("accessModes", atomic())]),
    (
        "io.k8s.api.core.v1.PersistentVolumeClaimStatus",
        &[
            ("accessModes", atomic()),
            ("allocatedResourceStatuses", struct_type("granular")),
            ("conditions", map(&["type"]).patch("merge").key("type")),
        ],
    ),
    (
        "io.k8s.api.core.v1.PersistentVolumeSpec",
        &[("accessModes", atomic()), ("claimRef", struct_type("granular")), ("mountOptions", atomic())],
    ),
    (
        "io.k8s.api.core.v1.PodAffinity",
        &[
            ("preferredDuringSchedulingIgnoredDuringExecution", atomic()),
            ("requiredDuringSchedulingIgnoredDuringExecution", atomic()),
        ],
    ),
    (
        "io.k8s.api.core.v1.PodAffinityTerm",
        &[("matchLabelKeys", atomic()), ("mismatchLabelKeys", atomic()), ("namespaces", atomic())],
    ),
    (
        "io.k8s.api.core.v1.PodAntiAffinity",
        &[
            ("preferredDuringSchedulingIgnoredDuringExecution", atomic()),
            ("requiredDuringSchedulingIgnoredDuringExecution", atomic()),
        ],
    ),
    ("io.k8s.api.core.v1.PodDNSConfig", &[("nameservers", atomic()), ("options", atomic()), ("searches", atomic())]),
    ("io.k8s.api.core.v1.PodSecurityContext", &[("supplementalGroups", atomic()), ("sysctls", atomic())]),
    (
        "io.k8s.api.core.v1.PodSpec",
        &[
            ("containers", map(&["name"]).patch("merge").key("name")),
            ("ephemeralContainers", map(&["name"]).patch("merge").key("name")),
            ("hostAliases", map(&["ip"]).patch("merge").key("ip")),
            ("imagePullSecrets", map(&["name"]).patch("merge").key("name")),
            ("initContainers", map(&["name"]).patch("merge").key("name")),
            ("nodeSelector", struct_type("atomic")),
            ("readinessGates", atomic()),
            ("resourceClaims", map(&["name"]).patch("merge,retainKeys").key("name")),
            ("schedulingGates", map(&["name"]).patch("merge").key("name")),
            ("tolerations", atomic()),
            ("topologySpreadConstraints", map(&["topologyKey", "whenUnsatisfiable"]).patch("merge").key("topologyKey")),
            ("volumes", map(&["name"]).patch("merge,retainKeys").key("name")),
        ],
    ),
    (
        "io.k8s.api.core.v1.PodStatus",
        &[
            ("conditions", map(&["type"]).patch("merge").key("type")),
            ("containerStatuses", atomic()),
            ("ephemeralContainerStatuses", atomic()),
            ("hostIPs", atomic().patch("merge").key("ip")),
            ("initContainerStatuses", atomic()),
            ("podIPs", map(&["ip"]).patch("merge").key("ip")),
            ("resourceClaimStatuses", map(&["name"]).patch("merge,retainKeys").key("name")),
        ],
    ),
    ("io.k8s.api.core.v1.ProjectedVolumeSource", &[("sources", atomic())]),
    ("io.k8s.api.core.v1.RBDPersistentVolumeSource", &[("monitors", atomic())]),
    ("io.k8s.api.core.v1.RBDVolumeSource", &[("monitors", atomic())]),
    ("io.k8s.api.core.v1.ReplicationControllerSpec", &[("selector", struct_type("atomic"))]),
    ("io.k8s.api.core.v1.ReplicationControllerStatus", &[("conditions", map(&["type"]).patch("merge").key("type"))]),
    ("io.k8s.api.core.v1.ResourceFieldSelector", &[("", struct_type("atomic"))]),
    ("io.k8s.api.core.v1.ResourceQuotaSpec", &[("scopes", atomic())]),
    ("io.k8s.api.core.v1.ResourceRequirements", &[("claims", map(&["name"]))]),
    ("io.k8s.api.core.v1.ResourceStatus", &[("resources", map(&["resourceID"]))]),
    ("io.k8s.api.core.v1.ScopeSelector", &[("", struct_type("atomic")), ("matchExpressions", atomic())]),
    ("io.k8s.api.core.v1.ScopedResourceSelectorRequirement", &[("values", atomic())]),
    ("io.k8s.api.core.v1.SecretKeySelector", &[("", struct_type("atomic"))]),
    ("io.k8s.api.core.v1.SecretProjection", &[("items", atomic())]),
    ("io.k8s.api.core.v1.SecretReference", &[("", struct_type("atomic"))]),
    ("io.k8s.api.core.v1.SecretVolumeSource", &[("items", atomic())]),
    (
        "io.k8s.api.core.v1.ServiceAccount",
        &[("imagePullSecrets", atomic()), ("secrets", map(&["name"]).patch("merge").key("name"))],
    ),
    (
        "io.k8s.api.core.v1.ServiceSpec",
        &[
            ("clusterIPs", atomic()),
            ("externalIPs", atomic()),
            ("ipFamilies", atomic()),
            ("loadBalancerSourceRanges", atomic()),
            ("ports", map(&["port", "protocol"]).patch("merge").key("port")),
            ("selector", struct_type("atomic")),
        ],
    ),
    ("io.k8s.api.core.v1.ServiceStatus", &[("conditions", map(&["type"]).patch("merge").key("type"))]),
    ("io.k8s.api.core.v1.TopologySelectorLabelRequirement", &[("values", atomic())]),
    ("io.k8s.api.core.v1.TopologySelectorTerm", &[("", struct_type("atomic")), ("matchLabelExpressions", atomic())]),
    ("io.k8s.api.core.v1.TopologySpreadConstraint", &[("matchLabelKeys", atomic())]),
    ("io.k8s.api.core.v1.TypedLocalObjectReference", &[("", struct_type("atomic"))]),
    ("io.k8s.api.discovery.v1.Endpoint", &[("addresses", set())]),
    ("io.k8s.api.discovery.v1.EndpointHints", &[("forNodes", atomic()), ("forZones", atomic())]),
    ("io.k8s.api.discovery.v1.EndpointPort", &[("", struct_type("atomic"))]),
    ("io.k8s.api.discovery.v1.EndpointSlice", &[("endpoints", atomic()), ("ports", atomic())]),
    ("io.k8s.api.flowcontrol.v1.FlowSchemaSpec", &[("rules", atomic())]),
    ("io.k8s.api.flowcontrol.v1.FlowSchemaStatus", &[("conditions", map(&["type"]).patch("merge").key("type"))]),
    ("io.k8s.api.flowcontrol.v1.NonResourcePolicyRule", &[("nonResourceURLs", set()), ("verbs", set())]),
    (
        "io.k8s.api.flowcontrol.v1.PolicyRulesWithSubjects",
        &[("nonResourceRules", atomic()), ("resourceRules", atomic()), ("subjects", atomic())],
    ),
    (
        "io.k8s.api.flowcontrol.v1.PriorityLevelConfigurationStatus",
        &[("conditions", map(&["type"]).patch("merge").key("type"))],
    ),
    (
        "io.k8s.api.flowcontrol.v1.ResourcePolicyRule",
        &[("apiGroups", set()), ("namespaces", set()), ("resources", set()), ("verbs", set())],
    ),
    ("io.k8s.api.networking.v1.HTTPIngressRuleValue", &[("paths", atomic())]),
    ("io.k8s.api.networking.v1.IPBlock", &[("except", atomic())]),
    ("io.k8s.api.networking.v1.IngressLoadBalancerIngress", &[("ports", atomic())]),
    ("io.k8s.api.networking.v1.IngressLoadBalancerStatus", &[("ingress", atomic())]),
    ("io.k8s.api.networking.v1.IngressSpec", &[("rules", atomic()), ("tls", atomic())]),
    ("io.k8s.api.networking.v1.IngressTLS", &[("hosts", atomic())]),
    ("io.k8s.api.networking.v1.NetworkPolicyEgressRule", &[("ports", atomic()), ("to", atomic())]),
    ("io.k8s.api.networking.v1.NetworkPolicyIngressRule", &[("from", atomic()), ("ports", atomic())]),
    (
        "io.k8s.api.networking.v1.NetworkPolicySpec",
        &[("egress", atomic()), ("ingress", atomic()), ("policyTypes", atomic())],
    ),
    ("io.k8s.api.networking.v1.ServiceBackendPort", &[("", struct_type("atomic"))]),
    ("io.k8s.api.networking.v1.ServiceCIDRSpec", &[("cidrs", atomic())]),
    ("io.k8s.api.networking.v1.ServiceCIDRStatus", &[("conditions", map(&["type"]).patch("merge").key("type"))]),
    ("io.k8s.api.node.v1.Scheduling", &[("nodeSelector", struct_type("atomic")), ("tolerations", atomic())]),
    ("io.k8s.api.policy.v1.PodDisruptionBudgetSpec", &[("selector", NONE.patch("replace"))]),
    ("io.k8s.api.policy.v1.PodDisruptionBudgetStatus", &[("conditions", map(&["type"]).patch("merge").key("type"))]),
    ("io.k8s.api.rbac.v1.AggregationRule", &[("clusterRoleSelectors", atomic())]),
    ("io.k8s.api.rbac.v1.ClusterRole", &[("rules", atomic())]),
    ("io.k8s.api.rbac.v1.ClusterRoleBinding", &[("subjects", atomic())]),
    (
        "io.k8s.api.rbac.v1.PolicyRule",
        &[
            ("apiGroups", atomic()),
            ("nonResourceURLs", atomic()),
            ("resourceNames", atomic()),
            ("resources", atomic()),
            ("verbs", atomic()),
        ],
    ),
    ("io.k8s.api.rbac.v1.Role", &[("rules", atomic())]),
    ("io.k8s.api.rbac.v1.RoleBinding", &[("subjects", atomic())]),
    ("io.k8s.api.rbac.v1.RoleRef", &[("", struct_type("atomic"))]),
    ("io.k8s.api.rbac.v1.Subject", &[("", struct_type("atomic"))]),
    ("io.k8s.api.storage.v1.CSIDriverSpec", &[("tokenRequests", atomic()), ("volumeLifecycleModes", set())]),
    ("io.k8s.api.storage.v1.CSINodeDriver", &[("topologyKeys", atomic())]),
    ("io.k8s.api.storage.v1.CSINodeSpec", &[("drivers", map(&["name"]).patch("merge").key("name"))]),
    ("io.k8s.api.storage.v1.StorageClass", &[("allowedTopologies", atomic()), ("mountOptions", atomic())]),
    (
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionNames",
        &[("categories", atomic()), ("shortNames", atomic())],
    ),
    (
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionSpec",
        &[("versions", atomic())],
    ),
    (
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionStatus",
        &[("conditions", map(&["type"])), ("storedVersions", atomic())],
    ),
    (
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionVersion",
        &[("additionalPrinterColumns", atomic()), ("selectableFields", atomic())],
    ),
    (
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps",
        &[
            ("allOf", atomic()),
            ("anyOf", atomic()),
            ("enum", atomic()),
            ("oneOf", atomic()),
            ("required", atomic()),
            ("x-kubernetes-list-map-keys", atomic()),
            ("x-kubernetes-validations", map(&["rule"]).patch("merge").key("rule")),
        ],
    ),
    (
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.WebhookConversion",
        &[("conversionReviewVersions", atomic())],
    ),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.APIGroup",
        &[("serverAddressByClientCIDRs", atomic()), ("versions", atomic())],
    ),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.APIGroupList", &[("groups", atomic())]),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.APIResource", &[("categories", atomic()), ("shortNames", atomic())]),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList", &[("resources", atomic())]),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.APIVersions",
        &[("serverAddressByClientCIDRs", atomic()), ("versions", atomic())],
    ),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions", &[("dryRun", atomic())]),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.FieldSelectorRequirement", &[("values", atomic())]),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector",
        &[("", struct_type("atomic")), ("matchExpressions", atomic())],
    ),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement", &[("values", atomic())]),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        &[
            ("finalizers", set().patch("merge")),
            ("managedFields", atomic()),
            ("ownerReferences", map(&["uid"]).patch("merge").key("uid")),
        ],
    ),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference", &[("", struct_type("atomic"))]),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.Status", &[("details", atomic())]),
    ("io.k8s.apimachinery.pkg.apis.meta.v1.StatusDetails", &[("causes", atomic())]),
    ("io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIServiceSpec", &[("caBundle", atomic())]),
    (
        "io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIServiceStatus",
        &[("conditions", map(&["type"]).patch("merge").key("type"))],
    ),
];
