//! The EndpointSlices a Service should have, and the creates, updates and deletes that get
//! there from the slices it has (the EndpointSlice reconciler, with its 100-endpoint slices).

use super::pods;
use crate::semantic;
use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use std::collections::BTreeMap;

/// Label naming the Service a slice belongs to.
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";
/// Label naming the controller that manages a slice.
pub const MANAGED_BY_LABEL: &str = "endpointslice.kubernetes.io/managed-by";
/// This controller's value of [`MANAGED_BY_LABEL`].
pub const CONTROLLER_NAME: &str = "endpointslice-controller.k8s.io";
/// Label on the slices and Endpoints of a Service without a cluster IP.
pub const HEADLESS_LABEL: &str = "service.kubernetes.io/headless";
/// Endpoints per slice (kube-controller-manager's --max-endpoints-per-slice default).
pub const MAX_ENDPOINTS: usize = 100;

/// One write the reconciler makes.
#[derive(Clone, Debug, PartialEq)]
pub enum SliceAction {
    Create(EndpointSlice),
    Update(EndpointSlice),
    Delete(String),
}

/// Endpoints sharing an address type and a port list go into the same slices.
type GroupKey = (String, Vec<PortKey>);
type PortKey = (Option<String>, Option<i32>, Option<String>, Option<String>);

/// The endpoints of one group, keyed by their pod (or address), with the group's ports.
struct Group {
    ports: Vec<EndpointPort>,
    endpoints: BTreeMap<String, Endpoint>,
}

/// The writes that make the Service's slices list exactly its selected pods. `existing` are
/// the slices labelled for this Service and managed by this controller; `zone_of` gives a
/// node's topology.kubernetes.io/zone.
pub fn plan(
    svc: &Service,
    selected: &[&Pod],
    zone_of: &dyn Fn(&str) -> Option<String>,
    existing: &[&EndpointSlice],
) -> Vec<SliceAction> {
    let (owned, foreign): (Vec<&EndpointSlice>, Vec<&EndpointSlice>) =
        existing.iter().partition(|s| owned_by(s, svc));
    let mut actions: Vec<SliceAction> = foreign.iter().map(|s| SliceAction::Delete(name(s))).collect();
    let groups = desired(svc, selected, zone_of);
    let mut own_actions = Vec::new();
    if groups.is_empty() {
        own_actions.extend(placeholder(svc, &owned));
    } else {
        let mut unclaimed = owned.clone();
        for (key, group) in groups {
            let (mine, rest): (Vec<&EndpointSlice>, Vec<&EndpointSlice>) =
                unclaimed.into_iter().partition(|s| group_key(s) == key);
            unclaimed = rest;
            own_actions.extend(pack(svc, &key.0, group, &mine));
        }
        own_actions.extend(unclaimed.iter().map(|s| SliceAction::Delete(name(s))));
    }
    actions.extend(recycle(own_actions, &owned));
    actions
}

/// A create and a delete of the same address type become one update of the slice that
/// would be deleted, as the reconciler's finalize step does (fewer writes, stable names).
fn recycle(actions: Vec<SliceAction>, owned: &[&EndpointSlice]) -> Vec<SliceAction> {
    let (mut creates, mut rest): (Vec<SliceAction>, Vec<SliceAction>) =
        actions.into_iter().partition(|a| matches!(a, SliceAction::Create(_)));
    for action in rest.iter_mut() {
        let SliceAction::Delete(gone) = action else { continue };
        let Some(old) = owned.iter().find(|s| s.metadata.name.as_ref() == Some(gone)) else { continue };
        let same_type = |a: &SliceAction| matches!(a, SliceAction::Create(c) if c.address_type == old.address_type);
        let Some(i) = creates.iter().position(same_type) else { continue };
        let SliceAction::Create(new) = creates.remove(i) else { continue };
        *action = SliceAction::Update(EndpointSlice { metadata: with_content_meta((*old).clone(), &new), ..new });
    }
    rest.extend(creates);
    rest
}

/// The old slice's metadata (name, version) with the new slice's labels and owner.
fn with_content_meta(old: EndpointSlice, new: &EndpointSlice) -> ObjectMeta {
    let mut meta = old.metadata;
    meta.labels.clone_from(&new.metadata.labels);
    meta.owner_references.clone_from(&new.metadata.owner_references);
    meta
}

