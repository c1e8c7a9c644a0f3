//! A pod with everything the plugins ask of it computed once: requests, ports, affinity terms,
//! spread constraints.

use std::collections::HashMap;

use k8s_openapi::api::core::v1::{NodeSelectorTerm, Pod, PodAffinityTerm, Toleration, TopologySpreadConstraint};

use crate::resources::{PodRequests, pod_requests};
use crate::selector::{Labels, NO_LABELS, NodeTerm, Requirement, Selector};

/// The labels of each namespace, for affinity terms with a namespaceSelector.
pub type NamespaceLabels = HashMap<String, Labels>;

/// A host port a pod claims on its node.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HostPort {
    /// The host IP; "0.0.0.0" stands for every address.
    pub ip: String,
    /// TCP, UDP or SCTP.
    pub protocol: String,
    /// The port number.
    pub port: i32,
}

/// One pod (anti-)affinity term, compiled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AffinityTerm {
    /// Namespaces named by the term (the pod's own when it names none and has no selector).
    pub namespaces: Vec<String>,
    /// Namespaces selected by labels; `Nothing` when the term has no namespaceSelector.
    pub namespace_selector: Selector,
    /// Which pods the term is about.
    pub selector: Selector,
    /// The node label whose values are the domains.
    pub topology_key: String,
    /// The weight of a preferred term (1 for a required one).
    pub weight: i64,
}

impl AffinityTerm {
    fn compile(owner: &Pod, term: &PodAffinityTerm, weight: i64) -> AffinityTerm {
        let own_namespace = owner.metadata.namespace.clone().unwrap_or_default();
        let mut namespaces = term.namespaces.clone().unwrap_or_default();
        if namespaces.is_empty() && term.namespace_selector.is_none() {
            namespaces.push(own_namespace);
        }
        let mut selector = Selector::from_label_selector(term.label_selector.as_ref());
        let labels = owner.metadata.labels.as_ref().unwrap_or(&NO_LABELS);
        // matchLabelKeys / mismatchLabelKeys take their values from the term's own pod.
        for key in term.match_label_keys.iter().flatten() {
            if let Some(v) = labels.get(key) {
                selector.and(Requirement::is_in(key, vec![v.clone()]));
            }
        }
        for key in term.mismatch_label_keys.iter().flatten() {
            if let Some(v) = labels.get(key) {
                selector.and(Requirement::not_in(key, vec![v.clone()]));
            }
        }
        AffinityTerm {
            namespaces,
            namespace_selector: Selector::from_label_selector(term.namespace_selector.as_ref()),
            selector,
            topology_key: term.topology_key.clone(),
            weight,
        }
    }

    /// Whether `pod` is one of the pods this term is about.
    pub fn matches(&self, pod: &PodInfo, namespaces: &NamespaceLabels) -> bool {
        self.matches_namespace(&pod.namespace, namespaces) && self.selector.matches(pod.labels())
    }

    fn matches_namespace(&self, namespace: &str, namespaces: &NamespaceLabels) -> bool {
        self.namespaces.iter().any(|n| n == namespace)
            || (!self.namespace_selector.is_nothing()
                && self.namespace_selector.matches(namespaces.get(namespace).unwrap_or(&NO_LABELS)))
    }
}

/// One topology spread constraint, compiled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpreadConstraint {
    /// The largest allowed difference between the fullest and emptiest domain.
    pub max_skew: i64,
    /// The node label whose values are the domains.
    pub topology_key: String,
    /// DoNotSchedule (a filter) rather than ScheduleAnyway (a score).
    pub hard: bool,
    /// Which pods are counted (labelSelector plus matchLabelKeys).
    pub selector: Selector,
    /// Fewer eligible domains than this count the global minimum as 0.
    pub min_domains: i64,
    /// nodeAffinityPolicy Honor (the default): count only nodes the pod's node affinity allows.
    pub honor_node_affinity: bool,
    /// nodeTaintsPolicy Honor: count only nodes whose taints the pod tolerates (default Ignore).
    pub honor_taints: bool,
}

impl SpreadConstraint {
    fn compile(owner: &Pod, c: &TopologySpreadConstraint) -> SpreadConstraint {
        let mut selector = Selector::from_label_selector(c.label_selector.as_ref());
        let labels = owner.metadata.labels.as_ref().unwrap_or(&NO_LABELS);
        for key in c.match_label_keys.iter().flatten() {
            if let Some(v) = labels.get(key) {
                selector.and(Requirement::is_in(key, vec![v.clone()]));
            }
        }
        SpreadConstraint {
            max_skew: i64::from(c.max_skew),
            topology_key: c.topology_key.clone(),
            hard: c.when_unsatisfiable == "DoNotSchedule",
            selector,
            min_domains: i64::from(c.min_domains.unwrap_or(1).max(1)),
            honor_node_affinity: c.node_affinity_policy.as_deref() != Some("Ignore"),
            honor_taints: c.node_taints_policy.as_deref() == Some("Honor"),
        }
    }
}

