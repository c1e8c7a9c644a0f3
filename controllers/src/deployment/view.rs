//! A Deployment with Kubernetes' defaults applied, and the rollout arithmetic over it
//! (deploymentutil's MaxSurge, MaxUnavailable, revisions and annotations).

use k8s_openapi::api::apps::v1::{Deployment, DeploymentStatus, ReplicaSet};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;

pub const REVISION: &str = "deployment.kubernetes.io/revision";
pub const REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
pub const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
pub const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";
/// Annotations never copied from a Deployment to its ReplicaSets.
const SKIP_COPY: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    REVISION_HISTORY,
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    "deprecated.deployment.rollback.to",
];
/// Kubernetes keeps revision-history annotations under this many characters.
pub const MAX_REV_HISTORY_CHARS: usize = 2000;

/// The rollout strategy.
#[derive(Clone, Debug, PartialEq)]
pub enum Strategy {
    Recreate,
    RollingUpdate { max_surge: IntOrString, max_unavailable: IntOrString },
}

/// A Deployment's fields with defaults applied (replicas 1, RollingUpdate 25%/25%,
/// revisionHistoryLimit 10, progressDeadlineSeconds 600).
#[derive(Clone, Debug)]
pub struct View {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub generation: i64,
    pub deleting: bool,
    pub annotations: BTreeMap<String, String>,
    pub replicas: i32,
    pub selector: LabelSelector,
    pub template: PodTemplateSpec,
    pub strategy: Strategy,
    pub min_ready_seconds: i32,
    pub revision_history_limit: i32,
    /// None when progressDeadlineSeconds is MaxInt32 (no deadline).
    pub progress_deadline_seconds: Option<i32>,
    pub paused: bool,
    pub status: DeploymentStatus,
}

fn percent(p: &str) -> IntOrString {
    IntOrString::String(p.into())
}

impl View {
    pub fn of(d: &Deployment) -> View {
        let spec = d.spec.clone().unwrap_or_default();
        let strategy = match spec.strategy.as_ref().and_then(|s| s.type_.as_deref()) {
            Some("Recreate") => Strategy::Recreate,
            _ => {
                let ru = spec.strategy.and_then(|s| s.rolling_update).unwrap_or_default();
                Strategy::RollingUpdate {
                    max_surge: ru.max_surge.unwrap_or_else(|| percent("25%")),
                    max_unavailable: ru.max_unavailable.unwrap_or_else(|| percent("25%")),
                }
            }
        };
        View {
            name: d.metadata.name.clone().unwrap_or_default(),
            namespace: d.metadata.namespace.clone().unwrap_or_default(),
            uid: d.metadata.uid.clone().unwrap_or_default(),
            generation: d.metadata.generation.unwrap_or_default(),
            deleting: d.metadata.deletion_timestamp.is_some(),
            annotations: d.metadata.annotations.clone().unwrap_or_default(),
            replicas: spec.replicas.unwrap_or(1),
            selector: spec.selector,
            template: spec.template,
            strategy,
            min_ready_seconds: spec.min_ready_seconds.unwrap_or(0),
            revision_history_limit: spec.revision_history_limit.unwrap_or(10),
            progress_deadline_seconds: Some(spec.progress_deadline_seconds.unwrap_or(600)).filter(|s| *s != i32::MAX),
            paused: spec.paused.unwrap_or(false),
            status: d.status.clone().unwrap_or_default(),
        }
    }

    /// Kubernetes' ResolveFenceposts: (surge, unavailable), never both zero.
    fn fenceposts(&self) -> (i32, i32) {
        let Strategy::RollingUpdate { max_surge, max_unavailable } = &self.strategy else {
            return (0, 0);
        };
        let surge = scaled(max_surge, self.replicas, true);
        let unavailable = scaled(max_unavailable, self.replicas, false);
        if surge == 0 && unavailable == 0 {
            return (0, 1);
        }
        (surge, unavailable)
    }

