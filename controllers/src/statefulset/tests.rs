//! StatefulSet plans over pods, claims and revisions built in memory.

use super::identity::{POD_INDEX_LABEL, POD_NAME_LABEL};
use super::plan::{Act, Observed, Plan, plan};
use super::view::View;
use crate::revision::{CONTROLLER_REVISION_HASH, Step};
use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{ControllerRevision, StatefulSet};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use serde_json::{Value, json};

fn set(replicas: i32, extra: Value) -> StatefulSet {
    let mut spec = json!({
        "replicas": replicas,
        "serviceName": "cassandra",
        "selector": {"matchLabels": {"app": "cassandra"}},
        "template": {"metadata": {"labels": {"app": "cassandra"}}, "spec": {"containers": [{"name": "c", "image": "cassandra:1"}]}},
        "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]
    });
    crate::test_support::merge(&mut spec, &extra);
    serde_json::from_value(json!({"metadata": {"name": "cassandra", "namespace": "default", "uid": "sts-uid", "generation": 1}, "spec": spec})).unwrap()
}

fn now() -> Timestamp {
    "2025-01-02T00:00:00Z".parse().unwrap()
}

/// A set with its pods, claims and revisions; `sync` applies a plan's writes.
struct World {
    set: StatefulSet,
    pods: Vec<Pod>,
    claims: Vec<PersistentVolumeClaim>,
    revisions: Vec<ControllerRevision>,
}

impl World {
    fn new(set: StatefulSet) -> World {
        World { set, pods: Vec::new(), claims: Vec::new(), revisions: Vec::new() }
    }

    fn plan(&self) -> Plan<'_> {
        let o = Observed {
            pods: self.pods.iter().collect(),
            revisions: self.revisions.iter().collect(),
            claims: self.claims.iter().collect(),
            now: now(),
        };
        plan(&View::of(&self.set), &o)
    }

    fn sync(&mut self) -> Vec<Act> {
        let (acts, history, status) = {
            let p = self.plan();
            (p.acts.clone(), p.history.clone(), p.status.clone())
        };
        match history {
            Step::Create(r) => self.revisions.push(*r),
            Step::Renumber { name, revision } => self
                .revisions
                .iter_mut()
                .filter(|r| r.metadata.name.as_ref() == Some(&name))
                .for_each(|r| r.revision = revision),
            Step::Use(_) => {}
        }
        for a in &acts {
            match a {
                Act::CreateClaim(c) => self.claims.push((**c).clone()),
                Act::CreatePod(p) => {
                    let mut p = (**p).clone();
                    p.status = Some(serde_json::from_value(json!({"phase": "Pending"})).unwrap());
                    p.metadata.uid = p.metadata.name.clone();
                    self.pods.push(p);
                }
                Act::DeletePod(v) => self.pods.retain(|p| p.metadata.name != Some(v.name.clone())),
                Act::PatchPod { name, patch } => {
                    let i = self.pods.iter().position(|p| p.metadata.name.as_ref() == Some(name)).unwrap();
                    self.pods[i] = crate::test_support::patched(&self.pods[i], patch);
                }
            }
        }
        self.set.status = Some(status);
        acts
    }

    fn ready(&mut self, name: &str) {
        let p = self.pods.iter_mut().find(|p| p.metadata.name.as_deref() == Some(name)).unwrap();
        p.status = Some(serde_json::from_value(json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2025-01-01T00:00:00Z"}]})).unwrap());
    }

    fn ready_all(&mut self) {
        let names: Vec<String> = self.pods.iter().filter_map(|p| p.metadata.name.clone()).collect();
        names.iter().for_each(|n| self.ready(n));
    }

    fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.pods.iter().filter_map(|p| p.metadata.name.clone()).collect();
        v.sort();
        v
    }

    fn pod(&self, name: &str) -> &Pod {
        self.pods.iter().find(|p| p.metadata.name.as_deref() == Some(name)).unwrap()
    }

    fn set_image(&mut self, image: &str) {
        let t = &mut self.set.spec.as_mut().unwrap().template;
        t.spec.as_mut().unwrap().containers[0].image = Some(image.into());
    }

    fn image(&self, name: &str) -> String {
        self.pod(name).spec.as_ref().unwrap().containers[0].image.clone().unwrap()
    }

    /// Syncs, readying every pod after each step, until nothing changes.
    fn converge(&mut self) {
        for _ in 0..40 {
            let acts = self.sync();
            self.ready_all();
            if acts.is_empty() {
                return;
            }
        }
        panic!("did not converge");
    }
}