/// The pod's nodeSelector and required node affinity.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequiredNodeAffinity {
    node_selector: Vec<(String, String)>,
    /// `None`: no required node affinity; otherwise one of the terms must match (invalid terms
    /// were dropped, so an empty list matches nothing).
    terms: Option<Vec<NodeTerm>>,
}

impl RequiredNodeAffinity {
    /// Whether a node with these labels and name satisfies nodeSelector and required affinity.
    pub fn matches(&self, labels: &Labels, node_name: &str) -> bool {
        self.node_selector.iter().all(|(k, v)| labels.get(k) == Some(v))
            && self.terms.as_ref().is_none_or(|terms| terms.iter().any(|t| t.matches(labels, node_name)))
    }

    /// True when the pod puts no constraint on node labels.
    pub fn is_empty(&self) -> bool {
        self.node_selector.is_empty() && self.terms.is_none()
    }
}

/// A pod as the scheduler sees it. Built once when the pod is seen; shared by `Arc`.
#[derive(Clone, Debug)]
pub struct PodInfo {
    /// The pod object as last seen.
    pub pod: Pod,
    /// metadata.uid (or namespace/name when the object has none).
    pub uid: String,
    /// metadata.namespace.
    pub namespace: String,
    /// metadata.name.
    pub name: String,
    /// spec.priority (0 when unset).
    pub priority: i32,
    /// What the pod requests.
    pub requests: PodRequests,
    /// Host ports of its containers.
    pub host_ports: Vec<HostPort>,
    /// nodeSelector and required node affinity.
    pub node_affinity: RequiredNodeAffinity,
    /// Preferred node affinity terms with their weights.
    pub preferred_node_affinity: Vec<(i64, NodeTerm)>,
    /// Required pod affinity terms.
    pub required_affinity: Vec<AffinityTerm>,
    /// Required pod anti-affinity terms.
    pub required_anti_affinity: Vec<AffinityTerm>,
    /// Preferred pod affinity terms.
    pub preferred_affinity: Vec<AffinityTerm>,
    /// Preferred pod anti-affinity terms.
    pub preferred_anti_affinity: Vec<AffinityTerm>,
    /// Topology spread constraints.
    pub spread: Vec<SpreadConstraint>,
    /// The uid of the pod's controller (ownerReference with controller true), for default spreading.
    pub controller_uid: Option<String>,
    /// Names of the PersistentVolumeClaims its volumes use (ephemeral volumes included).
    pub claims: Vec<String>,
}

impl PodInfo {
    /// Precomputes everything about `pod`.
    pub fn new(pod: Pod) -> PodInfo {
        let namespace = pod.metadata.namespace.clone().unwrap_or_default();
        let name = pod.metadata.name.clone().unwrap_or_default();
        let uid = pod.metadata.uid.clone().unwrap_or_else(|| format!("{namespace}/{name}"));
        let spec = pod.spec.as_ref();
        let affinity = spec.and_then(|s| s.affinity.as_ref());
        let pod_affinity = affinity.and_then(|a| a.pod_affinity.as_ref());
        let anti = affinity.and_then(|a| a.pod_anti_affinity.as_ref());
        let required = |terms: Option<&Vec<PodAffinityTerm>>| -> Vec<AffinityTerm> {
            terms.into_iter().flatten().map(|t| AffinityTerm::compile(&pod, t, 1)).collect()
        };
        let mut info = PodInfo {
            uid,
            namespace,
            name,
            priority: spec.and_then(|s| s.priority).unwrap_or(0),
            requests: pod_requests(&pod),
            host_ports: host_ports(&pod),
            node_affinity: required_node_affinity(&pod),
            preferred_node_affinity: preferred_node_affinity(&pod),
            required_affinity: required(
                pod_affinity.and_then(|a| a.required_during_scheduling_ignored_during_execution.as_ref()),
            ),
            required_anti_affinity: required(
                anti.and_then(|a| a.required_during_scheduling_ignored_during_execution.as_ref()),
            ),
            preferred_affinity: Vec::new(),
            preferred_anti_affinity: Vec::new(),
            spread: spec
                .and_then(|s| s.topology_spread_constraints.as_ref())
                .into_iter()
                .flatten()
                .map(|c| SpreadConstraint::compile(&pod, c))
                .collect(),
            controller_uid: pod
                .metadata
                .owner_references
                .iter()
                .flatten()
                .find(|o| o.controller == Some(true))
                .map(|o| o.uid.clone()),
            claims: claims(&pod),
            pod: Pod::default(),
        };
        let weighted = |terms: Option<&Vec<k8s_openapi::api::core::v1::WeightedPodAffinityTerm>>| {
            terms
                .into_iter()
                .flatten()
                .filter(|t| t.weight != 0)
                .map(|t| AffinityTerm::compile(&pod, &t.pod_affinity_term, i64::from(t.weight)))
                .collect::<Vec<_>>()
        };
        info.preferred_affinity =
            weighted(pod_affinity.and_then(|a| a.preferred_during_scheduling_ignored_during_execution.as_ref()));
        info.preferred_anti_affinity =
            weighted(anti.and_then(|a| a.preferred_during_scheduling_ignored_during_execution.as_ref()));
        info.pod = pod;
        info
    }

