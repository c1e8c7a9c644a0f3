//! The DaemonSet plan: from a DaemonSet, the nodes and its pods and revisions, which pods to
//! create on which nodes and which to delete (Kubernetes' daemon controller manage,
//! rollingUpdate without surge, constructHistory and cleanupHistory).

use super::nodes::{should_run, target_node};
use super::status;
use super::view::{Strategy, View};
use crate::controller_ref::{Claim, Owner, claim, is_controlled_by};
use crate::label_selector::{labels_of, matches};
use crate::pod_state::{created, is_available, is_terminating, phase};
use crate::recorder::EventType;
use crate::replicaset::Victim;
use crate::revision::{self, CONTROLLER_REVISION_HASH, Step};
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSetStatus};
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use std::collections::{BTreeMap, HashMap};

/// What the sync reads besides the DaemonSet.
pub struct Observed<'a> {
    pub nodes: Vec<&'a Node>,
    /// Pods in the DaemonSet's namespace.
    pub pods: Vec<&'a Pod>,
    /// ControllerRevisions in the namespace.
    pub revisions: Vec<&'a ControllerRevision>,
    /// False while earlier creations or deletions are still unseen.
    pub in_sync: bool,
    /// Nodes whose failed daemon pod was replaced recently, with the back-off left.
    pub backoff: &'a HashMap<String, SignedDuration>,
    pub now: Timestamp,
}

/// Everything one sync does.
#[derive(Debug)]
pub struct Plan<'a> {
    pub adopt: Vec<&'a Pod>,
    pub release: Vec<&'a Pod>,
    pub history: Step,
    /// The controller-revision-hash new pods carry.
    pub hash: String,
    pub create_on: Vec<String>,
    pub delete: Vec<Victim>,
    /// Nodes whose failed pod is deleted now (their back-off grows).
    pub failed_on: Vec<String>,
    pub prune_revisions: Vec<String>,
    pub status: DaemonSetStatus,
    pub events: Vec<(EventType, &'static str, String)>,
    pub requeue_after: Option<SignedDuration>,
}

/// Daemon pods grouped by the node they are for, oldest first.
pub type ByNode<'a> = BTreeMap<String, Vec<&'a Pod>>;

pub fn controller_ref(d: &View) -> OwnerReference {
    OwnerReference {
        api_version: "apps/v1".into(),
        kind: "DaemonSet".into(),
        name: d.name.clone(),
        uid: d.uid.clone(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// Plans one sync.
pub fn plan<'a>(d: &View, o: &Observed<'a>) -> Plan<'a> {
    let (adopt, release, owned) = claim_pods(d, &o.pods);
    let (history, hash, collision) = history(d, &o.revisions);
    let by_node = by_node(&owned);
    let mut plan = Plan {
        adopt,
        release,
        history,
        hash,
        create_on: Vec::new(),
        delete: Vec::new(),
        failed_on: Vec::new(),
        prune_revisions: Vec::new(),
        status: DaemonSetStatus::default(),
        events: Vec::new(),
        requeue_after: None,
    };
    if o.in_sync && !d.deleting {
        manage(d, o, &by_node, &mut plan);
        let manage_idle = plan.create_on.is_empty() && plan.delete.is_empty();
        if manage_idle && matches!(d.strategy, Strategy::RollingUpdate { .. }) {
            plan.delete = rolling_update(d, o, &by_node, &plan.hash);
        }
        plan.prune_revisions = prune_history(d, &o.revisions, &plan.history, &owned);
    }
    plan.status = status::compute(d, &o.nodes, &by_node, &plan.hash, collision, o.now);
    plan.requeue_after = status::recheck_after(d, &plan.status).or(plan.requeue_after);
    plan
}

fn claim_pods<'a>(d: &View, pods: &[&'a Pod]) -> (Vec<&'a Pod>, Vec<&'a Pod>, Vec<&'a Pod>) {
    let owner = Owner { uid: &d.uid, namespace: &d.namespace, deleting: d.deleting };
    let (mut adopt, mut release, mut owned) = (Vec::new(), Vec::new(), Vec::new());
    for p in pods {
        match claim(owner, &p.metadata, matches(&d.selector, labels_of(&p.metadata))) {
            Claim::Owned => owned.push(*p),
            Claim::Adopt => {
                adopt.push(*p);
                owned.push(*p);
            }
            Claim::Release => release.push(*p),
            Claim::Ignore => {}
        }
    }
    (adopt, release, owned)
}

