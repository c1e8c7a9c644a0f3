//! Pod statuses as Kubernetes words them, from runtime states.

use super::*;
use crate::runtime_pod::Sandbox;

const S: i64 = 1_000_000_000;

fn pod(spec: serde_json::Value) -> Pod {
    let v = serde_json::json!({"metadata": {"name": "p", "namespace": "default", "uid": "u1"}, "spec": spec});
    serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"))
}

fn one(policy: &str) -> Pod {
    pod(serde_json::json!({"restartPolicy": policy, "containers": [{"name": "app", "image": "busybox"}]}))
}

fn c(name: &str, attempt: u32, state: RunState, exit_code: i32, reason: &str) -> Container {
    Container {
        id: format!("{name}-{attempt}"),
        name: name.into(),
        attempt,
        sandbox_id: "s1".into(),
        state,
        image: "busybox".into(),
        image_ref: "docker.io/library/busybox@sha256:ab".into(),
        created_at: attempt as i64 + 1,
        started_at: 10 * S,
        finished_at: 20 * S,
        exit_code,
        reason: reason.into(),
        message: String::new(),
    }
}

fn rt(containers: Vec<Container>) -> RuntimePod {
    let sandbox = Sandbox { id: "s1".into(), attempt: 0, ready: true, ip: Some("10.233.64.7".into()), created_at: 1 };
    RuntimePod { uid: "u1".into(), sandboxes: vec![sandbox], containers }
}

fn extra() -> Extra<'static> {
    Extra { host_ip: "192.168.0.2".into(), now: Some(Time(jiff::Timestamp::UNIX_EPOCH)), ..Default::default() }
}

fn app_state(s: &PodStatus) -> ContainerState {
    s.container_statuses.clone().unwrap_or_default()[0].state.clone().unwrap_or_default()
}

fn cond<'a>(s: &'a PodStatus, kind: &str) -> &'a PodCondition {
    s.conditions.as_ref().and_then(|c| c.iter().find(|c| c.type_ == kind)).unwrap_or_else(|| panic!("no {kind}"))
}

#[test]
fn a_pod_not_yet_created_is_pending_with_container_creating() {
    let s = compute(&one("Always"), &RuntimePod::default(), &extra());
    assert_eq!(s.phase.as_deref(), Some("Pending"));
    assert_eq!(app_state(&s).waiting.and_then(|w| w.reason).as_deref(), Some("ContainerCreating"));
    assert_eq!(cond(&s, "PodReadyToStartContainers").status, "False");
}

#[test]
fn a_running_container_makes_the_pod_running_and_ready() {
    let s = compute(&one("Always"), &rt(vec![c("app", 0, RunState::Running, 0, "")]), &extra());
    assert_eq!(s.phase.as_deref(), Some("Running"));
    assert_eq!(s.pod_ip.as_deref(), Some("10.233.64.7"));
    assert_eq!(s.host_ip.as_deref(), Some("192.168.0.2"));
    assert_eq!(cond(&s, "Ready").status, "True");
    assert_eq!(cond(&s, "ContainersReady").status, "True");
    assert_eq!(cond(&s, "Initialized").status, "True");
    let cs = &s.container_statuses.clone().unwrap_or_default()[0];
    assert!(cs.ready);
    assert_eq!(cs.container_id.as_deref(), Some("containerd://app-0"));
    assert_eq!(cs.image_id, "docker.io/library/busybox@sha256:ab");
    assert_eq!(s.qos_class.as_deref(), Some("BestEffort"));
}

#[test]
fn a_container_with_a_readiness_probe_is_not_ready_until_it_passes() {
    let p =
        pod(serde_json::json!({"containers": [{"name": "app", "readinessProbe": {"exec": {"command": ["true"]}}}]}));
    let r = rt(vec![c("app", 0, RunState::Running, 0, "")]);
    let s = compute(&p, &r, &extra());
    assert_eq!(cond(&s, "Ready").status, "False");
    assert_eq!(cond(&s, "Ready").message.as_deref(), Some("containers with unready status: [app]"));
    let ready = HashMap::from([("app-0".to_string(), true)]);
    let s = compute(&p, &r, &Extra { ready: Some(&ready), ..extra() });
    assert_eq!(cond(&s, "Ready").status, "True");
}

#[test]
fn a_finished_never_pod_succeeds_with_reason_completed() {
    let s = compute(&one("Never"), &rt(vec![c("app", 0, RunState::Exited, 0, "Completed")]), &extra());
    assert_eq!(s.phase.as_deref(), Some("Succeeded"));
    let t = app_state(&s).terminated.unwrap_or_default();
    assert_eq!((t.exit_code, t.reason.as_deref()), (0, Some("Completed")));
    assert_eq!(cond(&s, "Ready").reason.as_deref(), Some("PodCompleted"));
}

#[test]
fn a_failed_never_pod_fails_with_reason_error() {
    let s = compute(&one("Never"), &rt(vec![c("app", 0, RunState::Exited, 3, "")]), &extra());
    assert_eq!(s.phase.as_deref(), Some("Failed"));
    assert_eq!(app_state(&s).terminated.and_then(|t| t.reason).as_deref(), Some("Error"));
}

