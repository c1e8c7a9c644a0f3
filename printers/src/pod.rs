//! The pod printer: READY, STATUS and RESTARTS computed the way `printPod` does.

use jiff::Timestamp;
use serde_json::Value;

use crate::age::{age, elapsed, parse_time};
use crate::format::{int, list, name, or_none, text};
use crate::{Column, doc};

pub(crate) const COLUMNS: &[Column] = &[
    Column::name(),
    Column::string("Ready", "The aggregate readiness state of this pod for accepting traffic."),
    Column::string("Status", "The aggregate status of the containers in this pod."),
    Column::string(
        "Restarts",
        "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
    ),
    Column::age(),
    Column::string("IP", doc::POD_STATUS_POD_IP).wide(),
    Column::string("Node", doc::POD_SPEC_NODE_NAME).wide(),
    Column::string("Nominated Node", doc::POD_STATUS_NOMINATED_NODE_NAME).wide(),
    Column::string("Readiness Gates", doc::POD_SPEC_READINESS_GATES).wide(),
];

pub(crate) fn cells(pod: &Value, now: Timestamp) -> Vec<Value> {
    let (spec, status) = (&pod["spec"], &pod["status"]);
    let summary = summarize(pod);
    let restarts = match summary.last_restart {
        Some(last) if summary.restarts != 0 => {
            format!("{} ({} ago)", summary.restarts, elapsed(last, now))
        }
        _ => summary.restarts.to_string(),
    };
    vec![
        name(pod),
        Value::from(format!("{}/{}", summary.ready, summary.total)),
        Value::from(summary.reason),
        Value::from(restarts),
        age(pod, now),
        Value::from(or_none(pod_ip(status))),
        Value::from(or_none(text(&spec["nodeName"]))),
        Value::from(or_none(text(&status["nominatedNodeName"]))),
        Value::from(readiness_gates(pod)),
    ]
}

/// What the READY, STATUS and RESTARTS cells are made of.
struct Summary {
    reason: String,
    ready: usize,
    total: usize,
    restarts: i64,
    last_restart: Option<Timestamp>,
}

/// The restarts of one group of containers and when the last of them terminated.
#[derive(Default)]
struct Restarts {
    count: i64,
    last: Option<Timestamp>,
}

impl Restarts {
    fn add(&mut self, status: &Value) {
        self.count += int(&status["restartCount"]);
        let finished = parse_time(&status["lastState"]["terminated"]["finishedAt"]);
        self.last = self.last.max(finished);
    }
}

fn summarize(pod: &Value) -> Summary {
    let (spec, status) = (&pod["spec"], &pod["status"]);
    let phase = text(&status["phase"]);
    let mut summary = Summary {
        reason: initial_reason(status),
        ready: 0,
        total: list(&spec["containers"]).len() + sidecar_names(spec).len(),
        restarts: 0,
        last_restart: None,
    };
    let (initializing, sidecars) = scan_init_containers(pod, &mut summary);
    if !initializing || condition_is_true(status, "Initialized") {
        scan_containers(pod, &mut summary, sidecars);
    }
    if pod["metadata"]["deletionTimestamp"].is_string() {
        if text(&status["reason"]) == "NodeLost" {
            summary.reason = "Unknown".to_owned();
        } else if phase != "Succeeded" && phase != "Failed" {
            summary.reason = "Terminating".to_owned();
        }
    }
    summary
}

/// The status reason, else the phase; "SchedulingGated" while scheduling gates hold the pod.
fn initial_reason(status: &Value) -> String {
    let gated = list(&status["conditions"])
        .iter()
        .any(|c| text(&c["type"]) == "PodScheduled" && text(&c["reason"]) == "SchedulingGated");
    if gated {
        return "SchedulingGated".to_owned();
    }
    let reason = text(&status["reason"]);
    if reason.is_empty() { text(&status["phase"]) } else { reason }.to_owned()
}