/// Kubernetes' constructHistory: the revision of the current template, and its hash.
fn history(d: &View, all: &[&ControllerRevision]) -> (Step, String, Option<i32>) {
    let owned: Vec<&ControllerRevision> =
        all.iter().copied().filter(|r| is_controlled_by(&r.metadata, &d.uid)).collect();
    let data = revision::template_patch(&d.template);
    let stored = d.status.collision_count;
    let cc = |c: i32| (c > 0 || stored.is_some()).then_some(c);
    let next = revision::max_revision(&owned) + 1;
    let make = |c: i32| new_revision(d, &data, revision::template_hash(&d.template, cc(c)), next);
    let taken = |name: &str| {
        all.iter().find(|r| r.metadata.name.as_deref() == Some(name)).map(|r| revision::data_equals(r, &data))
    };
    let (step, collision) = revision::resolve(&owned, &data, taken, make, stored.unwrap_or(0));
    let hash = match &step {
        Step::Create(r) => hash_label(r),
        Step::Use(name) | Step::Renumber { name, .. } => {
            owned.iter().find(|r| r.metadata.name.as_ref() == Some(name)).map(|r| hash_label(r)).unwrap_or_default()
        }
    };
    (step, hash, cc(collision))
}

fn hash_label(r: &ControllerRevision) -> String {
    r.metadata.labels.as_ref().and_then(|l| l.get(CONTROLLER_REVISION_HASH)).cloned().unwrap_or_else(|| {
        let name = r.metadata.name.as_deref().unwrap_or_default();
        name.rsplit('-').next().unwrap_or_default().to_string()
    })
}

fn new_revision(d: &View, data: &serde_json::Value, hash: String, number: i64) -> ControllerRevision {
    let mut labels = d.template.metadata.as_ref().and_then(|m| m.labels.clone()).unwrap_or_default();
    labels.insert(CONTROLLER_REVISION_HASH.into(), hash.clone());
    ControllerRevision {
        metadata: ObjectMeta {
            name: Some(revision::revision_name(&d.name, &hash)),
            namespace: Some(d.namespace.clone()),
            labels: Some(labels),
            annotations: (!d.annotations.is_empty()).then(|| d.annotations.clone()),
            owner_references: Some(vec![controller_ref(d)]),
            ..Default::default()
        },
        data: Some(revision::raw(data.clone())),
        revision: number,
    }
}

/// Daemon pods by target node, leaving out finished pods already being deleted.
fn by_node<'a>(owned: &[&'a Pod]) -> ByNode<'a> {
    let mut map: ByNode<'a> = BTreeMap::new();
    for p in owned {
        let finished = matches!(phase(p), "Succeeded" | "Failed");
        if finished && is_terminating(&p.metadata) {
            continue;
        }
        if let Some(n) = target_node(p) {
            map.entry(n).or_default().push(*p);
        }
    }
    for pods in map.values_mut() {
        pods.sort_by_key(|p| (created(&p.metadata), phase_rank(p)));
    }
    map
}

/// Running pods sort before others created at the same time (podByCreationTimestampAndPhase).
fn phase_rank(p: &Pod) -> u8 {
    u8::from(phase(p) != "Running")
}

fn victim(p: &Pod) -> Victim {
    Victim { name: p.metadata.name.clone().unwrap_or_default(), uid: p.metadata.uid.clone() }
}

/// Kubernetes' manage: a pod where one should run, failed pods replaced (with back-off),
/// extra pods and pods on nodes they no longer fit deleted.
fn manage(d: &View, o: &Observed<'_>, by_node: &ByNode<'_>, plan: &mut Plan<'_>) {
    let spec = d.template.spec.clone().unwrap_or_default();
    for node in &o.nodes {
        let name = node.metadata.name.clone().unwrap_or_default();
        let (run, keep) = should_run(&spec, node);
        let pods = by_node.get(&name).map(Vec::as_slice).unwrap_or_default();
        match (run, keep, pods.is_empty()) {
            (true, _, true) => plan.create_on.push(name),
            (_, true, false) => keep_one(&name, pods, o, plan),
            (_, false, false) => {
                plan.delete.extend(pods.iter().filter(|p| !is_terminating(&p.metadata)).map(|p| victim(p)))
            }
            _ => {}
        }
    }
    let known: Vec<&str> = o.nodes.iter().filter_map(|n| n.metadata.name.as_deref()).collect();
    for (node, pods) in by_node {
        if !known.contains(&node.as_str()) {
            let unscheduled = pods.iter().filter(|p| crate::pod_state::node_name(p).is_none());
            plan.delete.extend(unscheduled.map(|p| victim(p)));
        }
    }
}

