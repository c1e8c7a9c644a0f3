//! The scheduling queue: pods waiting to be tried (highest priority first, then oldest), pods
//! backing off after a failure, and unschedulable pods parked until a cluster event may help them.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::framework::{Plugin, PluginSet};
use crate::node_info::NodeInfo;
use crate::pod_info::PodInfo;

/// The first retry waits this long (kube-scheduler's podInitialBackoffSeconds).
pub const INITIAL_BACKOFF: Duration = Duration::from_secs(1);
/// Retries wait at most this long (kube-scheduler's podMaxBackoffSeconds).
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// An unschedulable pod is retried after this long even without an event that may help it
/// (kube-scheduler's podMaxInUnschedulablePodsDuration).
pub const MAX_UNSCHEDULABLE: Duration = Duration::from_secs(300);

/// What changed on a node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NodeDelta {
    /// status.allocatable changed.
    pub allocatable: bool,
    /// metadata.labels changed.
    pub labels: bool,
    /// spec.taints (or the Ready condition) changed.
    pub taints: bool,
    /// spec.unschedulable changed.
    pub unschedulable: bool,
}

impl NodeDelta {
    /// The difference between two versions of a node.
    pub fn between(before: &NodeInfo, after: &NodeInfo) -> NodeDelta {
        NodeDelta {
            allocatable: before.allocatable != after.allocatable,
            labels: before.labels() != after.labels(),
            taints: before.taints != after.taints,
            unschedulable: before.unschedulable != after.unschedulable,
        }
    }

    /// True when nothing the scheduler looks at changed (a heartbeat).
    pub fn is_empty(&self) -> bool {
        *self == NodeDelta::default()
    }
}

/// A change in the cluster that may make unschedulable pods schedulable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClusterEvent {
    /// A node appeared.
    NodeAdded,
    /// A node changed in a way the scheduler looks at.
    NodeUpdated(NodeDelta),
    /// A pod was bound (or assumed) to a node.
    AssignedPodAdded,
    /// A bound pod's labels or requests changed.
    AssignedPodUpdated,
    /// A bound pod went away (deleted, finished, or a failed bind forgotten).
    AssignedPodDeleted,
    /// A namespace's labels changed.
    NamespaceChanged,
    /// A PersistentVolumeClaim, PersistentVolume or StorageClass changed.
    VolumeChanged,
}

