//! The dependency graph: every object the collector watches, by UID, with its owner
//! references, and which objects name each UID as owner. Changes to it say what to look at
//! (Kubernetes' GraphBuilder.processGraphChanges, without virtual nodes: an owner the graph
//! has not seen is looked up live instead).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::core::ObjectMeta;
use std::collections::{BTreeSet, HashMap};

/// The finalizer that makes an owner wait for its blocking dependents (Foreground deletion).
pub const FOREGROUND: &str = "foregroundDeletion";
/// The finalizer that makes the collector orphan an owner's dependents (Orphan deletion).
pub const ORPHAN: &str = "orphan";

/// Index of a resource type in the collector's (append-only) list of watched types.
pub type TypeId = usize;

/// One object as the graph knows it.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub type_id: TypeId,
    pub namespace: Option<String>,
    pub name: String,
    pub uid: String,
    pub owners: Vec<OwnerReference>,
    pub deleting: bool,
    pub finalizers: Vec<String>,
}

impl Node {
    /// The node for an object's metadata; None without a UID.
    pub fn from_meta(type_id: TypeId, m: &ObjectMeta) -> Option<Node> {
        Some(Node {
            type_id,
            namespace: m.namespace.clone(),
            name: m.name.clone()?,
            uid: m.uid.clone()?,
            owners: m.owner_references.clone().unwrap_or_default(),
            deleting: m.deletion_timestamp.is_some(),
            finalizers: m.finalizers.clone().unwrap_or_default(),
        })
    }

    /// Being deleted in the foreground: waits for its blocking dependents to go.
    pub fn deleting_dependents(&self) -> bool {
        self.deleting && self.finalizers.iter().any(|f| f == FOREGROUND)
    }

    /// Being deleted with its dependents to be orphaned.
    pub fn orphaning(&self) -> bool {
        self.deleting && self.finalizers.iter().any(|f| f == ORPHAN)
    }

    fn owner_uids(&self) -> BTreeSet<String> {
        self.owners.iter().map(|o| o.uid.clone()).collect()
    }
}

/// Work for the collector, by object UID.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Work {
    /// See whether the object should go (its owners gone or deleting it in the foreground),
    /// or, for a foreground-deleting owner, whether it may now go.
    AttemptDelete(String),
    /// Orphan the owner's dependents, then remove its `orphan` finalizer.
    Orphan(String),
}

#[derive(Default)]
pub struct Graph {
    nodes: HashMap<String, Node>,
    dependents: HashMap<String, BTreeSet<String>>,
}

impl Graph {
    pub fn get(&self, uid: &str) -> Option<&Node> {
        self.nodes.get(uid)
    }

    /// The objects naming `uid` as an owner.
    pub fn dependents(&self, uid: &str) -> Vec<&Node> {
        self.dependents.get(uid).into_iter().flatten().filter_map(|d| self.nodes.get(d)).collect()
    }

    /// UIDs of the nodes of one type.
    pub fn uids_of_type(&self, type_id: TypeId) -> Vec<String> {
        self.nodes.values().filter(|n| n.type_id == type_id).map(|n| n.uid.clone()).collect()
    }

    /// Records an added or updated object; returns what to look at because of the change.
    pub fn upsert(&mut self, node: Node) -> Vec<Work> {
        let old = self.nodes.remove(&node.uid);
        let old_owners = old.as_ref().map(Node::owner_uids).unwrap_or_default();
        let new_owners = node.owner_uids();
        for gone in old_owners.difference(&new_owners) {
            self.unlink(gone, &node.uid);
        }
        for added in new_owners.difference(&old_owners) {
            self.dependents.entry(added.clone()).or_default().insert(node.uid.clone());
        }
        let mut work = self.owner_work(&node, &old_owners, &new_owners);
        work.extend(self.transition_work(old.as_ref(), &node));
        self.nodes.insert(node.uid.clone(), node);
        work
    }

    /// The dependent must be looked at when an owner is unknown or deleting in the
    /// foreground; an owner it dropped that waits for dependents may now be free to go.
    fn owner_work(&self, node: &Node, old: &BTreeSet<String>, new: &BTreeSet<String>) -> Vec<Work> {
        let mut work = Vec::new();
        let needs_look = new.iter().any(|o| self.nodes.get(o).is_none_or(|n| n.deleting_dependents() || n.deleting));
        if needs_look && !node.deleting {
            work.push(Work::AttemptDelete(node.uid.clone()));
        }
        for dropped in old.difference(new) {
            if self.nodes.get(dropped).is_some_and(Node::deleting_dependents) {
                work.push(Work::AttemptDelete(dropped.clone()));
            }
        }
        work
    }

    /// An owner entering foreground deletion has its dependents looked at (and itself);
    /// one entering orphan deletion is orphaned.
    fn transition_work(&self, old: Option<&Node>, node: &Node) -> Vec<Work> {
        let mut work = Vec::new();
        if node.deleting_dependents() && !old.is_some_and(Node::deleting_dependents) {
            work.extend(self.dependents(&node.uid).iter().map(|d| Work::AttemptDelete(d.uid.clone())));
            work.push(Work::AttemptDelete(node.uid.clone()));
        }
        if node.orphaning() && !old.is_some_and(Node::orphaning) {
            work.push(Work::Orphan(node.uid.clone()));
        }
        work
    }