/// Whether the slice's controller reference is this Service (same UID).
fn owned_by(slice: &EndpointSlice, svc: &Service) -> bool {
    slice.metadata.owner_references.iter().flatten().any(|r| {
        r.controller == Some(true) && r.kind == "Service" && Some(&r.uid) == svc.metadata.uid.as_ref()
    })
}

fn name(slice: &EndpointSlice) -> String {
    slice.metadata.name.clone().unwrap_or_default()
}

/// The endpoints the Service should list, grouped by address type and resolved ports.
/// Terminating pods are listed (with terminating true), as the EndpointSlice controller does.
fn desired(svc: &Service, selected: &[&Pod], zone_of: &dyn Fn(&str) -> Option<String>) -> BTreeMap<GroupKey, Group> {
    let mut groups: BTreeMap<GroupKey, Group> = BTreeMap::new();
    for pod in selected.iter().filter(|p| pods::belongs_in_endpoints(p, true)) {
        let ports = endpoint_ports(svc, pod);
        for family in pods::families(svc) {
            let Some(ip) = pods::ip_of_family(pod, &family) else { continue };
            let key = (family.clone(), ports.iter().map(port_key).collect());
            let group = groups.entry(key).or_insert_with(|| Group { ports: ports.clone(), endpoints: BTreeMap::new() });
            let id = pod.metadata.uid.clone().unwrap_or_else(|| ip.clone());
            group.endpoints.insert(id, endpoint(svc, pod, ip, zone_of));
        }
    }
    groups
}

/// The Service's ports as this pod serves them; ports the pod cannot resolve are left out.
fn endpoint_ports(svc: &Service, pod: &Pod) -> Vec<EndpointPort> {
    pods::service_ports(svc)
        .iter()
        .filter_map(|sp| {
            let port = pods::find_port(pod, sp)?;
            Some(EndpointPort {
                name: Some(sp.name.clone().unwrap_or_default()),
                port: Some(port),
                protocol: Some(pods::protocol(sp.protocol.as_deref()).to_string()),
                app_protocol: sp.app_protocol.clone(),
            })
        })
        .collect()
}

fn port_key(p: &EndpointPort) -> PortKey {
    (p.name.clone(), p.port, p.protocol.clone(), p.app_protocol.clone())
}

fn group_key(slice: &EndpointSlice) -> GroupKey {
    (slice.address_type.clone(), slice.ports.iter().flatten().map(port_key).collect())
}

/// One pod's endpoint: ready means serving and not terminating, unless the Service
/// publishes not-ready addresses, which makes every endpoint ready and serving.
fn endpoint(svc: &Service, pod: &Pod, ip: String, zone_of: &dyn Fn(&str) -> Option<String>) -> Endpoint {
    let publish = pods::publishes_not_ready(svc);
    let terminating = pods::is_terminating(pod);
    let serving = publish || pods::is_ready(pod);
    let node_name = pods::node_name(pod);
    Endpoint {
        addresses: vec![ip],
        conditions: Some(EndpointConditions {
            ready: Some(publish || (serving && !terminating)),
            serving: Some(serving),
            terminating: Some(terminating),
        }),
        hostname: pods::hostname_for(pod, svc),
        zone: node_name.as_deref().and_then(zone_of),
        node_name,
        target_ref: Some(pods::target_ref(pod)),
        ..Default::default()
    }
}

/// A Service with no endpoints keeps exactly one empty slice, so that watchers can tell
/// "no endpoints" from "not processed yet".
fn placeholder(svc: &Service, owned: &[&EndpointSlice]) -> Vec<SliceAction> {
    let family = pods::families(svc).remove(0);
    let keep = owned.iter().find(|s| s.endpoints.is_empty() && s.address_type == family);
    let mut actions: Vec<SliceAction> = owned
        .iter()
        .filter(|s| keep.is_none_or(|k| k.metadata.name != s.metadata.name))
        .map(|s| SliceAction::Delete(name(s)))
        .collect();
    let wanted = |base: EndpointSlice| shaped(svc, base, &family, Vec::new(), Vec::new());
    match keep {
        Some(old) => actions.extend(update_if_changed(old, wanted((*old).clone()))),
        None => actions.push(SliceAction::Create(wanted(new_slice(svc)))),
    }
    actions
}

