//! Controller references: who controls an object, and adoption or release by selector
//! (Kubernetes' ControllerRefManager).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use kube::Resource;
use serde_json::{Value, json};

/// The owner reference with `controller: true`, if any.
pub fn controller_of(meta: &ObjectMeta) -> Option<&OwnerReference> {
    meta.owner_references.iter().flatten().find(|r| r.controller == Some(true))
}

/// Whether the object's controller is the owner with this UID.
pub fn is_controlled_by(meta: &ObjectMeta, owner_uid: &str) -> bool {
    controller_of(meta).is_some_and(|r| r.uid == owner_uid)
}

/// A controller reference to `owner`, with blockOwnerDeletion, as controllers set on children.
pub fn new_controller_ref<K: Resource<DynamicType = ()>>(owner: &K) -> OwnerReference {
    let meta = owner.meta();
    OwnerReference {
        api_version: K::api_version(&()).into_owned(),
        kind: K::kind(&()).into_owned(),
        name: meta.name.clone().unwrap_or_default(),
        uid: meta.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// What a controller does with one object its selector may or may not pick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// Ours already, and still selected.
    Owned,
    /// An orphan the selector picks: set our controller reference.
    Adopt,
    /// Ours, but no longer selected: drop our reference.
    Release,
    /// Someone else's, or not for us.
    Ignore,
}

/// The owner side of a claim.
#[derive(Clone, Copy, Debug)]
pub struct Owner<'a> {
    pub uid: &'a str,
    pub namespace: &'a str,
    /// An owner being deleted neither adopts nor releases.
    pub deleting: bool,
}

/// Kubernetes' ClaimObject decision for one object.
pub fn claim(owner: Owner<'_>, child: &ObjectMeta, selected: bool) -> Claim {
    if let Some(r) = controller_of(child) {
        return match (r.uid == owner.uid, selected, owner.deleting) {
            (false, _, _) => Claim::Ignore,
            (true, true, _) => Claim::Owned,
            (true, false, true) => Claim::Ignore,
            (true, false, false) => Claim::Release,
        };
    }
    let same_ns = child.namespace.as_deref().unwrap_or_default() == owner.namespace;
    if owner.deleting || !selected || child.deletion_timestamp.is_some() || !same_ns {
        return Claim::Ignore;
    }
    Claim::Adopt
}

/// A merge patch giving `child` the controller reference `owner_ref`, guarded by the child's
/// resourceVersion so that a concurrent change makes it fail rather than be lost.
pub fn adopt_patch(child: &ObjectMeta, owner_ref: &OwnerReference) -> Value {
    let mut refs: Vec<OwnerReference> =
        child.owner_references.iter().flatten().filter(|r| r.uid != owner_ref.uid).cloned().collect();
    refs.push(owner_ref.clone());
    json!({"metadata": {"ownerReferences": refs, "resourceVersion": child.resource_version}})
}

/// A merge patch removing the owner with `owner_uid` from `child`'s references.
pub fn release_patch(child: &ObjectMeta, owner_uid: &str) -> Value {
    let refs: Vec<&OwnerReference> = child.owner_references.iter().flatten().filter(|r| r.uid != owner_uid).collect();
    let refs = if refs.is_empty() { Value::Null } else { json!(refs) };
    json!({"metadata": {"ownerReferences": refs, "resourceVersion": child.resource_version}})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(deleting: bool) -> Owner<'static> {
        Owner { uid: "rs-1", namespace: "default", deleting }
    }

    fn child(controller_uid: Option<&str>) -> ObjectMeta {
        ObjectMeta {
            namespace: Some("default".into()),
            resource_version: Some("7".into()),
            owner_references: controller_uid
                .map(|uid| vec![OwnerReference { uid: uid.into(), controller: Some(true), ..Default::default() }]),
            ..Default::default()
        }
    }

    #[test]
    fn an_orphan_that_matches_is_adopted() {
        assert_eq!(claim(owner(false), &child(None), true), Claim::Adopt);
        assert_eq!(claim(owner(false), &child(None), false), Claim::Ignore);
    }

    #[test]
    fn an_owned_object_that_stops_matching_is_released() {
        assert_eq!(claim(owner(false), &child(Some("rs-1")), false), Claim::Release);
        assert_eq!(claim(owner(false), &child(Some("rs-1")), true), Claim::Owned);
    }

    #[test]
    fn an_owner_being_deleted_neither_adopts_nor_releases() {
        assert_eq!(claim(owner(true), &child(None), true), Claim::Ignore);
        assert_eq!(claim(owner(true), &child(Some("rs-1")), false), Claim::Ignore);
    }

    #[test]
    fn objects_controlled_by_another_owner_are_left_alone() {
        assert_eq!(claim(owner(false), &child(Some("other")), true), Claim::Ignore);
    }

    #[test]
    fn an_orphan_being_deleted_or_elsewhere_is_not_adopted() {
        let mut c = child(None);
        c.namespace = Some("other".into());
        assert_eq!(claim(owner(false), &c, true), Claim::Ignore);
    }

    #[test]
    fn release_drops_only_our_reference_and_keeps_the_version_guard() {
        let p = release_patch(&child(Some("rs-1")), "rs-1");
        assert_eq!(p["metadata"]["ownerReferences"], Value::Null);
        assert_eq!(p["metadata"]["resourceVersion"], "7");
    }
}
