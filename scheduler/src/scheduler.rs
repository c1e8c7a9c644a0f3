//! The scheduling loop: applies watch changes to the cache and queue, takes one pod at a time,
//! runs the framework, then assumes and binds it, or records why not and tries preemption.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use tokio::sync::mpsc;

use crate::Config;
use crate::binder::{BindError, Binder};
use crate::cache::Cache;
use crate::events::{EventRecorder, EventType};
use crate::filter::volume_binding;
use crate::framework::{FitError, Framework};
use crate::pod_info::PodInfo;
use crate::preemption;
use crate::queue::{ClusterEvent, Popped, SchedulingQueue, gated};
use crate::status::{GATED_MESSAGE, Pending, StatusWriter};
use crate::watch::{self, Change, Input};

/// How often parked pods are checked for `MAX_UNSCHEDULABLE` (kube-scheduler's 30s flush).
const FLUSH_INTERVAL: Duration = Duration::from_secs(30);

/// The loop's state. Everything is owned by one task; API calls run in spawned tasks that report
/// back through `tx`.
struct Scheduler {
    config: Config,
    cache: Cache,
    queue: SchedulingQueue,
    framework: Framework,
    binder: Binder,
    status: StatusWriter,
    events: EventRecorder,
    tx: mpsc::Sender<Input>,
    nodes_synced: bool,
    pods_synced: bool,
}

/// Runs the scheduler until its watches end.
pub async fn run(client: Client, config: Config) {
    let (tx, mut rx) = mpsc::channel(8192);
    watch::spawn_all(&client, &tx);
    let mut framework = Framework::default();
    framework.percentage_of_nodes_to_score = config.percentage_of_nodes_to_score;
    let mut scheduler = Scheduler {
        config,
        cache: Cache::default(),
        queue: SchedulingQueue::default(),
        framework,
        binder: Binder::new(client.clone()),
        status: StatusWriter::new(client.clone()),
        events: EventRecorder::new(client),
        tx,
        nodes_synced: false,
        pods_synced: false,
    };
    tracing::info!("scheduler: waiting for the node and pod lists");
    let mut flush = tokio::time::interval(FLUSH_INTERVAL);
    let mut announced = false;
    loop {
        while let Ok(input) = rx.try_recv() {
            scheduler.handle(input);
        }
        let ready = scheduler.nodes_synced && scheduler.pods_synced;
        if ready && !announced {
            tracing::info!("scheduler: caches synced, scheduling");
            announced = true;
        }
        scheduler.queue.flush(Instant::now());
        if ready && let Some(popped) = scheduler.queue.pop() {
            scheduler.schedule(popped);
            tokio::task::yield_now().await;
            continue;
        }
        let backoff = scheduler.queue.next_backoff().map(tokio::time::Instant::from_std);
        let far = tokio::time::Instant::now() + FLUSH_INTERVAL;
        tokio::select! {
            input = rx.recv() => match input {
                Some(input) => scheduler.handle(input),
                None => return,
            },
            _ = tokio::time::sleep_until(backoff.unwrap_or(far)) => {}
            _ = flush.tick() => scheduler.queue.flush_parked(Instant::now()),
        }
    }
}

impl Scheduler {
    fn handle(&mut self, input: Input) {
        let now = Instant::now();
        match input {
            Input::Pod(change) => self.on_pods(change, now),
            Input::Node(change) => self.on_nodes(change, now),
            Input::Namespace(change) => {
                let event = match change {
                    Change::Apply(ns) => self.cache.set_namespace(&ns),
                    Change::Delete(ns) => {
                        self.cache.remove_namespace(ns.metadata.name.as_deref().unwrap_or_default());
                        None
                    }
                    Change::Resync(list) => list.iter().filter_map(|ns| self.cache.set_namespace(ns)).last(),
                };
                self.wake(event, now);
            }
            Input::Claim(change) => {
                let claims = &mut self.cache.volumes_mut().claims;
                apply(claims, change, |c| {
                    format!("{}/{}", c.metadata.namespace.as_deref().unwrap_or_default(), name(&c.metadata))
                });
                self.wake(Some(ClusterEvent::VolumeChanged), now);
            }
            Input::Volume(change) => {
                apply(&mut self.cache.volumes_mut().volumes, change, |v| name(&v.metadata));
                self.wake(Some(ClusterEvent::VolumeChanged), now);
            }
            Input::Class(change) => {
                apply(&mut self.cache.volumes_mut().classes, change, |c| name(&c.metadata));
                self.wake(Some(ClusterEvent::VolumeChanged), now);
            }
            Input::Bound { pod, node, result } => self.on_bound(pod, node, result, now),
        }
    }

