//! End to end: the real `minik8s server` (no agent, no scheduler) driven by the real
//! kubectl. Nothing runs pods here, so the tests play the kubelet: they mark pods Running
//! and Ready, Succeeded or Failed through the status subresource.
//!
//! The binary is found at $MINIK8S_BIN, else in $CARGO_TARGET_DIR or ../target; build it
//! first (`cargo build -p minik8s`). Without it the tests say so and pass vacuously.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const KUBECTL: &str = "/usr/bin/kubectl";

fn binary() -> Option<PathBuf> {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        std::env::var_os("MINIK8S_BIN").map(PathBuf::from),
        std::env::var_os("CARGO_TARGET_DIR").map(|d| PathBuf::from(d).join("debug/minik8s")),
        Some(manifest.join("../target/debug/minik8s")),
    ];
    candidates.into_iter().flatten().find(|p| p.exists())
}

struct Cluster {
    child: Child,
    dir: tempfile::TempDir,
}

impl Cluster {
    fn start() -> Option<Cluster> {
        let Some(bin) = binary() else {
            eprintln!("minik8s binary not built; skipping (cargo build -p minik8s)");
            return None;
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
        let mut child = Command::new(bin)
            .args(["server", "--disable-agent", "--disable-scheduler", "--bind-address", "127.0.0.1"])
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
                if line.contains("API server ready") {
                    let _ = tx.send(());
                }
            }
        });
        rx.recv_timeout(Duration::from_secs(30)).expect("the server says it is ready");
        Some(Cluster { child, dir })
    }

    fn run(&self, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
        let mut cmd = Command::new(KUBECTL);
        cmd.args(args)
            .env("KUBECONFIG", self.dir.path().join("kubeconfig.yaml"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("run kubectl");
        if let Some(input) = stdin {
            use std::io::Write;
            child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write stdin");
        }
        let out = child.wait_with_output().expect("kubectl output");
        let s = |b: Vec<u8>| String::from_utf8_lossy(&b).into_owned();
        (out.status.success(), s(out.stdout), s(out.stderr))
    }

    fn ok(&self, args: &[&str]) -> String {
        let (ok, out, err) = self.run(args, None);
        assert!(ok, "kubectl {args:?} failed: {err}");
        out
    }

    fn apply(&self, yaml: &str) {
        let (ok, _, err) = self.run(&["apply", "-f", "-"], Some(yaml));
        assert!(ok, "apply failed: {err}");
    }

    fn jsonpath(&self, args: &[&str], path: &str) -> String {
        let mut a = args.to_vec();
        let expr = format!("jsonpath={path}");
        a.extend(["-o", &expr]);
        self.ok(&a)
    }

    /// Pod names (namespace/name) matching a selector in a phase.
    fn pods(&self, ns: &str, selector: &str, phase: &str) -> Vec<String> {
        let path = format!("{{range .items[?(@.status.phase==\"{phase}\")]}}{{.metadata.name}}{{\" \"}}{{end}}");
        let out = self.jsonpath(&["get", "pods", "-n", ns, "-l", selector], &path);
        out.split_whitespace().map(String::from).collect()
    }

    fn set_phase(&self, ns: &str, pod: &str, phase: &str) {
        let now = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
        let ready = if phase == "Running" { "True" } else { "False" };
        let patch = format!(
            r#"{{"status":{{"phase":"{phase}","conditions":[{{"type":"Ready","status":"{ready}","lastTransitionTime":"{now}"}}]}}}}"#
        );
        let (ok, _, err) =
            self.run(&["patch", "pod", "-n", ns, pod, "--subresource=status", "--type=merge", "-p", &patch], None);
        assert!(ok || err.contains("NotFound"), "patching {pod}: {err}");
    }

    /// The kubelet's part: every Pending pod matching `selector` becomes Running and Ready.
    fn run_pending(&self, ns: &str, selector: &str) -> usize {
        let pending = self.pods(ns, selector, "Pending");
        pending.iter().for_each(|p| self.set_phase(ns, p, "Running"));
        pending.len()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `f` every 200 ms until it returns Some, for at most `secs`.
fn eventually<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

const DEPLOYMENT: &str = "
apiVersion: apps/v1
kind: Deployment
metadata: {name: mydp}
spec:
  replicas: 3
  selector: {matchLabels: {app: webui}}
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 1}}
  template:
    metadata: {labels: {app: webui}}
    spec: {containers: [{name: mycon, image: 'nginx:1.14', ports: [{containerPort: 80}]}]}
";

fn available(c: &Cluster) -> i32 {
    c.jsonpath(&["get", "deploy", "mydp"], "{.status.availableReplicas}").trim().parse().unwrap_or(0)
}

fn roll_out(c: &Cluster) {
    eventually(60, "the rollout", || {
        c.run_pending("default", "app=webui");
        c.run(&["rollout", "status", "deploy/mydp", "--timeout=1s"], None).0.then_some(())
    });
}

#[test]
fn a_deployment_rolls_out_a_new_image_within_max_unavailable_and_rolls_back() {
    let Some(c) = Cluster::start() else { return };
    c.apply(DEPLOYMENT);
    eventually(30, "three pods", || (c.pods("default", "app=webui", "Pending").len() == 3).then_some(()));
    roll_out(&c);
    assert_eq!(available(&c), 3);
    c.ok(&["set", "image", "deploy/mydp", "mycon=nginx:1.15"]);
    eventually(60, "the new image everywhere", || {
        assert!(available(&c) >= 2, "availability fell below replicas - maxUnavailable");
        c.run_pending("default", "app=webui");
        let done = c.run(&["rollout", "status", "deploy/mydp", "--timeout=1s"], None).0;
        let images = c.jsonpath(&["get", "pods", "-l", "app=webui"], "{.items[*].spec.containers[0].image}");
        (done && images.split_whitespace().all(|i| i == "nginx:1.15")).then_some(())
    });
    let history = c.ok(&["rollout", "history", "deploy/mydp"]);
    assert!(history.contains('1') && history.contains('2'), "{history}");
    assert_eq!(c.ok(&["get", "rs", "-l", "app=webui", "--no-headers"]).lines().count(), 2);
    c.ok(&["rollout", "undo", "deploy/mydp"]);
    roll_out(&c);
    let image = c.jsonpath(&["get", "deploy", "mydp"], "{.spec.template.spec.containers[0].image}");
    assert_eq!(image, "nginx:1.14");
    let rev = c.jsonpath(&["get", "deploy", "mydp"], "{.metadata.annotations.deployment\\.kubernetes\\.io/revision}");
    assert_eq!(rev, "3");
}

#[test]
fn scaling_a_replicaset_deletes_the_pods_that_are_not_ready_first() {
    let Some(c) = Cluster::start() else { return };
    c.apply(
        "
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs}
spec:
  replicas: 3
  selector: {matchLabels: {app: rs}}
  template: {metadata: {labels: {app: rs}}, spec: {containers: [{name: c, image: nginx}]}}
",
    );
    let pending = eventually(30, "three pods", || {
        let p = c.pods("default", "app=rs", "Pending");
        (p.len() == 3).then_some(p)
    });
    c.set_phase("default", &pending[0], "Running");
    c.set_phase("default", &pending[1], "Running");
    c.ok(&["scale", "rs/rs", "--replicas=2"]);
    eventually(30, "the not-ready pod to go", || (c.pods("default", "app=rs", "Pending").is_empty()).then_some(()));
    assert_eq!(c.pods("default", "app=rs", "Running").len(), 2);
}

