//! Resource amounts (cpu, memory, ephemeral-storage, pods, extended) and a pod's effective requests.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, Pod};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use crate::quantity;

/// The cpu request assumed for scoring when a container sets none (kube-scheduler's 100m).
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// The memory request assumed for scoring when a container sets none (kube-scheduler's 200Mi).
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;

/// Amounts of every resource the scheduler accounts for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resources {
    /// cpu, in millicores.
    pub milli_cpu: i64,
    /// memory, in bytes.
    pub memory: i64,
    /// ephemeral-storage, in bytes.
    pub ephemeral_storage: i64,
    /// The number of pods (only meaningful for allocatable).
    pub pods: i64,
    /// Extended resources and hugepages, sorted by name.
    pub scalar: Vec<(String, i64)>,
}

impl Resources {
    /// Reads a ResourceList, ignoring names the scheduler does not account for.
    pub fn from_list(list: Option<&BTreeMap<String, Quantity>>) -> Resources {
        let mut resources = Resources::default();
        for (name, amount) in list.into_iter().flatten() {
            resources.set(name, amount);
        }
        resources
    }

    fn set(&mut self, name: &str, amount: &Quantity) {
        match name {
            "cpu" => self.milli_cpu = quantity::milli_value(amount).unwrap_or(0),
            "memory" => self.memory = quantity::value(amount).unwrap_or(0),
            "ephemeral-storage" => self.ephemeral_storage = quantity::value(amount).unwrap_or(0),
            "pods" => self.pods = quantity::value(amount).unwrap_or(0),
            _ if is_scalar_resource(name) => {
                let amount = quantity::value(amount).unwrap_or(0);
                self.set_scalar(name, amount);
            }
            _ => {}
        }
    }

    /// The amount of an extended resource, 0 when absent.
    pub fn scalar(&self, name: &str) -> i64 {
        self.scalar.binary_search_by(|(n, _)| n.as_str().cmp(name)).map(|i| self.scalar[i].1).unwrap_or(0)
    }

    fn set_scalar(&mut self, name: &str, amount: i64) {
        match self.scalar.binary_search_by(|(n, _)| n.as_str().cmp(name)) {
            Ok(i) => self.scalar[i].1 = amount,
            Err(i) => self.scalar.insert(i, (name.to_string(), amount)),
        }
    }

    /// Adds `other` to these amounts.
    pub fn add(&mut self, other: &Resources) {
        self.combine(other, |a, b| a.saturating_add(b));
    }

    /// Subtracts `other` from these amounts.
    pub fn sub(&mut self, other: &Resources) {
        self.combine(other, |a, b| a.saturating_sub(b));
    }

    /// Raises each amount to at least `other`'s.
    pub fn max(&mut self, other: &Resources) {
        self.combine(other, i64::max);
    }

    fn combine(&mut self, other: &Resources, op: impl Fn(i64, i64) -> i64) {
        self.milli_cpu = op(self.milli_cpu, other.milli_cpu);
        self.memory = op(self.memory, other.memory);
        self.ephemeral_storage = op(self.ephemeral_storage, other.ephemeral_storage);
        self.pods = op(self.pods, other.pods);
        for (name, amount) in &other.scalar {
            let mine = self.scalar(name);
            self.set_scalar(name, op(mine, *amount));
        }
    }

    /// True when nothing is requested.
    pub fn is_zero(&self) -> bool {
        self.milli_cpu == 0
            && self.memory == 0
            && self.ephemeral_storage == 0
            && self.scalar.iter().all(|(_, v)| *v == 0)
    }
}

/// Extended resources (a domain-prefixed name outside kubernetes.io) and hugepages.
fn is_scalar_resource(name: &str) -> bool {
    if name.starts_with("hugepages-") || name.starts_with("attachable-volumes-") {
        return true;
    }
    match name.split_once('/') {
        Some((domain, _)) => {
            !(domain == "kubernetes.io" || domain.ends_with(".kubernetes.io") || name.starts_with("requests."))
        }
        None => false,
    }
}

/// What a pod asks of a node: the requests it is checked against and the non-zero cpu and memory
/// (100m and 200Mi for a container that sets none) used by the scoring plugins.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodRequests {
    /// Effective requests: containers summed, init containers as the maximum (sidecars counted in
    /// both), plus the pod overhead; as k8s.io/component-helpers' PodRequests.
    pub requests: Resources,
    /// cpu with the 100m default for a container that sets no cpu request.
    pub non_zero_milli_cpu: i64,
    /// memory with the 200Mi default for a container that sets no memory request.
    pub non_zero_memory: i64,
}

