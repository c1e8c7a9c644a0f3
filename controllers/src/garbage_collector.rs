//! The garbage collector: watches the metadata of every resource type, and deletes objects
//! whose owners are gone (background), deletes an owner's dependents before it when deleted
//! in the foreground (`foregroundDeletion`), and orphans them when asked (`orphan`).
//!
//! One loop owns the graph and works one item at a time; watch events are taken in between.

mod decide;
mod graph;
mod monitors;
mod ops;
mod queue;

use crate::resource_discovery::{self, ResourceType};
use decide::{Decision, ForegroundStep, OwnerState, Propagation};
use futures::StreamExt;
use graph::{FOREGROUND, Graph, Node, ORPHAN, TypeId, Work};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::Client;
use kube::core::ObjectMeta;
use kube::runtime::watcher::Event;
use monitors::{MonitorEvent, Monitors};
use ops::Target;
use queue::WorkQueue;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// Work starts once every monitor has listed its type, or after this long regardless.
const SYNC_TIMEOUT: Duration = Duration::from_secs(30);
/// New resource types (CRDs) are looked for this often.
const REDISCOVERY: Duration = Duration::from_secs(30);
/// Owner UIDs known to be gone, remembered to spare lookups (UIDs are never reused).
const ABSENT_CACHE: usize = 10_000;

/// What a work item could not do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("reading {resource} {name}")]
    Read {
        resource: String,
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("deleting {resource} {name}")]
    Delete {
        resource: String,
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("updating the metadata of {resource} {name}")]
    Patch {
        resource: String,
        name: String,
        #[source]
        source: kube::Error,
    },
}