/// Init containers with `restartPolicy: Always` (sidecars) run alongside the main containers.
fn sidecar_names(spec: &Value) -> Vec<&str> {
    list(&spec["initContainers"])
        .iter()
        .filter(|c| text(&c["restartPolicy"]) == "Always")
        .map(|c| text(&c["name"]))
        .collect()
}

/// Walks the init container statuses until the first one that is not done, setting the
/// "Init:..." reason. Returns whether the pod is still initializing and the sidecars' restarts.
fn scan_init_containers(pod: &Value, summary: &mut Summary) -> (bool, Restarts) {
    let sidecars = sidecar_names(&pod["spec"]);
    let specs = list(&pod["spec"]["initContainers"]).len();
    let mut all = Restarts::default();
    let mut sidecar = Restarts::default();
    let mut initializing = false;
    for (i, container) in list(&pod["status"]["initContainerStatuses"]).iter().enumerate() {
        all.add(container);
        let is_sidecar = sidecars.contains(&text(&container["name"]));
        if is_sidecar {
            sidecar.add(container);
        }
        let terminated = &container["state"]["terminated"];
        if terminated.is_object() && int(&terminated["exitCode"]) == 0 {
            continue;
        }
        if is_sidecar && container["started"].as_bool() == Some(true) {
            summary.ready += usize::from(container["ready"].as_bool() == Some(true));
            continue;
        }
        summary.reason = init_reason(container, i, specs);
        initializing = true;
        break;
    }
    summary.restarts = all.count;
    summary.last_restart = all.last;
    (initializing, sidecar)
}

/// The reason of the init container that holds up initialization.
fn init_reason(container: &Value, index: usize, specs: usize) -> String {
    let state = &container["state"];
    let terminated = &state["terminated"];
    if terminated.is_object() {
        return format!("Init:{}", terminated_reason(terminated));
    }
    match text(&state["waiting"]["reason"]) {
        "" | "PodInitializing" => format!("Init:{index}/{specs}"),
        waiting => format!("Init:{waiting}"),
    }
}

/// A terminated state's reason, else "Signal:N" or "ExitCode:N".
fn terminated_reason(terminated: &Value) -> String {
    let reason = text(&terminated["reason"]);
    if !reason.is_empty() {
        return reason.to_owned();
    }
    match int(&terminated["signal"]) {
        0 => format!("ExitCode:{}", int(&terminated["exitCode"])),
        signal => format!("Signal:{signal}"),
    }
}

/// Walks the main container statuses last to first, so the first container's state wins.
/// Restarts count only sidecars and main containers once initialization is over.
fn scan_containers(pod: &Value, summary: &mut Summary, mut restarts: Restarts) {
    let mut has_running = false;
    for container in list(&pod["status"]["containerStatuses"]).iter().rev() {
        restarts.add(container);
        let state = &container["state"];
        let waiting = text(&state["waiting"]["reason"]);
        let terminated = &state["terminated"];
        if !waiting.is_empty() {
            summary.reason = waiting.to_owned();
        } else if terminated.is_object() {
            summary.reason = terminated_reason(terminated);
        } else if container["ready"].as_bool() == Some(true) && state["running"].is_object() {
            has_running = true;
            summary.ready += 1;
        }
    }
    summary.restarts = restarts.count;
    summary.last_restart = restarts.last;
    // A pod whose first container completed while another still runs is not "Completed".
    if summary.reason == "Completed" && has_running {
        let ready = condition_is_true(&pod["status"], "Ready");
        summary.reason = if ready { "Running" } else { "NotReady" }.to_owned();
    }
}

/// Whether the first condition of a type has status "True".
fn condition_is_true(status: &Value, kind: &str) -> bool {
    let conditions = list(&status["conditions"]);
    let found = conditions.iter().find(|c| text(&c["type"]) == kind);
    found.is_some_and(|c| text(&c["status"]) == "True")
}

/// The first pod IP; status.podIP stands in for objects that only set the singular field.
fn pod_ip(status: &Value) -> &str {
    list(&status["podIPs"]).first().map_or_else(|| text(&status["podIP"]), |ip| text(&ip["ip"]))
}

