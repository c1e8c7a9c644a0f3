//! The StatefulSet plan: from a set and its pods, revisions and claims, the pod and claim
//! writes of one sync in order (Kubernetes' updateStatefulSet): replicas created in ordinal
//! order, each only once its predecessors are Running and Ready (OrderedReady) or all at
//! once (Parallel); extra ordinals removed from the highest; then the rolling update,
//! highest ordinal first, down to the partition.

use super::identity::{
    POD_INDEX_LABEL, POD_NAME_LABEL, claims_for, identity_matches, new_pod, ordinal_of, revision_of,
};
use super::status;
use super::view::View;
use crate::controller_ref::{Claim, Owner, claim, is_controlled_by};
use crate::label_selector::{labels_of, matches};
use crate::pod_state::{is_available, is_ready, is_terminating, phase};
use crate::replicaset::Victim;
use crate::revision::{self, CONTROLLER_REVISION_HASH, Step};
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSetStatus};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use serde_json::json;
use std::collections::HashSet;

/// One write of a sync.
#[derive(Clone, Debug, PartialEq)]
pub enum Act {
    CreateClaim(Box<PersistentVolumeClaim>),
    CreatePod(Box<Pod>),
    DeletePod(Victim),
    PatchPod { name: String, patch: serde_json::Value },
}

/// What the sync reads besides the set (all in its namespace).
pub struct Observed<'a> {
    pub pods: Vec<&'a Pod>,
    pub revisions: Vec<&'a ControllerRevision>,
    pub claims: Vec<&'a PersistentVolumeClaim>,
    pub now: Timestamp,
}

#[derive(Debug)]
pub struct Plan<'a> {
    pub adopt: Vec<&'a Pod>,
    pub release: Vec<&'a Pod>,
    /// The update revision: the one holding the current template.
    pub history: Step,
    pub acts: Vec<Act>,
    pub prune_revisions: Vec<String>,
    pub status: StatefulSetStatus,
    pub requeue_after: Option<SignedDuration>,
}

/// A replica slot: a pod that exists, or the one to create.
enum Slot<'a> {
    Live(&'a Pod),
    New(Box<Pod>),
}

impl Slot<'_> {
    fn pod(&self) -> &Pod {
        match self {
            Slot::Live(p) => p,
            Slot::New(p) => p,
        }
    }
}

/// The sync stops here (OrderedReady waits for this pod).
struct Stop;

struct State<'a, 'o> {
    v: &'a View,
    o: &'a Observed<'o>,
    owner: OwnerReference,
    update: String,
    acts: Vec<Act>,
    claims_done: HashSet<String>,
    first_unhealthy: Option<String>,
    current_replicas_delta: i32,
}

pub fn controller_ref(v: &View) -> OwnerReference {
    OwnerReference {
        api_version: "apps/v1".into(),
        kind: "StatefulSet".into(),
        name: v.name.clone(),
        uid: v.uid.clone(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

pub fn plan<'o>(v: &View, o: &Observed<'o>) -> Plan<'o> {
    let (adopt, release, owned) = claim_pods(v, &o.pods);
    let owned_revisions: Vec<&ControllerRevision> =
        o.revisions.iter().copied().filter(|r| is_controlled_by(&r.metadata, &v.uid)).collect();
    let (history, collision) = update_revision(v, &owned_revisions, &o.revisions);
    let update = step_name(&history);
    let current =
        owned_revisions.iter().find(|r| r.metadata.name.as_deref() == v.status.current_revision.as_deref()).copied();
    let current_name = current.and_then(|r| r.metadata.name.clone()).unwrap_or_else(|| update.clone());
    let current_template = current.and_then(revision::template_of).unwrap_or_else(|| v.template.clone());
    let mut st = State {
        v,
        o,
        owner: controller_ref(v),
        update: update.clone(),
        acts: Vec::new(),
        claims_done: HashSet::new(),
        first_unhealthy: None,
        current_replicas_delta: 0,
    };
    let (slots, condemned) = st.partition(&owned, &current_name, &current_template);
    if !v.deleting {
        let _ = st.run(&slots, &condemned);
    }
    let members: Vec<&Pod> = slots
        .iter()
        .filter_map(|s| match s {
            Slot::Live(p) => Some(*p),
            Slot::New(_) => None,
        })
        .chain(condemned.iter().copied())
        .collect();
    let mut status = status::compute(v, &members, &current_name, &update, collision, o.now);
    status.current_replicas = status.current_replicas.map(|c| c + st.current_replicas_delta).filter(|c| *c > 0);
    let requeue_after = status::recheck_after(v, &members, o.now);
    let live: HashSet<&str> =
        members.iter().filter_map(|p| revision_of(p)).chain([current_name.as_str(), update.as_str()]).collect();
    Plan {
        adopt,
        release,
        prune_revisions: prune(v, &owned_revisions, &live),
        history,
        acts: st.acts,
        status,
        requeue_after,
    }
}

/// Claims by selector, only pods named as members of this set (Kubernetes' isMemberOf).
fn claim_pods<'a>(v: &View, pods: &[&'a Pod]) -> (Vec<&'a Pod>, Vec<&'a Pod>, Vec<&'a Pod>) {
    let owner = Owner { uid: &v.uid, namespace: &v.namespace, deleting: v.deleting };
    let (mut adopt, mut release, mut owned) = (Vec::new(), Vec::new(), Vec::new());
    for p in pods.iter().copied().filter(|p| ordinal_of(&v.name, p).is_some()) {
        match claim(owner, &p.metadata, matches(&v.selector, labels_of(&p.metadata))) {
            Claim::Owned => owned.push(p),
            Claim::Adopt => {
                adopt.push(p);
                owned.push(p);
            }
            Claim::Release => release.push(p),
            Claim::Ignore => {}
        }
    }
    (adopt, release, owned)
}