#[test]
fn a_daemonset_runs_one_pod_per_node_including_a_tolerated_master() {
    let Some(c) = Cluster::start() else { return };
    for (name, taint) in [
        ("node1", ""),
        ("node2", ""),
        ("master", "\nspec: {taints: [{key: node-role.kubernetes.io/master, effect: NoSchedule}]}"),
    ] {
        c.apply(&format!("apiVersion: v1\nkind: Node\nmetadata: {{name: {name}}}{taint}\n"));
    }
    let fixture = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/daemonset.yaml"))
        .expect("fixture");
    c.apply(&fixture);
    let path = "{.items[*].spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].values[0]}";
    let mut nodes: Vec<String> = eventually(30, "a pod per node", || {
        let out = c.jsonpath(&["get", "pods", "-n", "kube-system"], path);
        let v: Vec<String> = out.split_whitespace().map(String::from).collect();
        (v.len() == 3).then_some(v)
    });
    nodes.sort();
    assert_eq!(nodes, ["master", "node1", "node2"]);
    eventually(30, "all ready", || {
        c.run_pending("kube-system", "name=fluentd-elasticsearch");
        let ready = c.jsonpath(&["get", "ds", "-n", "kube-system", "fluentd-elasticsearch"], "{.status.numberReady}");
        (ready == "3").then_some(())
    });
}

