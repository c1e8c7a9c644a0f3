//! Finding or creating the new ReplicaSet, scaling ReplicaSets (proportionally while a
//! rollout is in flight) and pruning history: Kubernetes' deployment sync.go.

use super::plan::{Act, State, Stop};
use super::view::{
    DESIRED_REPLICAS, REVISION, annotation, available_replicas, revision_of, scaled, set_new_rs_annotations,
    set_replicas_annotations, spec_replicas, status_replicas,
};
use crate::pod_state::created;
use crate::recorder::EventType;
use crate::revision::{POD_TEMPLATE_HASH, equal_ignore_hash, template_hash};
use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::json;
use std::cmp::Ordering;

/// Indices of the new ReplicaSet (if any) and of the old ones.
pub(super) type Split = (Option<usize>, Vec<usize>);

impl State {
    pub fn spec(&self, i: usize) -> i32 {
        spec_replicas(&self.rss[i])
    }

    /// Oldest first, by creation time then name (ReplicaSetsByCreationTimestamp).
    pub fn by_creation(&self, idx: &mut [usize]) {
        idx.sort_by(|a, b| self.creation_order(*a, *b));
    }

    fn creation_order(&self, a: usize, b: usize) -> Ordering {
        let (ra, rb) = (&self.rss[a].metadata, &self.rss[b].metadata);
        created(ra).cmp(&created(rb)).then(ra.name.cmp(&rb.name))
    }

    pub fn active(&self, idx: &[usize]) -> Vec<usize> {
        idx.iter().copied().filter(|i| self.spec(*i) > 0).collect()
    }

    pub fn sum(&self, idx: &[usize], f: impl Fn(&ReplicaSet) -> i32) -> i32 {
        idx.iter().map(|i| f(&self.rss[*i])).sum()
    }

    /// Kubernetes' getAllReplicaSetsAndSyncRevision.
    pub fn get_all(&mut self, create: bool) -> Result<Split, Stop> {
        let mut order: Vec<usize> = (0..self.rss.len()).collect();
        self.by_creation(&mut order);
        let new = order.iter().copied().find(|i| {
            let t = self.rss[*i].spec.as_ref().and_then(|s| s.template.as_ref());
            t.is_some_and(|t| equal_ignore_hash(t, &self.d.template))
        });
        let old: Vec<usize> = order.into_iter().filter(|i| Some(*i) != new).collect();
        let new_revision = old.iter().map(|i| revision_of(&self.rss[*i])).max().unwrap_or(0) + 1;
        match new {
            Some(i) => {
                self.sync_existing_new(i, new_revision);
                Ok((Some(i), old))
            }
            None if !create => Ok((None, old)),
            None => Ok((Some(self.create_new(&old, new_revision)?), old)),
        }
    }

    fn sync_existing_new(&mut self, i: usize, new_revision: i64) {
        let rs = &self.rss[i];
        let mut ann = rs.metadata.annotations.clone().unwrap_or_default();
        let changed = set_new_rs_annotations(&self.d, &mut ann, new_revision, true);
        let min_ready = rs.spec.as_ref().and_then(|s| s.min_ready_seconds).unwrap_or(0);
        if changed || min_ready != self.d.min_ready_seconds {
            let patch =
                json!({"metadata": {"annotations": ann}, "spec": {"minReadySeconds": self.d.min_ready_seconds}});
            let name = rs.metadata.name.clone().unwrap_or_default();
            self.acts.push(Act::PatchReplicaSet { name, patch });
            let rs = &mut self.rss[i];
            rs.metadata.annotations = Some(ann);
            rs.spec.get_or_insert_default().min_ready_seconds = Some(self.d.min_ready_seconds);
            return;
        }
        let revision = annotation(&self.rss[i], REVISION).unwrap_or_default().to_string();
        self.set_deployment_revision(&revision);
        if self.d.progress_deadline_seconds.is_some() && self.condition("Progressing").is_none() {
            let msg = format!("Found new replica set {:?}", self.rss[i].metadata.name.as_deref().unwrap_or_default());
            self.set_condition("Progressing", "True", "FoundNewReplicaSet", msg);
        }
    }

    /// Kubernetes' SetDeploymentRevision, written as a metadata patch of the Deployment.
    pub fn set_deployment_revision(&mut self, revision: &str) {
        if self.d.annotations.get(REVISION).map(String::as_str) == Some(revision) {
            return;
        }
        self.d.annotations.insert(REVISION.into(), revision.into());
        self.acts.push(Act::PatchDeployment(json!({"metadata": {"annotations": {REVISION: revision}}})));
    }