#[test]
fn statefulset_creates_ordinal_zero_first_with_its_claim_before_the_pod() {
    let mut w = World::new(set(3, json!({})));
    let acts = w.sync();
    assert!(matches!(&acts[0], Act::CreateClaim(c) if c.metadata.name.as_deref() == Some("data-cassandra-0")));
    assert!(matches!(&acts[1], Act::CreatePod(p) if p.metadata.name.as_deref() == Some("cassandra-0")));
    assert_eq!(acts.len(), 2);
}

#[test]
fn statefulset_waits_for_ordinal_zero_ready_before_creating_one() {
    let mut w = World::new(set(3, json!({})));
    w.sync();
    assert!(w.sync().is_empty(), "cassandra-0 is Pending: nothing more");
    w.ready("cassandra-0");
    w.sync();
    assert_eq!(w.names(), ["cassandra-0", "cassandra-1"]);
}

#[test]
fn a_parallel_statefulset_creates_every_ordinal_at_once() {
    let mut w = World::new(set(3, json!({"podManagementPolicy": "Parallel"})));
    w.sync();
    assert_eq!(w.names(), ["cassandra-0", "cassandra-1", "cassandra-2"]);
    assert_eq!(w.claims.len(), 3);
}

#[test]
fn stateful_pods_get_hostname_subdomain_identity_labels_and_their_claim() {
    let mut w = World::new(set(1, json!({})));
    w.sync();
    let p = w.pod("cassandra-0");
    let spec = p.spec.as_ref().unwrap();
    assert_eq!(spec.hostname.as_deref(), Some("cassandra-0"));
    assert_eq!(spec.subdomain.as_deref(), Some("cassandra"));
    let labels = p.metadata.labels.as_ref().unwrap();
    assert_eq!(labels[POD_NAME_LABEL], "cassandra-0");
    assert_eq!(labels[POD_INDEX_LABEL], "0");
    assert!(labels[CONTROLLER_REVISION_HASH].starts_with("cassandra-"));
    let vol = &spec.volumes.as_ref().unwrap()[0];
    assert_eq!(vol.name, "data");
    assert_eq!(vol.persistent_volume_claim.as_ref().unwrap().claim_name, "data-cassandra-0");
    let claim = &w.claims[0];
    assert_eq!(claim.metadata.labels.as_ref().unwrap()["app"], "cassandra");
    assert!(claim.metadata.owner_references.is_none(), "claims are retained by default");
}

#[test]
fn scale_down_removes_the_highest_ordinal_first_one_at_a_time_and_keeps_claims() {
    let mut w = World::new(set(3, json!({})));
    w.converge();
    w.set.spec.as_mut().unwrap().replicas = Some(1);
    w.sync();
    assert_eq!(w.names(), ["cassandra-0", "cassandra-1"]);
    w.sync();
    assert_eq!(w.names(), ["cassandra-0"]);
    assert_eq!(w.claims.len(), 3, "claims survive scale-down");
}

#[test]
fn scale_down_halts_while_a_pod_is_unhealthy() {
    let mut w = World::new(set(3, json!({})));
    w.converge();
    w.set.spec.as_mut().unwrap().replicas = Some(1);
    let p = w.pods.iter_mut().find(|p| p.metadata.name.as_deref() == Some("cassandra-0")).unwrap();
    p.status.as_mut().unwrap().conditions = None;
    assert!(w.sync().is_empty());
}

