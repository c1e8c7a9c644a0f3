//! The EndpointSlice mirroring controller's plan: the Endpoints of a Service without a
//! selector (written by hand or by another tool) are mirrored into EndpointSlices.

use super::layout::{self, Group, GroupKey, Shape, SliceAction};
use super::pods;
use super::slices::{MANAGED_BY_LABEL, SERVICE_NAME_LABEL};
use k8s_openapi::api::core::v1::{EndpointAddress, EndpointSubset, Endpoints, Service};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// The mirroring controller's value of the managed-by label.
pub const CONTROLLER_NAME: &str = "endpointslicemirroring-controller.k8s.io";
/// Label by which an Endpoints object opts out of mirroring.
pub const SKIP_MIRROR_LABEL: &str = "endpointslice.kubernetes.io/skip-mirror";
/// Annotation of leader-election Endpoints, never mirrored.
const LEADER_ANNOTATION: &str = "control-plane.alpha.kubernetes.io/leader";
/// Annotations not copied onto mirrored slices.
const NOT_COPIED: [&str; 2] =
    ["endpoints.kubernetes.io/last-change-trigger-time", "kubectl.kubernetes.io/last-applied-configuration"];
/// Addresses mirrored per subset (--mirroring-max-endpoints-per-subset).
pub const MAX_PER_SUBSET: usize = 1000;

/// Whether these Endpoints are mirrored: their Service exists without a selector, and they
/// neither opt out nor hold a leader-election record.
pub fn should_mirror(ep: &Endpoints, svc: Option<&Service>) -> bool {
    let Some(svc) = svc else { return false };
    let has_selector = svc.spec.as_ref().and_then(|s| s.selector.as_ref()).is_some_and(|s| !s.is_empty());
    let skip = ep.metadata.labels.as_ref().and_then(|l| l.get(SKIP_MIRROR_LABEL)).is_some_and(|v| v == "true");
    let leader = ep.metadata.annotations.as_ref().is_some_and(|a| a.contains_key(LEADER_ANNOTATION));
    !has_selector && !skip && !leader
}

/// The writes that make the mirrored slices match the Endpoints (all deleted when they
/// should not be mirrored).
pub fn plan(ep: &Endpoints, svc: Option<&Service>, existing: &[&EndpointSlice]) -> Vec<SliceAction> {
    let groups = if should_mirror(ep, svc) { groups(ep) } else { BTreeMap::new() };
    layout::layout(&shape(ep), groups, existing, None)
}