    /// Records a deleted object: its dependents lost an owner, and its foreground-deleting
    /// owners lost a dependent.
    pub fn remove(&mut self, uid: &str) -> Vec<Work> {
        let Some(node) = self.nodes.remove(uid) else { return Vec::new() };
        let mut work: Vec<Work> = self.dependents(uid).iter().map(|d| Work::AttemptDelete(d.uid.clone())).collect();
        for owner in node.owner_uids() {
            self.unlink(&owner, uid);
            if self.nodes.get(&owner).is_some_and(Node::deleting_dependents) {
                work.push(Work::AttemptDelete(owner));
            }
        }
        work
    }

    fn unlink(&mut self, owner: &str, dependent: &str) {
        if let Some(set) = self.dependents.get_mut(owner) {
            set.remove(dependent);
            if set.is_empty() {
                self.dependents.remove(owner);
            }
        }
    }

    /// The dependents that hold a foreground-deleting owner back: those whose reference to
    /// it sets blockOwnerDeletion.
    pub fn blocking_dependents(&self, owner: &str) -> Vec<&Node> {
        self.dependents(owner)
            .into_iter()
            .filter(|d| d.owners.iter().any(|o| o.uid == owner && o.block_owner_deletion == Some(true)))
            .collect()
    }
}

#[cfg(test)]
pub mod testing {
    //! Builders of graph nodes for the tests.
    use super::*;

    pub fn owner_ref(uid: &str, block: bool) -> OwnerReference {
        OwnerReference {
            api_version: "v1".into(),
            kind: "ReplicationController".into(),
            name: format!("rc-{uid}"),
            uid: uid.into(),
            controller: Some(true),
            block_owner_deletion: Some(block),
        }
    }

    pub fn node(uid: &str, owners: Vec<OwnerReference>) -> Node {
        Node {
            type_id: 0,
            namespace: Some("default".into()),
            name: format!("obj-{uid}"),
            uid: uid.into(),
            owners,
            deleting: false,
            finalizers: Vec::new(),
        }
    }

    pub fn deleting(mut n: Node, finalizer: &str) -> Node {
        n.deleting = true;
        n.finalizers.push(finalizer.into());
        n
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    #[test]
    fn a_dependent_of_an_unknown_owner_is_looked_at() {
        let mut g = Graph::default();
        assert_eq!(g.upsert(node("pod", vec![owner_ref("rc", true)])), vec![Work::AttemptDelete("pod".into())]);
    }

    #[test]
    fn a_dependent_of_a_known_owner_needs_nothing() {
        let mut g = Graph::default();
        g.upsert(node("rc", vec![]));
        assert!(g.upsert(node("pod", vec![owner_ref("rc", true)])).is_empty());
    }

    #[test]
    fn a_deleted_owner_has_its_dependents_looked_at() {
        let mut g = Graph::default();
        g.upsert(node("rc", vec![]));
        g.upsert(node("pod", vec![owner_ref("rc", true)]));
        assert_eq!(g.remove("rc"), vec![Work::AttemptDelete("pod".into())]);
    }

    #[test]
    fn an_owner_entering_foreground_deletion_has_its_dependents_and_itself_looked_at() {
        let mut g = Graph::default();
        g.upsert(node("rc", vec![]));
        g.upsert(node("pod", vec![owner_ref("rc", true)]));
        let work = g.upsert(deleting(node("rc", vec![]), FOREGROUND));
        assert_eq!(work, vec![Work::AttemptDelete("pod".into()), Work::AttemptDelete("rc".into())]);
    }

    #[test]
    fn an_owner_entering_orphan_deletion_is_orphaned() {
        let mut g = Graph::default();
        g.upsert(node("rc", vec![]));
        assert_eq!(g.upsert(deleting(node("rc", vec![]), ORPHAN)), vec![Work::Orphan("rc".into())]);
    }

    #[test]
    fn a_blocking_dependent_going_away_lets_the_foreground_owner_be_looked_at_again() {
        let mut g = Graph::default();
        g.upsert(deleting(node("rc", vec![]), FOREGROUND));
        g.upsert(node("pod", vec![owner_ref("rc", true)]));
        assert_eq!(g.remove("pod"), vec![Work::AttemptDelete("rc".into())]);
        assert!(g.blocking_dependents("rc").is_empty());
    }

    #[test]
    fn only_dependents_with_block_owner_deletion_block_the_owner() {
        let mut g = Graph::default();
        g.upsert(node("rc", vec![]));
        g.upsert(node("a", vec![owner_ref("rc", true)]));
        g.upsert(node("b", vec![owner_ref("rc", false)]));
        let blocking: Vec<&str> = g.blocking_dependents("rc").iter().map(|n| n.uid.as_str()).collect();
        assert_eq!(blocking, vec!["a"]);
        assert_eq!(g.dependents("rc").len(), 2);
    }

    #[test]
    fn a_dependent_dropping_its_reference_leaves_the_owners_dependents() {
        let mut g = Graph::default();
        g.upsert(node("rc", vec![]));
        g.upsert(node("pod", vec![owner_ref("rc", true)]));
        g.upsert(node("pod", vec![]));
        assert!(g.dependents("rc").is_empty());
    }
}