    /// Pods allowed above `replicas` during a rolling update (rounded up from a percent).
    pub fn max_surge(&self) -> i32 {
        self.fenceposts().0
    }

    /// Pods allowed below `replicas` (rounded down from a percent, at most `replicas`).
    pub fn max_unavailable(&self) -> i32 {
        if self.replicas == 0 || self.strategy == Strategy::Recreate {
            return 0;
        }
        self.fenceposts().1.min(self.replicas)
    }

    pub fn is_rolling(&self) -> bool {
        matches!(self.strategy, Strategy::RollingUpdate { .. })
    }
}

/// Kubernetes' GetScaledValueFromIntOrPercent; an unparsable percent counts as 0
/// (validation rejects it before it gets here).
pub fn scaled(v: &IntOrString, total: i32, round_up: bool) -> i32 {
    match v {
        IntOrString::Int(i) => *i,
        IntOrString::String(s) => {
            let Some(p) = s.strip_suffix('%').and_then(|p| p.parse::<i64>().ok()) else {
                return 0;
            };
            let x = p * i64::from(total);
            let v = if round_up { (x + 99).div_euclid(100) } else { x.div_euclid(100) };
            i32::try_from(v).unwrap_or(i32::MAX)
        }
    }
}

/// The revision annotation of a ReplicaSet, 0 when absent or unparsable.
pub fn revision_of(rs: &ReplicaSet) -> i64 {
    annotation(rs, REVISION).and_then(|r| r.parse().ok()).unwrap_or(0)
}

pub fn annotation<'a>(rs: &'a ReplicaSet, key: &str) -> Option<&'a str> {
    rs.metadata.annotations.as_ref()?.get(key).map(String::as_str)
}