    fn wake(&mut self, event: Option<ClusterEvent>, now: Instant) {
        if let Some(event) = event {
            self.queue.on_event(event, now);
        }
    }

    fn on_nodes(&mut self, change: Change<Box<k8s_openapi::api::core::v1::Node>>, now: Instant) {
        match change {
            Change::Apply(node) => {
                let event = self.cache.set_node(*node);
                self.wake(event, now);
            }
            Change::Delete(node) => self.cache.remove_node(&name(&node.metadata)),
            Change::Resync(nodes) => {
                let listed: HashSet<String> = nodes.iter().map(|n| name(&n.metadata)).collect();
                for gone in self.cache.node_names().into_iter().filter(|n| !listed.contains(n)) {
                    self.cache.remove_node(&gone);
                }
                for node in nodes {
                    let event = self.cache.set_node(*node);
                    self.wake(event, now);
                }
                self.nodes_synced = true;
            }
        }
    }

    fn on_pods(&mut self, change: Change<Box<Pod>>, now: Instant) {
        match change {
            Change::Apply(pod) => self.on_pod(*pod, now),
            Change::Delete(pod) => {
                let uid = PodInfo::new(*pod).uid;
                self.forget_pod(&uid, now);
            }
            Change::Resync(pods) => {
                let infos: Vec<PodInfo> = pods.into_iter().map(|p| PodInfo::new(*p)).collect();
                let listed: HashSet<&str> = infos.iter().map(|p| p.uid.as_str()).collect();
                let mut gone: Vec<String> = self.cache.pod_uids();
                gone.extend(self.queue.uids());
                gone.retain(|uid| !listed.contains(uid.as_str()));
                for uid in gone {
                    self.forget_pod(&uid, now);
                }
                for info in infos {
                    self.on_pod_info(Arc::new(info), now);
                }
                self.pods_synced = true;
            }
        }
    }

    fn forget_pod(&mut self, uid: &str, now: Instant) {
        self.queue.delete(uid);
        self.cache.clear_nomination(uid);
        let event = self.cache.remove_pod(uid);
        self.wake(event, now);
    }

    fn on_pod(&mut self, pod: Pod, now: Instant) {
        self.on_pod_info(Arc::new(PodInfo::new(pod)), now);
    }

    fn on_pod_info(&mut self, info: Arc<PodInfo>, now: Instant) {
        if info.node_name().is_some() {
            self.queue.delete(&info.uid);
            self.cache.clear_nomination(&info.uid);
            let event = if terminal(&info.pod) { self.cache.remove_pod(&info.uid) } else { self.cache.set_pod(info) };
            self.wake(event, now);
            return;
        }
        if self.cache.has_pod(&info.uid) {
            // Assumed and binding: this is an update of the pending object (our own status
            // write, say); the bound object will follow.
            return;
        }
        if info.scheduler_name() != self.config.scheduler_name || terminal(&info.pod) || info.terminating() {
            self.queue.delete(&info.uid);
            self.cache.clear_nomination(&info.uid);
            return;
        }
        match info.nominated_node() {
            Some(node) => {
                let node = node.to_string();
                self.cache.nominate(&info, Some(&node));
            }
            None => self.cache.clear_nomination(&info.uid),
        }
        if gated(&info) {
            let pending = Pending { reason: "SchedulingGated", message: GATED_MESSAGE.into(), nominated: None };
            self.status.pending(&info, pending);
        }
        self.queue.add(info, now);
    }

    fn schedule(&mut self, popped: Popped) {
        let pod = popped.info;
        let now = Instant::now();
        match self.framework.schedule_one(&pod, self.cache.snapshot()) {
            Ok(result) => {
                let claims = volume_binding::unbound_claims(&pod, self.cache.snapshot().volumes());
                self.cache.assume(pod.clone(), &result.node);
                self.queue.binding(&pod.uid);
                self.binder.spawn(pod, result.node, claims, self.tx.clone());
            }
            Err(fit) => self.unschedulable(pod, fit, now),
        }
    }

