//! What a Service sees of a pod: selected or not, ready, terminating, its IPs and ports.

use k8s_openapi::api::core::v1::{Container, ObjectReference, Pod, Service, ServicePort};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

/// The Service's selector, when it has one the controllers act on: a missing or empty
/// selector means the Service's endpoints are managed by someone else.
pub fn selector(svc: &Service) -> Option<&BTreeMap<String, String>> {
    svc.spec.as_ref()?.selector.as_ref().filter(|s| !s.is_empty())
}

/// Whether the controllers give this Service endpoints at all (a selector, not ExternalName).
pub fn is_managed(svc: &Service) -> bool {
    let external = svc.spec.as_ref().and_then(|s| s.type_.as_deref()) == Some("ExternalName");
    !external && selector(svc).is_some()
}

/// Whether `selector` selects the pod's labels (set-based equality, as Service selectors are).
pub fn selects(selector: &BTreeMap<String, String>, pod: &Pod) -> bool {
    let labels = pod.metadata.labels.as_ref();
    selector.iter().all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
}

/// The pods of the Service's namespace its selector selects.
pub fn selected<'a>(svc: &Service, pods: impl IntoIterator<Item = &'a Pod>) -> Vec<&'a Pod> {
    let Some(sel) = selector(svc) else {
        return Vec::new();
    };
    let ns = svc.metadata.namespace.as_deref();
    pods.into_iter().filter(|p| p.metadata.namespace.as_deref() == ns && selects(sel, p)).collect()
}

/// The pod's Ready condition is True (podutil.IsPodReady).
pub fn is_ready(pod: &Pod) -> bool {
    conditions(pod).any(|c| c.type_ == "Ready" && c.status == "True")
}

fn conditions(pod: &Pod) -> impl Iterator<Item = &k8s_openapi::api::core::v1::PodCondition> {
    pod.status.as_ref().and_then(|s| s.conditions.as_ref()).into_iter().flatten()
}

/// The pod has finished for good (phase Succeeded or Failed).
pub fn is_terminal(pod: &Pod) -> bool {
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    matches!(phase, Some("Succeeded" | "Failed"))
}

/// The pod is being deleted.
pub fn is_terminating(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_some()
}

/// Whether the pod belongs in endpoints at all (endpointutil.ShouldPodBeInEndpoints):
/// not terminal, has an IP, and is not terminating unless terminating pods are included.
pub fn belongs_in_endpoints(pod: &Pod, include_terminating: bool) -> bool {
    !is_terminal(pod) && !ips(pod).is_empty() && (include_terminating || !is_terminating(pod))
}

/// The pod's IPs, primary first.
pub fn ips(pod: &Pod) -> Vec<String> {
    let Some(status) = pod.status.as_ref() else {
        return Vec::new();
    };
    let mut out: Vec<String> = status.pod_ips.iter().flatten().map(|p| p.ip.clone()).collect();
    if let Some(ip) = status.pod_ip.as_ref().filter(|ip| !ip.is_empty() && !out.contains(ip)) {
        out.insert(0, ip.clone());
    }
    out.retain(|ip| !ip.is_empty());
    out
}

/// The pod's IP of an address family ("IPv4" or "IPv6").
pub fn ip_of_family(pod: &Pod, family: &str) -> Option<String> {
    ips(pod).into_iter().find(|ip| family_of(ip) == family)
}

/// The address family of an IP, as the EndpointSlice addressType names it.
pub fn family_of(ip: &str) -> &'static str {
    if ip.contains(':') { "IPv6" } else { "IPv4" }
}

/// The Service's address families (spec.ipFamilies), IPv4 when unset.
pub fn families(svc: &Service) -> Vec<String> {
    let set = svc.spec.as_ref().and_then(|s| s.ip_families.clone()).unwrap_or_default();
    if set.is_empty() { vec!["IPv4".into()] } else { set }
}

/// spec.publishNotReadyAddresses: not-ready pods count as ready.
pub fn publishes_not_ready(svc: &Service) -> bool {
    svc.spec.as_ref().and_then(|s| s.publish_not_ready_addresses).unwrap_or(false)
}