#[test]
fn an_oom_killed_container_says_oom_killed() {
    let s = compute(&one("Never"), &rt(vec![c("app", 0, RunState::Exited, 137, "OOMKilled")]), &extra());
    assert_eq!(app_state(&s).terminated.and_then(|t| t.reason).as_deref(), Some("OOMKilled"));
}

#[test]
fn a_crash_looping_container_waits_with_its_last_termination() {
    let mut e = extra();
    let w = Waiting { reason: "CrashLoopBackOff".into(), message: "back-off 10s".into() };
    e.waiting.insert("app".into(), w);
    let s = compute(&one("Always"), &rt(vec![c("app", 1, RunState::Exited, 1, "Error")]), &e);
    assert_eq!(s.phase.as_deref(), Some("Running"));
    let cs = &s.container_statuses.clone().unwrap_or_default()[0];
    assert_eq!(cs.restart_count, 1);
    assert_eq!(cs.state.clone().and_then(|s| s.waiting).and_then(|w| w.reason).as_deref(), Some("CrashLoopBackOff"));
    assert_eq!(cs.last_state.clone().and_then(|s| s.terminated).map(|t| t.exit_code), Some(1));
}

#[test]
fn a_restarted_container_shows_the_previous_attempt_as_last_state() {
    let r = rt(vec![c("app", 0, RunState::Exited, 2, "Error"), c("app", 1, RunState::Running, 0, "")]);
    let cs = &compute(&one("Always"), &r, &extra()).container_statuses.unwrap_or_default()[0];
    assert_eq!(cs.restart_count, 1);
    assert!(cs.state.clone().and_then(|s| s.running).is_some());
    assert_eq!(cs.last_state.clone().and_then(|s| s.terminated).map(|t| t.exit_code), Some(2));
}

#[test]
fn an_image_pull_error_is_shown_as_the_waiting_reason() {
    let mut e = extra();
    e.waiting.insert("app".into(), Waiting { reason: "ErrImagePull".into(), message: "no registry".into() });
    let s = compute(&one("Always"), &rt(vec![]), &e);
    assert_eq!(s.phase.as_deref(), Some("Pending"));
    assert_eq!(app_state(&s).waiting.and_then(|w| w.reason).as_deref(), Some("ErrImagePull"));
}

#[test]
fn pending_init_containers_leave_the_pod_not_initialized() {
    let p = pod(serde_json::json!({"initContainers": [{"name": "i1"}], "containers": [{"name": "app"}]}));
    let s = compute(&p, &rt(vec![c("i1", 0, RunState::Running, 0, "")]), &extra());
    assert_eq!(s.phase.as_deref(), Some("Pending"));
    assert_eq!(cond(&s, "Initialized").status, "False");
    assert_eq!(cond(&s, "Initialized").message.as_deref(), Some("containers with incomplete status: [i1]"));
    assert_eq!(app_state(&s).waiting.and_then(|w| w.reason).as_deref(), Some("PodInitializing"));
}

#[test]
fn a_terminal_phase_is_never_left() {
    let mut p = one("Always");
    p.status = Some(PodStatus { phase: Some("Failed".into()), ..Default::default() });
    let s = compute(&p, &rt(vec![c("app", 0, RunState::Running, 0, "")]), &extra());
    assert_eq!(s.phase.as_deref(), Some("Failed"));
}

#[test]
fn a_condition_keeps_its_transition_time_while_unchanged() {
    let r = rt(vec![c("app", 0, RunState::Running, 0, "")]);
    let first = compute(&one("Always"), &r, &extra());
    let mut p = one("Always");
    p.status = Some(first.clone());
    let later = Extra { now: Some(Time(jiff::Timestamp::now())), ..extra() };
    let second = compute(&p, &r, &later);
    assert_eq!(cond(&first, "Ready").last_transition_time, cond(&second, "Ready").last_transition_time);
    assert_eq!(first.start_time, second.start_time);
}

#[test]
fn a_pod_past_its_active_deadline_fails_with_deadline_exceeded() {
    let mut p = pod(serde_json::json!({"activeDeadlineSeconds": 5, "containers": [{"name": "app"}]}));
    p.status = Some(PodStatus { start_time: Some(Time(jiff::Timestamp::UNIX_EPOCH)), ..Default::default() });
    let later = Extra { now: Some(Time(jiff::Timestamp::from_second(6).unwrap_or_default())), ..extra() };
    let s = compute(&p, &rt(vec![c("app", 0, RunState::Running, 0, "")]), &later);
    assert_eq!(s.phase.as_deref(), Some("Failed"));
    assert_eq!(s.reason.as_deref(), Some("DeadlineExceeded"));
    assert!(!deadline_exceeded(&p, 4 * S));
}

#[test]
fn requests_equal_to_limits_are_guaranteed() {
    let g =
        pod(serde_json::json!({"containers": [{"name": "a", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]}));
    assert_eq!(qos_class(&g), "Guaranteed");
    let b = pod(serde_json::json!({"containers": [{"name": "a", "resources": {"requests": {"cpu": "100m"}}}]}));
    assert_eq!(qos_class(&b), "Burstable");
}