/// On a node that should keep its daemon: failed pods go (unless backing off), and of the
/// running ones only the oldest stays.
fn keep_one(node: &str, pods: &[&Pod], o: &Observed<'_>, plan: &mut Plan<'_>) {
    let mut running = Vec::new();
    for p in pods.iter().filter(|p| !is_terminating(&p.metadata)) {
        if phase(p) != "Failed" {
            running.push(*p);
            continue;
        }
        if let Some(left) = o.backoff.get(node) {
            plan.requeue_after = Some(plan.requeue_after.map_or(*left, |r| r.min(*left)));
            continue;
        }
        let msg = format!(
            "Found failed daemon pod {}/{} on node {node}, will try to kill it",
            o_ns(p),
            p.metadata.name.as_deref().unwrap_or_default()
        );
        plan.events.push((EventType::Warning, "FailedDaemonPod", msg));
        plan.failed_on.push(node.to_string());
        plan.delete.push(victim(p));
    }
    plan.delete.extend(running.iter().skip(1).map(|p| victim(p)));
}

fn o_ns(p: &Pod) -> &str {
    p.metadata.namespace.as_deref().unwrap_or_default()
}

fn is_updated(p: &Pod, hash: &str) -> bool {
    labels_of(&p.metadata).get(CONTROLLER_REVISION_HASH).map(String::as_str) == Some(hash)
}

/// Kubernetes' rollingUpdate without surge: delete old pods while at most maxUnavailable
/// daemon pods are unavailable; old pods that are unavailable anyway go at once.
fn rolling_update(d: &View, o: &Observed<'_>, by_node: &ByNode<'_>, hash: &str) -> Vec<Victim> {
    let spec = d.template.spec.clone().unwrap_or_default();
    let mut nodes: BTreeMap<String, Vec<&Pod>> = by_node.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    for n in &o.nodes {
        if should_run(&spec, n).0 {
            nodes.entry(n.metadata.name.clone().unwrap_or_default()).or_default();
        }
    }
    let desired = o.nodes.iter().filter(|n| should_run(&spec, n).0).count();
    let (_, max_unavailable) = d.update_budget(i32::try_from(desired).unwrap_or(i32::MAX));
    let available = |p: &Pod| is_available(p, d.min_ready_seconds, o.now);
    let mut unavailable = 0;
    let (mut replace, mut candidates) = (Vec::new(), Vec::new());
    for pods in nodes.values() {
        match split(pods, hash) {
            None | Some((None, None)) | Some((Some(_), Some(_))) => unavailable += 1,
            Some((Some(new), None)) => unavailable += i32::from(!available(new)),
            Some((None, Some(old))) if !available(old) => replace.push(victim(old)),
            Some((None, Some(old))) if unavailable < max_unavailable => candidates.push(victim(old)),
            Some((None, Some(_))) => {}
        }
    }
    let room = usize::try_from((max_unavailable - unavailable).max(0)).unwrap_or(0);
    replace.extend(candidates.into_iter().take(room));
    replace
}

/// Kubernetes' findUpdatedPodsOnNode: (new pod, old pod), None when a node has two of a kind.
fn split<'a>(pods: &[&'a Pod], hash: &str) -> Option<(Option<&'a Pod>, Option<&'a Pod>)> {
    let (mut new, mut old) = (None, None);
    for p in pods.iter().filter(|p| !is_terminating(&p.metadata)) {
        let slot = if is_updated(p, hash) { &mut new } else { &mut old };
        if slot.is_some() {
            return None;
        }
        *slot = Some(*p);
    }
    Some((new, old))
}

/// Kubernetes' cleanupHistory: beyond revisionHistoryLimit, delete the oldest revisions no
/// live pod runs.
fn prune_history(d: &View, all: &[&ControllerRevision], current: &Step, owned_pods: &[&Pod]) -> Vec<String> {
    let current_name = match current {
        Step::Use(n) | Step::Renumber { name: n, .. } => n.clone(),
        Step::Create(r) => r.metadata.name.clone().unwrap_or_default(),
    };
    let owned: Vec<&ControllerRevision> = all
        .iter()
        .copied()
        .filter(|r| is_controlled_by(&r.metadata, &d.uid) && r.metadata.name.as_ref() != Some(&current_name))
        .collect();
    let limit = usize::try_from(d.revision_history_limit.max(0)).unwrap_or(0);
    let mut to_kill = owned.len().saturating_sub(limit);
    let live: Vec<&str> = owned_pods
        .iter()
        .filter_map(|p| labels_of(&p.metadata).get(CONTROLLER_REVISION_HASH).map(String::as_str))
        .collect();
    let mut out = Vec::new();
    for r in revision::sorted(&owned) {
        if to_kill == 0 {
            break;
        }
        if live.contains(&hash_label(r).as_str()) {
            continue;
        }
        out.push(r.metadata.name.clone().unwrap_or_default());
        to_kill -= 1;
    }
    out
}