/// A headless Service (clusterIP None).
pub fn is_headless(svc: &Service) -> bool {
    svc.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()) == Some("None")
}

/// The Service's ports.
pub fn service_ports(svc: &Service) -> &[ServicePort] {
    svc.spec.as_ref().and_then(|s| s.ports.as_deref()).unwrap_or_default()
}

/// A port's protocol, TCP when unset (the API server's default).
pub fn protocol(p: Option<&str>) -> &str {
    p.unwrap_or("TCP")
}

/// The pod port a Service port sends to (podutil.FindPort): a named targetPort is looked up
/// among the containers' ports (and restartable init containers') by name and protocol; a
/// number is used as is; no targetPort means the Service port itself.
pub fn find_port(pod: &Pod, port: &ServicePort) -> Option<i32> {
    match &port.target_port {
        Some(IntOrString::String(name)) => named_port(pod, name, protocol(port.protocol.as_deref())),
        Some(IntOrString::Int(n)) => Some(*n),
        None => Some(port.port),
    }
}

fn named_port(pod: &Pod, name: &str, proto: &str) -> Option<i32> {
    containers(pod)
        .flat_map(|c| c.ports.iter().flatten())
        .find(|p| p.name.as_deref() == Some(name) && protocol(p.protocol.as_deref()) == proto)
        .map(|p| p.container_port)
}

/// Containers whose ports a Service may reach: regular ones and sidecars (restartable init).
fn containers(pod: &Pod) -> impl Iterator<Item = &Container> {
    let spec = pod.spec.as_ref();
    let regular = spec.map(|s| s.containers.as_slice()).unwrap_or_default();
    let sidecars = spec.and_then(|s| s.init_containers.as_deref()).unwrap_or_default();
    regular.iter().chain(sidecars.iter().filter(|c| c.restart_policy.as_deref() == Some("Always")))
}

/// The pod's hostname, when the endpoint should carry it: the pod names a hostname and its
/// subdomain is this Service (endpointutil.ShouldSetHostname).
pub fn hostname_for(pod: &Pod, svc: &Service) -> Option<String> {
    let spec = pod.spec.as_ref()?;
    let hostname = spec.hostname.as_ref().filter(|h| !h.is_empty())?;
    let same_ns = pod.metadata.namespace == svc.metadata.namespace;
    (same_ns && spec.subdomain == svc.metadata.name).then(|| hostname.clone())
}

/// The pod's node.
pub fn node_name(pod: &Pod) -> Option<String> {
    pod.spec.as_ref().and_then(|s| s.node_name.clone()).filter(|n| !n.is_empty())
}

/// An endpoint's reference to its pod.
pub fn target_ref(pod: &Pod) -> ObjectReference {
    ObjectReference {
        kind: Some("Pod".into()),
        namespace: pod.metadata.namespace.clone(),
        name: pod.metadata.name.clone(),
        uid: pod.metadata.uid.clone(),
        ..Default::default()
    }
}