impl ClusterEvent {
    /// The plugins whose rejection this event may undo (kube-scheduler's queueing hints, coarse).
    pub fn may_help(self) -> PluginSet {
        use Plugin::*;
        match self {
            ClusterEvent::NodeAdded => PluginSet::ALL,
            ClusterEvent::NodeUpdated(d) => {
                let mut set = PluginSet::default();
                if d.allocatable {
                    set.insert(NodeResourcesFit);
                }
                if d.labels {
                    set.extend([NodeAffinity, PodTopologySpread, InterPodAffinity, VolumeBinding]);
                }
                if d.taints {
                    set.extend([TaintToleration, PodTopologySpread]);
                }
                if d.unschedulable {
                    set.insert(NodeUnschedulable);
                }
                set
            }
            ClusterEvent::AssignedPodAdded => PluginSet::of(&[InterPodAffinity, PodTopologySpread]),
            ClusterEvent::AssignedPodUpdated => PluginSet::of(&[InterPodAffinity, PodTopologySpread, NodeResourcesFit]),
            ClusterEvent::AssignedPodDeleted => {
                PluginSet::of(&[NodeResourcesFit, NodePorts, InterPodAffinity, PodTopologySpread, DefaultPreemption])
            }
            ClusterEvent::NamespaceChanged => PluginSet::of(&[InterPodAffinity]),
            ClusterEvent::VolumeChanged => PluginSet::of(&[VolumeBinding]),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    Active,
    Backoff,
    Unschedulable,
    Gated,
    InFlight { cycle: u64 },
    Binding,
}

#[derive(Debug)]
struct Queued {
    info: Arc<PodInfo>,
    place: Place,
    attempts: u32,
    seq: u64,
    plugins: PluginSet,
    last_failure: Option<Instant>,
    backoff_until: Option<Instant>,
}

#[derive(Debug, PartialEq, Eq)]
struct ActiveEntry {
    priority: i32,
    seq: u64,
    uid: String,
}

impl Ord for ActiveEntry {
    fn cmp(&self, other: &Self) -> Ordering {
        // PrioritySort: higher priority first, then the one queued first.
        self.priority.cmp(&other.priority).then_with(|| other.seq.cmp(&self.seq))
    }
}

impl PartialOrd for ActiveEntry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A pod taken from the queue for one scheduling cycle.
#[derive(Clone, Debug)]
pub struct Popped {
    /// The pod.
    pub info: Arc<PodInfo>,
    /// How many times it has been tried, this one included.
    pub attempts: u32,
}

/// Pending pods, keyed by uid. Each pod is in exactly one place at a time.
#[derive(Debug, Default)]
pub struct SchedulingQueue {
    pods: HashMap<String, Queued>,
    active: BinaryHeap<ActiveEntry>,
    backoff: BinaryHeap<Reverse<(Instant, u64, String)>>,
    parked: HashSet<String>,
    seq: u64,
    cycle: u64,
    move_request_cycle: Option<u64>,
}

impl SchedulingQueue {
    /// Adds a pending pod, or updates it if queued.
    pub fn add(&mut self, info: Arc<PodInfo>, now: Instant) {
        if self.pods.contains_key(&info.uid) {
            self.update(info, now);
            return;
        }
        let place = if is_gated(&info) { Place::Gated } else { Place::Active };
        let uid = info.uid.clone();
        self.seq += 1;
        let queued = Queued {
            info,
            place,
            attempts: 0,
            seq: self.seq,
            plugins: PluginSet::default(),
            last_failure: None,
            backoff_until: None,
        };
        self.pods.insert(uid.clone(), queued);
        if place == Place::Active {
            self.push_active(&uid);
        }
    }

    /// Replaces a queued pod's object. An unschedulable or gated pod whose spec or labels
    /// changed is tried again.
    pub fn update(&mut self, info: Arc<PodInfo>, now: Instant) {
        let Some(queued) = self.pods.get_mut(&info.uid) else {
            self.add(info, now);
            return;
        };
        let changed =
            queued.info.pod.spec != info.pod.spec || queued.info.pod.metadata.labels != info.pod.metadata.labels;
        let uid = info.uid.clone();
        let gated = is_gated(&info);
        queued.info = info;
        match queued.place {
            Place::Unschedulable | Place::Backoff if changed => self.activate(&uid, now),
            Place::Gated if !gated => self.activate(&uid, now),
            Place::InFlight { .. } if changed => self.move_request_cycle = Some(self.cycle),
            _ => {}
        }
    }

    /// Forgets a pod (deleted, or bound by someone).
    pub fn delete(&mut self, uid: &str) {
        self.pods.remove(uid);
        self.parked.remove(uid);
    }

    /// The queued pod with this uid.
    pub fn get(&self, uid: &str) -> Option<&Arc<PodInfo>> {
        self.pods.get(uid).map(|q| &q.info)
    }

    /// True when the pod is queued anywhere (waiting, in flight or binding).
    pub fn contains(&self, uid: &str) -> bool {
        self.pods.contains_key(uid)
    }

    /// Uids of every queued pod.
    pub fn uids(&self) -> Vec<String> {
        self.pods.keys().cloned().collect()
    }

    /// Takes the next pod to try: highest priority, then oldest.
    pub fn pop(&mut self) -> Option<Popped> {
        while let Some(entry) = self.active.pop() {
            let Some(queued) = self.pods.get_mut(&entry.uid) else {
                continue;
            };
            if queued.place != Place::Active || queued.seq != entry.seq {
                continue;
            }
            self.cycle += 1;
            queued.place = Place::InFlight { cycle: self.cycle };
            queued.attempts += 1;
            return Some(Popped { info: queued.info.clone(), attempts: queued.attempts });
        }
        None
    }

    /// Marks a popped pod as assumed and binding.
    pub fn binding(&mut self, uid: &str) {
        if let Some(queued) = self.pods.get_mut(uid) {
            queued.place = Place::Binding;
        }
    }

    /// Parks a popped pod that did not fit, remembering which plugins rejected it. If a cluster
    /// event arrived while it was being tried, it backs off instead, so the event is not missed.
    pub fn unschedulable(&mut self, uid: &str, plugins: PluginSet, now: Instant) {
        let moved = self.move_request_cycle;
        let Some(queued) = self.pods.get_mut(uid) else {
            return;
        };
        let cycle = match queued.place {
            Place::InFlight { cycle } => cycle,
            _ => 0,
        };
        queued.plugins = plugins;
        queued.last_failure = Some(now);
        queued.backoff_until = Some(now + backoff_duration(queued.attempts));
        if moved.is_some_and(|m| m >= cycle) {
            self.back_off(uid, now);
        } else {
            queued.place = Place::Unschedulable;
            self.parked.insert(uid.to_string());
        }
    }

    /// Sends a pod whose cycle or bind failed with an error to back off before the next try.
    pub fn error(&mut self, uid: &str, now: Instant) {
        if let Some(queued) = self.pods.get_mut(uid) {
            queued.last_failure = Some(now);
            queued.plugins = PluginSet::default();
            self.back_off(uid, now);
        }
    }

    /// Moves the unschedulable pods the event may help to the active queue (or to back off if
    /// their backoff has not expired).
    pub fn on_event(&mut self, event: ClusterEvent, now: Instant) {
        let helps = event.may_help();
        self.move_request_cycle = Some(self.cycle);
        let woken: Vec<String> = self
            .parked
            .iter()
            .filter(|uid| self.pods.get(*uid).is_some_and(|q| q.plugins.is_empty() || q.plugins.intersects(helps)))
            .cloned()
            .collect();
        for uid in woken {
            self.activate(&uid, now);
        }
    }

    /// Moves pods whose backoff expired to the active queue.
    pub fn flush(&mut self, now: Instant) {
        while let Some(Reverse((at, seq, uid))) = self.backoff.peek().cloned() {
            if at > now {
                break;
            }
            self.backoff.pop();
            let current = self.pods.get(&uid).map(|q| (q.place, q.seq));
            if current == Some((Place::Backoff, seq)) {
                self.push_active(&uid);
            }
        }
    }

    /// Retries pods parked as unschedulable for longer than `MAX_UNSCHEDULABLE` (run every 30s).
    pub fn flush_parked(&mut self, now: Instant) {
        let stale: Vec<String> = self
            .parked
            .iter()
            .filter(|uid| {
                self.pods
                    .get(*uid)
                    .is_some_and(|q| q.last_failure.is_none_or(|t| now.duration_since(t) >= MAX_UNSCHEDULABLE))
            })
            .cloned()
            .collect();
        for uid in stale {
            self.activate(&uid, now);
        }
    }

    /// When the earliest backoff ends.
    pub fn next_backoff(&self) -> Option<Instant> {
        self.backoff.peek().map(|Reverse((at, _, _))| *at)
    }

    /// How many pods wait as unschedulable.
    pub fn unschedulable_len(&self) -> usize {
        self.parked.len()
    }

    fn activate(&mut self, uid: &str, now: Instant) {
        let Some(queued) = self.pods.get(uid) else {
            return;
        };
        match queued.backoff_until {
            Some(until) if until > now => self.back_off_until(uid, until),
            _ => self.push_active(uid),
        }
    }

    fn back_off(&mut self, uid: &str, now: Instant) {
        let Some(queued) = self.pods.get(uid) else {
            return;
        };
        let until = now + backoff_duration(queued.attempts);
        self.back_off_until(uid, until);
    }

    fn back_off_until(&mut self, uid: &str, until: Instant) {
        self.seq += 1;
        let seq = self.seq;
        self.parked.remove(uid);
        if let Some(queued) = self.pods.get_mut(uid) {
            queued.place = Place::Backoff;
            queued.seq = seq;
            queued.backoff_until = Some(until);
            self.backoff.push(Reverse((until, seq, uid.to_string())));
        }
    }

    fn push_active(&mut self, uid: &str) {
        self.seq += 1;
        let seq = self.seq;
        self.parked.remove(uid);
        if let Some(queued) = self.pods.get_mut(uid) {
            queued.place = Place::Active;
            queued.seq = seq;
            let priority = queued.info.priority;
            self.active.push(ActiveEntry { priority, seq, uid: uid.to_string() });
        }
    }
}

/// 1s after the first failure, doubling per attempt, at most 10s.
fn backoff_duration(attempts: u32) -> Duration {
    let doublings = attempts.saturating_sub(1).min(16);
    INITIAL_BACKOFF.saturating_mul(1 << doublings).min(MAX_BACKOFF)
}

/// Pods with spec.schedulingGates are not tried until the gates are removed.
fn is_gated(info: &PodInfo) -> bool {
    info.pod.spec.as_ref().and_then(|s| s.scheduling_gates.as_ref()).is_some_and(|g| !g.is_empty())
}

/// True when the pod waits on scheduling gates.
pub fn gated(info: &PodInfo) -> bool {
    is_gated(info)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::pod;
    use k8s_openapi::api::core::v1::PodSchedulingGate;

    fn info(name: &str, priority: i32) -> Arc<PodInfo> {
        Arc::new(PodInfo::new(pod(name).priority(priority).build()))
    }

    fn popped(queue: &mut SchedulingQueue) -> Option<String> {
        queue.pop().map(|p| p.info.name.clone())
    }

    #[test]
    fn higher_priority_pods_are_popped_first_then_the_oldest() {
        let mut q = SchedulingQueue::default();
        let now = Instant::now();
        q.add(info("old-low", 0), now);
        q.add(info("high", 100), now);
        q.add(info("new-low", 0), now);
        assert_eq!(popped(&mut q).as_deref(), Some("high"));
        assert_eq!(popped(&mut q).as_deref(), Some("old-low"));
        assert_eq!(popped(&mut q).as_deref(), Some("new-low"));
        assert_eq!(popped(&mut q), None);
    }

    #[test]
    fn an_unschedulable_pod_waits_for_an_event_that_may_help_it() {
        let mut q = SchedulingQueue::default();
        let now = Instant::now();
        q.add(info("big", 0), now);
        q.pop();
        q.unschedulable("uid-big", PluginSet::of(&[Plugin::NodeResourcesFit]), now);
        assert_eq!(q.unschedulable_len(), 1);
        let taints = NodeDelta { taints: true, ..NodeDelta::default() };
        q.on_event(ClusterEvent::NodeUpdated(taints), now);
        assert_eq!(q.unschedulable_len(), 1, "a taint change does not free cpu");
        q.on_event(ClusterEvent::AssignedPodDeleted, now + MAX_BACKOFF);
        q.flush(now + MAX_BACKOFF);
        assert_eq!(popped(&mut q).as_deref(), Some("big"));
    }

    #[test]
    fn a_pod_woken_during_its_backoff_waits_for_the_backoff_to_end() {
        let mut q = SchedulingQueue::default();
        let now = Instant::now();
        q.add(info("p", 0), now);
        q.pop();
        q.unschedulable("uid-p", PluginSet::default(), now);
        q.on_event(ClusterEvent::NodeAdded, now);
        q.flush(now);
        assert_eq!(popped(&mut q), None);
        assert_eq!(q.next_backoff(), Some(now + INITIAL_BACKOFF));
        q.flush(now + INITIAL_BACKOFF);
        assert_eq!(popped(&mut q).as_deref(), Some("p"));
    }

    #[test]
    fn an_event_during_the_attempt_sends_the_pod_to_back_off_instead_of_parking() {
        let mut q = SchedulingQueue::default();
        let now = Instant::now();
        q.add(info("p", 0), now);
        q.pop();
        q.on_event(ClusterEvent::NodeAdded, now);
        q.unschedulable("uid-p", PluginSet::of(&[Plugin::NodeAffinity]), now);
        assert_eq!(q.unschedulable_len(), 0);
        q.flush(now + INITIAL_BACKOFF);
        assert_eq!(popped(&mut q).as_deref(), Some("p"));
    }

    #[test]
    fn backoff_doubles_up_to_ten_seconds() {
        assert_eq!(backoff_duration(1), Duration::from_secs(1));
        assert_eq!(backoff_duration(2), Duration::from_secs(2));
        assert_eq!(backoff_duration(4), Duration::from_secs(8));
        assert_eq!(backoff_duration(5), Duration::from_secs(10));
        assert_eq!(backoff_duration(50), Duration::from_secs(10));
    }

    #[test]
    fn parked_pods_are_retried_after_five_minutes_without_events() {
        let mut q = SchedulingQueue::default();
        let now = Instant::now();
        q.add(info("p", 0), now);
        q.pop();
        q.unschedulable("uid-p", PluginSet::of(&[Plugin::NodeAffinity]), now);
        q.flush_parked(now + Duration::from_secs(299));
        assert_eq!(popped(&mut q), None);
        q.flush_parked(now + MAX_UNSCHEDULABLE);
        assert_eq!(popped(&mut q).as_deref(), Some("p"));
    }

    #[test]
    fn gated_pods_wait_until_their_gates_are_removed() {
        let mut q = SchedulingQueue::default();
        let now = Instant::now();
        let mut gated_pod = pod("g").build();
        if let Some(spec) = gated_pod.spec.as_mut() {
            spec.scheduling_gates = Some(vec![PodSchedulingGate { name: "example.com/wait".into() }]);
        }
        q.add(Arc::new(PodInfo::new(gated_pod)), now);
        assert_eq!(popped(&mut q), None);
        q.update(Arc::new(PodInfo::new(pod("g").build())), now);
        assert_eq!(popped(&mut q).as_deref(), Some("g"));
    }

    #[test]
    fn editing_an_unschedulable_pod_tries_it_again() {
        let mut q = SchedulingQueue::default();
        let now = Instant::now();
        q.add(Arc::new(PodInfo::new(pod("p").node_selector("disk", "ssd").build())), now);
        q.pop();
        q.unschedulable("uid-p", PluginSet::of(&[Plugin::NodeAffinity]), now);
        q.update(Arc::new(PodInfo::new(pod("p").build())), now + MAX_BACKOFF);
        assert_eq!(popped(&mut q).as_deref(), Some("p"));
    }
}
