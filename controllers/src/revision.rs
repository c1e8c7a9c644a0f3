//! Revisions of a pod template: Kubernetes' template hash (pod-template-hash,
//! controller-revision-hash) and ControllerRevision history for DaemonSets and StatefulSets.
//!
//! The hash is FNV-32a, then rand.SafeEncodeString, as Kubernetes' ComputeHash; it is taken
//! over the template's JSON rather than Go's spew dump, so names differ from a real
//! cluster's but are just as stable.

use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::runtime::RawExtension;
use serde_json::{Value, json};

/// The label a Deployment's ReplicaSets and pods carry.
pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";
/// The label DaemonSet and StatefulSet pods and revisions carry.
pub const CONTROLLER_REVISION_HASH: &str = "controller-revision-hash";

fn fnv32a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(*b)).wrapping_mul(0x0100_0193))
}

/// Kubernetes' rand.SafeEncodeString: each character mapped into an alphabet without
/// vowels or look-alikes, so a hash never spells words.
fn safe_encode(s: &str) -> String {
    const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    s.bytes().map(|b| char::from(ALPHANUMS[usize::from(b) % ALPHANUMS.len()])).collect()
}

fn hash_bytes(mut bytes: Vec<u8>, collision_count: Option<i32>) -> String {
    if let Some(c) = collision_count {
        bytes.extend_from_slice(&(c as u32).to_le_bytes());
    }
    safe_encode(&fnv32a(&bytes).to_string())
}

/// Kubernetes' ComputeHash of a pod template with the owner's collisionCount.
pub fn template_hash(template: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    let bytes = serde_json::to_vec(template).unwrap_or_default();
    hash_bytes(bytes, collision_count)
}

/// Kubernetes' HashControllerRevision: the hash of a revision's data.
pub fn data_hash(data: &Value, collision_count: Option<i32>) -> String {
    hash_bytes(serde_json::to_vec(data).unwrap_or_default(), collision_count)
}

/// Drops nulls, empty maps and empty lists: Kubernetes' semantic equality treats unset
/// and empty alike.
fn pruned(v: &Value) -> Option<Value> {
    match v {
        Value::Null => None,
        Value::Object(m) => {
            let m: serde_json::Map<String, Value> =
                m.iter().filter_map(|(k, v)| pruned(v).map(|v| (k.clone(), v))).collect();
            (!m.is_empty()).then_some(Value::Object(m))
        }
        Value::Array(a) if a.is_empty() => None,
        Value::Array(a) => Some(Value::Array(a.iter().map(|v| pruned(v).unwrap_or(Value::Null)).collect())),
        other => Some(other.clone()),
    }
}

/// Semantic equality of two serializable values.
pub fn semantic_eq<T: serde::Serialize>(a: &T, b: &T) -> bool {
    let a = serde_json::to_value(a).ok();
    let b = serde_json::to_value(b).ok();
    a.as_ref().and_then(pruned) == b.as_ref().and_then(pruned)
}

/// Kubernetes' EqualIgnoreHash: templates equal apart from the pod-template-hash label.
pub fn equal_ignore_hash(a: &PodTemplateSpec, b: &PodTemplateSpec) -> bool {
    let strip = |t: &PodTemplateSpec| {
        let mut t = t.clone();
        if let Some(l) = t.metadata.as_mut().and_then(|m| m.labels.as_mut()) {
            l.remove(POD_TEMPLATE_HASH);
        }
        t
    };
    semantic_eq(&strip(a), &strip(b))
}

/// The data a DaemonSet or StatefulSet revision stores: a patch replacing the template.
pub fn template_patch(template: &PodTemplateSpec) -> Value {
    let mut t = serde_json::to_value(template).unwrap_or_else(|_| json!({}));
    if let Value::Object(m) = &mut t {
        m.insert("$patch".into(), json!("replace"));
    }
    json!({"spec": {"template": t}})
}

/// The template stored in a revision's data, if it holds one.
pub fn template_of(revision: &ControllerRevision) -> Option<PodTemplateSpec> {
    let mut t = revision.data.as_ref()?.0.pointer("/spec/template")?.clone();
    if let Value::Object(m) = &mut t {
        m.remove("$patch");
    }
    serde_json::from_value(t).ok()
}

/// Kubernetes' ControllerRevisionName: `<prefix>-<hash>`, the prefix cut to 223 characters.
pub fn revision_name(prefix: &str, hash: &str) -> String {
    let prefix = if prefix.len() > 223 { &prefix[..223] } else { prefix };
    format!("{prefix}-{hash}")
}

/// Whether a revision stores exactly this data.
pub fn data_equals(revision: &ControllerRevision, data: &Value) -> bool {
    revision.data.as_ref().is_some_and(|d| &d.0 == data)
}

/// Raw data for a new revision.
pub fn raw(data: Value) -> RawExtension {
    RawExtension(data)
}