fn shape(ep: &Endpoints) -> Shape {
    let name = ep.metadata.name.clone().unwrap_or_default();
    let mut labels = ep.metadata.labels.clone().unwrap_or_default();
    labels.insert(SERVICE_NAME_LABEL.into(), name.clone());
    labels.insert(MANAGED_BY_LABEL.into(), CONTROLLER_NAME.into());
    let mut annotations = ep.metadata.annotations.clone().unwrap_or_default();
    annotations.retain(|k, _| !NOT_COPIED.contains(&k.as_str()));
    Shape {
        namespace: ep.metadata.namespace.clone(),
        generate_name: format!("{name}-"),
        labels,
        annotations: Some(annotations),
        owner: OwnerReference {
            api_version: "v1".into(),
            kind: "Endpoints".into(),
            name,
            uid: ep.metadata.uid.clone().unwrap_or_default(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        },
        max_endpoints: MAX_PER_SUBSET,
    }
}

/// Each subset's addresses under its ports, by address type; invalid IPs are skipped and
/// at most [`MAX_PER_SUBSET`] addresses of a subset are mirrored.
fn groups(ep: &Endpoints) -> BTreeMap<GroupKey, Group> {
    let mut groups: BTreeMap<GroupKey, Group> = BTreeMap::new();
    for subset in ep.subsets.iter().flatten() {
        let ports = ports(subset);
        let keys: Vec<_> = ports.iter().map(layout::port_key).collect();
        for (address, ready) in addresses(subset).take(MAX_PER_SUBSET) {
            let Ok(ip) = address.ip.parse::<IpAddr>() else { continue };
            let family = pods::family_of(&ip.to_string()).to_string();
            let group = groups
                .entry((family, keys.clone()))
                .or_insert_with(|| Group { ports: ports.clone(), ..Default::default() });
            let e = endpoint(address, ready);
            if let Some(id) = layout::endpoint_id(&e) {
                group.endpoints.insert(id, e);
            }
        }
    }
    groups
}

fn addresses(subset: &EndpointSubset) -> impl Iterator<Item = (&EndpointAddress, bool)> {
    let ready = subset.addresses.iter().flatten().map(|a| (a, true));
    ready.chain(subset.not_ready_addresses.iter().flatten().map(|a| (a, false)))
}

fn ports(subset: &EndpointSubset) -> Vec<EndpointPort> {
    subset
        .ports
        .iter()
        .flatten()
        .map(|p| EndpointPort {
            name: Some(p.name.clone().unwrap_or_default()),
            port: Some(p.port),
            protocol: Some(pods::protocol(p.protocol.as_deref()).to_string()),
            app_protocol: p.app_protocol.clone(),
        })
        .collect()
}

fn endpoint(a: &EndpointAddress, ready: bool) -> Endpoint {
    Endpoint {
        addresses: vec![a.ip.clone()],
        conditions: Some(EndpointConditions { ready: Some(ready), ..Default::default() }),
        hostname: a.hostname.clone().filter(|h| !h.is_empty()),
        node_name: a.node_name.clone(),
        target_ref: a.target_ref.clone(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpointslice::pods::testing::service;
    use k8s_openapi::api::core::v1::EndpointPort as CorePort;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn selectorless() -> Service {
        let mut svc = service("ext", &[], vec![]);
        svc.spec.as_mut().unwrap().selector = None;
        svc
    }

    fn custom(ips: &[&str], not_ready: &[&str]) -> Endpoints {
        let addr = |ip: &&str| EndpointAddress { ip: ip.to_string(), ..Default::default() };
        Endpoints {
            metadata: ObjectMeta {
                name: Some("ext".into()),
                namespace: Some("default".into()),
                uid: Some("uid-ep".into()),
                labels: Some([("team".to_string(), "a".to_string())].into()),
                ..Default::default()
            },
            subsets: Some(vec![EndpointSubset {
                addresses: Some(ips.iter().map(addr).collect()),
                not_ready_addresses: Some(not_ready.iter().map(addr).collect()),
                ports: Some(vec![CorePort {
                    name: Some("http".into()),
                    port: 8080,
                    protocol: Some("TCP".into()),
                    app_protocol: None,
                }]),
            }]),
        }
    }

    fn created(actions: &[SliceAction]) -> Vec<&EndpointSlice> {
        actions.iter().filter_map(|a| if let SliceAction::Create(s) = a { Some(s) } else { None }).collect()
    }

    #[test]
    fn custom_endpoints_of_a_selectorless_service_are_mirrored_into_a_slice() {
        let actions = plan(&custom(&["10.1.0.1"], &["10.1.0.2"]), Some(&selectorless()), &[]);
        let s = created(&actions)[0];
        let labels = s.metadata.labels.as_ref().unwrap();
        assert_eq!(labels[MANAGED_BY_LABEL], CONTROLLER_NAME);
        assert_eq!(labels[SERVICE_NAME_LABEL], "ext");
        assert_eq!(labels["team"], "a");
        let ready: Vec<(String, Option<bool>)> =
            s.endpoints.iter().map(|e| (e.addresses[0].clone(), e.conditions.clone().unwrap().ready)).collect();
        assert_eq!(ready, vec![("10.1.0.1".into(), Some(true)), ("10.1.0.2".into(), Some(false))]);
        assert_eq!(s.ports.as_ref().unwrap()[0].port, Some(8080));
        assert_eq!(s.metadata.owner_references.as_ref().unwrap()[0].kind, "Endpoints");
    }

    #[test]
    fn endpoints_of_a_service_with_a_selector_are_not_mirrored() {
        let svc = service("ext", &[("app", "x")], vec![]);
        assert!(plan(&custom(&["10.1.0.1"], &[]), Some(&svc), &[]).is_empty());
    }

    #[test]
    fn endpoints_without_a_service_are_not_mirrored() {
        assert!(!should_mirror(&custom(&["10.1.0.1"], &[]), None));
    }

    #[test]
    fn endpoints_labelled_skip_mirror_are_not_mirrored() {
        let mut ep = custom(&["10.1.0.1"], &[]);
        ep.metadata.labels.as_mut().unwrap().insert(SKIP_MIRROR_LABEL.into(), "true".into());
        assert!(!should_mirror(&ep, Some(&selectorless())));
    }

    #[test]
    fn a_changed_address_updates_the_mirrored_slice() {
        let first = plan(&custom(&["10.1.0.1"], &[]), Some(&selectorless()), &[]);
        let mut slice = created(&first)[0].clone();
        slice.metadata.name = Some("ext-abcde".into());
        let actions = plan(&custom(&["10.1.0.9"], &[]), Some(&selectorless()), &[&slice]);
        let [SliceAction::Update(s)] = actions.as_slice() else { panic!("expected one update, got {actions:?}") };
        assert_eq!(s.endpoints[0].addresses, vec!["10.1.0.9".to_string()]);
    }

    #[test]
    fn a_service_gaining_a_selector_loses_its_mirrored_slices() {
        let first = plan(&custom(&["10.1.0.1"], &[]), Some(&selectorless()), &[]);
        let mut slice = created(&first)[0].clone();
        slice.metadata.name = Some("ext-abcde".into());
        let svc = service("ext", &[("app", "x")], vec![]);
        assert_eq!(
            plan(&custom(&["10.1.0.1"], &[]), Some(&svc), &[&slice]),
            vec![SliceAction::Delete("ext-abcde".into())]
        );
    }

    #[test]
    fn an_invalid_ip_is_not_mirrored() {
        let actions = plan(&custom(&["not-an-ip", "10.1.0.1"], &[]), Some(&selectorless()), &[]);
        assert_eq!(created(&actions)[0].endpoints.len(), 1);
    }
}
