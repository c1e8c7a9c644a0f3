//! The pure half of a pod sync (the kubelet's computePodActions): from the desired pod and what
//! the runtime holds, the actions to take now and when to look again. No I/O here.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Container as ContainerSpec, Pod};

use crate::backoff::BackOff;
use crate::runtime_pod::{Container, RuntimePod};

/// Whether a container is one of the pod's init containers or its app containers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Init,
    App,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Init => "init",
            Kind::App => "app",
        }
    }
}

/// Why a container is being stopped (worded as the kubelet's Killing events).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KillReason {
    PodDeleted,
    PodTerminal,
    SandboxChanged,
    FailedLiveness,
    FailedStartup,
}

impl KillReason {
    pub fn message(&self, name: &str) -> String {
        match self {
            KillReason::FailedLiveness => {
                format!("Container {name} failed liveness probe, will be restarted")
            }
            KillReason::FailedStartup => {
                format!("Container {name} failed startup probe, will be restarted")
            }
            _ => format!("Stopping container {name}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    CreateSandbox {
        attempt: u32,
    },
    StartContainer {
        name: String,
        kind: Kind,
        attempt: u32,
        restart: bool,
    },
    KillContainer {
        id: String,
        name: String,
        grace_seconds: i64,
        reason: KillReason,
    },
    RemoveContainer {
        id: String,
    },
    StopSandbox {
        id: String,
    },
    RemoveSandbox {
        id: String,
    },
    /// Everything is gone from the runtime: remove the pod's files and logs and, if the API
    /// object is still there, delete it with grace 0.
    FinishTermination,
}

/// Why a container waits, for its status (`CrashLoopBackOff`, `ImagePullBackOff`, ...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waiting {
    pub reason: String,
    pub message: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    pub actions: Vec<Action>,
    pub waiting: BTreeMap<String, Waiting>,
    /// When a back-off ends: sync again then even if nothing changes.
    pub requeue: Option<Duration>,
}

impl Plan {
    fn wait_for(&mut self, d: Duration) {
        self.requeue = Some(self.requeue.map_or(d, |r| r.min(d)));
    }
}

/// Everything the plan looks at. `pod` is None when the API object is gone.
pub struct Inputs<'a> {
    pub pod: Option<&'a Pod>,
    pub runtime: &'a RuntimePod,
    pub backoff: &'a BackOff,
    /// Image pulls that failed: container name -> (retry at, ns; what to wait with meanwhile:
    /// ImagePullBackOff, or ErrImageNeverPull).
    pub pull_failures: &'a HashMap<String, (i64, Waiting)>,
    /// Running containers a liveness or startup probe condemned, by container ID.
    pub unhealthy: &'a HashMap<String, KillReason>,
    pub now_ns: i64,
}

/// Kubernetes' default terminationGracePeriodSeconds.
pub const DEFAULT_GRACE_SECONDS: i64 = 30;

pub fn grace_seconds(pod: &Pod) -> i64 {
    pod.metadata
        .deletion_grace_period_seconds
        .or_else(|| pod.spec.as_ref().and_then(|s| s.termination_grace_period_seconds))
        .unwrap_or(DEFAULT_GRACE_SECONDS)
}

fn restart_policy(pod: &Pod) -> &str {
    pod.spec.as_ref().and_then(|s| s.restart_policy.as_deref()).unwrap_or("Always")
}

fn init_specs(pod: &Pod) -> &[ContainerSpec] {
    pod.spec.as_ref().and_then(|s| s.init_containers.as_deref()).unwrap_or(&[])
}

fn app_specs(pod: &Pod) -> &[ContainerSpec] {
    pod.spec.as_ref().map(|s| s.containers.as_slice()).unwrap_or(&[])
}

fn is_sidecar(c: &ContainerSpec) -> bool {
    c.restart_policy.as_deref() == Some("Always")
}

/// The next attempt number of a container name (every restart needs a new one in CRI).
fn next_attempt(runtime: &RuntimePod, name: &str) -> u32 {
    runtime.latest(name).map_or(0, |c| c.attempt + 1)
}