/// Revisions sorted oldest first (by revision number, then name).
pub fn sorted<'a>(revisions: &[&'a ControllerRevision]) -> Vec<&'a ControllerRevision> {
    let mut v = revisions.to_vec();
    v.sort_by(|a, b| a.revision.cmp(&b.revision).then(a.metadata.name.cmp(&b.metadata.name)));
    v
}

/// The highest revision number, 0 with none.
pub fn max_revision(revisions: &[&ControllerRevision]) -> i64 {
    revisions.iter().map(|r| r.revision).max().unwrap_or(0)
}

/// What history needs to reflect the owner's current template.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// An owned revision holds the template and is the newest.
    Use(String),
    /// An older owned revision holds the template: renumber it to the newest (a rollback).
    Renumber { name: String, revision: i64 },
    /// No revision holds it: create this one.
    Create(Box<ControllerRevision>),
}

/// Finds or makes the revision for `data`. `owned` are the owner's revisions, `taken` tells
/// whether a name is used by any revision in the namespace; `make(collision)` builds a new
/// revision. A name taken by different data bumps the collision count, as Kubernetes'
/// CreateControllerRevision does. Returns the step and the collision count to record.
pub fn resolve(
    owned: &[&ControllerRevision],
    data: &Value,
    taken: impl Fn(&str) -> Option<bool>,
    make: impl Fn(i32) -> ControllerRevision,
    collision_count: i32,
) -> (Step, i32) {
    let max = max_revision(owned);
    let equal = sorted(owned).into_iter().rev().find(|r| data_equals(r, data));
    if let Some(r) = equal {
        let name = r.metadata.name.clone().unwrap_or_default();
        return match r.revision == max {
            true => (Step::Use(name), collision_count),
            false => (Step::Renumber { name, revision: max + 1 }, collision_count),
        };
    }
    let mut collision = collision_count;
    loop {
        let candidate = make(collision);
        let name = candidate.metadata.name.clone().unwrap_or_default();
        // `taken` answers Some(same data?) for an existing name.
        match taken(&name) {
            Some(false) if collision < i32::MAX => collision += 1,
            _ => return (Step::Create(Box::new(candidate)), collision),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn template(image: &str) -> PodTemplateSpec {
        serde_json::from_value(json!({
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "c", "image": image}]}
        }))
        .unwrap()
    }

    fn revision(name: &str, number: i64, data: Value) -> ControllerRevision {
        ControllerRevision {
            metadata: ObjectMeta { name: Some(name.into()), ..Default::default() },
            data: Some(RawExtension(data)),
            revision: number,
        }
    }

    #[test]
    fn the_template_hash_is_stable_and_changes_with_the_template() {
        let a = template_hash(&template("nginx:1"), None);
        assert_eq!(a, template_hash(&template("nginx:1"), None));
        assert_ne!(a, template_hash(&template("nginx:2"), None));
        assert_ne!(a, template_hash(&template("nginx:1"), Some(1)));
        assert!(a.chars().all(|c| "bcdfghjklmnpqrstvwxz2456789".contains(c)));
    }

    #[test]
    fn templates_differing_only_in_the_hash_label_are_equal() {
        let a = template("nginx:1");
        let mut b = a.clone();
        b.metadata.as_mut().unwrap().labels.as_mut().unwrap().insert(POD_TEMPLATE_HASH.into(), "x".into());
        assert!(equal_ignore_hash(&a, &b));
        assert!(!equal_ignore_hash(&a, &template("nginx:2")));
    }

    #[test]
    fn unset_and_empty_fields_are_semantically_equal() {
        let mut a = template("nginx:1");
        a.metadata.as_mut().unwrap().annotations = Some(Default::default());
        assert!(equal_ignore_hash(&a, &template("nginx:1")));
    }

    #[test]
    fn a_revision_round_trips_its_template() {
        let t = template("nginx:1");
        let r = revision("r", 1, template_patch(&t));
        assert!(semantic_eq(&template_of(&r).unwrap(), &t));
    }

    #[test]
    fn going_back_to_an_old_template_renumbers_its_revision() {
        let d1 = template_patch(&template("nginx:1"));
        let d2 = template_patch(&template("nginx:2"));
        let r1 = revision("r1", 1, d1.clone());
        let r2 = revision("r2", 2, d2);
        let (step, _) = resolve(&[&r1, &r2], &d1, |_| None, |_| unreachable!(), 0);
        assert_eq!(step, Step::Renumber { name: "r1".into(), revision: 3 });
    }

    #[test]
    fn a_name_taken_by_other_data_bumps_the_collision_count() {
        let d = template_patch(&template("nginx:3"));
        let make = |c: i32| revision(&format!("set-{c}"), 1, d.clone());
        let taken = |name: &str| (name == "set-0").then_some(false);
        let (step, collision) = resolve(&[], &d, taken, make, 0);
        assert_eq!(collision, 1);
        let Step::Create(r) = step else { panic!() };
        assert_eq!(r.metadata.name.as_deref(), Some("set-1"));
    }
}
