//! Plans for pods in every state, without containerd.

use super::*;
use crate::runtime_pod::{RunState, Sandbox};

const S: i64 = 1_000_000_000;

fn pod(spec: serde_json::Value) -> Pod {
    let v = serde_json::json!({"metadata": {"name": "p", "namespace": "default", "uid": "u1"}, "spec": spec});
    serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"))
}

fn one(policy: &str) -> Pod {
    pod(serde_json::json!({"restartPolicy": policy, "containers": [{"name": "app", "image": "busybox"}]}))
}

fn sandbox() -> Sandbox {
    Sandbox { id: "s1".into(), attempt: 0, ready: true, ip: Some("10.233.64.5".into()), created_at: 1 }
}

fn container(name: &str, attempt: u32, state: RunState, exit_code: i32) -> Container {
    Container {
        id: format!("{name}-{attempt}"),
        name: name.into(),
        attempt,
        sandbox_id: "s1".into(),
        state,
        image: "busybox".into(),
        image_ref: "sha256:x".into(),
        created_at: attempt as i64 + 1,
        started_at: 10 * S,
        finished_at: if state == RunState::Exited { 20 * S } else { 0 },
        exit_code,
        reason: String::new(),
        message: String::new(),
    }
}

fn rt(containers: Vec<Container>) -> RuntimePod {
    RuntimePod { uid: "u1".into(), sandboxes: vec![sandbox()], containers }
}

struct World {
    backoff: BackOff,
    pulls: HashMap<String, (i64, Waiting)>,
    unhealthy: HashMap<String, KillReason>,
    now: i64,
}

impl World {
    fn new() -> World {
        World { backoff: BackOff::default(), pulls: HashMap::new(), unhealthy: HashMap::new(), now: 21 * S }
    }

    fn plan(&self, pod: Option<&Pod>, rt: &RuntimePod) -> Plan {
        plan(&Inputs {
            pod,
            runtime: rt,
            backoff: &self.backoff,
            pull_failures: &self.pulls,
            unhealthy: &self.unhealthy,
            now_ns: self.now,
        })
    }
}

fn start(name: &str, kind: Kind, attempt: u32, restart: bool) -> Action {
    Action::StartContainer { name: name.into(), kind, attempt, restart }
}

#[test]
fn a_new_pod_gets_a_sandbox_and_its_containers_in_one_sync() {
    let p = one("Always");
    let plan = World::new().plan(Some(&p), &RuntimePod::default());
    assert_eq!(plan.actions, vec![Action::CreateSandbox { attempt: 0 }, start("app", Kind::App, 0, false)]);
}

#[test]
fn a_running_pod_needs_nothing() {
    let p = one("Always");
    let plan = World::new().plan(Some(&p), &rt(vec![container("app", 0, RunState::Running, 0)]));
    assert!(plan.actions.is_empty());
    assert!(plan.waiting.is_empty());
}

#[test]
fn a_crashed_container_is_restarted_at_once_the_first_time() {
    let p = one("Always");
    let plan = World::new().plan(Some(&p), &rt(vec![container("app", 0, RunState::Exited, 1)]));
    assert_eq!(plan.actions, vec![start("app", Kind::App, 1, true)]);
}

#[test]
fn a_crashed_container_is_restarted_after_its_back_off() {
    let p = one("Always");
    let mut w = World::new();
    w.backoff.next(&crate::backoff::key("u1", "app"), 0);
    let r = rt(vec![container("app", 1, RunState::Exited, 1)]);
    let plan = w.plan(Some(&p), &r);
    assert!(plan.actions.is_empty());
    assert_eq!(plan.waiting["app"].reason, "CrashLoopBackOff");
    assert_eq!(plan.waiting["app"].message, "back-off 10s restarting failed container=app pod=p_default(u1)");
    assert_eq!(plan.requeue, Some(Duration::from_secs(9)));
    w.now = 30 * S;
    assert_eq!(w.plan(Some(&p), &r).actions, vec![start("app", Kind::App, 2, true)]);
}

#[test]
fn restart_policy_never_leaves_an_exited_container_alone() {
    let p = one("Never");
    let plan = World::new().plan(Some(&p), &rt(vec![container("app", 0, RunState::Exited, 1)]));
    assert_eq!(plan.actions, vec![Action::StopSandbox { id: "s1".into() }]);
}

#[test]
fn restart_policy_on_failure_restarts_only_failures() {
    let p = one("OnFailure");
    let failed = World::new().plan(Some(&p), &rt(vec![container("app", 0, RunState::Exited, 2)]));
    assert_eq!(failed.actions, vec![start("app", Kind::App, 1, true)]);
    let done = World::new().plan(Some(&p), &rt(vec![container("app", 0, RunState::Exited, 0)]));
    assert_eq!(done.actions, vec![Action::StopSandbox { id: "s1".into() }]);
}

fn with_init() -> Pod {
    pod(
        serde_json::json!({"restartPolicy": "Always", "initContainers": [{"name": "i1"}, {"name": "i2"}], "containers": [{"name": "app"}]}),
    )
}