#[test]
fn a_statefulset_creates_ordinals_strictly_in_order_with_their_claims() {
    let Some(c) = Cluster::start() else { return };
    c.apply(
        "
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: cassandra}
spec:
  serviceName: cassandra
  replicas: 3
  selector: {matchLabels: {app: cassandra}}
  template: {metadata: {labels: {app: cassandra}}, spec: {containers: [{name: c, image: cassandra}]}}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
",
    );
    for i in 0..3 {
        let name = format!("cassandra-{i}");
        eventually(30, &name, || c.pods("default", "app=cassandra", "Pending").contains(&name).then_some(()));
        std::thread::sleep(Duration::from_millis(500));
        let all = c.jsonpath(&["get", "pods", "-l", "app=cassandra"], "{.items[*].metadata.name}");
        assert_eq!(all.split_whitespace().count(), i + 1, "no pod before its predecessor is ready: {all}");
        c.set_phase("default", &name, "Running");
    }
    let claims = c.jsonpath(&["get", "pvc"], "{.items[*].metadata.name}");
    assert_eq!(claims, "data-cassandra-0 data-cassandra-1 data-cassandra-2");
    let host = c.jsonpath(&["get", "pod", "cassandra-1"], "{.spec.hostname}.{.spec.subdomain}");
    assert_eq!(host, "cassandra-1.cassandra");
}

#[test]
fn a_job_completes_once_its_pods_succeed_and_fails_past_its_backoff_limit() {
    let Some(c) = Cluster::start() else { return };
    c.apply(
        "
apiVersion: batch/v1
kind: Job
metadata: {name: pi}
spec:
  completions: 2
  parallelism: 2
  template: {spec: {restartPolicy: Never, containers: [{name: c, image: perl}]}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: flaky}
spec:
  backoffLimit: 0
  template: {spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}
",
    );
    let pods = eventually(30, "two pi pods", || {
        let p = c.pods("default", "job-name=pi", "Pending");
        (p.len() == 2).then_some(p)
    });
    pods.iter().for_each(|p| c.set_phase("default", p, "Succeeded"));
    c.ok(&["wait", "--for=condition=complete", "job/pi", "--timeout=30s"]);
    assert_eq!(c.jsonpath(&["get", "job", "pi"], "{.status.succeeded}"), "2");
    let flaky = eventually(30, "the flaky pod", || c.pods("default", "job-name=flaky", "Pending").pop());
    c.set_phase("default", &flaky, "Failed");
    c.ok(&["wait", "--for=condition=failed", "job/flaky", "--timeout=30s"]);
    let reason = c.jsonpath(&["get", "job", "flaky"], "{.status.conditions[?(@.type==\"Failed\")].reason}");
    assert_eq!(reason, "BackoffLimitExceeded");
}
