//! The pod's status from what the runtime holds (the kubelet's generateAPIPodStatus): phase,
//! conditions, IPs and containerStatuses with Kubernetes' reasons. Pure; written elsewhere.

use std::collections::{BTreeMap, HashMap};

use k8s_openapi::api::core::v1::{
    Container as ContainerSpec, ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting,
    ContainerStatus, HostIP, Pod, PodCondition, PodIP, PodStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::pod_actions::Waiting;
use crate::runtime_pod::{Container, RunState, RuntimePod};

/// What the sync knows beyond the runtime: waiting reasons and probe results.
#[derive(Default)]
pub struct Extra<'a> {
    pub waiting: BTreeMap<String, Waiting>,
    /// Readiness by container ID (absent: no readiness probe result yet).
    pub ready: Option<&'a HashMap<String, bool>>,
    /// Containers whose startup probe has passed, by ID.
    pub started: Option<&'a HashMap<String, bool>>,
    pub host_ip: String,
    pub now: Option<Time>,
}

fn time_ns(ns: i64) -> Option<Time> {
    (ns > 0).then(|| Time(jiff::Timestamp::from_nanosecond(ns as i128).unwrap_or_default()))
}

fn terminated(c: &Container) -> ContainerState {
    let reason = match (c.reason.as_str(), c.exit_code) {
        ("", 0) => "Completed".to_string(),
        ("", _) => "Error".to_string(),
        (r, _) => r.to_string(),
    };
    ContainerState {
        terminated: Some(ContainerStateTerminated {
            exit_code: c.exit_code,
            reason: Some(reason),
            message: (!c.message.is_empty()).then(|| c.message.clone()),
            started_at: time_ns(c.started_at),
            finished_at: time_ns(c.finished_at),
            container_id: Some(format!("containerd://{}", c.id)),
            signal: None,
        }),
        ..Default::default()
    }
}

fn waiting(reason: &str, message: Option<String>) -> ContainerState {
    ContainerState {
        waiting: Some(ContainerStateWaiting { reason: Some(reason.into()), message }),
        ..Default::default()
    }
}

fn has_probe(spec: &ContainerSpec, startup: bool) -> bool {
    if startup { spec.startup_probe.is_some() } else { spec.readiness_probe.is_some() }
}

/// One container's status: the newest attempt is the state, the one before it the lastState.
fn container_status(spec: &ContainerSpec, rt: &RuntimePod, extra: &Extra, pending: &str) -> ContainerStatus {
    let attempts = rt.attempts(&spec.name);
    let latest = attempts.first().copied();
    let previous = attempts.get(1).copied();
    let wait = extra.waiting.get(&spec.name);
    let (state, last) = match (latest, wait) {
        (Some(c), Some(w)) if c.exited() => (waiting(&w.reason, Some(w.message.clone())), Some(terminated(c))),
        (_, Some(w)) => (waiting(&w.reason, Some(w.message.clone())), previous.map(terminated)),
        (None, None) => (waiting(pending, None), None),
        (Some(c), None) => match c.state {
            RunState::Running => (running(c), previous.map(terminated)),
            RunState::Created => (waiting("ContainerCreating", None), previous.map(terminated)),
            _ => (terminated(c), previous.map(terminated)),
        },
    };
    let id = latest.map(|c| c.id.clone()).unwrap_or_default();
    let is_running = latest.is_some_and(|c| c.running()) && wait.is_none();
    let probed = |map: Option<&HashMap<String, bool>>| map.and_then(|m| m.get(&id)).copied().unwrap_or(false);
    let started = is_running && (!has_probe(spec, true) || probed(extra.started));
    let ready = started && (!has_probe(spec, false) || probed(extra.ready));
    ContainerStatus {
        name: spec.name.clone(),
        image: spec.image.clone().unwrap_or_default(),
        image_id: latest.map(|c| c.image_ref.clone()).unwrap_or_default(),
        container_id: latest.map(|c| format!("containerd://{}", c.id)),
        ready,
        started: Some(started),
        restart_count: latest.map_or(0, |c| c.attempt as i32),
        state: Some(state),
        last_state: Some(last.unwrap_or_default()),
        ..Default::default()
    }
}

fn running(c: &Container) -> ContainerState {
    ContainerState { running: Some(ContainerStateRunning { started_at: time_ns(c.started_at) }), ..Default::default() }
}

fn specs(pod: &Pod, init: bool) -> &[ContainerSpec] {
    let spec = pod.spec.as_ref();
    let list =
        if init { spec.and_then(|s| s.init_containers.as_deref()) } else { spec.map(|s| s.containers.as_slice()) };
    list.unwrap_or(&[])
}

fn statuses(pod: &Pod, rt: &RuntimePod, extra: &Extra, init: bool) -> Vec<ContainerStatus> {
    let has_init = !specs(pod, true).is_empty();
    let pending = if has_init { "PodInitializing" } else { "ContainerCreating" };
    specs(pod, init).iter().map(|s| container_status(s, rt, extra, pending)).collect()
}