fn step_name(step: &Step) -> String {
    match step {
        Step::Use(n) | Step::Renumber { name: n, .. } => n.clone(),
        Step::Create(r) => r.metadata.name.clone().unwrap_or_default(),
    }
}

/// Kubernetes' getStatefulSetRevisions: reuse, renumber (rollback) or create the revision.
fn update_revision(v: &View, owned: &[&ControllerRevision], all: &[&ControllerRevision]) -> (Step, i32) {
    let data = revision::template_patch(&v.template);
    let next = revision::max_revision(owned) + 1;
    let make = |c: i32| {
        let hash = revision::data_hash(&data, Some(c));
        let mut labels = v.template.metadata.as_ref().and_then(|m| m.labels.clone()).unwrap_or_default();
        labels.insert(CONTROLLER_REVISION_HASH.into(), hash.clone());
        ControllerRevision {
            metadata: ObjectMeta {
                name: Some(revision::revision_name(&v.name, &hash)),
                namespace: Some(v.namespace.clone()),
                labels: Some(labels),
                annotations: (!v.annotations.is_empty()).then(|| v.annotations.clone()),
                owner_references: Some(vec![controller_ref(v)]),
                ..Default::default()
            },
            data: Some(revision::raw(data.clone())),
            revision: next,
        }
    };
    let taken = |name: &str| {
        all.iter().find(|r| r.metadata.name.as_deref() == Some(name)).map(|r| revision::data_equals(r, &data))
    };
    revision::resolve(owned, &data, taken, make, v.status.collision_count.unwrap_or(0))
}

/// Kubernetes' truncateHistory: revisions no pod runs, beyond the limit, oldest first.
fn prune(v: &View, owned: &[&ControllerRevision], live: &HashSet<&str>) -> Vec<String> {
    let history: Vec<&ControllerRevision> = revision::sorted(owned)
        .into_iter()
        .filter(|r| !live.contains(r.metadata.name.as_deref().unwrap_or_default()))
        .collect();
    let limit = usize::try_from(v.revision_history_limit.max(0)).unwrap_or(0);
    let extra = history.len().saturating_sub(limit);
    history.into_iter().take(extra).filter_map(|r| r.metadata.name.clone()).collect()
}

fn running_ready(p: &Pod) -> bool {
    phase(p) == "Running" && is_ready(p)
}

fn healthy(s: &Slot<'_>) -> bool {
    matches!(s, Slot::Live(p) if running_ready(p) && !is_terminating(&p.metadata))
}

impl<'a, 'o> State<'a, 'o> {
    fn mono(&self) -> bool {
        !self.v.parallel
    }

