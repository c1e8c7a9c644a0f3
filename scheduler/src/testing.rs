//! Builders of nodes and pods for tests and the benchmark (not part of the scheduler's API).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Affinity, Container, ContainerPort, Node, NodeCondition, NodeSpec, NodeStatus, PersistentVolumeClaimVolumeSource,
    Pod, PodSpec, ResourceRequirements, Taint, Toleration, TopologySpreadConstraint, Volume,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

fn quantities(pairs: &[(&str, &str)]) -> BTreeMap<String, Quantity> {
    pairs.iter().map(|(k, v)| (k.to_string(), Quantity(v.to_string()))).collect()
}

/// Builds a Node.
#[derive(Clone, Debug)]
pub struct NodeBuilder {
    node: Node,
}

/// A Ready node with 4 cpu, 8Gi memory, 110 pods and the hostname label.
pub fn node(name: &str) -> NodeBuilder {
    let labels = BTreeMap::from([("kubernetes.io/hostname".to_string(), name.to_string())]);
    NodeBuilder {
        node: Node {
            metadata: ObjectMeta { name: Some(name.into()), labels: Some(labels), ..Default::default() },
            spec: Some(NodeSpec::default()),
            status: Some(NodeStatus {
                allocatable: Some(quantities(&[("cpu", "4"), ("memory", "8Gi"), ("pods", "110")])),
                conditions: Some(vec![NodeCondition {
                    type_: "Ready".into(),
                    status: "True".into(),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
        },
    }
}

impl NodeBuilder {
    fn allocatable(&mut self) -> &mut BTreeMap<String, Quantity> {
        let status = self.node.status.get_or_insert_with(Default::default);
        status.allocatable.get_or_insert_with(Default::default)
    }

    /// Sets allocatable `resource`.
    pub fn allocatable_of(mut self, resource: &str, amount: &str) -> Self {
        self.allocatable().insert(resource.into(), Quantity(amount.into()));
        self
    }

    /// Sets allocatable cpu.
    pub fn cpu(self, amount: &str) -> Self {
        self.allocatable_of("cpu", amount)
    }

    /// Sets allocatable memory.
    pub fn memory(self, amount: &str) -> Self {
        self.allocatable_of("memory", amount)
    }

    /// Sets the allocatable pod count.
    pub fn pods(self, amount: &str) -> Self {
        self.allocatable_of("pods", amount)
    }

    /// Adds a label.
    pub fn label(mut self, key: &str, value: &str) -> Self {
        self.node.metadata.labels.get_or_insert_with(Default::default).insert(key.into(), value.into());
        self
    }

    /// Adds a taint.
    pub fn taint(mut self, key: &str, value: &str, effect: &str) -> Self {
        let spec = self.node.spec.get_or_insert_with(Default::default);
        spec.taints.get_or_insert_with(Vec::new).push(Taint {
            key: key.into(),
            value: (!value.is_empty()).then(|| value.into()),
            effect: effect.into(),
            time_added: None,
        });
        self
    }

    /// Cordons the node.
    pub fn unschedulable(mut self) -> Self {
        self.node.spec.get_or_insert_with(Default::default).unschedulable = Some(true);
        self
    }

    /// Sets the Ready condition's status ("False", "Unknown").
    pub fn ready(mut self, status: &str) -> Self {
        if let Some(conditions) = self.node.status.as_mut().and_then(|s| s.conditions.as_mut()) {
            for c in conditions.iter_mut().filter(|c| c.type_ == "Ready") {
                c.status = status.into();
            }
        }
        self
    }

    /// The node.
    pub fn build(self) -> Node {
        self.node
    }
}

/// Builds a Pod.
#[derive(Clone, Debug)]
pub struct PodBuilder {
    pod: Pod,
}

/// A pod in namespace default with one container and no requests.
pub fn pod(name: &str) -> PodBuilder {
    PodBuilder {
        pod: Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("default".into()),
                uid: Some(format!("uid-{name}")),
                ..Default::default()
            },
            spec: Some(PodSpec {
                containers: vec![Container { name: "app".into(), image: Some("nginx".into()), ..Default::default() }],
                ..Default::default()
            }),
            status: None,
        },
    }
}

impl PodBuilder {
    fn spec(&mut self) -> &mut PodSpec {
        self.pod.spec.get_or_insert_with(Default::default)
    }

    /// Requests `amount` of `resource` in the first container.
    pub fn request(mut self, resource: &str, amount: &str) -> Self {
        let container = &mut self.spec().containers[0];
        let resources = container.resources.get_or_insert_with(ResourceRequirements::default);
        resources.requests.get_or_insert_with(Default::default).insert(resource.into(), Quantity(amount.into()));
        self
    }

    /// Requests cpu.
    pub fn cpu(self, amount: &str) -> Self {
        self.request("cpu", amount)
    }

    /// Requests memory.
    pub fn memory(self, amount: &str) -> Self {
        self.request("memory", amount)
    }

    /// Sets the namespace.
    pub fn namespace(mut self, namespace: &str) -> Self {
        self.pod.metadata.namespace = Some(namespace.into());
        self
    }

    /// Adds a label.
    pub fn label(mut self, key: &str, value: &str) -> Self {
        self.pod.metadata.labels.get_or_insert_with(Default::default).insert(key.into(), value.into());
        self
    }

    /// Adds a nodeSelector entry.
    pub fn node_selector(mut self, key: &str, value: &str) -> Self {
        self.spec().node_selector.get_or_insert_with(Default::default).insert(key.into(), value.into());
        self
    }

    /// Adds a toleration (empty strings stay unset).
    pub fn toleration(mut self, key: &str, operator: &str, value: &str, effect: &str) -> Self {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
        self.spec().tolerations.get_or_insert_with(Vec::new).push(Toleration {
            key: some(key),
            operator: some(operator),
            value: some(value),
            effect: some(effect),
            toleration_seconds: None,
        });
        self
    }

    /// Binds the pod to a node.
    pub fn on(mut self, node: &str) -> Self {
        self.spec().node_name = Some(node.into());
        self
    }

    /// Sets spec.priority.
    pub fn priority(mut self, priority: i32) -> Self {
        self.spec().priority = Some(priority);
        self
    }

    /// Claims a host port (TCP, every address unless `ip` is given).
    pub fn host_port(mut self, port: i32, ip: &str) -> Self {
        let container = &mut self.spec().containers[0];
        container.ports.get_or_insert_with(Vec::new).push(ContainerPort {
            container_port: port,
            host_port: Some(port),
            host_ip: (!ip.is_empty()).then(|| ip.into()),
            ..Default::default()
        });
        self
    }

    /// Sets a controller ownerReference with this uid.
    pub fn controller(mut self, uid: &str) -> Self {
        self.pod.metadata.owner_references = Some(vec![OwnerReference {
            api_version: "apps/v1".into(),
            kind: "ReplicaSet".into(),
            name: "rs".into(),
            uid: uid.into(),
            controller: Some(true),
            block_owner_deletion: None,
        }]);
        self
    }

    /// Sets spec.affinity.
    pub fn affinity(mut self, affinity: Affinity) -> Self {
        self.spec().affinity = Some(affinity);
        self
    }

    /// Adds a topology spread constraint.
    pub fn spread(mut self, constraint: TopologySpreadConstraint) -> Self {
        self.spec().topology_spread_constraints.get_or_insert_with(Vec::new).push(constraint);
        self
    }

    /// Mounts a PersistentVolumeClaim.
    pub fn claim(mut self, claim: &str) -> Self {
        self.spec().volumes.get_or_insert_with(Vec::new).push(Volume {
            name: claim.into(),
            persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                claim_name: claim.into(),
                read_only: None,
            }),
            ..Default::default()
        });
        self
    }

    /// The pod.
    pub fn build(self) -> Pod {
        self.pod
    }
}

/// Adds a container with these requests (`sidecar`: as a restartable init container instead).
pub fn add_container(pod: &mut Pod, name: &str, requests: &[(&str, &str)], sidecar: bool) {
    let container = Container {
        name: name.into(),
        resources: Some(ResourceRequirements { requests: Some(quantities(requests)), ..Default::default() }),
        restart_policy: sidecar.then(|| "Always".to_string()),
        ..Default::default()
    };
    if let Some(spec) = pod.spec.as_mut() {
        if sidecar {
            spec.init_containers.get_or_insert_with(Vec::new).push(container);
        } else {
            spec.containers.push(container);
        }
    }
}

/// Adds an init container with these requests and restartPolicy.
pub fn add_init_container(pod: &mut Pod, name: &str, requests: &[(&str, &str)], restart_policy: Option<&str>) {
    let container = Container {
        name: name.into(),
        resources: Some(ResourceRequirements { requests: Some(quantities(requests)), ..Default::default() }),
        restart_policy: restart_policy.map(str::to_string),
        ..Default::default()
    };
    if let Some(spec) = pod.spec.as_mut() {
        spec.init_containers.get_or_insert_with(Vec::new).push(container);
    }
}

/// Sets the first container's limits.
pub fn set_limits(pod: &mut Pod, limits: &[(&str, &str)]) {
    if let Some(container) = pod.spec.as_mut().and_then(|s| s.containers.first_mut()) {
        container.resources.get_or_insert_with(Default::default).limits = Some(quantities(limits));
    }
}