fn get<'a>(list: &'a [ContainerStatus], name: &str) -> Option<&'a ContainerStatus> {
    list.iter().find(|s| s.name == name)
}

fn last_failed(s: &ContainerStatus) -> Option<bool> {
    let t = s.last_state.as_ref()?.terminated.as_ref()?;
    Some(t.exit_code != 0)
}

/// Kubernetes' getPhase over the init and app container statuses.
pub fn phase(pod: &Pod, init: &[ContainerStatus], apps: &[ContainerStatus]) -> &'static str {
    let policy = pod.spec.as_ref().and_then(|s| s.restart_policy.as_deref()).unwrap_or("Always");
    let (mut pending_init, mut failed_init) = (0, 0);
    for spec in specs(pod, true).iter().filter(|s| s.restart_policy.as_deref() != Some("Always")) {
        let Some(s) = get(init, &spec.name) else {
            pending_init += 1;
            continue;
        };
        let state = s.state.clone().unwrap_or_default();
        match (&state.running, &state.terminated, &state.waiting) {
            (Some(_), _, _) => pending_init += 1,
            (_, Some(t), _) => failed_init += usize::from(t.exit_code != 0),
            (_, _, Some(_)) => match last_failed(s) {
                Some(true) => failed_init += 1,
                Some(false) => {}
                None => pending_init += 1,
            },
            _ => pending_init += 1,
        }
    }
    let (mut running, mut waiting, mut stopped, mut succeeded) = (0, 0, 0, 0);
    for spec in specs(pod, false) {
        let state = get(apps, &spec.name).and_then(|s| s.state.clone()).unwrap_or_default();
        let has_last = get(apps, &spec.name).and_then(last_failed).is_some();
        match (&state.running, &state.terminated, &state.waiting) {
            (Some(_), _, _) => running += 1,
            (_, Some(t), _) => {
                stopped += 1;
                succeeded += usize::from(t.exit_code == 0);
            }
            (_, _, Some(_)) if has_last => stopped += 1,
            _ => waiting += 1,
        }
    }
    if failed_init > 0 && policy == "Never" {
        return "Failed";
    }
    if pending_init > 0 || waiting > 0 {
        return "Pending";
    }
    if running > 0 {
        return "Running";
    }
    if stopped == 0 {
        return "Pending";
    }
    match policy {
        "Always" => "Running",
        _ if stopped == succeeded => "Succeeded",
        "Never" => "Failed",
        _ => "Running",
    }
}

/// spec.activeDeadlineSeconds counted from status.startTime has passed: the kubelet fails the
/// pod with reason DeadlineExceeded.
pub fn deadline_exceeded(pod: &Pod, now_ns: i64) -> bool {
    let Some(deadline) = pod.spec.as_ref().and_then(|s| s.active_deadline_seconds) else { return false };
    let Some(start) = pod.status.as_ref().and_then(|s| s.start_time.as_ref()) else { return false };
    let started = start.0.as_nanosecond() as i64;
    now_ns.saturating_sub(started) >= deadline.saturating_mul(1_000_000_000)
}

fn current_phase(pod: &Pod) -> Option<&str> {
    pod.status.as_ref().and_then(|s| s.phase.as_deref())
}

/// A pod that reached Succeeded or Failed stays there (Kubernetes never revives one).
pub fn is_terminal(pod: &Pod, rt: &RuntimePod) -> bool {
    if matches!(current_phase(pod), Some("Succeeded" | "Failed")) {
        return true;
    }
    let extra = Extra::default();
    let p = phase(pod, &statuses(pod, rt, &extra, true), &statuses(pod, rt, &extra, false));
    matches!(p, "Succeeded" | "Failed")
}

fn condition(
    pod: &Pod,
    kind: &str,
    ok: bool,
    reason: Option<String>,
    message: Option<String>,
    now: &Option<Time>,
) -> PodCondition {
    let status = if ok { "True" } else { "False" };
    let old =
        pod.status.as_ref().and_then(|s| s.conditions.as_ref()).and_then(|cs| cs.iter().find(|c| c.type_ == kind));
    let since = match old {
        Some(o) if o.status == status => o.last_transition_time.clone(),
        _ => now.clone(),
    };
    PodCondition {
        type_: kind.into(),
        status: status.into(),
        reason: if ok { None } else { reason },
        message: if ok { None } else { message },
        last_transition_time: since,
        last_probe_time: None,
        observed_generation: None,
    }
}

fn not_done(list: &[ContainerStatus], pred: impl Fn(&ContainerStatus) -> bool) -> Vec<String> {
    list.iter().filter(|s| !pred(s)).map(|s| s.name.clone()).collect()
}

/// An init container is done when it exited 0; a sidecar (restartPolicy Always) once started.
fn init_done(pod: &Pod, s: &ContainerStatus) -> bool {
    let sidecar = specs(pod, true).iter().any(|c| c.name == s.name && c.restart_policy.as_deref() == Some("Always"));
    let t = s.state.as_ref().and_then(|st| st.terminated.as_ref());
    t.is_some_and(|t| t.exit_code == 0) || sidecar && s.started == Some(true)
}