    /// Replicas by ordinal (missing ones built at the revision they should run) and the
    /// condemned pods beyond `replicas`, highest ordinal first.
    fn partition(
        &mut self,
        owned: &[&'o Pod],
        current: &str,
        current_template: &PodTemplateSpec,
    ) -> (Vec<Slot<'o>>, Vec<&'o Pod>) {
        let v = self.v;
        let mut slots: Vec<Option<&'o Pod>> = vec![None; usize::try_from(v.replicas).unwrap_or(0)];
        let mut condemned = Vec::new();
        for p in owned {
            let Some(ord) = ordinal_of(&v.name, p) else { continue };
            match usize::try_from(ord - v.start).ok().filter(|i| *i < slots.len()) {
                Some(i) => slots[i] = Some(*p),
                None => condemned.push(*p),
            }
        }
        condemned.sort_by_key(|p| std::cmp::Reverse(ordinal_of(&v.name, p)));
        let slots: Vec<Slot<'o>> = slots
            .into_iter()
            .enumerate()
            .map(|(i, p)| match p {
                Some(p) => Slot::Live(p),
                None => {
                    let ord = v.start + i32::try_from(i).unwrap_or(0);
                    let old = !v.on_delete && ord < v.start + v.partition;
                    let (t, rev) = if old { (current_template, current) } else { (&v.template, self.update.as_str()) };
                    Slot::New(Box::new(new_pod(v, t, ord, rev, self.owner.clone())))
                }
            })
            .collect();
        let unhealthy_replica = slots.iter().find(|s| !healthy(s)).map(|s| s.pod().metadata.name.clone());
        let unhealthy_condemned = condemned.iter().find(|p| !running_ready(p) || is_terminating(&p.metadata));
        self.first_unhealthy =
            unhealthy_replica.flatten().or_else(|| unhealthy_condemned.and_then(|p| p.metadata.name.clone()));
        (slots, condemned)
    }

    fn run(&mut self, slots: &[Slot<'o>], condemned: &[&'o Pod]) -> Result<(), Stop> {
        for (i, s) in slots.iter().enumerate() {
            let ord = self.v.start + i32::try_from(i).unwrap_or(0);
            if self.replica(s, ord).is_err() && self.mono() {
                return Err(Stop);
            }
        }
        for p in condemned {
            if self.condemned(p).is_err() && self.mono() {
                return Err(Stop);
            }
        }
        if self.v.on_delete {
            return Ok(());
        }
        self.rolling_update(slots)
    }

    /// Kubernetes' processReplica. Err means an OrderedReady set must wait.
    fn replica(&mut self, slot: &Slot<'o>, ord: i32) -> Result<(), Stop> {
        let p = match slot {
            Slot::New(p) => {
                self.create_claims(ord)?;
                self.acts.push(Act::CreatePod(p.clone()));
                return Err(Stop);
            }
            Slot::Live(p) => *p,
        };
        if matches!(phase(p), "Failed" | "Succeeded") {
            if !is_terminating(&p.metadata) {
                self.acts.push(Act::DeletePod(victim(p)));
            }
            return Err(Stop);
        }
        if phase(p) == "Pending" {
            self.create_claims(ord)?;
        }
        if is_terminating(&p.metadata) || !running_ready(p) || !is_available(p, self.v.min_ready_seconds, self.o.now) {
            return Err(Stop);
        }
        if !identity_matches(self.v, p, ord) {
            let name = p.metadata.name.clone().unwrap_or_default();
            let patch = json!({"metadata": {"labels": {POD_NAME_LABEL: name, POD_INDEX_LABEL: ord.to_string()}}});
            self.acts.push(Act::PatchPod { name, patch });
        }
        self.create_claims(ord)
    }

    /// Creates this ordinal's missing claims; a claim still being deleted blocks the pod.
    fn create_claims(&mut self, ord: i32) -> Result<(), Stop> {
        for c in claims_for(self.v, ord, &self.owner) {
            let name = c.metadata.name.clone().unwrap_or_default();
            let cached = self.o.claims.iter().find(|x| x.metadata.name.as_deref() == Some(name.as_str()));
            match cached {
                Some(x) if is_terminating(&x.metadata) => return Err(Stop),
                Some(_) => {}
                None if self.claims_done.insert(name) => self.acts.push(Act::CreateClaim(Box::new(c))),
                None => {}
            }
        }
        Ok(())
    }

    /// Kubernetes' processCondemned: remove extra ordinals once every other pod is healthy.
    fn condemned(&mut self, p: &'o Pod) -> Result<(), Stop> {
        if is_terminating(&p.metadata) {
            return Err(Stop);
        }
        let first = self.first_unhealthy.as_deref() == p.metadata.name.as_deref();
        let unhealthy = !running_ready(p) || !is_available(p, self.v.min_ready_seconds, self.o.now);
        if unhealthy && self.mono() && !first {
            return Err(Stop);
        }
        self.acts.push(Act::DeletePod(victim(p)));
        Err(Stop)
    }

    /// Deletes the highest-ordinal pod not at the update revision, after waiting for every
    /// higher one to be healthy again; the partition and below are left alone.
    fn rolling_update(&mut self, slots: &[Slot<'o>]) -> Result<(), Stop> {
        let min = usize::try_from(self.v.partition).unwrap_or(0);
        for s in slots.iter().skip(min).rev() {
            let p = s.pod();
            if revision_of(p) != Some(self.update.as_str()) && !is_terminating(&p.metadata) {
                if let Slot::Live(p) = s {
                    self.acts.push(Act::DeletePod(victim(p)));
                    self.current_replicas_delta -= 1;
                }
                return Err(Stop);
            }
            if !healthy(s) {
                return Err(Stop);
            }
        }
        Ok(())
    }
}

fn victim(p: &Pod) -> Victim {
    Victim { name: p.metadata.name.clone().unwrap_or_default(), uid: p.metadata.uid.clone() }
}
