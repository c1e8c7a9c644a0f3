//! Tests of the EndpointSlice plan.

use super::*;
use crate::endpointslice::pods::testing::*;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

fn no_zone(_: &str) -> Option<String> {
    None
}

fn web() -> Service {
    service("web", &[("app", "web")], vec![port("http", 80, IntOrString::Int(8080))])
}

fn created(actions: &[SliceAction]) -> Vec<&EndpointSlice> {
    actions.iter().filter_map(|a| if let SliceAction::Create(s) = a { Some(s) } else { None }).collect()
}

/// The slice a create would make, as the server would store it.
fn stored(mut s: EndpointSlice, name: &str) -> EndpointSlice {
    s.metadata.name = Some(name.into());
    s
}

fn conditions(s: &EndpointSlice, i: usize) -> (Option<bool>, Option<bool>, Option<bool>) {
    let c = s.endpoints[i].conditions.clone().unwrap_or_default();
    (c.ready, c.serving, c.terminating)
}

#[test]
fn a_ready_pod_is_listed_as_ready_and_serving() {
    let a = pod("a", "10.0.0.1", true);
    let actions = plan(&web(), &[&a], &no_zone, &[]);
    let slices = created(&actions);
    assert_eq!(slices.len(), 1);
    assert_eq!(slices[0].endpoints[0].addresses, vec!["10.0.0.1".to_string()]);
    assert_eq!(conditions(slices[0], 0), (Some(true), Some(true), Some(false)));
}

#[test]
fn a_not_ready_pod_is_listed_as_not_ready() {
    let a = pod("a", "10.0.0.1", false);
    let actions = plan(&web(), &[&a], &no_zone, &[]);
    assert_eq!(conditions(created(&actions)[0], 0), (Some(false), Some(false), Some(false)));
}

#[test]
fn a_terminating_pod_is_listed_as_terminating_and_not_ready() {
    let mut a = pod("a", "10.0.0.1", true);
    a.metadata.deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(jiff::Timestamp::now()));
    let actions = plan(&web(), &[&a], &no_zone, &[]);
    assert_eq!(conditions(created(&actions)[0], 0), (Some(false), Some(true), Some(true)));
}

#[test]
fn publish_not_ready_addresses_makes_a_not_ready_pod_ready() {
    let mut svc = web();
    svc.spec.as_mut().unwrap().publish_not_ready_addresses = Some(true);
    let a = pod("a", "10.0.0.1", false);
    let actions = plan(&svc, &[&a], &no_zone, &[]);
    assert_eq!(conditions(created(&actions)[0], 0), (Some(true), Some(true), Some(false)));
}

#[test]
fn the_slice_carries_the_labels_owner_and_generate_name_of_the_service() {
    let a = pod("a", "10.0.0.1", true);
    let actions = plan(&web(), &[&a], &no_zone, &[]);
    let s = created(&actions)[0];
    let labels = s.metadata.labels.clone().unwrap();
    assert_eq!(labels[SERVICE_NAME_LABEL], "web");
    assert_eq!(labels[MANAGED_BY_LABEL], CONTROLLER_NAME);
    assert_eq!(s.metadata.generate_name.as_deref(), Some("web-"));
    assert_eq!(s.address_type, "IPv4");
    let owner = &s.metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!((owner.kind.as_str(), owner.uid.as_str(), owner.controller), ("Service", "uid-web", Some(true)));
}

#[test]
fn the_endpoint_names_its_pod_node_and_zone() {
    let a = pod("a", "10.0.0.1", true);
    let zone = |n: &str| (n == "node-1").then(|| "zone-a".to_string());
    let actions = plan(&web(), &[&a], &zone, &[]);
    let e = &created(&actions)[0].endpoints[0];
    assert_eq!(e.node_name.as_deref(), Some("node-1"));
    assert_eq!(e.zone.as_deref(), Some("zone-a"));
    let r = e.target_ref.as_ref().unwrap();
    assert_eq!((r.kind.as_deref(), r.name.as_deref(), r.uid.as_deref()), (Some("Pod"), Some("a"), Some("uid-a")));
}

#[test]
fn the_ports_take_name_and_protocol_from_the_service_and_number_from_the_pod() {
    let svc = service("web", &[("app", "web")], vec![port("http", 80, IntOrString::String("web".into()))]);
    let a = with_container_port(pod("a", "10.0.0.1", true), "web", 8080);
    let actions = plan(&svc, &[&a], &no_zone, &[]);
    let p = &created(&actions)[0].ports.as_ref().unwrap()[0];
    assert_eq!((p.name.as_deref(), p.port, p.protocol.as_deref()), (Some("http"), Some(8080), Some("TCP")));
}

#[test]
fn pods_resolving_a_named_port_differently_go_into_different_slices() {
    let svc = service("web", &[("app", "web")], vec![port("http", 80, IntOrString::String("web".into()))]);
    let a = with_container_port(pod("a", "10.0.0.1", true), "web", 8080);
    let b = with_container_port(pod("b", "10.0.0.2", true), "web", 9090);
    let actions = plan(&svc, &[&a, &b], &no_zone, &[]);
    assert_eq!(created(&actions).len(), 2);
}

