//! The scheduler inside a real `minik8s server` (no agent, no controllers), driven over the API:
//! nodes and pods created by hand get bound, events and conditions read as kube-scheduler's.
//!
//! Needs the binary: `CARGO_TARGET_DIR=/work/target-scheduler cargo build -p minik8s`, then
//! `CARGO_TARGET_DIR=/work/target-scheduler cargo test -p scheduler --test server -- --ignored`
//! (or MINIK8S_BIN=/path/to/minik8s).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Event, Node, Pod};
use kube::Client;
use kube::api::{Api, ListParams, PostParams};
use kube::runtime::wait::await_condition;
use serde_json::json;

struct Server {
    child: Child,
    dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn binary() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("MINIK8S_BIN") {
        return Some(PathBuf::from(path));
    }
    let target =
        std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../target").into());
    let path = PathBuf::from(target).join("debug/minik8s");
    path.exists().then_some(path)
}

fn start(binary: PathBuf) -> Server {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("free port").local_addr().expect("addr").port();
    let mut child = Command::new(binary)
        .args(["server", "--disable-agent", "--disable-controller-manager", "--bind-address", "127.0.0.1"])
        .arg("--https-listen-port")
        .arg(port.to_string())
        .arg("--data-dir")
        .arg(dir.path())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn minik8s");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("scheduler started") {
                let _ = tx.send(());
            }
            eprintln!("[minik8s] {line}");
        }
    });
    rx.recv_timeout(Duration::from_secs(60)).expect("the server starts the scheduler within 60 s");
    Server { child, dir }
}

async fn client(server: &Server) -> Client {
    let kubeconfig =
        kube::config::Kubeconfig::read_from(server.dir.path().join("kubeconfig.yaml")).expect("kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default()).await.expect("config");
    Client::try_from(config).expect("client")
}

fn node(name: &str, cpu: &str, taint: Option<&str>) -> Node {
    let mut node = json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "spec": {},
        "status": {
            "allocatable": {"cpu": cpu, "memory": "8Gi", "pods": "110"},
            "capacity": {"cpu": cpu, "memory": "8Gi", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "hollow"}]
        }
    });
    if let Some(key) = taint {
        node["spec"]["taints"] = json!([{"key": key, "effect": "NoSchedule"}]);
    }
    serde_json::from_value(node).expect("node")
}

fn pod(name: &str, cpu: &str, tolerate: Option<&str>) -> Pod {
    let mut pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"containers": [{"name": "app", "image": "nginx", "resources": {"requests": {"cpu": cpu}}}]}
    });
    if let Some(key) = tolerate {
        pod["spec"]["tolerations"] = json!([{"key": key, "operator": "Exists", "effect": "NoSchedule"}]);
    }
    serde_json::from_value(pod).expect("pod")
}

async fn bound_to(pods: &Api<Pod>, name: &str) -> String {
    let bound = |p: Option<&Pod>| p.and_then(|p| p.spec.as_ref()).and_then(|s| s.node_name.as_ref()).is_some();
    let pod = tokio::time::timeout(Duration::from_secs(30), await_condition(pods.clone(), name, bound))
        .await
        .expect("bound within 30 s")
        .expect("watch")
        .expect("pod exists");
    pod.spec.and_then(|s| s.node_name).expect("node name")
}