/// The plan for one sync of one pod.
pub fn plan(inputs: &Inputs) -> Plan {
    let Some(pod) = inputs.pod else {
        return plan_termination(inputs.runtime, 0, false);
    };
    if pod.metadata.deletion_timestamp.is_some() {
        return plan_termination(inputs.runtime, grace_seconds(pod), true);
    }
    if crate::status::is_terminal(pod, inputs.runtime) || crate::status::deadline_exceeded(pod, inputs.now_ns) {
        return plan_terminal(inputs.runtime, grace_seconds(pod));
    }
    let mut plan = Plan::default();
    let sandbox = inputs.runtime.sandbox();
    let current = match sandbox {
        Some(s) if s.ready => Some(s.id.as_str()),
        Some(s) => {
            if restart_policy(pod) == "Never" && !inputs.runtime.containers.is_empty() {
                return plan; // a Never pod whose sandbox died is not started again
            }
            kill_all(&mut plan, inputs.runtime, 0, KillReason::SandboxChanged);
            plan.actions.push(Action::CreateSandbox { attempt: s.attempt + 1 });
            None
        }
        None => {
            plan.actions.push(Action::CreateSandbox { attempt: 0 });
            None
        }
    };
    let ctx = Ctx { inputs, pod, sandbox: current };
    if ctx.plan_init(&mut plan) {
        ctx.plan_apps(&mut plan);
    }
    if let Some(id) = current {
        remove_old(&mut plan, inputs.runtime, id);
    }
    if let Some(left) = deadline_left(pod, inputs.now_ns) {
        plan.wait_for(left);
    }
    plan
}

/// Time until spec.activeDeadlineSeconds runs out (a sync is due then).
fn deadline_left(pod: &Pod, now_ns: i64) -> Option<Duration> {
    let deadline = pod.spec.as_ref()?.active_deadline_seconds?;
    let start = pod.status.as_ref()?.start_time.as_ref()?.0.as_nanosecond() as i64;
    let end = start.saturating_add(deadline.saturating_mul(1_000_000_000));
    (end > now_ns).then(|| Duration::from_nanos((end - now_ns) as u64))
}

/// The containers in the current sandbox (none if a new sandbox is about to be made).
struct Ctx<'a> {
    inputs: &'a Inputs<'a>,
    pod: &'a Pod,
    sandbox: Option<&'a str>,
}

impl Ctx<'_> {
    fn latest(&self, name: &str) -> Option<&Container> {
        let sandbox = self.sandbox?;
        self.inputs.runtime.attempts(name).into_iter().find(|c| c.sandbox_id == sandbox)
    }

    /// Runs init containers in order; true when all are done and app containers may start.
    fn plan_init(&self, plan: &mut Plan) -> bool {
        for spec in init_specs(self.pod) {
            let sidecar = is_sidecar(spec);
            match self.latest(&spec.name) {
                None => {
                    self.start(plan, spec, Kind::Init, false);
                    return false;
                }
                Some(c) if c.running() => {
                    self.check_health(plan, c);
                    if !sidecar {
                        return false;
                    }
                }
                Some(c) if c.succeeded() && !sidecar => {}
                Some(c) => {
                    let may_restart = sidecar || restart_policy(self.pod) != "Never";
                    if may_restart {
                        self.restart(plan, spec, Kind::Init, c);
                    }
                    if !sidecar {
                        return false;
                    }
                }
            }
        }
        true
    }

    fn plan_apps(&self, plan: &mut Plan) {
        for spec in app_specs(self.pod) {
            match self.latest(&spec.name) {
                None => self.start(plan, spec, Kind::App, false),
                Some(c) if c.running() => self.check_health(plan, c),
                Some(c) => {
                    if should_restart(restart_policy(self.pod), c) {
                        self.restart(plan, spec, Kind::App, c);
                    }
                }
            }
        }
    }

    fn check_health(&self, plan: &mut Plan, c: &Container) {
        if let Some(reason) = self.inputs.unhealthy.get(&c.id) {
            plan.actions.push(Action::KillContainer {
                id: c.id.clone(),
                name: c.name.clone(),
                grace_seconds: grace_seconds(self.pod),
                reason: reason.clone(),
            });
        }
    }

    /// Starts a container unless its image pull is backing off.
    fn start(&self, plan: &mut Plan, spec: &ContainerSpec, kind: Kind, restart: bool) {
        if let Some((retry_at, waiting)) = self.inputs.pull_failures.get(&spec.name)
            && *retry_at > self.inputs.now_ns
        {
            plan.waiting.insert(spec.name.clone(), waiting.clone());
            plan.wait_for(Duration::from_nanos((*retry_at - self.inputs.now_ns) as u64));
            return;
        }
        let attempt = next_attempt(self.inputs.runtime, &spec.name);
        plan.actions.push(Action::StartContainer { name: spec.name.clone(), kind, attempt, restart });
    }

    /// Restarts an exited container, or waits out its back-off (CrashLoopBackOff).
    fn restart(&self, plan: &mut Plan, spec: &ContainerSpec, kind: Kind, c: &Container) {
        let key = self.backoff_key(&spec.name);
        match self.inputs.backoff.remaining(&key, c.finished_at, self.inputs.now_ns) {
            Some(left) => {
                let delay = self.inputs.backoff.delay(&key).unwrap_or_default();
                let pod = self.pod.metadata.name.as_deref().unwrap_or_default();
                let ns = self.pod.metadata.namespace.as_deref().unwrap_or_default();
                let uid = self.pod.metadata.uid.as_deref().unwrap_or_default();
                let message = format!(
                    "back-off {} restarting failed container={} pod={pod}_{ns}({uid})",
                    crate::backoff::go_duration(delay),
                    spec.name
                );
                plan.waiting.insert(spec.name.clone(), Waiting { reason: "CrashLoopBackOff".into(), message });
                plan.wait_for(left);
            }
            None => self.start(plan, spec, kind, true),
        }
    }

    fn backoff_key(&self, name: &str) -> String {
        crate::backoff::key(self.pod.metadata.uid.as_deref().unwrap_or_default(), name)
    }
}