#[test]
fn a_pod_without_an_ip_is_not_listed() {
    let a = pod("a", "", true);
    let mut a = a;
    a.status.as_mut().unwrap().pod_ips = None;
    let actions = plan(&web(), &[&a], &no_zone, &[]);
    assert!(created(&actions)[0].endpoints.is_empty());
}

#[test]
fn a_service_without_pods_gets_one_empty_placeholder_slice() {
    let actions = plan(&web(), &[], &no_zone, &[]);
    let slices = created(&actions);
    assert_eq!(slices.len(), 1);
    assert!(slices[0].endpoints.is_empty());
}

#[test]
fn an_existing_placeholder_is_kept_as_it_is() {
    let first = plan(&web(), &[], &no_zone, &[]);
    let placeholder = stored(created(&first)[0].clone(), "web-abcde");
    assert!(plan(&web(), &[], &no_zone, &[&placeholder]).is_empty());
}

#[test]
fn a_pod_arriving_fills_the_placeholder_instead_of_adding_a_slice() {
    let first = plan(&web(), &[], &no_zone, &[]);
    let placeholder = stored(created(&first)[0].clone(), "web-abcde");
    let a = pod("a", "10.0.0.1", true);
    let actions = plan(&web(), &[&a], &no_zone, &[&placeholder]);
    assert_eq!(actions.len(), 1);
    let SliceAction::Update(s) = &actions[0] else { panic!("expected an update, got {actions:?}") };
    assert_eq!(s.metadata.name.as_deref(), Some("web-abcde"));
    assert_eq!(s.endpoints.len(), 1);
}

#[test]
fn an_up_to_date_slice_is_left_alone() {
    let a = pod("a", "10.0.0.1", true);
    let first = plan(&web(), &[&a], &no_zone, &[]);
    let slice = stored(created(&first)[0].clone(), "web-abcde");
    assert!(plan(&web(), &[&a], &no_zone, &[&slice]).is_empty());
}

#[test]
fn a_pod_turning_ready_updates_its_slice_in_place() {
    let a = pod("a", "10.0.0.1", false);
    let first = plan(&web(), &[&a], &no_zone, &[]);
    let slice = stored(created(&first)[0].clone(), "web-abcde");
    let a = pod("a", "10.0.0.1", true);
    let actions = plan(&web(), &[&a], &no_zone, &[&slice]);
    let [SliceAction::Update(s)] = actions.as_slice() else { panic!("expected one update, got {actions:?}") };
    assert_eq!(conditions(s, 0).0, Some(true));
}

#[test]
fn more_than_a_hundred_pods_are_split_into_slices_of_a_hundred() {
    let all: Vec<Pod> =
        (0..250).map(|i| pod(&format!("p{i}"), &format!("10.0.{}.{}", i / 200, i % 200), true)).collect();
    let refs: Vec<&Pod> = all.iter().collect();
    let actions = plan(&web(), &refs, &no_zone, &[]);
    let sizes: Vec<usize> = created(&actions).iter().map(|s| s.endpoints.len()).collect();
    assert_eq!(sizes, vec![100, 100, 50]);
}

#[test]
fn the_last_pod_going_leaves_an_empty_placeholder() {
    let a = pod("a", "10.0.0.1", true);
    let first = plan(&web(), &[&a], &no_zone, &[]);
    let slice = stored(created(&first)[0].clone(), "web-abcde");
    let actions = plan(&web(), &[], &no_zone, &[&slice]);
    let [SliceAction::Update(s)] = actions.as_slice() else { panic!("expected one update, got {actions:?}") };
    assert!(s.endpoints.is_empty());
}

#[test]
fn a_slice_owned_by_an_older_service_of_the_same_name_is_deleted() {
    let a = pod("a", "10.0.0.1", true);
    let first = plan(&web(), &[&a], &no_zone, &[]);
    let slice = stored(created(&first)[0].clone(), "web-old");
    let mut recreated = web();
    recreated.metadata.uid = Some("uid-web-2".into());
    let actions = plan(&recreated, &[&a], &no_zone, &[&slice]);
    assert!(actions.contains(&SliceAction::Delete("web-old".into())));
    assert_eq!(created(&actions).len(), 1);
}

#[test]
fn a_headless_service_gets_the_headless_label() {
    let mut svc = web();
    svc.spec.as_mut().unwrap().cluster_ip = Some("None".into());
    let a = pod("a", "10.0.0.1", true);
    let actions = plan(&svc, &[&a], &no_zone, &[]);
    assert!(created(&actions)[0].metadata.labels.as_ref().unwrap().contains_key(HEADLESS_LABEL));
}

#[test]
fn a_headless_service_without_ports_lists_its_pods_without_ports() {
    let mut svc = service("db", &[("app", "web")], vec![]);
    svc.spec.as_mut().unwrap().cluster_ip = Some("None".into());
    let a = pod("a", "10.0.0.1", true);
    let actions = plan(&svc, &[&a], &no_zone, &[]);
    let s = created(&actions)[0];
    assert_eq!(s.endpoints.len(), 1);
    assert!(s.ports.as_ref().is_none_or(|p| p.is_empty()));
}