#[cfg(test)]
pub mod testing {
    //! Builders of Services and pods for the plan tests.
    use k8s_openapi::api::core::v1::{
        Container, ContainerPort, Pod, PodCondition, PodIP, PodSpec, PodStatus, Service, ServicePort, ServiceSpec,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

    pub fn service(name: &str, selector: &[(&str, &str)], ports: Vec<ServicePort>) -> Service {
        Service {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("default".into()),
                uid: Some(format!("uid-{name}")),
                ..Default::default()
            },
            spec: Some(ServiceSpec {
                selector: Some(selector.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()),
                ports: Some(ports),
                cluster_ip: Some("10.233.0.10".into()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    pub fn port(name: &str, port: i32, target: IntOrString) -> ServicePort {
        ServicePort {
            name: Some(name.into()),
            port,
            target_port: Some(target),
            protocol: Some("TCP".into()),
            ..Default::default()
        }
    }

    pub fn pod(name: &str, ip: &str, ready: bool) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("default".into()),
                uid: Some(format!("uid-{name}")),
                labels: Some([("app".to_string(), "web".to_string())].into()),
                ..Default::default()
            },
            spec: Some(PodSpec {
                node_name: Some("node-1".into()),
                containers: vec![Container { name: "c".into(), ..Default::default() }],
                ..Default::default()
            }),
            status: Some(PodStatus {
                pod_ip: Some(ip.into()),
                pod_ips: Some(vec![PodIP { ip: ip.into() }]),
                phase: Some("Running".into()),
                conditions: Some(vec![PodCondition {
                    type_: "Ready".into(),
                    status: if ready { "True" } else { "False" }.into(),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
        }
    }

    pub fn with_container_port(mut pod: Pod, name: &str, number: i32) -> Pod {
        if let Some(spec) = pod.spec.as_mut() {
            spec.containers[0].ports.get_or_insert_with(Vec::new).push(ContainerPort {
                name: Some(name.into()),
                container_port: number,
                protocol: Some("TCP".into()),
                ..Default::default()
            });
        }
        pod
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    #[test]
    fn a_named_target_port_is_resolved_per_pod() {
        let p = port("http", 80, IntOrString::String("web".into()));
        let a = with_container_port(pod("a", "10.0.0.1", true), "web", 8080);
        let b = with_container_port(pod("b", "10.0.0.2", true), "web", 9090);
        assert_eq!(find_port(&a, &p), Some(8080));
        assert_eq!(find_port(&b, &p), Some(9090));
    }

    #[test]
    fn a_named_target_port_the_pod_lacks_resolves_to_nothing() {
        let p = port("http", 80, IntOrString::String("web".into()));
        assert_eq!(find_port(&pod("a", "10.0.0.1", true), &p), None);
    }

    #[test]
    fn a_named_target_port_must_match_the_protocol() {
        let mut p = port("dns", 53, IntOrString::String("dns".into()));
        p.protocol = Some("UDP".into());
        let a = with_container_port(pod("a", "10.0.0.1", true), "dns", 5353);
        assert_eq!(find_port(&a, &p), None);
    }

    #[test]
    fn a_numeric_target_port_is_used_as_is() {
        let p = port("http", 80, IntOrString::Int(8080));
        assert_eq!(find_port(&pod("a", "10.0.0.1", true), &p), Some(8080));
    }

    #[test]
    fn the_selector_selects_only_pods_of_the_services_namespace() {
        let svc = service("web", &[("app", "web")], vec![]);
        let mut other = pod("b", "10.0.0.2", true);
        other.metadata.namespace = Some("other".into());
        let a = pod("a", "10.0.0.1", true);
        let picked = selected(&svc, [&a, &other]);
        assert_eq!(picked.len(), 1);
        assert_eq!(picked[0].metadata.name.as_deref(), Some("a"));
    }

    #[test]
    fn a_service_with_an_empty_selector_is_not_managed() {
        let svc = service("web", &[], vec![]);
        assert!(!is_managed(&svc));
    }

    #[test]
    fn a_pod_without_an_ip_does_not_belong_in_endpoints() {
        let mut p = pod("a", "", true);
        p.status.as_mut().unwrap().pod_ips = None;
        assert!(!belongs_in_endpoints(&p, true));
    }

    #[test]
    fn a_succeeded_pod_does_not_belong_in_endpoints() {
        let mut p = pod("a", "10.0.0.1", true);
        p.status.as_mut().unwrap().phase = Some("Succeeded".into());
        assert!(!belongs_in_endpoints(&p, true));
    }

    #[test]
    fn the_hostname_is_set_only_when_the_subdomain_is_the_service() {
        let svc = service("web", &[("app", "web")], vec![]);
        let mut p = pod("a", "10.0.0.1", true);
        p.spec.as_mut().unwrap().hostname = Some("a".into());
        assert_eq!(hostname_for(&p, &svc), None);
        p.spec.as_mut().unwrap().subdomain = Some("web".into());
        assert_eq!(hostname_for(&p, &svc).as_deref(), Some("a"));
    }
}