    /// metadata.labels.
    pub fn labels(&self) -> &Labels {
        self.pod.metadata.labels.as_ref().unwrap_or(&NO_LABELS)
    }

    /// spec.tolerations.
    pub fn tolerations(&self) -> &[Toleration] {
        self.pod.spec.as_ref().and_then(|s| s.tolerations.as_deref()).unwrap_or_default()
    }

    /// spec.nodeName, when bound.
    pub fn node_name(&self) -> Option<&str> {
        let name = self.pod.spec.as_ref()?.node_name.as_deref()?;
        (!name.is_empty()).then_some(name)
    }

    /// True once the pod is being deleted.
    pub fn terminating(&self) -> bool {
        self.pod.metadata.deletion_timestamp.is_some()
    }

    /// True when the pod has any pod affinity or anti-affinity term.
    pub fn has_affinity(&self) -> bool {
        !(self.required_affinity.is_empty()
            && self.required_anti_affinity.is_empty()
            && self.preferred_affinity.is_empty()
            && self.preferred_anti_affinity.is_empty())
    }

    /// spec.schedulerName, "default-scheduler" when unset.
    pub fn scheduler_name(&self) -> &str {
        self.pod
            .spec
            .as_ref()
            .and_then(|s| s.scheduler_name.as_deref())
            .filter(|n| !n.is_empty())
            .unwrap_or("default-scheduler")
    }

    /// status.nominatedNodeName, set by preemption.
    pub fn nominated_node(&self) -> Option<&str> {
        let name = self.pod.status.as_ref()?.nominated_node_name.as_deref()?;
        (!name.is_empty()).then_some(name)
    }

    /// spec.preemptionPolicy is Never.
    pub fn never_preempts(&self) -> bool {
        self.pod.spec.as_ref().and_then(|s| s.preemption_policy.as_deref()) == Some("Never")
    }

    /// The pod's start time (or creation time), for ordering preemption victims.
    pub fn start_time(&self) -> Option<jiff::Timestamp> {
        let started = self.pod.status.as_ref().and_then(|s| s.start_time.as_ref());
        started.or(self.pod.metadata.creation_timestamp.as_ref()).map(|t| t.0)
    }
}

/// Host ports of the containers and sidecars; an empty host IP means every address.
fn host_ports(pod: &Pod) -> Vec<HostPort> {
    let Some(spec) = pod.spec.as_ref() else {
        return Vec::new();
    };
    let sidecars = spec.init_containers.iter().flatten().filter(|c| c.restart_policy.as_deref() == Some("Always"));
    spec.containers
        .iter()
        .chain(sidecars)
        .flat_map(|c| c.ports.iter().flatten())
        .filter_map(|p| {
            let port = p.host_port.filter(|p| *p > 0)?;
            let ip = p.host_ip.as_deref().filter(|ip| !ip.is_empty()).unwrap_or("0.0.0.0");
            let protocol = p.protocol.as_deref().filter(|p| !p.is_empty()).unwrap_or("TCP");
            Some(HostPort { ip: ip.to_string(), protocol: protocol.to_string(), port })
        })
        .collect()
}

fn required_node_affinity(pod: &Pod) -> RequiredNodeAffinity {
    let Some(spec) = pod.spec.as_ref() else {
        return RequiredNodeAffinity::default();
    };
    let node_selector = spec.node_selector.iter().flatten().map(|(k, v)| (k.clone(), v.clone())).collect();
    let required = spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|n| n.required_during_scheduling_ignored_during_execution.as_ref());
    let terms = required.map(|r| r.node_selector_terms.iter().filter_map(NodeTerm::compile).collect());
    RequiredNodeAffinity { node_selector, terms }
}

fn preferred_node_affinity(pod: &Pod) -> Vec<(i64, NodeTerm)> {
    let preferred = pod
        .spec
        .as_ref()
        .and_then(|s| s.affinity.as_ref())
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|n| n.preferred_during_scheduling_ignored_during_execution.as_ref());
    preferred
        .into_iter()
        .flatten()
        .filter(|t| t.weight != 0)
        .filter_map(|t| Some((i64::from(t.weight), NodeTerm::compile(&t.preference)?)))
        .collect()
}

/// PVC names: persistentVolumeClaim volumes, and `<pod>-<volume>` for generic ephemeral volumes.
fn claims(pod: &Pod) -> Vec<String> {
    let pod_name = pod.metadata.name.as_deref().unwrap_or_default();
    let volumes = pod.spec.as_ref().and_then(|s| s.volumes.as_ref());
    volumes
        .into_iter()
        .flatten()
        .filter_map(|v| match (&v.persistent_volume_claim, &v.ephemeral) {
            (Some(claim), _) => Some(claim.claim_name.clone()),
            (None, Some(_)) => Some(format!("{pod_name}-{}", v.name)),
            (None, None) => None,
        })
        .collect()
}

/// A NodeSelectorTerm helper for plugins that read terms from other objects (PV node affinity).
pub fn node_terms(terms: &[NodeSelectorTerm]) -> Vec<NodeTerm> {
    terms.iter().filter_map(NodeTerm::compile).collect()
}