/// restartPolicy for an exited container: Always restarts, OnFailure only on a non-zero exit.
pub fn should_restart(policy: &str, c: &Container) -> bool {
    match policy {
        "Never" => false,
        "OnFailure" => !c.succeeded(),
        _ => true,
    }
}

fn kill_all(plan: &mut Plan, runtime: &RuntimePod, grace: i64, reason: KillReason) {
    for c in runtime.containers.iter().filter(|c| c.running()) {
        plan.actions.push(Action::KillContainer {
            id: c.id.clone(),
            name: c.name.clone(),
            grace_seconds: grace,
            reason: reason.clone(),
        });
    }
}

/// Keeps the two newest attempts of each container (the current one and the one `logs
/// --previous` and lastState show); removes older ones and dead sandboxes but the current.
fn remove_old(plan: &mut Plan, runtime: &RuntimePod, current: &str) {
    let mut names: Vec<&str> = runtime.containers.iter().map(|c| c.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        for old in runtime.attempts(name).into_iter().skip(2).filter(|c| c.exited()) {
            plan.actions.push(Action::RemoveContainer { id: old.id.clone() });
        }
    }
    for s in runtime.sandboxes.iter().filter(|s| s.id != current && !s.ready) {
        let holds_live = runtime.containers.iter().any(|c| c.sandbox_id == s.id && c.running());
        if !holds_live {
            plan.actions.push(Action::RemoveSandbox { id: s.id.clone() });
        }
    }
}

/// A pod that finished (Succeeded/Failed): nothing runs any more and its sandbox is stopped
/// (freeing its IP); containers stay for their logs until the pod is deleted.
fn plan_terminal(runtime: &RuntimePod, grace: i64) -> Plan {
    let mut plan = Plan::default();
    kill_all(&mut plan, runtime, grace, KillReason::PodTerminal);
    for s in runtime.sandboxes.iter().filter(|s| s.ready) {
        plan.actions.push(Action::StopSandbox { id: s.id.clone() });
    }
    plan
}

/// Deletion: kill every container with the grace period (preStop runs inside the kill), stop
/// and remove the sandboxes, then finish (files, logs, the API object).
fn plan_termination(runtime: &RuntimePod, grace: i64, _api_object_exists: bool) -> Plan {
    let mut plan = Plan::default();
    kill_all(&mut plan, runtime, grace, KillReason::PodDeleted);
    for s in &runtime.sandboxes {
        if s.ready {
            plan.actions.push(Action::StopSandbox { id: s.id.clone() });
        }
        plan.actions.push(Action::RemoveSandbox { id: s.id.clone() });
    }
    plan.actions.push(Action::FinishTermination);
    plan
}

#[cfg(test)]
#[path = "pod_actions_tests.rs"]
mod tests;
