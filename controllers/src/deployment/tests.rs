//! Deployment plans checked against a small in-memory cluster: ReplicaSets follow the
//! plan's writes, and "kubelets" make pods available one step after they are created.

use super::plan::{Act, Observed, Plan, plan};
use super::view::{MAX_REPLICAS, REVISION};
use crate::revision::POD_TEMPLATE_HASH;
use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, ReplicaSetStatus};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::{Value, json};

fn deployment(replicas: i32, image: &str, strategy: Value) -> Deployment {
    serde_json::from_value(json!({
        "metadata": {"name": "web", "namespace": "default", "uid": "d-uid", "generation": 1},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": image}]}},
            "strategy": strategy
        }
    }))
    .unwrap()
}

fn rolling(surge: Value, unavailable: Value) -> Value {
    json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}})
}

use crate::test_support::patched;

/// A Deployment, its ReplicaSets and a clock.
struct Cluster {
    d: Deployment,
    rss: Vec<ReplicaSet>,
    pods: Vec<Pod>,
    now: Timestamp,
    next_uid: u32,
}

impl Cluster {
    fn new(d: Deployment) -> Self {
        Cluster { d, rss: Vec::new(), pods: Vec::new(), now: "2025-01-01T00:00:00Z".parse().unwrap(), next_uid: 0 }
    }

    fn plan(&self) -> Plan {
        let observed =
            Observed { replica_sets: self.rss.iter().collect(), pods: self.pods.iter().collect(), now: self.now };
        plan(&self.d, &observed)
    }

    /// One sync of the Deployment controller, its writes applied.
    fn sync(&mut self) -> Plan {
        let p = self.plan();
        for act in &p.acts {
            self.apply(act);
        }
        if let Some(s) = &p.status {
            self.d.status = Some(s.clone());
        }
        p
    }

    fn apply(&mut self, act: &Act) {
        match act {
            Act::CreateReplicaSet(rs) => {
                let mut rs = (**rs).clone();
                self.next_uid += 1;
                rs.metadata.uid = Some(format!("rs-{}", self.next_uid));
                rs.metadata.creation_timestamp = Some(Time(self.now));
                rs.metadata.generation = Some(1);
                self.rss.push(rs);
            }
            Act::PatchReplicaSet { name, patch } | Act::Adopt { name, patch } | Act::Release { name, patch } => {
                let i = self.rss.iter().position(|r| r.metadata.name.as_ref() == Some(name)).unwrap();
                self.rss[i] = patched(&self.rss[i], patch);
            }
            Act::DeleteReplicaSet { name, .. } => self.rss.retain(|r| r.metadata.name.as_ref() != Some(name)),
            Act::PatchDeployment(patch) => self.d = patched(&self.d, patch),
            Act::Event { .. } => {}
        }
    }

    /// The ReplicaSet controller and kubelets: pods exist at once and become available one
    /// step later; removed pods go at once.
    fn kubelets(&mut self) {
        for rs in &mut self.rss {
            let spec = rs.spec.as_ref().unwrap().replicas.unwrap_or(1);
            let st = rs.status.get_or_insert_with(ReplicaSetStatus::default);
            let was = st.replicas;
            st.replicas = spec;
            st.available_replicas = Some(spec.min(was));
            st.ready_replicas = st.available_replicas;
            st.observed_generation = rs.metadata.generation;
        }
        self.now += SignedDuration::from_secs(1);
    }

    fn settle(&mut self, steps: usize, mut check: impl FnMut(&Cluster)) {
        for _ in 0..steps {
            self.sync();
            check(self);
            self.kubelets();
            check(self);
        }
    }

    fn sizes(&self) -> Vec<(String, i32)> {
        self.rss.iter().map(|r| (image_of(r), r.spec.as_ref().unwrap().replicas.unwrap_or(1))).collect()
    }

    fn set_image(&mut self, image: &str) {
        let spec = self.d.spec.as_mut().unwrap();
        spec.template.spec.as_mut().unwrap().containers[0].image = Some(image.into());
        self.d.metadata.generation = Some(self.d.metadata.generation.unwrap() + 1);
    }

    fn available(&self) -> i32 {
        self.rss.iter().map(|r| r.status.as_ref().and_then(|s| s.available_replicas).unwrap_or(0)).sum()
    }