/// "N/M" readiness gates whose condition is "True", "<none>" without gates.
fn readiness_gates(pod: &Value) -> String {
    let gates = list(&pod["spec"]["readinessGates"]);
    if gates.is_empty() {
        return "<none>".to_owned();
    }
    let status = &pod["status"];
    let passed = gates.iter().filter(|g| condition_is_true(status, text(&g["conditionType"]))).count();
    format!("{passed}/{}", gates.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        "2025-06-01T12:00:00Z".parse().expect("a valid timestamp")
    }

    fn row(pod: &Value) -> Vec<Value> {
        crate::cells("", "pods", pod, now())
    }

    fn running_pod() -> Value {
        json!({
            "metadata": {"name": "web-7d4b9c-x2k4p", "namespace": "shop", "creationTimestamp": "2025-06-01T09:30:00Z"},
            "spec": {"nodeName": "worker-1", "containers": [{"name": "app", "image": "nginx:1.27"}]},
            "status": {
                "phase": "Running",
                "podIP": "10.244.1.7",
                "podIPs": [{"ip": "10.244.1.7"}],
                "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}],
                "containerStatuses": [{"name": "app", "ready": true, "restartCount": 0, "state": {"running": {"startedAt": "2025-06-01T09:30:05Z"}}}]
            }
        })
    }

    #[test]
    fn a_running_pod_is_ready_with_no_restarts() {
        assert_eq!(
            row(&running_pod()),
            [
                json!("web-7d4b9c-x2k4p"),
                json!("1/1"),
                json!("Running"),
                json!("0"),
                json!("150m"),
                json!("10.244.1.7"),
                json!("worker-1"),
                json!("<none>"),
                json!("<none>")
            ]
        );
    }

    #[test]
    fn a_pod_in_crash_loop_back_off_shows_the_reason_and_when_it_last_restarted() {
        let mut pod = running_pod();
        pod["status"]["containerStatuses"] = json!([{
            "name": "app",
            "ready": false,
            "restartCount": 5,
            "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 2m40s restarting failed container"}},
            "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": "2025-06-01T11:57:00Z"}}
        }]);
        let cells = row(&pod);
        assert_eq!(cells[1..4], [json!("0/1"), json!("CrashLoopBackOff"), json!("5 (3m ago)")]);
    }

    #[test]
    fn a_pod_whose_image_is_being_pulled_is_container_creating() {
        let pod = json!({
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "a"}, {"name": "b"}]},
            "status": {
                "phase": "Pending",
                "containerStatuses": [
                    {"name": "a", "ready": false, "state": {"waiting": {"reason": "ContainerCreating"}}},
                    {"name": "b", "ready": false, "state": {"waiting": {"reason": "ContainerCreating"}}}
                ]
            }
        });
        assert_eq!(row(&pod)[1..4], [json!("0/2"), json!("ContainerCreating"), json!("0")]);
    }

    #[test]
    fn a_pod_waiting_on_its_init_container_counts_init_progress() {
        let pod = json!({
            "metadata": {"name": "p"},
            "spec": {"initContainers": [{"name": "migrate"}, {"name": "seed"}], "containers": [{"name": "app"}]},
            "status": {
                "phase": "Pending",
                "conditions": [{"type": "Initialized", "status": "False"}],
                "initContainerStatuses": [
                    {"name": "migrate", "ready": false, "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
                    {"name": "seed", "ready": false, "restartCount": 0, "state": {"running": {}}}
                ],
                "containerStatuses": [{"name": "app", "ready": false, "state": {"waiting": {"reason": "PodInitializing"}}}]
            }
        });
        assert_eq!(row(&pod)[1..3], [json!("0/1"), json!("Init:1/2")]);
    }

    #[test]
    fn a_failing_init_container_shows_its_reason() {
        let pod = json!({
            "metadata": {"name": "p"},
            "spec": {"initContainers": [{"name": "migrate"}], "containers": [{"name": "app"}]},
            "status": {
                "phase": "Pending",
                "initContainerStatuses": [{
                    "name": "migrate", "restartCount": 3,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                    "lastState": {"terminated": {"exitCode": 2, "finishedAt": "2025-06-01T11:59:00Z"}}
                }]
            }
        });
        assert_eq!(row(&pod)[2..4], [json!("Init:CrashLoopBackOff"), json!("3 (60s ago)")]);
        let mut exited = pod.clone();
        exited["status"]["initContainerStatuses"][0]["state"] = json!({"terminated": {"exitCode": 2}});
        assert_eq!(row(&exited)[2], json!("Init:ExitCode:2"));
    }

    #[test]
    fn a_running_sidecar_counts_toward_readiness() {
        let pod = json!({
            "metadata": {"name": "p"},
            "spec": {"initContainers": [{"name": "proxy", "restartPolicy": "Always"}], "containers": [{"name": "app"}]},
            "status": {
                "phase": "Running",
                "conditions": [{"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}],
                "initContainerStatuses": [{"name": "proxy", "ready": true, "started": true, "restartCount": 1, "state": {"running": {}}}],
                "containerStatuses": [{"name": "app", "ready": true, "restartCount": 0, "state": {"running": {}}}]
            }
        });
        assert_eq!(row(&pod)[1..4], [json!("2/2"), json!("Running"), json!("1")]);
    }

    #[test]
    fn a_finished_job_pod_is_completed() {
        let pod = json!({
            "metadata": {"name": "pi-abcde"},
            "spec": {"containers": [{"name": "pi"}]},
            "status": {
                "phase": "Succeeded",
                "containerStatuses": [{"name": "pi", "ready": false, "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]
            }
        });
        assert_eq!(row(&pod)[1..3], [json!("0/1"), json!("Completed")]);
    }

    #[test]
    fn a_pod_with_one_container_done_and_one_running_is_running() {
        let mut pod = running_pod();
        pod["spec"]["containers"] = json!([{"name": "init-like"}, {"name": "app"}]);
        pod["status"]["containerStatuses"] = json!([
            {"name": "init-like", "ready": false, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
            {"name": "app", "ready": true, "state": {"running": {}}}
        ]);
        assert_eq!(row(&pod)[1..3], [json!("1/2"), json!("Running")]);
    }

    #[test]
    fn a_killed_container_without_a_reason_shows_its_signal() {
        let mut pod = running_pod();
        pod["status"]["containerStatuses"][0]["state"] = json!({"terminated": {"exitCode": 137, "signal": 9}});
        assert_eq!(row(&pod)[2], json!("Signal:9"));
    }

    #[test]
    fn a_pod_being_deleted_is_terminating() {
        let mut pod = running_pod();
        pod["metadata"]["deletionTimestamp"] = json!("2025-06-01T11:59:30Z");
        assert_eq!(row(&pod)[2], json!("Terminating"));
        pod["status"]["reason"] = json!("NodeLost");
        assert_eq!(row(&pod)[2], json!("Unknown"));
    }

    #[test]
    fn an_evicted_pod_shows_its_status_reason() {
        let pod = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a"}]}, "status": {"phase": "Failed", "reason": "Evicted"}});
        assert_eq!(row(&pod)[2], json!("Evicted"));
    }

    #[test]
    fn a_scheduling_gated_pod_says_so() {
        let pod = json!({
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "a"}], "schedulingGates": [{"name": "example.com/quota"}]},
            "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]}
        });
        assert_eq!(row(&pod)[2], json!("SchedulingGated"));
    }

    #[test]
    fn readiness_gates_count_the_true_conditions() {
        let mut pod = running_pod();
        pod["spec"]["readinessGates"] =
            json!([{"conditionType": "example.com/lb"}, {"conditionType": "example.com/dns"}]);
        pod["status"]["conditions"] = json!([{"type": "example.com/lb", "status": "True"}]);
        assert_eq!(row(&pod)[8], json!("1/2"));
    }
}