#[test]
fn a_failed_pod_is_deleted_and_recreated_with_the_same_name() {
    let mut w = World::new(set(1, json!({})));
    w.converge();
    w.pods[0].status.as_mut().unwrap().phase = Some("Failed".into());
    let acts = w.sync();
    assert!(matches!(&acts[..], [Act::DeletePod(v)] if v.name == "cassandra-0"));
    let acts = w.sync();
    assert!(matches!(&acts[..], [Act::CreatePod(p)] if p.metadata.name.as_deref() == Some("cassandra-0")), "{acts:?}");
}

#[test]
fn a_rolling_update_replaces_pods_from_the_highest_ordinal_down() {
    let mut w = World::new(set(3, json!({})));
    w.converge();
    w.set_image("cassandra:2");
    let mut order = Vec::new();
    for _ in 0..20 {
        for a in w.sync() {
            if let Act::DeletePod(v) = a {
                order.push(v.name);
            }
        }
        w.ready_all();
    }
    assert_eq!(order, ["cassandra-2", "cassandra-1", "cassandra-0"]);
    assert!(w.names().iter().all(|n| w.image(n) == "cassandra:2"));
    let s = w.set.status.as_ref().unwrap();
    assert_eq!(s.current_revision, s.update_revision, "a completed update becomes current");
}

#[test]
fn a_partition_keeps_lower_ordinals_at_the_old_revision_even_when_recreated() {
    let mut w =
        World::new(set(3, json!({"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}})));
    w.converge();
    w.set_image("cassandra:2");
    w.converge();
    assert_eq!(
        (w.image("cassandra-0"), w.image("cassandra-1"), w.image("cassandra-2")),
        ("cassandra:1".into(), "cassandra:1".into(), "cassandra:2".into())
    );
    w.pods.retain(|p| p.metadata.name.as_deref() != Some("cassandra-0"));
    w.converge();
    assert_eq!(w.image("cassandra-0"), "cassandra:1", "a deleted pod below the partition comes back old");
}

#[test]
fn on_delete_updates_a_pod_only_when_it_is_deleted() {
    let mut w = World::new(set(2, json!({"updateStrategy": {"type": "OnDelete"}})));
    w.converge();
    w.set_image("cassandra:2");
    w.converge();
    assert_eq!(w.image("cassandra-1"), "cassandra:1");
    w.pods.retain(|p| p.metadata.name.as_deref() != Some("cassandra-1"));
    w.converge();
    assert_eq!(w.image("cassandra-1"), "cassandra:2");
}

#[test]
fn rolling_back_reuses_the_earlier_revision() {
    let mut w = World::new(set(1, json!({})));
    w.converge();
    let first = w.set.status.as_ref().unwrap().update_revision.clone();
    w.set_image("cassandra:2");
    w.converge();
    w.set_image("cassandra:1");
    w.converge();
    assert_eq!(w.revisions.len(), 2);
    assert_eq!(w.set.status.as_ref().unwrap().update_revision, first);
}

#[test]
fn status_counts_ready_current_and_updated_replicas() {
    let mut w = World::new(set(2, json!({})));
    w.converge();
    let s = w.set.status.as_ref().unwrap();
    assert_eq!((s.replicas, s.ready_replicas, s.current_replicas, s.updated_replicas), (2, Some(2), Some(2), Some(2)));
    assert_eq!(s.available_replicas, Some(2));
    assert_eq!(s.observed_generation, Some(1));
}

#[test]
fn a_claim_still_being_deleted_holds_back_its_pod() {
    let mut w = World::new(set(1, json!({})));
    let mut c: PersistentVolumeClaim =
        serde_json::from_value(json!({"metadata": {"name": "data-cassandra-0", "namespace": "default"}})).unwrap();
    c.metadata.deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(now()));
    w.claims.push(c);
    assert!(w.sync().is_empty());
}