    fn total(&self) -> i32 {
        self.rss.iter().map(|r| r.spec.as_ref().unwrap().replicas.unwrap_or(1)).sum()
    }

    fn condition(&self, type_: &str) -> Option<(String, String)> {
        let c = self.d.status.as_ref()?.conditions.as_ref()?.iter().find(|c| c.type_ == type_)?;
        Some((c.status.clone(), c.reason.clone().unwrap_or_default()))
    }
}

fn image_of(rs: &ReplicaSet) -> String {
    let t = rs.spec.as_ref().unwrap().template.as_ref().unwrap();
    t.spec.as_ref().unwrap().containers[0].image.clone().unwrap()
}

fn rolled_out(replicas: i32, strategy: Value) -> Cluster {
    let mut c = Cluster::new(deployment(replicas, "nginx:1", strategy));
    c.settle(3, |_| {});
    c
}

#[test]
fn a_new_deployment_creates_a_replicaset_named_after_the_template_hash() {
    let mut c = Cluster::new(deployment(3, "nginx:1", rolling(json!("25%"), json!("25%"))));
    c.sync();
    assert_eq!(c.rss.len(), 1);
    let rs = &c.rss[0];
    let hash = rs.metadata.labels.as_ref().unwrap()[POD_TEMPLATE_HASH].clone();
    assert_eq!(rs.metadata.name.as_deref(), Some(format!("web-{hash}").as_str()));
    let spec = rs.spec.as_ref().unwrap();
    assert_eq!(spec.selector.match_labels.as_ref().unwrap()[POD_TEMPLATE_HASH], hash);
    let tl = spec.template.as_ref().unwrap().metadata.as_ref().unwrap().labels.as_ref().unwrap();
    assert_eq!(tl[POD_TEMPLATE_HASH], hash);
    assert_eq!(spec.replicas, Some(3));
    let owner = &rs.metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!((owner.kind.as_str(), owner.controller), ("Deployment", Some(true)));
}

#[test]
fn a_new_deployment_records_revision_one_on_itself_and_its_replicaset() {
    let mut c = Cluster::new(deployment(1, "nginx:1", rolling(json!(1), json!(0))));
    c.sync();
    assert_eq!(c.rss[0].metadata.annotations.as_ref().unwrap()[REVISION], "1");
    assert_eq!(c.d.metadata.annotations.as_ref().unwrap()[REVISION], "1");
}

#[test]
fn a_rolled_out_deployment_reports_all_replicas_and_both_conditions() {
    let c = rolled_out(3, rolling(json!("25%"), json!("25%")));
    let s = c.d.status.as_ref().unwrap();
    assert_eq!((s.replicas, s.updated_replicas, s.available_replicas), (Some(3), Some(3), Some(3)));
    assert_eq!(s.observed_generation, Some(1));
    assert_eq!(c.condition("Available"), Some(("True".into(), "MinimumReplicasAvailable".into())));
    assert_eq!(c.condition("Progressing"), Some(("True".into(), "NewReplicaSetAvailable".into())));
}

#[test]
fn a_rolling_update_never_goes_below_max_unavailable_nor_above_max_surge() {
    for (surge, unavailable, replicas) in [
        (json!(1), json!(0), 3),
        (json!("25%"), json!("25%"), 10),
        (json!(0), json!(2), 5),
        (json!("50%"), json!(1), 4),
    ] {
        let mut c = rolled_out(replicas, rolling(surge.clone(), unavailable.clone()));
        let view = super::View::of(&c.d);
        let (max_surge, max_unavailable) = (view.max_surge(), view.max_unavailable());
        c.set_image("nginx:2");
        c.settle(30, |c| {
            assert!(c.available() >= replicas - max_unavailable, "{surge}/{unavailable}: {:?}", c.sizes());
            assert!(c.total() <= replicas + max_surge, "{surge}/{unavailable}: {:?}", c.sizes());
        });
        assert_eq!(c.sizes(), [("nginx:1".to_string(), 0), ("nginx:2".to_string(), replicas)]);
    }
}