    fn create_new(&mut self, old: &[usize], new_revision: i64) -> Result<usize, Stop> {
        let hash = template_hash(&self.d.template, self.status.collision_count);
        let name = format!("{}-{}", self.d.name, hash);
        if self.taken.contains(&name) {
            // Another ReplicaSet holds the name with a different template: a hash collision.
            self.status.collision_count = Some(self.status.collision_count.unwrap_or(0) + 1);
            return Err(Stop);
        }
        let rs = self.new_replica_set(&name, &hash);
        self.rss.push(rs);
        let i = self.rss.len() - 1;
        let mut all = old.to_vec();
        all.push(i);
        let count = self.new_rs_new_replicas(&all, i);
        let mut ann = Default::default();
        set_new_rs_annotations(&self.d, &mut ann, new_revision, false);
        let rs = &mut self.rss[i];
        rs.spec.get_or_insert_default().replicas = Some(count);
        rs.metadata.annotations = Some(ann);
        self.acts.push(Act::CreateReplicaSet(Box::new(rs.clone())));
        if count > 0 {
            let msg = format!("Scaled up replica set {name} from 0 to {count}");
            self.event(EventType::Normal, "ScalingReplicaSet", msg);
        }
        self.set_deployment_revision(&new_revision.to_string());
        if self.d.progress_deadline_seconds.is_some() {
            let msg = format!("Created new replica set {name:?}");
            self.set_condition("Progressing", "True", "NewReplicaSetCreated", msg);
        }
        Ok(i)
    }