fn conditions(
    pod: &Pod,
    rt: &RuntimePod,
    init: &[ContainerStatus],
    apps: &[ContainerStatus],
    phase: &str,
    now: &Option<Time>,
) -> Vec<PodCondition> {
    let sandbox_ready = rt.sandbox().is_some_and(|s| s.ready);
    let not_init = not_done(init, |s| init_done(pod, s));
    let not_ready = not_done(apps, |s| s.ready);
    let list = |names: &[String]| format!("[{}]", names.join(" "));
    let completed = phase == "Succeeded";
    let ready_reason = if completed { "PodCompleted" } else { "ContainersNotReady" };
    let ready_msg = (!completed).then(|| format!("containers with unready status: {}", list(&not_ready)));
    let init_ok = not_init.is_empty() || completed;
    vec![
        condition(pod, "PodReadyToStartContainers", sandbox_ready, None, None, now),
        condition(
            pod,
            "Initialized",
            init_ok,
            Some("ContainersNotInitialized".into()),
            Some(format!("containers with incomplete status: {}", list(&not_init))),
            now,
        ),
        condition(pod, "Ready", not_ready.is_empty() && !completed, Some(ready_reason.into()), ready_msg.clone(), now),
        condition(
            pod,
            "ContainersReady",
            not_ready.is_empty() && !completed,
            Some(ready_reason.into()),
            ready_msg,
            now,
        ),
        condition(pod, "PodScheduled", true, None, None, now),
    ]
}

/// Guaranteed, Burstable or BestEffort from the containers' requests and limits.
pub fn qos_class(pod: &Pod) -> &'static str {
    let all: Vec<&ContainerSpec> = specs(pod, false).iter().chain(specs(pod, true)).collect();
    let res = |c: &ContainerSpec, limits: bool, k: &str| {
        let r = c.resources.as_ref();
        let map = if limits { r.and_then(|r| r.limits.as_ref()) } else { r.and_then(|r| r.requests.as_ref()) };
        map.and_then(|m| m.get(k)).map(|q| q.0.clone())
    };
    let any =
        all.iter().any(|c| ["cpu", "memory"].iter().any(|k| res(c, false, k).is_some() || res(c, true, k).is_some()));
    if !any {
        return "BestEffort";
    }
    let guaranteed = all.iter().all(|c| {
        ["cpu", "memory"].iter().all(|k| {
            let limit = res(c, true, k);
            limit.is_some() && res(c, false, k).is_none_or(|r| Some(r) == limit)
        })
    });
    if guaranteed { "Guaranteed" } else { "Burstable" }
}

/// The whole status as the kubelet would write it now.
pub fn compute(pod: &Pod, rt: &RuntimePod, extra: &Extra) -> PodStatus {
    let init = statuses(pod, rt, extra, true);
    let apps = statuses(pod, rt, extra, false);
    let computed = phase(pod, &init, &apps);
    let now_ns = extra.now.as_ref().map_or(0, |t| t.0.as_nanosecond() as i64);
    let expired = deadline_exceeded(pod, now_ns) && !matches!(current_phase(pod), Some("Succeeded"));
    let phase = match current_phase(pod) {
        Some(p @ ("Succeeded" | "Failed")) => p.to_string(),
        _ if expired => "Failed".to_string(),
        _ => computed.to_string(),
    };
    let host_network = pod.spec.as_ref().and_then(|s| s.host_network).unwrap_or(false);
    let old = pod.status.clone().unwrap_or_default();
    // A stopped sandbox has no IP any more; a finished pod keeps the one it had.
    let pod_ip = if host_network {
        Some(extra.host_ip.clone())
    } else {
        rt.sandbox().and_then(|s| s.ip.clone()).or(old.pod_ip.clone())
    };
    PodStatus {
        phase: Some(phase.clone()),
        conditions: Some(conditions(pod, rt, &init, &apps, &phase, &extra.now)),
        host_ip: Some(extra.host_ip.clone()),
        host_ips: Some(vec![HostIP { ip: extra.host_ip.clone() }]),
        pod_ips: pod_ip.clone().map(|ip| vec![PodIP { ip }]),
        pod_ip,
        start_time: old.start_time.or_else(|| extra.now.clone()),
        // The API server sets qosClass at creation and it is immutable: keep its word.
        qos_class: old.qos_class.clone().or_else(|| Some(qos_class(pod).into())),
        reason: if expired { Some("DeadlineExceeded".into()) } else { old.reason.clone() },
        message: if expired {
            Some("Pod was active on the node longer than the specified deadline".into())
        } else {
            old.message.clone()
        },
        init_container_statuses: (!init.is_empty()).then_some(init),
        container_statuses: Some(apps),
        ..Default::default()
    }
}

#[cfg(test)]
#[path = "status_tests.rs"]
mod tests;