#[test]
fn a_rolling_update_surges_first_then_scales_down_old_pods_once_new_ones_are_available() {
    let mut c = rolled_out(3, rolling(json!(1), json!(0)));
    c.set_image("nginx:2");
    c.sync();
    assert_eq!(c.sizes(), [("nginx:1".to_string(), 3), ("nginx:2".to_string(), 1)]);
    c.sync();
    assert_eq!(c.sizes()[0].1, 3, "old pods stay until new ones are available");
    c.kubelets();
    c.kubelets();
    c.sync();
    assert_eq!(c.sizes()[0].1, 2);
}

#[test]
fn a_new_template_gets_the_next_revision_and_change_cause_on_its_replicaset() {
    let mut c = rolled_out(2, rolling(json!(1), json!(0)));
    c.set_image("nginx:2");
    c.d.metadata.annotations.get_or_insert_default().insert("kubernetes.io/change-cause".into(), "set image".into());
    c.sync();
    let new = c.rss.iter().find(|r| image_of(r) == "nginx:2").unwrap();
    let ann = new.metadata.annotations.as_ref().unwrap();
    assert_eq!(ann[REVISION], "2");
    assert_eq!(ann["kubernetes.io/change-cause"], "set image");
    assert_eq!(c.d.metadata.annotations.as_ref().unwrap()[REVISION], "2");
}

#[test]
fn rolling_back_reuses_the_old_replicaset_and_gives_it_the_next_revision() {
    let mut c = rolled_out(2, rolling(json!(1), json!(0)));
    c.set_image("nginx:2");
    c.settle(10, |_| {});
    c.set_image("nginx:1");
    c.settle(10, |_| {});
    assert_eq!(c.rss.len(), 2, "no third ReplicaSet for a template seen before");
    let old = c.rss.iter().find(|r| image_of(r) == "nginx:1").unwrap();
    let ann = old.metadata.annotations.as_ref().unwrap();
    assert_eq!(ann[REVISION], "3");
    assert_eq!(ann[super::view::REVISION_HISTORY], "1");
    assert_eq!(c.sizes(), [("nginx:1".to_string(), 2), ("nginx:2".to_string(), 0)]);
}

#[test]
fn recreate_scales_old_replicasets_to_zero_before_creating_the_new_one() {
    let mut c = rolled_out(3, json!({"type": "Recreate"}));
    c.set_image("nginx:2");
    c.sync();
    assert_eq!(c.sizes(), [("nginx:1".to_string(), 0)]);
    c.sync();
    assert_eq!(c.rss.len(), 1, "old pods are still counted in the old ReplicaSet's status");
    c.kubelets();
    c.sync();
    assert_eq!(c.sizes(), [("nginx:1".to_string(), 0), ("nginx:2".to_string(), 3)]);
}

#[test]
fn recreate_waits_for_old_pods_that_are_still_terminating() {
    let mut c = rolled_out(1, json!({"type": "Recreate"}));
    c.set_image("nginx:2");
    c.sync();
    c.kubelets();
    let old_uid = c.rss[0].metadata.uid.clone().unwrap();
    let mut pod = crate::pod_state::fixtures::pod("web-old", &[("app", "web")], "Running", true);
    pod.metadata.owner_references = Some(vec![k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
        uid: old_uid,
        controller: Some(true),
        kind: "ReplicaSet".into(),
        ..Default::default()
    }]);
    c.pods.push(pod);
    c.sync();
    assert_eq!(c.rss.len(), 1);
    c.pods.clear();
    c.sync();
    assert_eq!(c.rss.len(), 2);
}

#[test]
fn scaling_mid_rollout_resizes_replicasets_in_proportion() {
    let mut c = rolled_out(10, rolling(json!(3), json!(2)));
    c.set_image("nginx:2");
    c.sync();
    c.kubelets();
    c.sync();
    let before = c.sizes();
    assert!(before.iter().all(|(_, n)| *n > 0), "{before:?}");
    c.d.spec.as_mut().unwrap().replicas = Some(20);
    c.sync();
    let after = c.sizes();
    assert_eq!(after.iter().map(|(_, n)| n).sum::<i32>(), 20 + 3);
    for ((_, b), (_, a)) in before.iter().zip(&after) {
        assert!(a > b, "every active ReplicaSet grows: {before:?} -> {after:?}");
    }
    let max = c.rss[0].metadata.annotations.as_ref().unwrap()[MAX_REPLICAS].clone();
    assert_eq!(max, "23");
}

