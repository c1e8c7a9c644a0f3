//! How endpoints are laid out in slices, for both the EndpointSlice and the mirroring
//! controller: endpoints stay in the slice that has them, the rest fill slices with room,
//! then new slices; a create paired with a delete becomes an update (the reconciler's way).

use crate::semantic;
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use std::collections::BTreeMap;

/// One write a slice reconciler makes.
#[derive(Clone, Debug, PartialEq)]
pub enum SliceAction {
    Create(EndpointSlice),
    Update(EndpointSlice),
    Delete(String),
}

/// Endpoints sharing an address type and a port list go into the same slices.
pub type GroupKey = (String, Vec<PortKey>);
pub type PortKey = (Option<String>, Option<i32>, Option<String>, Option<String>);

/// The endpoints of one group, keyed by [`endpoint_id`], with the group's ports.
#[derive(Default)]
pub struct Group {
    pub ports: Vec<EndpointPort>,
    pub endpoints: BTreeMap<String, Endpoint>,
}

/// What every slice of one owner carries: where it lives, its name prefix, labels, owner.
pub struct Shape {
    pub namespace: Option<String>,
    pub generate_name: String,
    pub labels: BTreeMap<String, String>,
    /// Annotations the slices must carry exactly; None leaves theirs alone.
    pub annotations: Option<BTreeMap<String, String>>,
    pub owner: OwnerReference,
    pub max_endpoints: usize,
}

/// The writes that make `existing` (the owner's slices) hold exactly `groups`. With
/// `placeholder`, an owner without endpoints keeps one empty slice of that address type.
pub fn layout(
    shape: &Shape,
    groups: BTreeMap<GroupKey, Group>,
    existing: &[&EndpointSlice],
    placeholder: Option<&str>,
) -> Vec<SliceAction> {
    let (owned, foreign): (Vec<&EndpointSlice>, Vec<&EndpointSlice>) =
        existing.iter().partition(|s| owned_by(s, &shape.owner.uid));
    let mut actions: Vec<SliceAction> = foreign.iter().map(|s| SliceAction::Delete(name(s))).collect();
    let mut own_actions = Vec::new();
    match placeholder {
        Some(family) if groups.is_empty() => own_actions.extend(keep_placeholder(shape, family, &owned)),
        _ => {
            let mut unclaimed = owned.clone();
            for (key, group) in groups {
                let (mine, rest): (Vec<&EndpointSlice>, Vec<&EndpointSlice>) =
                    unclaimed.into_iter().partition(|s| group_key(s) == key);
                unclaimed = rest;
                own_actions.extend(pack(shape, &key.0, group, &mine));
            }
            own_actions.extend(unclaimed.iter().map(|s| SliceAction::Delete(name(s))));
        }
    }
    actions.extend(recycle(own_actions, &owned));
    actions
}

/// An endpoint's identity across syncs: its target's UID, else its first address.
pub fn endpoint_id(e: &Endpoint) -> Option<String> {
    e.target_ref.as_ref().and_then(|r| r.uid.clone()).or_else(|| e.addresses.first().cloned())
}

pub fn port_key(p: &EndpointPort) -> PortKey {
    (p.name.clone(), p.port, p.protocol.clone(), p.app_protocol.clone())
}

fn group_key(slice: &EndpointSlice) -> GroupKey {
    (slice.address_type.clone(), slice.ports.iter().flatten().map(port_key).collect())
}

/// Whether the slice's controller reference has this UID.
fn owned_by(slice: &EndpointSlice, uid: &str) -> bool {
    slice.metadata.owner_references.iter().flatten().any(|r| r.controller == Some(true) && r.uid == uid)
}

fn name(slice: &EndpointSlice) -> String {
    slice.metadata.name.clone().unwrap_or_default()
}

/// An owner with no endpoints keeps exactly one empty slice, so that watchers can tell
/// "no endpoints" from "not processed yet".
fn keep_placeholder(shape: &Shape, family: &str, owned: &[&EndpointSlice]) -> Vec<SliceAction> {
    let keep = owned.iter().find(|s| s.endpoints.is_empty() && s.address_type == family);
    let mut actions: Vec<SliceAction> = owned
        .iter()
        .filter(|s| keep.is_none_or(|k| k.metadata.name != s.metadata.name))
        .map(|s| SliceAction::Delete(name(s)))
        .collect();
    match keep {
        Some(old) => {
            actions.extend(update_if_changed(old, shaped(shape, (*old).clone(), family, Vec::new(), Vec::new())))
        }
        None => actions.push(SliceAction::Create(shaped(shape, new_slice(shape), family, Vec::new(), Vec::new()))),
    }
    actions
}

/// Places a group's endpoints: each stays in the slice that has it, the rest fill slices
/// with room, then new slices; slices left empty are deleted.
fn pack(shape: &Shape, family: &str, mut group: Group, slices: &[&EndpointSlice]) -> Vec<SliceAction> {
    let max = shape.max_endpoints.max(1);
    let mut kept: Vec<(&EndpointSlice, Vec<Endpoint>)> = slices
        .iter()
        .map(|s| (*s, s.endpoints.iter().filter_map(|e| group.endpoints.remove(&endpoint_id(e)?)).collect()))
        .collect();
    for (_, eps) in kept.iter_mut() {
        while eps.len() < max {
            let Some((_, e)) = group.endpoints.pop_first() else { break };
            eps.push(e);
        }
    }
    let mut actions = Vec::new();
    for (old, eps) in kept {
        if eps.is_empty() {
            actions.push(SliceAction::Delete(name(old)));
        } else {
            actions.extend(update_if_changed(old, shaped(shape, old.clone(), family, group.ports.clone(), eps)));
        }
    }
    let rest: Vec<Endpoint> = group.endpoints.into_values().collect();
    for chunk in rest.chunks(max) {
        actions.push(SliceAction::Create(shaped(shape, new_slice(shape), family, group.ports.clone(), chunk.to_vec())));
    }
    actions
}

fn update_if_changed(old: &EndpointSlice, new: EndpointSlice) -> Option<SliceAction> {
    (!semantic::equal(old, &new)).then_some(SliceAction::Update(new))
}

/// A create and a delete of the same address type become one update of the slice that
/// would be deleted (fewer writes, stable names).
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
    if new.metadata.annotations.is_some() {
        meta.annotations.clone_from(&new.metadata.annotations);
    }
    meta.owner_references.clone_from(&new.metadata.owner_references);
    meta
}

/// A fresh slice: generateName `<owner>-`, in the owner's namespace.
fn new_slice(shape: &Shape) -> EndpointSlice {
    EndpointSlice {
        metadata: ObjectMeta {
            generate_name: Some(shape.generate_name.clone()),
            namespace: shape.namespace.clone(),
            ..Default::default()
        },
        address_type: String::new(),
        endpoints: Vec::new(),
        ports: None,
    }
}

/// `base` with the content, labels and owner reference the shape calls for.
fn shaped(
    shape: &Shape,
    mut base: EndpointSlice,
    family: &str,
    ports: Vec<EndpointPort>,
    eps: Vec<Endpoint>,
) -> EndpointSlice {
    base.address_type = family.to_string();
    base.ports = Some(ports);
    base.endpoints = eps;
    base.metadata.labels = Some(shape.labels.clone());
    if let Some(a) = &shape.annotations {
        base.metadata.annotations = Some(a.clone()).filter(|a| !a.is_empty());
    }
    base.metadata.owner_references = Some(vec![shape.owner.clone()]);
    base
}
