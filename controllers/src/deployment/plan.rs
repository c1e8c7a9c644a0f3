//! The Deployment plan: from a Deployment and the ReplicaSets (and, for Recreate, pods) in
//! its namespace, the writes one sync makes, in order (Kubernetes' syncDeployment). The
//! plan keeps an in-memory copy of what it has changed so later steps see earlier ones.

use super::view::{Strategy, View};
use crate::controller_ref::{Claim, Owner, adopt_patch, claim, release_patch};
use crate::label_selector::{self, labels_of};
use crate::recorder::EventType;
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentStatus, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use serde_json::Value;
use std::collections::HashSet;

/// One write of a sync.
#[derive(Clone, Debug, PartialEq)]
pub enum Act {
    Adopt {
        name: String,
        patch: Value,
    },
    Release {
        name: String,
        patch: Value,
    },
    CreateReplicaSet(Box<ReplicaSet>),
    /// A merge patch; the apply step adds the latest known resourceVersion as a guard.
    PatchReplicaSet {
        name: String,
        patch: Value,
    },
    DeleteReplicaSet {
        name: String,
        uid: Option<String>,
    },
    /// A merge patch of the Deployment's metadata (its revision annotation).
    PatchDeployment(Value),
    Event {
        kind: EventType,
        reason: &'static str,
        message: String,
    },
}

/// Everything one sync does.
#[derive(Debug)]
pub struct Plan {
    pub acts: Vec<Act>,
    /// The new status, when it differs from the stored one.
    pub status: Option<DeploymentStatus>,
    /// When to look again (progress deadline checks, a collision retry).
    pub requeue_after: Option<SignedDuration>,
}

/// What the sync reads besides the Deployment.
pub struct Observed<'a> {
    /// Every ReplicaSet in the Deployment's namespace.
    pub replica_sets: Vec<&'a ReplicaSet>,
    /// Pods in the namespace (read only by the Recreate strategy).
    pub pods: Vec<&'a Pod>,
    pub now: Timestamp,
}

/// A sync ended early, as Kubernetes' syncDeployment returns on an error.
pub(super) struct Stop;

/// The in-memory sync: the Deployment, its status as changed so far, and its ReplicaSets.
pub(super) struct State {
    pub d: View,
    pub status: DeploymentStatus,
    pub rss: Vec<ReplicaSet>,
    /// Names of all ReplicaSets in the namespace, ours or not.
    pub taken: HashSet<String>,
    pub acts: Vec<Act>,
    pub now: Timestamp,
    pub requeue: Option<SignedDuration>,
}

/// Plans one sync of `deployment`.
pub fn plan(deployment: &Deployment, observed: &Observed<'_>) -> Plan {
    let d = View::of(deployment);
    let original = d.status.clone();
    let mut st = State {
        status: d.status.clone(),
        d,
        rss: Vec::new(),
        taken: observed.replica_sets.iter().filter_map(|r| r.metadata.name.clone()).collect(),
        acts: Vec::new(),
        now: observed.now,
        requeue: None,
    };
    if st.sync_deployment(observed).is_err() && st.requeue.is_none() {
        st.requeue = Some(SignedDuration::from_secs(1));
    }
    let status = (!super::progress::same_status(&original, &st.status)).then_some(st.status);
    Plan { acts: st.acts, status, requeue_after: st.requeue }
}

impl State {
    fn sync_deployment(&mut self, observed: &Observed<'_>) -> Result<(), Stop> {
        if label_selector::is_empty(&self.d.selector) {
            let msg = "This deployment is selecting all pods. A non-empty selector is required.";
            self.event(EventType::Warning, "SelectingAll", msg.into());
            if self.status.observed_generation.unwrap_or(0) < self.d.generation {
                self.status.observed_generation = Some(self.d.generation);
            }
            return Ok(());
        }
        self.claim(&observed.replica_sets);
        if self.d.deleting {
            return self.sync_status_only();
        }
        self.check_paused_conditions();
        if self.d.paused || self.is_scaling_event()? {
            return self.sync();
        }
        match self.d.strategy {
            Strategy::Recreate => self.rollout_recreate(&observed.pods),
            Strategy::RollingUpdate { .. } => self.rollout_rolling(),
        }
    }

    pub fn event(&mut self, kind: EventType, reason: &'static str, message: String) {
        self.acts.push(Act::Event { kind, reason, message });
    }

    pub fn controller_ref(&self) -> OwnerReference {
        OwnerReference {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            name: self.d.name.clone(),
            uid: self.d.uid.clone(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }
    }

    /// Kubernetes' getReplicaSetsForDeployment: adopt and release by selector.
    fn claim(&mut self, all: &[&ReplicaSet]) {
        let owner_ref = self.controller_ref();
        let owner = Owner { uid: &self.d.uid, namespace: &self.d.namespace, deleting: self.d.deleting };
        let mut claimed = Vec::new();
        let mut acts = Vec::new();
        for rs in all {
            let selected = label_selector::matches(&self.d.selector, labels_of(&rs.metadata));
            let name = rs.metadata.name.clone().unwrap_or_default();
            match claim(owner, &rs.metadata, selected) {
                Claim::Owned => claimed.push((*rs).clone()),
                Claim::Adopt => {
                    let patch = adopt_patch(&rs.metadata, &owner_ref);
                    acts.push(Act::Adopt { name, patch });
                    let mut rs = (*rs).clone();
                    rs.metadata.owner_references = Some(vec![owner_ref.clone()]);
                    claimed.push(rs);
                }
                Claim::Release => acts.push(Act::Release { name, patch: release_patch(&rs.metadata, &self.d.uid) }),
                Claim::Ignore => {}
            }
        }
        self.rss = claimed;
        self.acts.extend(acts);
    }
}