#[test]
fn a_paused_deployment_scales_but_does_not_roll_out_a_new_template() {
    let mut c = rolled_out(2, rolling(json!(1), json!(0)));
    c.d.spec.as_mut().unwrap().paused = Some(true);
    c.set_image("nginx:2");
    c.d.spec.as_mut().unwrap().replicas = Some(4);
    c.settle(3, |_| {});
    assert_eq!(c.sizes(), [("nginx:1".to_string(), 4)]);
    assert_eq!(c.condition("Progressing"), Some(("Unknown".into(), "DeploymentPaused".into())));
    c.d.spec.as_mut().unwrap().paused = Some(false);
    c.sync();
    assert_eq!(c.rss.len(), 2, "resuming rolls out the new template");
}

#[test]
fn only_revision_history_limit_old_replicasets_are_kept() {
    let mut d = deployment(1, "nginx:0", rolling(json!(1), json!(0)));
    d.spec.as_mut().unwrap().revision_history_limit = Some(2);
    let mut c = Cluster::new(d);
    c.settle(3, |_| {});
    for i in 1..6 {
        c.set_image(&format!("nginx:{i}"));
        c.settle(6, |_| {});
    }
    let images: Vec<String> = c.rss.iter().map(image_of).collect();
    assert_eq!(images, ["nginx:3", "nginx:4", "nginx:5"]);
}

#[test]
fn a_rollout_without_progress_past_the_deadline_reports_progress_deadline_exceeded() {
    let mut d = deployment(2, "nginx:1", rolling(json!(1), json!(0)));
    d.spec.as_mut().unwrap().progress_deadline_seconds = Some(60);
    let mut c = Cluster::new(d);
    c.sync();
    assert_eq!(c.condition("Progressing"), Some(("True".into(), "NewReplicaSetCreated".into())));
    let p = c.sync();
    assert!(p.requeue_after.is_some(), "a stuck rollout is looked at again at its deadline");
    c.now += SignedDuration::from_secs(61);
    c.sync();
    assert_eq!(c.condition("Progressing"), Some(("False".into(), "ProgressDeadlineExceeded".into())));
    assert_eq!(c.condition("Available"), Some(("False".into(), "MinimumReplicasUnavailable".into())));
}

#[test]
fn a_replicaset_whose_name_is_taken_bumps_the_collision_count() {
    let mut c = Cluster::new(deployment(1, "nginx:1", rolling(json!(1), json!(0))));
    c.sync();
    let mut squatter = c.rss[0].clone();
    squatter.metadata.owner_references = None;
    squatter.metadata.labels = Some([("other".to_string(), "x".to_string())].into());
    c.rss = vec![squatter];
    c.sync();
    assert_eq!(c.d.status.as_ref().unwrap().collision_count, Some(1));
    c.sync();
    assert_eq!(c.rss.len(), 2, "the next hash gives a free name");
}

#[test]
fn an_orphan_replicaset_matching_the_selector_is_adopted() {
    let mut c = Cluster::new(deployment(1, "nginx:1", rolling(json!(1), json!(0))));
    c.sync();
    c.rss[0].metadata.owner_references = None;
    let p = c.plan();
    assert!(p.acts.iter().any(|a| matches!(a, Act::Adopt { .. })));
}

#[test]
fn a_deployment_selecting_everything_is_refused() {
    let mut d = deployment(1, "nginx:1", rolling(json!(1), json!(0)));
    d.spec.as_mut().unwrap().selector = Default::default();
    let mut c = Cluster::new(d);
    let p = c.sync();
    assert!(c.rss.is_empty());
    assert!(p.acts.iter().any(|a| matches!(a, Act::Event { reason: "SelectingAll", .. })));
}

#[test]
fn a_restart_annotation_on_the_template_rolls_out_a_new_replicaset() {
    let mut c = rolled_out(1, rolling(json!(1), json!(0)));
    let t = &mut c.d.spec.as_mut().unwrap().template;
    t.metadata
        .get_or_insert_default()
        .annotations
        .get_or_insert_default()
        .insert("kubectl.kubernetes.io/restartedAt".into(), "2025-01-01T00:00:00Z".into());
    c.settle(5, |_| {});
    assert_eq!(c.rss.len(), 2);
    assert_eq!(c.total(), 1);
}