    fn unschedulable(&mut self, pod: Arc<PodInfo>, mut fit: FitError, now: Instant) {
        let mut nominated = None;
        if fit.num_all_nodes > 0 {
            match preemption::preempt(&self.framework, &pod, self.cache.snapshot(), &fit) {
                Ok(candidate) => {
                    self.evict(&pod, &candidate);
                    nominated = Some(candidate.node);
                }
                Err(message) => {
                    fit.post_filter_msg = Some(message);
                    // A nomination preemption can no longer back is dropped, as kube-scheduler does.
                    if pod.nominated_node().is_some() {
                        self.cache.clear_nomination(&pod.uid);
                        self.status.clear_nomination(&pod);
                    }
                }
            }
        }
        let message = fit.to_string();
        tracing::debug!(pod = %format!("{}/{}", pod.namespace, pod.name), %message, "scheduler: unschedulable");
        self.events.record(&pod, EventType::Warning, "FailedScheduling", "Scheduling", message.clone());
        self.status.pending(&pod, Pending { reason: "Unschedulable", message, nominated });
        self.queue.unschedulable(&pod.uid, fit.plugins, now);
    }

    /// Deletes the victims, takes the node back from lower-priority nominees, nominates the pod.
    fn evict(&mut self, pod: &Arc<PodInfo>, candidate: &preemption::Candidate) {
        let node = &candidate.node;
        for victim in &candidate.victims {
            let message = format!("Preempted by pod {} on node {node}", pod.uid);
            self.events.record(victim, EventType::Normal, "Preempted", "Preempting", message);
            self.status.preempt(victim);
        }
        let displaced: Vec<Arc<PodInfo>> =
            self.cache.snapshot().nominated(node).iter().filter(|p| p.priority < pod.priority).cloned().collect();
        for other in displaced {
            self.cache.clear_nomination(&other.uid);
            self.status.clear_nomination(&other);
        }
        self.cache.nominate(pod, Some(node));
    }

    fn on_bound(&mut self, pod: Arc<PodInfo>, node: String, result: Result<(), BindError>, now: Instant) {
        match result {
            Ok(()) => {
                self.queue.delete(&pod.uid);
                self.cache.clear_nomination(&pod.uid);
                let message = format!("Successfully assigned {}/{} to {node}", pod.namespace, pod.name);
                self.events.record(&pod, EventType::Normal, "Scheduled", "Binding", message);
            }
            Err(error) => {
                self.cache.forget(&pod.uid);
                self.wake(Some(ClusterEvent::AssignedPodDeleted), now);
                if error.is_final() {
                    self.queue.delete(&pod.uid);
                    return;
                }
                let plugin = match error {
                    BindError::Bind { .. } => "running Bind plugin \"DefaultBinder\"",
                    _ => "running PreBind plugin \"VolumeBinding\"",
                };
                let message = format!("{plugin}: {error}");
                tracing::warn!(pod = %format!("{}/{}", pod.namespace, pod.name), %message, "scheduler: bind failed");
                self.events.record(&pod, EventType::Warning, "FailedScheduling", "Scheduling", message.clone());
                self.status.pending(&pod, Pending { reason: "SchedulerError", message, nominated: None });
                self.queue.error(&pod.uid, now);
            }
        }
    }
}

/// Succeeded and Failed pods hold no resources.
fn terminal(pod: &Pod) -> bool {
    matches!(pod.status.as_ref().and_then(|s| s.phase.as_deref()), Some("Succeeded" | "Failed"))
}

fn name(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> String {
    meta.name.clone().unwrap_or_default()
}

/// Applies a change to a map keyed by `key`.
fn apply<K>(map: &mut std::collections::HashMap<String, K>, change: Change<Box<K>>, key: impl Fn(&K) -> String) {
    match change {
        Change::Apply(object) => {
            map.insert(key(&object), *object);
        }
        Change::Delete(object) => {
            map.remove(&key(&object));
        }
        Change::Resync(objects) => {
            map.clear();
            for object in objects {
                map.insert(key(&object), *object);
            }
        }
    }
}