pub fn spec_replicas(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

pub fn status_replicas(rs: &ReplicaSet) -> i32 {
    rs.status.as_ref().map_or(0, |s| s.replicas)
}

pub fn available_replicas(rs: &ReplicaSet) -> i32 {
    rs.status.as_ref().and_then(|s| s.available_replicas).unwrap_or(0)
}

pub fn ready_replicas(rs: &ReplicaSet) -> i32 {
    rs.status.as_ref().and_then(|s| s.ready_replicas).unwrap_or(0)
}

/// Copies the Deployment's annotations (minus Kubernetes' skip list) onto a ReplicaSet's.
/// Returns whether anything changed.
pub fn copy_annotations(view: &View, rs: &mut BTreeMap<String, String>) -> bool {
    let mut changed = false;
    for (k, v) in &view.annotations {
        if SKIP_COPY.contains(&k.as_str()) || rs.get(k) == Some(v) {
            continue;
        }
        rs.insert(k.clone(), v.clone());
        changed = true;
    }
    changed
}

/// Kubernetes' SetReplicasAnnotations: desired and max replicas. Returns whether changed.
pub fn set_replicas_annotations(ann: &mut BTreeMap<String, String>, desired: i32, max: i32) -> bool {
    let mut changed = false;
    for (k, v) in [(DESIRED_REPLICAS, desired), (MAX_REPLICAS, max)] {
        let v = v.to_string();
        if ann.get(k) != Some(&v) {
            ann.insert(k.into(), v);
            changed = true;
        }
    }
    changed
}

/// Kubernetes' SetNewReplicaSetAnnotations: copy annotations, raise the revision, keep the
/// revisions it had before in revision-history (a rollback), and on creation the replica
/// annotations. Returns whether anything changed.
pub fn set_new_rs_annotations(
    view: &View,
    ann: &mut BTreeMap<String, String>,
    new_revision: i64,
    exists: bool,
) -> bool {
    let mut changed = copy_annotations(view, ann);
    let old = ann.get(REVISION).cloned();
    let old_n: i64 = match old.as_deref() {
        None | Some("") => 0,
        Some(s) => match s.parse() {
            Ok(n) => n,
            Err(_) => return false,
        },
    };
    if old_n < new_revision {
        ann.insert(REVISION.into(), new_revision.to_string());
        changed = true;
        if let Some(old) = old.filter(|o| !o.is_empty()) {
            append_history(ann, &old);
        }
    }
    if !exists {
        let max = view.replicas + view.max_surge();
        changed |= set_replicas_annotations(ann, view.replicas, max);
    }
    changed
}

fn append_history(ann: &mut BTreeMap<String, String>, old: &str) {
    let history = ann.get(REVISION_HISTORY).cloned().unwrap_or_default();
    if history.is_empty() {
        ann.insert(REVISION_HISTORY.into(), old.into());
        return;
    }
    let mut revs: Vec<&str> = history.split(',').collect();
    let mut total = history.len() + old.len() + 1;
    while total > MAX_REV_HISTORY_CHARS && !revs.is_empty() {
        total -= revs[0].len() + 1;
        revs.remove(0);
    }
    if total <= MAX_REV_HISTORY_CHARS {
        revs.push(old);
        ann.insert(REVISION_HISTORY.into(), revs.join(","));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub fn deployment(replicas: i32, surge: serde_json::Value, unavailable: serde_json::Value) -> View {
        let d: Deployment = serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "default", "uid": "d-uid", "generation": 1},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "nginx:1"}]}},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}}
            }
        }))
        .unwrap();
        View::of(&d)
    }

    #[test]
    fn surge_rounds_up_and_unavailable_rounds_down() {
        let v = deployment(10, json!("25%"), json!("25%"));
        assert_eq!((v.max_surge(), v.max_unavailable()), (3, 2));
        let v = deployment(3, json!("25%"), json!("25%"));
        assert_eq!((v.max_surge(), v.max_unavailable()), (1, 0));
    }

    #[test]
    fn zero_surge_and_zero_unavailable_allow_one_unavailable() {
        let v = deployment(3, json!(0), json!(0));
        assert_eq!((v.max_surge(), v.max_unavailable()), (0, 1));
    }

    #[test]
    fn max_unavailable_never_exceeds_replicas() {
        let v = deployment(2, json!(1), json!(5));
        assert_eq!(v.max_unavailable(), 2);
    }

    #[test]
    fn a_deployment_without_strategy_defaults_to_rolling_25_percent() {
        let d: Deployment =
            serde_json::from_value(json!({"metadata": {"name": "x"}, "spec": {"selector": {}, "template": {}}}))
                .unwrap();
        let v = View::of(&d);
        assert_eq!(v.replicas, 1);
        assert_eq!(v.revision_history_limit, 10);
        assert_eq!(v.progress_deadline_seconds, Some(600));
        assert_eq!((v.max_surge(), v.max_unavailable()), (1, 0));
    }

    #[test]
    fn a_rollback_keeps_the_old_revision_in_history() {
        let v = deployment(1, json!(1), json!(0));
        let mut ann = BTreeMap::from([(REVISION.to_string(), "1".to_string())]);
        assert!(set_new_rs_annotations(&v, &mut ann, 3, true));
        assert_eq!(ann[REVISION], "3");
        assert_eq!(ann[REVISION_HISTORY], "1");
        set_new_rs_annotations(&v, &mut ann, 5, true);
        assert_eq!(ann[REVISION_HISTORY], "1,3");
    }

    #[test]
    fn change_cause_is_copied_to_the_replicaset_but_revision_is_not() {
        let mut v = deployment(1, json!(1), json!(0));
        v.annotations.insert("kubernetes.io/change-cause".into(), "kubectl set image".into());
        v.annotations.insert(REVISION.into(), "9".into());
        let mut ann = BTreeMap::new();
        set_new_rs_annotations(&v, &mut ann, 2, false);
        assert_eq!(ann["kubernetes.io/change-cause"], "kubectl set image");
        assert_eq!(ann[REVISION], "2");
        assert_eq!(ann[DESIRED_REPLICAS], "1");
        assert_eq!(ann[MAX_REPLICAS], "2");
    }
}