    fn new_replica_set(&self, name: &str, hash: &str) -> ReplicaSet {
        let mut template = self.d.template.clone();
        let meta = template.metadata.get_or_insert_default();
        meta.labels.get_or_insert_default().insert(POD_TEMPLATE_HASH.into(), hash.into());
        let mut selector = self.d.selector.clone();
        selector.match_labels.get_or_insert_default().insert(POD_TEMPLATE_HASH.into(), hash.into());
        ReplicaSet {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some(self.d.namespace.clone()),
                owner_references: Some(vec![self.controller_ref()]),
                labels: meta.labels.clone(),
                ..Default::default()
            },
            spec: Some(ReplicaSetSpec {
                replicas: Some(0),
                min_ready_seconds: Some(self.d.min_ready_seconds),
                selector,
                template: Some(template),
            }),
            status: None,
        }
    }

    /// Kubernetes' NewRSNewReplicas: how far the new ReplicaSet may grow now.
    pub fn new_rs_new_replicas(&self, all: &[usize], new: usize) -> i32 {
        let super::view::Strategy::RollingUpdate { max_surge, .. } = &self.d.strategy else {
            return self.d.replicas;
        };
        let surge = scaled(max_surge, self.d.replicas, true);
        let current = self.sum(all, spec_replicas);
        let max_total = self.d.replicas + surge;
        if current >= max_total {
            return self.spec(new);
        }
        let up = (max_total - current).min(self.d.replicas - self.spec(new));
        self.spec(new) + up
    }

    /// Kubernetes' scaleReplicaSetAndRecordEvent. Returns whether the size changed.
    pub fn scale_and_record(&mut self, i: usize, to: i32) -> bool {
        let from = self.spec(i);
        if from == to {
            return false;
        }
        self.scale_rs(i, to, if from < to { "up" } else { "down" })
    }

    /// Kubernetes' scaleReplicaSet: size and replica annotations in one write.
    pub fn scale_rs(&mut self, i: usize, to: i32, op: &str) -> bool {
        let from = self.spec(i);
        let max = self.d.replicas + self.d.max_surge();
        let mut ann = self.rss[i].metadata.annotations.clone().unwrap_or_default();
        let ann_changed = set_replicas_annotations(&mut ann, self.d.replicas, max);
        if from == to && !ann_changed {
            return false;
        }
        let name = self.rss[i].metadata.name.clone().unwrap_or_default();
        let patch = json!({"metadata": {"annotations": ann}, "spec": {"replicas": to}});
        self.acts.push(Act::PatchReplicaSet { name: name.clone(), patch });
        self.rss[i].metadata.annotations = Some(ann);
        self.rss[i].spec.get_or_insert_default().replicas = Some(to);
        if from != to {
            let msg = format!("Scaled {op} replica set {name} from {from} to {to}");
            self.event(EventType::Normal, "ScalingReplicaSet", msg);
        }
        from != to
    }

    /// Kubernetes' isScalingEvent: an active ReplicaSet was sized for another replica count.
    pub fn is_scaling_event(&mut self) -> Result<bool, Stop> {
        let (new, old) = self.get_all(false)?;
        let all: Vec<usize> = old.into_iter().chain(new).collect();
        let want = self.d.replicas.to_string();
        Ok(self.active(&all).iter().any(|i| annotation(&self.rss[*i], DESIRED_REPLICAS).is_some_and(|d| d != want)))
    }

    /// Kubernetes' sync: scale (paused or a scaling event), prune history when paused, status.
    pub fn sync(&mut self) -> Result<(), Stop> {
        let (new, old) = self.get_all(false)?;
        self.scale(new, &old);
        if self.d.paused {
            self.cleanup(&old);
        }
        let all: Vec<usize> = old.into_iter().chain(new).collect();
        self.status = self.calculate_status(&all, new);
        Ok(())
    }

    pub fn sync_status_only(&mut self) -> Result<(), Stop> {
        let (new, old) = self.get_all(false)?;
        let all: Vec<usize> = old.into_iter().chain(new).collect();
        self.status = self.calculate_status(&all, new);
        Ok(())
    }

    fn find_active_or_latest(&self, new: Option<usize>, old: &[usize]) -> Option<usize> {
        let mut olds = old.to_vec();
        self.by_creation(&mut olds);
        olds.reverse();
        let all: Vec<usize> = olds.iter().copied().chain(new).collect();
        let active = self.active(&all);
        match active.len() {
            0 => new.or(olds.first().copied()),
            1 => Some(active[0]),
            _ => None,
        }
    }

    fn is_saturated(&self, new: Option<usize>) -> bool {
        let Some(i) = new else { return false };
        let rs = &self.rss[i];
        let want = self.d.replicas;
        annotation(rs, DESIRED_REPLICAS) == Some(want.to_string().as_str())
            && spec_replicas(rs) == want
            && available_replicas(rs) == want
    }

    /// Kubernetes' scale: all to the one active ReplicaSet, or old ones down when the new one
    /// is saturated, or proportionally across all active ones during a rolling update.
    fn scale(&mut self, new: Option<usize>, old: &[usize]) {
        if let Some(i) = self.find_active_or_latest(new, old) {
            if self.spec(i) != self.d.replicas {
                self.scale_and_record(i, self.d.replicas);
            }
            return;
        }
        if self.is_saturated(new) {
            for i in self.active(old) {
                self.scale_and_record(i, 0);
            }
            return;
        }
        if self.d.is_rolling() {
            let all: Vec<usize> = old.iter().copied().chain(new).collect();
            self.scale_proportionally(self.active(&all));
        }
    }

    fn scale_proportionally(&mut self, mut active: Vec<usize>) {
        let allowed = if self.d.replicas > 0 { self.d.replicas + self.d.max_surge() } else { 0 };
        let to_add = allowed - self.sum(&active, spec_replicas);
        let op = match to_add.cmp(&0) {
            Ordering::Greater => "up",
            Ordering::Less => "down",
            Ordering::Equal => "",
        };
        // Larger first; ties newer first when growing, older first when shrinking.
        active.sort_by(|a, b| {
            self.spec(*b).cmp(&self.spec(*a)).then_with(|| match to_add > 0 {
                true => self.creation_order(*b, *a),
                false => self.creation_order(*a, *b),
            })
        });
        let mut added = 0;
        let mut sizes = Vec::new();
        for i in &active {
            let p = if to_add != 0 { self.proportion(*i, to_add, added) } else { 0 };
            added += p;
            sizes.push(self.spec(*i) + p);
        }
        for (k, i) in active.iter().enumerate() {
            let mut size = sizes[k];
            if k == 0 && to_add != 0 {
                size = (size + to_add - added).max(0);
            }
            self.scale_rs(*i, size, op);
        }
    }

    /// Kubernetes' GetReplicaSetProportion.
    fn proportion(&self, i: usize, to_add: i32, added: i32) -> i32 {
        if self.spec(i) == 0 || to_add == 0 || to_add == added {
            return 0;
        }
        let fraction = self.fraction(i);
        let allowed = to_add - added;
        if to_add > 0 { fraction.min(allowed) } else { fraction.max(allowed) }
    }

    /// Kubernetes' getReplicaSetFraction: the ReplicaSet's share of the new size, from the
    /// max-replicas annotation it was last sized for.
    fn fraction(&self, i: usize) -> i32 {
        let spec = self.spec(i);
        if self.d.replicas == 0 {
            return -spec;
        }
        let max = self.d.replicas + self.d.max_surge();
        let before = annotation(&self.rss[i], super::view::MAX_REPLICAS)
            .and_then(|v| v.parse::<i32>().ok())
            .filter(|v| *v != 0)
            .unwrap_or(self.status.replicas.unwrap_or(0));
        if before == 0 {
            return 0;
        }
        let size = f64::from(spec) * f64::from(max) / f64::from(before);
        size.round() as i32 - spec
    }

    /// Kubernetes' cleanupDeployment: delete the oldest empty ReplicaSets beyond
    /// revisionHistoryLimit.
    pub fn cleanup(&mut self, old: &[usize]) {
        let mut alive: Vec<usize> =
            old.iter().copied().filter(|i| self.rss[*i].metadata.deletion_timestamp.is_none()).collect();
        let limit = usize::try_from(self.d.revision_history_limit.max(0)).unwrap_or(0);
        if alive.len() <= limit {
            return;
        }
        let diff = alive.len() - limit;
        alive.sort_by(|a, b| {
            revision_of(&self.rss[*a]).cmp(&revision_of(&self.rss[*b])).then_with(|| self.creation_order(*a, *b))
        });
        for i in alive.into_iter().take(diff) {
            let rs = &self.rss[i];
            let observed = rs.status.as_ref().and_then(|s| s.observed_generation).unwrap_or(0);
            if status_replicas(rs) != 0 || spec_replicas(rs) != 0 || rs.metadata.generation.unwrap_or(0) > observed {
                continue;
            }
            self.acts.push(Act::DeleteReplicaSet {
                name: rs.metadata.name.clone().unwrap_or_default(),
                uid: rs.metadata.uid.clone(),
            });
        }
    }
}