/// Computes a pod's requests.
pub fn pod_requests(pod: &Pod) -> PodRequests {
    let Some(spec) = pod.spec.as_ref() else {
        return PodRequests::default();
    };
    let init = spec.init_containers.as_deref().unwrap_or_default();
    let overhead = Resources::from_list(spec.overhead.as_ref());
    let mut requests = aggregate(&spec.containers, init, container_requests);
    requests.add(&overhead);
    let non_zero = aggregate(&spec.containers, init, |c| {
        let mut r = container_requests(c);
        if !names(c, "cpu") {
            r.milli_cpu = DEFAULT_MILLI_CPU_REQUEST;
        }
        if !names(c, "memory") {
            r.memory = DEFAULT_MEMORY_REQUEST;
        }
        r
    });
    PodRequests {
        non_zero_milli_cpu: non_zero.milli_cpu + overhead.milli_cpu,
        non_zero_memory: non_zero.memory + overhead.memory,
        requests,
    }
}

/// Sums app containers and restartable (sidecar) init containers, and takes the maximum with each
/// ordinary init container plus the sidecars started before it.
fn aggregate(containers: &[Container], init: &[Container], of: impl Fn(&Container) -> Resources) -> Resources {
    let mut total = Resources::default();
    for container in containers {
        total.add(&of(container));
    }
    let mut sidecars = Resources::default();
    let mut init_peak = Resources::default();
    for container in init {
        let own = of(container);
        let during = if container.restart_policy.as_deref() == Some("Always") {
            total.add(&own);
            sidecars.add(&own);
            sidecars.clone()
        } else {
            let mut during = own;
            during.add(&sidecars);
            during
        };
        init_peak.max(&during);
    }
    total.max(&init_peak);
    total
}

/// A container's requests; a resource with a limit and no request is requested at its limit, as
/// the API server's defaulting does.
fn container_requests(container: &Container) -> Resources {
    let Some(resources) = container.resources.as_ref() else {
        return Resources::default();
    };
    let mut r = Resources::from_list(resources.limits.as_ref());
    for (name, amount) in resources.requests.iter().flatten() {
        r.set(name, amount);
    }
    r.pods = 0;
    r
}

/// Whether the container names a resource, in requests or limits (limits become requests in the
/// API server's defaulting).
fn names(container: &Container, resource: &str) -> bool {
    container.resources.as_ref().is_some_and(|r| {
        r.requests.as_ref().is_some_and(|m| m.contains_key(resource))
            || r.limits.as_ref().is_some_and(|m| m.contains_key(resource))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;

    #[test]
    fn containers_add_up_and_init_containers_count_as_their_maximum() {
        let mut p = pod("web").cpu("500m").memory("1Gi").build();
        add_container(&mut p, "sidecar", &[("cpu", "250m")], false);
        add_init_container(&mut p, "migrate", &[("cpu", "2"), ("memory", "64Mi")], None);
        let r = pod_requests(&p);
        assert_eq!(r.requests.milli_cpu, 2000);
        assert_eq!(r.requests.memory, 1024 * 1024 * 1024);
    }

    #[test]
    fn sidecar_init_containers_run_beside_the_app_containers() {
        let mut p = pod("web").cpu("500m").build();
        add_init_container(&mut p, "proxy", &[("cpu", "200m")], Some("Always"));
        add_init_container(&mut p, "migrate", &[("cpu", "600m")], None);
        let r = pod_requests(&p);
        // 500m + 200m sidecar = 700m; the init container runs with the sidecar: 800m.
        assert_eq!(r.requests.milli_cpu, 800);
    }

    #[test]
    fn a_container_without_requests_counts_as_100m_and_200mi_for_scoring() {
        let p = pod("web").build();
        let r = pod_requests(&p);
        assert_eq!(r.requests.milli_cpu, 0);
        assert_eq!(r.non_zero_milli_cpu, 100);
        assert_eq!(r.non_zero_memory, 200 * 1024 * 1024);
    }

    #[test]
    fn a_limit_without_a_request_is_the_request() {
        let mut p = pod("web").build();
        set_limits(&mut p, &[("cpu", "1"), ("nvidia.com/gpu", "2")]);
        let r = pod_requests(&p);
        assert_eq!(r.requests.milli_cpu, 1000);
        assert_eq!(r.requests.scalar("nvidia.com/gpu"), 2);
    }

    #[test]
    fn only_extended_resources_and_hugepages_are_scalar() {
        assert!(is_scalar_resource("nvidia.com/gpu"));
        assert!(is_scalar_resource("hugepages-2Mi"));
        assert!(!is_scalar_resource("kubernetes.io/something"));
        assert!(!is_scalar_resource("storage"));
    }
}