#[test]
fn an_init_container_runs_before_the_app_containers() {
    let p = with_init();
    let plan = World::new().plan(Some(&p), &RuntimePod::default());
    assert_eq!(plan.actions, vec![Action::CreateSandbox { attempt: 0 }, start("i1", Kind::Init, 0, false)]);
    let running = World::new().plan(Some(&p), &rt(vec![container("i1", 0, RunState::Running, 0)]));
    assert!(running.actions.is_empty());
}

#[test]
fn init_containers_run_in_order_then_the_apps_start() {
    let p = with_init();
    let first_done = rt(vec![container("i1", 0, RunState::Exited, 0)]);
    assert_eq!(World::new().plan(Some(&p), &first_done).actions, vec![start("i2", Kind::Init, 0, false)]);
    let both = rt(vec![container("i1", 0, RunState::Exited, 0), container("i2", 0, RunState::Exited, 0)]);
    assert_eq!(World::new().plan(Some(&p), &both).actions, vec![start("app", Kind::App, 0, false)]);
}

#[test]
fn a_failed_init_container_is_retried_and_holds_back_the_apps() {
    let p = with_init();
    let failed = rt(vec![container("i1", 0, RunState::Exited, 1)]);
    assert_eq!(World::new().plan(Some(&p), &failed).actions, vec![start("i1", Kind::Init, 1, true)]);
}

#[test]
fn a_failed_init_container_fails_a_never_pod() {
    let mut p = with_init();
    if let Some(s) = p.spec.as_mut() {
        s.restart_policy = Some("Never".into());
    }
    let failed = rt(vec![container("i1", 0, RunState::Exited, 1)]);
    assert_eq!(World::new().plan(Some(&p), &failed).actions, vec![Action::StopSandbox { id: "s1".into() }]);
}

#[test]
fn a_deleted_pod_is_killed_with_its_grace_period_then_removed() {
    let mut p = one("Always");
    p.metadata.deletion_timestamp =
        Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(jiff::Timestamp::UNIX_EPOCH));
    p.metadata.deletion_grace_period_seconds = Some(5);
    let plan = World::new().plan(Some(&p), &rt(vec![container("app", 0, RunState::Running, 0)]));
    assert_eq!(
        plan.actions,
        vec![
            Action::KillContainer {
                id: "app-0".into(),
                name: "app".into(),
                grace_seconds: 5,
                reason: KillReason::PodDeleted
            },
            Action::StopSandbox { id: "s1".into() },
            Action::RemoveSandbox { id: "s1".into() },
            Action::FinishTermination,
        ]
    );
}

#[test]
fn a_pod_gone_from_the_api_is_torn_down_at_once() {
    let plan = World::new().plan(None, &rt(vec![container("app", 0, RunState::Running, 0)]));
    assert_eq!(
        plan.actions[0],
        Action::KillContainer {
            id: "app-0".into(),
            name: "app".into(),
            grace_seconds: 0,
            reason: KillReason::PodDeleted
        }
    );
    assert_eq!(plan.actions.last(), Some(&Action::FinishTermination));
}

#[test]
fn a_container_failing_liveness_is_killed() {
    let p = one("Always");
    let mut w = World::new();
    w.unhealthy.insert("app-0".into(), KillReason::FailedLiveness);
    let plan = w.plan(Some(&p), &rt(vec![container("app", 0, RunState::Running, 0)]));
    assert!(matches!(
        &plan.actions[..],
        [Action::KillContainer { reason: KillReason::FailedLiveness, grace_seconds: 30, .. }]
    ));
}

#[test]
fn a_failed_image_pull_backs_off_as_image_pull_back_off() {
    let p = one("Always");
    let mut w = World::new();
    let waiting = Waiting { reason: "ImagePullBackOff".into(), message: "Back-off pulling image \"busybox\"".into() };
    w.pulls.insert("app".into(), (w.now + 5 * S, waiting));
    let plan = w.plan(Some(&p), &rt(vec![]));
    assert!(plan.actions.is_empty());
    assert_eq!(plan.waiting["app"].reason, "ImagePullBackOff");
    assert_eq!(plan.requeue, Some(Duration::from_secs(5)));
}

#[test]
fn a_dead_sandbox_is_replaced_with_the_next_attempt() {
    let p = one("Always");
    let mut r = rt(vec![container("app", 0, RunState::Exited, 137)]);
    r.sandboxes[0].ready = false;
    let plan = World::new().plan(Some(&p), &r);
    assert_eq!(plan.actions, vec![Action::CreateSandbox { attempt: 1 }, start("app", Kind::App, 1, false)]);
}

#[test]
fn only_the_two_newest_attempts_of_a_container_are_kept() {
    let p = one("Always");
    let r = rt(vec![
        container("app", 0, RunState::Exited, 1),
        container("app", 1, RunState::Exited, 1),
        container("app", 2, RunState::Running, 0),
    ]);
    assert_eq!(World::new().plan(Some(&p), &r).actions, vec![Action::RemoveContainer { id: "app-0".into() }]);
}