/// Runs the collector until the process ends.
pub async fn run(client: Client) {
    let types = loop {
        match resource_discovery::deletable(&client).await {
            Ok(t) => break t,
            Err(e) => {
                tracing::warn!(error = %e, "garbage-collector: discovery failed, retrying");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    };
    let mut gc = Collector::new(client);
    let mut monitors = Monitors::new();
    gc.add_types(types, &mut monitors);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        if let Some(w) = gc.next_work() {
            gc.work(w).await;
            for ev in monitors::ready_events(&mut monitors, 1000) {
                gc.observe(ev);
            }
            continue;
        }
        tokio::select! {
            Some(ev) = monitors.next() => gc.observe(ev),
            _ = tick.tick() => gc.tick(&mut monitors).await,
        }
    }
}

struct Collector {
    client: Client,
    /// Append-only: a node's TypeId indexes it.
    types: Vec<ResourceType>,
    graph: Graph,
    queue: WorkQueue,
    /// Types being relisted, with the UIDs their list has shown so far.
    relisting: HashMap<TypeId, HashSet<String>>,
    /// Types whose first list is complete.
    synced: HashSet<TypeId>,
    initial_types: usize,
    started: Instant,
    last_discovery: Instant,
    absent: HashSet<String>,
}

impl Collector {
    fn new(client: Client) -> Self {
        Collector {
            client,
            types: Vec::new(),
            graph: Graph::default(),
            queue: WorkQueue::default(),
            relisting: HashMap::new(),
            synced: HashSet::new(),
            initial_types: 0,
            started: Instant::now(),
            last_discovery: Instant::now(),
            absent: HashSet::new(),
        }
    }

    /// Starts monitors for the types not watched yet.
    fn add_types(&mut self, found: Vec<ResourceType>, monitors: &mut Monitors) {
        let first = self.types.is_empty();
        for t in found.into_iter().filter(monitors::watched) {
            if self.types.iter().any(|k| k.api.group == t.api.group && k.api.plural == t.api.plural) {
                continue;
            }
            monitors.push(monitors::monitor(&self.client, self.types.len(), &t));
            self.types.push(t);
        }
        if first {
            self.initial_types = self.types.len();
        }
    }

    /// Work is held back until the graph is complete (every first list done), as the
    /// collector in Kubernetes waits for its caches.
    fn next_work(&mut self) -> Option<Work> {
        let synced = (0..self.initial_types).all(|t| self.synced.contains(&t));
        if !synced && self.started.elapsed() < SYNC_TIMEOUT {
            return None;
        }
        self.queue.pop()
    }

    async fn tick(&mut self, monitors: &mut Monitors) {
        self.queue.promote_due(Instant::now());
        if self.last_discovery.elapsed() < REDISCOVERY {
            return;
        }
        self.last_discovery = Instant::now();
        match resource_discovery::deletable(&self.client).await {
            Ok(found) => self.add_types(found, monitors),
            Err(e) => tracing::debug!(error = %e, "garbage-collector: rediscovery failed"),
        }
    }

    fn observe(&mut self, (type_id, ev): MonitorEvent) {
        let work = match ev {
            Ok(Event::Init) => {
                self.relisting.insert(type_id, HashSet::new());
                Vec::new()
            }
            Ok(Event::InitApply(o)) => {
                if let (Some(seen), Some(uid)) = (self.relisting.get_mut(&type_id), o.metadata.uid.clone()) {
                    seen.insert(uid);
                }
                self.upsert(type_id, &o.metadata)
            }
            Ok(Event::InitDone) => self.relisted(type_id),
            Ok(Event::Apply(o)) => self.upsert(type_id, &o.metadata),
            Ok(Event::Delete(o)) => o.metadata.uid.map(|u| self.graph.remove(&u)).unwrap_or_default(),
            Err(e) => {
                tracing::debug!(error = %e, resource = %self.types[type_id].group_resource(), "garbage-collector: watch failed");
                Vec::new()
            }
        };
        for w in work {
            self.queue.push(w);
        }
    }

    fn upsert(&mut self, type_id: TypeId, m: &ObjectMeta) -> Vec<Work> {
        Node::from_meta(type_id, m).map(|n| self.graph.upsert(n)).unwrap_or_default()
    }

    /// A list finished: objects of the type it did not show were deleted meanwhile.
    fn relisted(&mut self, type_id: TypeId) -> Vec<Work> {
        self.synced.insert(type_id);
        let seen = self.relisting.remove(&type_id).unwrap_or_default();
        let gone: Vec<String> = self.graph.uids_of_type(type_id).into_iter().filter(|u| !seen.contains(u)).collect();
        gone.iter().flat_map(|u| self.graph.remove(u)).collect()
    }

    async fn work(&mut self, w: Work) {
        let result = match &w {
            Work::AttemptDelete(uid) => self.attempt_delete(uid).await,
            Work::Orphan(uid) => self.orphan(uid).await,
        };
        match result {
            Ok(()) => self.queue.done(&w),
            Err(e) => {
                tracing::debug!(error = %e, "garbage-collector: will retry");
                self.queue.retry_later(w, Instant::now());
            }
        }
    }

    fn target<'a>(&'a self, n: &'a Node) -> Target<'a> {
        Target { resource: &self.types[n.type_id], namespace: n.namespace.as_deref(), name: &n.name }
    }

    /// The object's metadata now, if it is still the object the graph knows (same UID).
    async fn latest(&self, n: &Node) -> Result<Option<ObjectMeta>, Error> {
        let t = self.target(n);
        let read = ops::metadata(&self.client, &t).await.map_err(|source| self.fail_read(n, source))?;
        Ok(read.filter(|m| m.uid.as_deref() == Some(n.uid.as_str())))
    }

    async fn attempt_delete(&mut self, uid: &str) -> Result<(), Error> {
        let Some(node) = self.graph.get(uid).cloned() else { return Ok(()) };
        if node.deleting_dependents() {
            return self.foreground(&node).await;
        }
        if node.deleting || self.owners_all_solid(&node) {
            return Ok(());
        }
        let Some(latest) = self.latest(&node).await? else { return Ok(()) };
        let refs = latest.owner_references.clone().unwrap_or_default();
        if refs.is_empty() {
            return Ok(());
        }
        let mut states = Vec::new();
        for r in &refs {
            states.push((r.uid.clone(), self.owner_state(&node, r).await?));
        }
        let deps = self.graph.dependents(uid);
        let a_dependent_waits = deps.iter().any(|d| d.deleting_dependents());
        let finalizers = latest.finalizers.clone().unwrap_or_default();
        let decision = decide::decide(&states, !deps.is_empty(), a_dependent_waits, &finalizers);
        self.carry_out(&node, &latest, refs, decision).await
    }

    /// Every owner is in the graph, alive and not deleting in the foreground: nothing to do,
    /// and no read needed (most objects, when the collector starts).
    fn owners_all_solid(&self, n: &Node) -> bool {
        n.owners.iter().all(|r| {
            self.graph.get(&r.uid).is_some_and(|o| {
                let elsewhere = self.types[o.type_id].namespaced && o.namespace != n.namespace;
                !elsewhere && !o.deleting_dependents()
            })
        })
    }

    /// Resolves an owner reference: from the graph when it has the UID, else by reading the
    /// owner (an unknown kind is taken as a live owner: never delete on a guess).
    async fn owner_state(&mut self, dependent: &Node, r: &OwnerReference) -> Result<OwnerState, Error> {
        if let Some(owner) = self.graph.get(&r.uid) {
            let elsewhere = self.types[owner.type_id].namespaced && owner.namespace != dependent.namespace;
            return Ok(match (elsewhere, owner.deleting_dependents()) {
                (true, _) => OwnerState::Absent,
                (false, true) => OwnerState::WaitingForDependents,
                (false, false) => OwnerState::Solid,
            });
        }
        if self.absent.contains(&r.uid) {
            return Ok(OwnerState::Absent);
        }
        let Some(t) = resource_discovery::by_kind(&self.types, &r.api_version, &r.kind).cloned() else {
            return Ok(OwnerState::Solid);
        };
        let state = self.read_owner(dependent, r, &t).await?;
        if state == OwnerState::Absent {
            if self.absent.len() >= ABSENT_CACHE {
                self.absent.clear();
            }
            self.absent.insert(r.uid.clone());
        }
        Ok(state)
    }

    async fn read_owner(&self, dependent: &Node, r: &OwnerReference, t: &ResourceType) -> Result<OwnerState, Error> {
        // A namespaced owner must be in the dependent's namespace; a cluster-scoped
        // dependent cannot have one.
        let namespace = match (t.namespaced, dependent.namespace.as_deref()) {
            (true, None) => return Ok(OwnerState::Absent),
            (true, ns) => ns,
            (false, _) => None,
        };
        let target = Target { resource: t, namespace, name: &r.name };
        let read = ops::metadata(&self.client, &target).await.map_err(|source| Error::Read {
            resource: t.group_resource(),
            name: r.name.clone(),
            source,
        })?;
        Ok(match read {
            Some(m) if m.uid.as_deref() == Some(r.uid.as_str()) => owner_state_of(&m),
            _ => OwnerState::Absent,
        })
    }

    async fn carry_out(
        &self,
        n: &Node,
        latest: &ObjectMeta,
        refs: Vec<OwnerReference>,
        d: Decision,
    ) -> Result<(), Error> {
        match d {
            Decision::Keep { drop_refs } if drop_refs.is_empty() => Ok(()),
            Decision::Keep { drop_refs } => self.set_refs(n, latest, decide::without_owners(&refs, &drop_refs)).await,
            Decision::DeleteForeground { unblock } => {
                if unblock {
                    self.set_refs(n, latest, decide::unblocked(&refs)).await?;
                }
                self.delete(n, Propagation::Foreground).await
            }
            Decision::Delete(policy) => self.delete(n, policy).await,
        }
    }

    /// An owner deleting in the foreground: its blocking dependents go first, then its
    /// `foregroundDeletion` finalizer.
    async fn foreground(&mut self, owner: &Node) -> Result<(), Error> {
        match decide::foreground_step(&self.graph.blocking_dependents(&owner.uid)) {
            ForegroundStep::DeleteDependents(uids) => {
                for u in uids {
                    self.queue.push(Work::AttemptDelete(u));
                }
                Ok(())
            }
            ForegroundStep::RemoveFinalizer => self.remove_finalizer(owner, FOREGROUND).await,
        }
    }

    /// Orphan deletion: every dependent loses its reference to the owner, then the owner
    /// loses its `orphan` finalizer (and the server completes its deletion).
    async fn orphan(&mut self, uid: &str) -> Result<(), Error> {
        let Some(owner) = self.graph.get(uid).cloned() else { return Ok(()) };
        let dependents: Vec<Node> = self.graph.dependents(uid).into_iter().cloned().collect();
        for dep in dependents {
            let Some(latest) = self.latest(&dep).await? else { continue };
            let refs = latest.owner_references.clone().unwrap_or_default();
            if refs.iter().any(|r| r.uid == uid) {
                self.set_refs(&dep, &latest, decide::without_owners(&refs, &[uid.to_string()])).await?;
            }
        }
        self.remove_finalizer(&owner, ORPHAN).await
    }

    async fn remove_finalizer(&self, n: &Node, finalizer: &str) -> Result<(), Error> {
        let Some(latest) = self.latest(n).await? else { return Ok(()) };
        let finalizers = latest.finalizers.clone().unwrap_or_default();
        if !finalizers.iter().any(|f| f == finalizer) {
            return Ok(());
        }
        let kept = decide::without_finalizer(&finalizers, finalizer);
        ops::set_finalizers(&self.client, &self.target(n), &latest, kept)
            .await
            .map_err(|source| self.fail_patch(n, source))
    }

    async fn set_refs(&self, n: &Node, latest: &ObjectMeta, refs: Vec<OwnerReference>) -> Result<(), Error> {
        ops::set_owner_references(&self.client, &self.target(n), latest, refs)
            .await
            .map_err(|source| self.fail_patch(n, source))
    }

    async fn delete(&self, n: &Node, policy: Propagation) -> Result<(), Error> {
        tracing::debug!(resource = %self.types[n.type_id].group_resource(), name = %n.name, ?policy, "garbage-collector: deleting");
        ops::delete(&self.client, &self.target(n), &n.uid, policy).await.map_err(|source| Error::Delete {
            resource: self.types[n.type_id].group_resource(),
            name: n.name.clone(),
            source,
        })
    }

    fn fail_read(&self, n: &Node, source: kube::Error) -> Error {
        Error::Read { resource: self.types[n.type_id].group_resource(), name: n.name.clone(), source }
    }

    fn fail_patch(&self, n: &Node, source: kube::Error) -> Error {
        Error::Patch { resource: self.types[n.type_id].group_resource(), name: n.name.clone(), source }
    }
}

/// A live owner's state: waiting for dependents when deleting in the foreground.
fn owner_state_of(m: &ObjectMeta) -> OwnerState {
    let foreground = m.finalizers.iter().flatten().any(|f| f == FOREGROUND);
    if m.deletion_timestamp.is_some() && foreground { OwnerState::WaitingForDependents } else { OwnerState::Solid }
}