/// Places a group's endpoints: each stays in the slice that has it, the rest fill slices
/// with room, then new slices of [`MAX_ENDPOINTS`]; slices left empty are deleted.
fn pack(svc: &Service, family: &str, mut group: Group, slices: &[&EndpointSlice]) -> Vec<SliceAction> {
    let mut kept: Vec<(&EndpointSlice, Vec<Endpoint>)> = slices
        .iter()
        .map(|s| (*s, s.endpoints.iter().filter_map(|e| take(&mut group.endpoints, e)).collect()))
        .collect();
    for (_, eps) in kept.iter_mut() {
        while eps.len() < MAX_ENDPOINTS {
            let Some((_, e)) = group.endpoints.pop_first() else { break };
            eps.push(e);
        }
    }
    let mut actions = Vec::new();
    for (old, eps) in kept {
        if eps.is_empty() {
            actions.push(SliceAction::Delete(name(old)));
        } else {
            let new = shaped(svc, old.clone(), family, group.ports.clone(), eps);
            actions.extend(update_if_changed(old, new));
        }
    }
    let rest: Vec<Endpoint> = group.endpoints.into_values().collect();
    for chunk in rest.chunks(MAX_ENDPOINTS) {
        actions.push(SliceAction::Create(shaped(svc, new_slice(svc), family, group.ports.clone(), chunk.to_vec())));
    }
    actions
}

/// Removes and returns the desired form of an endpoint an existing slice lists.
fn take(desired: &mut BTreeMap<String, Endpoint>, existing: &Endpoint) -> Option<Endpoint> {
    let id = existing.target_ref.as_ref().and_then(|r| r.uid.clone());
    let id = id.or_else(|| existing.addresses.first().cloned())?;
    desired.remove(&id)
}

fn update_if_changed(old: &EndpointSlice, new: EndpointSlice) -> Option<SliceAction> {
    (!semantic::equal(old, &new)).then_some(SliceAction::Update(new))
}

/// A fresh slice for the Service: generateName `<service>-`, in its namespace.
fn new_slice(svc: &Service) -> EndpointSlice {
    let svc_name = svc.metadata.name.clone().unwrap_or_default();
    EndpointSlice {
        metadata: ObjectMeta {
            generate_name: Some(format!("{svc_name}-")),
            namespace: svc.metadata.namespace.clone(),
            ..Default::default()
        },
        address_type: String::new(),
        endpoints: Vec::new(),
        ports: None,
    }
}

/// `base` with the content, labels and owner reference the Service calls for.
fn shaped(svc: &Service, mut base: EndpointSlice, family: &str, ports: Vec<EndpointPort>, eps: Vec<Endpoint>) -> EndpointSlice {
    base.address_type = family.to_string();
    base.ports = Some(ports);
    base.endpoints = eps;
    base.metadata.labels = Some(labels(svc));
    base.metadata.owner_references = Some(vec![owner_reference(svc)]);
    base
}

/// The Service's labels (less the reserved ones), the headless label when it has no cluster
/// IP, and the two labels that tie the slice to the Service and this controller.
pub fn labels(svc: &Service) -> BTreeMap<String, String> {
    let mut l: BTreeMap<String, String> = svc.metadata.labels.clone().unwrap_or_default();
    l.retain(|k, _| k != SERVICE_NAME_LABEL && k != MANAGED_BY_LABEL);
    set_headless_label(svc, &mut l);
    l.insert(SERVICE_NAME_LABEL.into(), svc.metadata.name.clone().unwrap_or_default());
    l.insert(MANAGED_BY_LABEL.into(), CONTROLLER_NAME.into());
    l
}

/// Adds [`HEADLESS_LABEL`] when the Service has no cluster IP, removes it otherwise.
pub fn set_headless_label(svc: &Service, labels: &mut BTreeMap<String, String>) {
    let ip = svc.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()).unwrap_or_default();
    if ip.is_empty() || ip == "None" {
        labels.insert(HEADLESS_LABEL.into(), String::new());
    } else {
        labels.remove(HEADLESS_LABEL);
    }
}

fn owner_reference(svc: &Service) -> OwnerReference {
    OwnerReference {
        api_version: "v1".into(),
        kind: "Service".into(),
        name: svc.metadata.name.clone().unwrap_or_default(),
        uid: svc.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

#[cfg(test)]
#[path = "slices_tests.rs"]
mod tests;