async fn event_for(events: &Api<Event>, pod: &str, reason: &str) -> Event {
    for _ in 0..100 {
        let list = events.list(&ListParams::default()).await.expect("list events");
        let found = list
            .items
            .into_iter()
            .find(|e| e.involved_object.name.as_deref() == Some(pod) && e.reason.as_deref() == Some(reason));
        if let Some(event) = found {
            return event;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("no {reason} event for {pod}");
}

const MASTER: &str = "node-role.kubernetes.io/master";

#[tokio::test]
#[ignore = "needs the minik8s binary; see the file's doc"]
async fn pods_created_by_hand_are_bound_and_failures_read_as_kube_schedulers() {
    let Some(binary) = binary() else {
        eprintln!("skipping: no minik8s binary (build it or set MINIK8S_BIN)");
        return;
    };
    let server = start(binary);
    let client = client(&server).await;
    let nodes: Api<Node> = Api::all(client.clone());
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let events: Api<Event> = Api::namespaced(client.clone(), "default");
    let pp = PostParams::default();
    for n in [node("worker", "1", None), node("master1", "4", Some(MASTER)), node("master2", "4", Some(MASTER))] {
        nodes.create(&pp, &n).await.expect("create node");
    }

    pods.create(&pp, &pod("web", "100m", None)).await.expect("create web");
    assert_eq!(bound_to(&pods, "web").await, "worker");
    let scheduled = event_for(&events, "web", "Scheduled").await;
    assert_eq!(scheduled.message.as_deref(), Some("Successfully assigned default/web to worker"));
    assert_eq!(scheduled.source.and_then(|s| s.component).as_deref(), Some("default-scheduler"));

    pods.create(&pp, &pod("ds", "100m", Some(MASTER))).await.expect("create ds");
    let placed = bound_to(&pods, "ds").await;
    assert!(placed.starts_with("master"), "the tolerating pod prefers an emptier master: {placed}");

    pods.create(&pp, &pod("big", "2", None)).await.expect("create big");
    let failed = event_for(&events, "big", "FailedScheduling").await;
    let message = "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {node-role.kubernetes.io/master: }. \
                   preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, \
                   2 Preemption is not helpful for scheduling.";
    assert_eq!(failed.message.as_deref(), Some(message));
    assert_eq!(failed.type_.as_deref(), Some("Warning"));
    let mut condition = None;
    for _ in 0..50 {
        let big = pods.get("big").await.expect("get big");
        condition =
            big.status.and_then(|s| s.conditions).and_then(|c| c.into_iter().find(|c| c.type_ == "PodScheduled"));
        if condition.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let condition = condition.expect("PodScheduled condition");
    assert_eq!((condition.status.as_str(), condition.reason.as_deref()), ("False", Some("Unschedulable")));
    assert_eq!(condition.message.as_deref(), Some(message));

    // A new node with room wakes the parked pod: no polling, an event.
    nodes.create(&pp, &node("large", "4", None)).await.expect("create large");
    assert_eq!(bound_to(&pods, "big").await, "large");
}

#[tokio::test]
#[ignore = "needs the minik8s binary; see the file's doc"]
async fn a_burst_of_pods_does_not_overcommit_a_node() {
    let Some(binary) = binary() else {
        eprintln!("skipping: no minik8s binary (build it or set MINIK8S_BIN)");
        return;
    };
    let server = start(binary);
    let client = client(&server).await;
    let nodes: Api<Node> = Api::all(client.clone());
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let pp = PostParams::default();
    nodes.create(&pp, &node("a", "1", None)).await.expect("node a");
    nodes.create(&pp, &node("b", "1", None)).await.expect("node b");
    for i in 0..6 {
        pods.create(&pp, &pod(&format!("p{i}"), "300m", None)).await.expect("create pod");
    }
    let mut on_a = 0;
    let mut on_b = 0;
    for i in 0..6 {
        match bound_to(&pods, &format!("p{i}")).await.as_str() {
            "a" => on_a += 1,
            _ => on_b += 1,
        }
    }
    assert_eq!((on_a, on_b), (3, 3), "three 300m pods fit per 1-cpu node");
    pods.create(&pp, &pod("p6", "300m", None)).await.expect("create p6");
    let events: Api<Event> = Api::namespaced(client, "default");
    let failed = event_for(&events, "p6", "FailedScheduling").await;
    assert!(failed.message.unwrap_or_default().starts_with("0/2 nodes are available: 2 Insufficient cpu."));
}

#[tokio::test]
#[ignore = "needs the minik8s binary; see the file's doc"]
async fn a_thousand_pods_on_a_hundred_nodes_bind_and_report_throughput() {
    use futures::{StreamExt, TryStreamExt};
    use kube::runtime::{WatchStreamExt, watcher};

    let Some(binary) = binary() else {
        eprintln!("skipping: no minik8s binary (build it or set MINIK8S_BIN)");
        return;
    };
    let server = start(binary);
    let client = client(&server).await;
    let nodes: Api<Node> = Api::all(client.clone());
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let pp = PostParams::default();
    for i in 0..100 {
        nodes.create(&pp, &node(&format!("hollow-{i:03}"), "32", None)).await.expect("node");
    }
    let count = 1000;
    let started = std::time::Instant::now();
    let watching = {
        let pods = pods.clone();
        tokio::spawn(async move {
            let mut bound = std::collections::HashSet::new();
            let mut stream = std::pin::pin!(watcher(pods, watcher::Config::default()).applied_objects());
            while let Some(pod) = stream.try_next().await.expect("watch") {
                if pod.spec.and_then(|s| s.node_name).is_some() {
                    bound.insert(pod.metadata.name.unwrap_or_default());
                    if bound.len() == count {
                        return;
                    }
                }
            }
        })
    };
    futures::stream::iter(0..count)
        .map(|i| {
            let pods = pods.clone();
            async move { pods.create(&PostParams::default(), &pod(&format!("p{i}"), "100m", None)).await.map(drop) }
        })
        .buffer_unordered(32)
        .try_collect::<Vec<()>>()
        .await
        .expect("create pods");
    let created = started.elapsed();
    tokio::time::timeout(Duration::from_secs(120), watching)
        .await
        .expect("all bound within 120 s")
        .expect("watch task");
    let elapsed = started.elapsed();
    eprintln!(
        "{count} pods created in {created:.2?}, all bound after {elapsed:.2?}: {:.0} pods/s end to end (debug build)",
        count as f64 / elapsed.as_secs_f64()
    );
}
