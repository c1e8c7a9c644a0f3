//! The legacy Endpoints object of a Service (the EndpointsController): one object named after
//! the Service, its subsets grouping ready and not-ready addresses by the ports they serve.

use super::{pods, slices};
use crate::semantic;
use k8s_openapi::api::core::v1::{EndpointAddress, EndpointPort, EndpointSubset, Endpoints, Pod, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::collections::BTreeMap;

/// Addresses an Endpoints object holds at most (the EndpointsController's maxCapacity).
pub const MAX_ADDRESSES: usize = 1000;
/// Annotation set when addresses beyond [`MAX_ADDRESSES`] were left out.
pub const OVER_CAPACITY: &str = "endpoints.kubernetes.io/over-capacity";

/// The write that brings the Endpoints object in line, if any.
#[derive(Clone, Debug, PartialEq)]
pub enum EndpointsAction {
    Create(Endpoints),
    Update(Endpoints),
}

/// What the Service's Endpoints should be given the selected pods, against what exists.
pub fn plan(svc: &Service, selected: &[&Pod], existing: Option<&Endpoints>) -> Option<EndpointsAction> {
    let (subsets, truncated) = truncate(subsets(svc, selected));
    let base = existing.cloned().unwrap_or_else(|| fresh(svc));
    let want = shaped(svc, base, subsets, truncated);
    match existing {
        None => Some(EndpointsAction::Create(want)),
        Some(old) if semantic::equal(old, &want) => None,
        Some(_) => Some(EndpointsAction::Update(want)),
    }
}

fn fresh(svc: &Service) -> Endpoints {
    Endpoints {
        metadata: ObjectMeta {
            name: svc.metadata.name.clone(),
            namespace: svc.metadata.namespace.clone(),
            ..Default::default()
        },
        subsets: None,
    }
}

/// `base` with the subsets, the Service's labels (plus the headless label) and the
/// over-capacity annotation when addresses were left out.
fn shaped(svc: &Service, mut base: Endpoints, subsets: Vec<EndpointSubset>, truncated: bool) -> Endpoints {
    let mut labels = svc.metadata.labels.clone().unwrap_or_default();
    slices::set_headless_label(svc, &mut labels);
    base.metadata.labels = Some(labels).filter(|l| !l.is_empty());
    let mut annotations = base.metadata.annotations.take().unwrap_or_default();
    annotations.remove(OVER_CAPACITY);
    if truncated {
        annotations.insert(OVER_CAPACITY.into(), "truncated".into());
    }
    base.metadata.annotations = Some(annotations).filter(|a| !a.is_empty());
    base.subsets = Some(subsets).filter(|s| !s.is_empty());
    base
}

/// A port list, as a key: subsets group addresses serving exactly the same ports.
type PortsKey = Vec<(Option<String>, i32, Option<String>)>;

#[derive(Default)]
struct Subset {
    ports: Vec<EndpointPort>,
    ready: Vec<EndpointAddress>,
    not_ready: Vec<EndpointAddress>,
}

/// The subsets: each selected pod's address under the ports it resolves, ready ones in
/// `addresses`, the others in `notReadyAddresses` (endpoints.RepackSubsets, then sorted).
pub fn subsets(svc: &Service, selected: &[&Pod]) -> Vec<EndpointSubset> {
    let publish = pods::publishes_not_ready(svc);
    let family = pods::families(svc).remove(0);
    let mut by_ports: BTreeMap<PortsKey, Subset> = BTreeMap::new();
    for pod in selected.iter().filter(|p| pods::belongs_in_endpoints(p, publish)) {
        let Some(ip) = pods::ip_of_family(pod, &family) else { continue };
        let Some(ports) = ports_for(svc, pod) else { continue };
        let key = ports.iter().map(|p| (p.name.clone(), p.port, p.protocol.clone())).collect();
        let subset = by_ports.entry(key).or_insert_with(|| Subset { ports, ..Default::default() });
        let address = address(svc, pod, ip);
        if publish || pods::is_ready(pod) { subset.ready.push(address) } else { subset.not_ready.push(address) }
    }
    by_ports.into_values().map(finish).collect()
}

/// The ports the pod serves for the Service, sorted; None when it serves none of them (a
/// headless Service without ports lists its pods with no ports at all).
fn ports_for(svc: &Service, pod: &Pod) -> Option<Vec<EndpointPort>> {
    let service_ports = pods::service_ports(svc);
    if service_ports.is_empty() {
        return pods::is_headless(svc).then(Vec::new);
    }
    let mut ports: Vec<EndpointPort> = service_ports
        .iter()
        .filter_map(|sp| {
            Some(EndpointPort {
                name: sp.name.clone().filter(|n| !n.is_empty()),
                port: pods::find_port(pod, sp)?,
                protocol: Some(pods::protocol(sp.protocol.as_deref()).to_string()),
                app_protocol: sp.app_protocol.clone(),
            })
        })
        .collect();
    ports.sort_by(|a, b| (&a.name, a.port, &a.protocol).cmp(&(&b.name, b.port, &b.protocol)));
    (!ports.is_empty()).then_some(ports)
}

fn address(svc: &Service, pod: &Pod, ip: String) -> EndpointAddress {
    EndpointAddress {
        ip,
        hostname: pods::hostname_for(pod, svc),
        node_name: pods::node_name(pod),
        target_ref: Some(pods::target_ref(pod)),
    }
}

fn finish(mut s: Subset) -> EndpointSubset {
    s.ready.sort_by(|a, b| a.ip.cmp(&b.ip));
    s.not_ready.sort_by(|a, b| a.ip.cmp(&b.ip));
    EndpointSubset {
        addresses: (!s.ready.is_empty()).then_some(s.ready),
        not_ready_addresses: (!s.not_ready.is_empty()).then_some(s.not_ready),
        ports: (!s.ports.is_empty()).then_some(s.ports),
    }
}

/// Keeps at most [`MAX_ADDRESSES`] addresses, ready ones first; says whether any were cut.
fn truncate(mut subsets: Vec<EndpointSubset>) -> (Vec<EndpointSubset>, bool) {
    let mut room = MAX_ADDRESSES;
    let mut cut = false;
    for pick_ready in [true, false] {
        for s in subsets.iter_mut() {
            let list = if pick_ready { &mut s.addresses } else { &mut s.not_ready_addresses };
            if let Some(l) = list.as_mut() {
                cut |= l.len() > room;
                l.truncate(room);
                room -= l.len();
            }
        }
    }
    for s in subsets.iter_mut() {
        s.addresses = s.addresses.take().filter(|l| !l.is_empty());
        s.not_ready_addresses = s.not_ready_addresses.take().filter(|l| !l.is_empty());
    }
    subsets.retain(|s| s.addresses.is_some() || s.not_ready_addresses.is_some());
    (subsets, cut)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpointslice::pods::testing::*;
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

    fn web() -> Service {
        service("web", &[("app", "web")], vec![port("http", 80, IntOrString::Int(8080))])
    }

    fn ips(list: &Option<Vec<EndpointAddress>>) -> Vec<&str> {
        list.iter().flatten().map(|a| a.ip.as_str()).collect()
    }

    #[test]
    fn ready_and_not_ready_pods_share_a_subset_in_different_lists() {
        let a = pod("a", "10.0.0.1", true);
        let b = pod("b", "10.0.0.2", false);
        let s = subsets(&web(), &[&a, &b]);
        assert_eq!(s.len(), 1);
        assert_eq!(ips(&s[0].addresses), vec!["10.0.0.1"]);
        assert_eq!(ips(&s[0].not_ready_addresses), vec!["10.0.0.2"]);
        assert_eq!(s[0].ports.as_ref().unwrap()[0].port, 8080);
    }

    #[test]
    fn a_terminating_pod_is_left_out_of_the_endpoints() {
        let mut a = pod("a", "10.0.0.1", true);
        a.metadata.deletion_timestamp =
            Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(jiff::Timestamp::now()));
        assert!(subsets(&web(), &[&a]).is_empty());
    }

    #[test]
    fn pods_serving_different_ports_get_different_subsets() {
        let svc = service("web", &[("app", "web")], vec![port("http", 80, IntOrString::String("web".into()))]);
        let a = with_container_port(pod("a", "10.0.0.1", true), "web", 8080);
        let b = with_container_port(pod("b", "10.0.0.2", true), "web", 9090);
        assert_eq!(subsets(&svc, &[&a, &b]).len(), 2);
    }

    #[test]
    fn a_pod_serving_none_of_the_ports_is_left_out() {
        let svc = service("web", &[("app", "web")], vec![port("http", 80, IntOrString::String("web".into()))]);
        assert!(subsets(&svc, &[&pod("a", "10.0.0.1", true)]).is_empty());
    }

    #[test]
    fn a_headless_service_without_ports_lists_addresses_without_ports() {
        let mut svc = service("db", &[("app", "web")], vec![]);
        svc.spec.as_mut().unwrap().cluster_ip = Some("None".into());
        let s = subsets(&svc, &[&pod("a", "10.0.0.1", true)]);
        assert_eq!(ips(&s[0].addresses), vec!["10.0.0.1"]);
        assert!(s[0].ports.is_none());
    }

    #[test]
    fn the_endpoints_object_is_created_named_after_the_service() {
        let a = pod("a", "10.0.0.1", true);
        let Some(EndpointsAction::Create(ep)) = plan(&web(), &[&a], None) else { panic!("expected a create") };
        assert_eq!(ep.metadata.name.as_deref(), Some("web"));
        assert_eq!(ep.metadata.namespace.as_deref(), Some("default"));
    }

    #[test]
    fn up_to_date_endpoints_are_left_alone() {
        let a = pod("a", "10.0.0.1", true);
        let Some(EndpointsAction::Create(ep)) = plan(&web(), &[&a], None) else { panic!("expected a create") };
        assert_eq!(plan(&web(), &[&a], Some(&ep)), None);
    }

    #[test]
    fn a_pod_going_away_updates_the_endpoints() {
        let a = pod("a", "10.0.0.1", true);
        let Some(EndpointsAction::Create(ep)) = plan(&web(), &[&a], None) else { panic!("expected a create") };
        let Some(EndpointsAction::Update(ep)) = plan(&web(), &[], Some(&ep)) else { panic!("expected an update") };
        assert!(ep.subsets.unwrap_or_default().is_empty());
    }

    #[test]
    fn more_than_a_thousand_addresses_are_truncated_and_annotated() {
        let all: Vec<Pod> =
            (0..1001).map(|i| pod(&format!("p{i}"), &format!("10.0.{}.{}", i / 250, i % 250), true)).collect();
        let refs: Vec<&Pod> = all.iter().collect();
        let Some(EndpointsAction::Create(ep)) = plan(&web(), &refs, None) else { panic!("expected a create") };
        assert_eq!(ep.metadata.annotations.unwrap()[OVER_CAPACITY], "truncated");
        assert_eq!(ep.subsets.unwrap()[0].addresses.as_ref().unwrap().len(), MAX_ADDRESSES);
    }
}
