//! End-to-end: the real `minik8s server` (its controller manager included) driven by the real
//! kubectl: endpoints, namespace deletion, garbage collection, service accounts and the root
//! CA, node IPAM and node lifecycle. The binary is `$MINIK8S_BIN`, else the workspace's
//! debug build (`cargo build -p minik8s` first); without it the tests say so and pass.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const KUBECTL: &str = "/usr/bin/kubectl";

fn binary() -> Option<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        std::env::var_os("MINIK8S_BIN").map(PathBuf::from),
        std::env::var_os("CARGO_TARGET_DIR").map(|d| PathBuf::from(d).join("debug/minik8s")),
        Some(manifest.join("../target/debug/minik8s")),
    ];
    candidates.into_iter().flatten().find(|p| p.exists())
}

/// A server on a free port with its own data dir; dropped, it is killed by PID.
struct Cluster {
    child: Child,
    dir: PathBuf,
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("local addr").port()
}

impl Cluster {
    fn start() -> Option<Cluster> {
        let Some(bin) = binary() else {
            eprintln!("skipped: no minik8s binary (set MINIK8S_BIN or run `cargo build -p minik8s`)");
            return None;
        };
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("minik8s-infra-{}-{port}", std::process::id()));
        let mut child = Command::new(bin)
            .args(["server", "--disable-agent", "--disable-scheduler", "--bind-address", "127.0.0.1"])
            .args(["--https-listen-port", &port.to_string()])
            .arg("--data-dir")
            .arg(&dir)
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn minik8s");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("controller manager started") {
                    let _ = tx.send(());
                }
                eprintln!("[minik8s] {line}");
            }
        });
        rx.recv_timeout(Duration::from_secs(30)).expect("the controller manager starts within 30 s");
        Some(Cluster { child, dir })
    }

    fn kubectl(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = Command::new(KUBECTL);
        cmd.args(args).env("KUBECONFIG", self.dir.join("kubeconfig.yaml")).env_remove("KUBERNETES_SERVICE_HOST");
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("run kubectl");
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(input.as_bytes()).expect("write kubectl stdin");
        }
        child.wait_with_output().expect("kubectl output")
    }

    /// Runs kubectl, failing the test with its stderr if it fails; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        self.ok_with(args, None)
    }

    fn ok_with(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.kubectl(args, stdin);
        assert!(out.status.success(), "kubectl {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn apply(&self, yaml: &str) {
        self.ok_with(&["apply", "-f", "-"], Some(yaml));
    }

    /// Polls `kubectl args` until its stdout satisfies `want`; fails after `limit`.
    fn until(&self, args: &[&str], limit: Duration, want: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let out = self.kubectl(args, None);
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            if out.status.success() && want(&text) {
                return text;
            }
            assert!(Instant::now() < deadline, "kubectl {args:?} never got there; last output: {text}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn set_pod_status(&self, name: &str, ip: &str, ready: bool) {
        let status = format!(
            r#"{{"status":{{"phase":"Running","podIP":"{ip}","podIPs":[{{"ip":"{ip}"}}],"conditions":[{{"type":"Ready","status":"{}"}}]}}}}"#,
            if ready { "True" } else { "False" }
        );
        self.ok(&["patch", "pod", name, "--subresource=status", "--type=merge", "-p", &status]);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const SHORT: Duration = Duration::from_secs(15);

const WEB: &str = r#"
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: web}]
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, labels: {app: web}}
spec:
  containers: [{name: c, image: nginx, ports: [{name: web, containerPort: 8080}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: web-2, labels: {app: web}}
spec:
  containers: [{name: c, image: nginx, ports: [{name: web, containerPort: 9090}]}]
"#;

#[test]
fn endpoints_and_slices_list_ready_and_not_ready_pods_on_their_named_ports() {
    let Some(c) = Cluster::start() else { return };
    c.apply(WEB);
    c.until(&["get", "endpointslices", "-l", "kubernetes.io/service-name=web", "-o", "name"], SHORT, |o| !o.is_empty());
    c.set_pod_status("web-1", "10.233.64.5", true);
    c.set_pod_status("web-2", "10.233.64.6", false);
    let ready = "{.subsets[*].addresses[*].ip}:{.subsets[*].notReadyAddresses[*].ip}";
    c.until(&["get", "endpoints", "web", "-o", &format!("jsonpath={ready}")], SHORT, |o| {
        o == "10.233.64.5:10.233.64.6"
    });
    let slices =
        "{range .items[*]}{.endpoints[0].addresses[0]}={.ports[0].port},{.endpoints[0].conditions.ready};{end}";
    let out = c.until(
        &["get", "endpointslices", "-l", "kubernetes.io/service-name=web", "-o", &format!("jsonpath={slices}")],
        SHORT,
        |o| o.contains("10.233.64.5=8080,true") && o.contains("10.233.64.6=9090,false"),
    );
    assert_eq!(out.matches(';').count(), 2, "one slice per resolved port set: {out}");
    let described = c.ok(&["describe", "svc", "web"]);
    assert!(described.contains("10.233.64.5:8080"), "{described}");
    c.ok(&["delete", "svc", "web"]);
    c.until(&["get", "endpoints,endpointslices", "-l", "kubernetes.io/service-name=web", "-o", "name"], SHORT, |o| {
        o.trim().is_empty()
    });
    c.until(&["get", "endpoints", "-o", "name"], SHORT, |o| !o.contains("endpoints/web"));
}

#[test]
fn custom_endpoints_of_a_selectorless_service_are_mirrored_into_a_slice() {
    let Some(c) = Cluster::start() else { return };
    c.apply(
        r#"
apiVersion: v1
kind: Service
metadata: {name: ext}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: ext}
subsets: [{addresses: [{ip: 10.1.0.1}], ports: [{name: http, port: 8080}]}]
"#,
    );
    let mirrored = |output: &'static str| {
        let label = "endpointslice.kubernetes.io/managed-by=endpointslicemirroring-controller.k8s.io";
        vec!["get", "endpointslices", "-l", label, "-o", output]
    };
    let jsonpath = "jsonpath={.items[*].endpoints[*].addresses[0]}";
    c.until(&mirrored(jsonpath), SHORT, |o| o == "10.1.0.1");
    c.ok(&[
        "patch",
        "endpoints",
        "ext",
        "--type=merge",
        "-p",
        r#"{"subsets":[{"addresses":[{"ip":"10.1.0.2"}],"ports":[{"name":"http","port":8080}]}]}"#,
    ]);
    c.until(&mirrored(jsonpath), SHORT, |o| o == "10.1.0.2");
    c.ok(&["delete", "endpoints", "ext"]);
    c.until(&mirrored("name"), SHORT, |o| o.trim().is_empty());
}

#[test]
fn deleting_a_namespace_deletes_its_content_and_then_the_namespace() {
    let Some(c) = Cluster::start() else { return };
    c.ok(&["create", "namespace", "x"]);
    c.ok(&["-n", "x", "create", "configmap", "a"]);
    c.ok(&["-n", "x", "create", "service", "clusterip", "s", "--tcp=80:80"]);
    c.ok(&["-n", "x", "run", "p", "--image=nginx"]);
    c.ok_with(&["delete", "namespace", "x", "--timeout=30s"], None);
    let out = c.ok(&["get", "namespaces", "-o", "name"]);
    assert!(!out.contains("namespace/x"), "{out}");
    let left = c.ok(&["get", "pods,services,configmaps", "-n", "x", "-o", "name"]);
    assert!(left.trim().is_empty(), "{left}");
}

fn owner_and_dependents(c: &Cluster, finalizer: bool) {
    c.ok(&["create", "configmap", "owner"]);
    let uid = c.ok(&["get", "configmap", "owner", "-o", "jsonpath={.metadata.uid}"]);
    for i in 1..=2 {
        let fin = if finalizer { format!("finalizers: [example.com/hold-{i}]") } else { String::new() };
        c.apply(&format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dep-{i}\n  {fin}\n  ownerReferences: [{{apiVersion: v1, kind: ConfigMap, name: owner, uid: {uid}, blockOwnerDeletion: true}}]\n"
        ));
    }
}

fn configmaps(c: &Cluster) -> String {
    c.ok(&["get", "configmaps", "-o", "jsonpath={.items[*].metadata.name}"])
}

#[test]
fn deleting_an_owner_in_the_background_deletes_its_dependents() {
    let Some(c) = Cluster::start() else { return };
    owner_and_dependents(&c, false);
    c.ok(&["delete", "configmap", "owner"]);
    c.until(&["get", "configmaps", "-o", "jsonpath={.items[*].metadata.name}"], SHORT, |o| !o.contains("dep-"));
}

#[test]
fn deleting_an_owner_in_the_foreground_waits_for_its_blocking_dependents() {
    let Some(c) = Cluster::start() else { return };
    owner_and_dependents(&c, true);
    c.ok(&["delete", "configmap", "owner", "--cascade=foreground", "--wait=false"]);
    let deleting = "{range .items[*]}{.metadata.name}={.metadata.deletionTimestamp};{end}";
    c.until(&["get", "configmaps", "-o", &format!("jsonpath={deleting}")], SHORT, |o| {
        ["dep-1=2", "dep-2=2", "owner=2"].iter().all(|w| o.contains(w))
    });
    c.ok(&["patch", "configmap", "dep-1", "--type=json", "-p", r#"[{"op":"remove","path":"/metadata/finalizers"}]"#]);
    std::thread::sleep(Duration::from_secs(1));
    assert!(configmaps(&c).contains("owner"), "the owner waits for dep-2");
    c.ok(&["patch", "configmap", "dep-2", "--type=json", "-p", r#"[{"op":"remove","path":"/metadata/finalizers"}]"#]);
    c.until(&["get", "configmaps", "-o", "jsonpath={.items[*].metadata.name}"], SHORT, |o| !o.contains("owner"));
}

#[test]
fn deleting_an_owner_with_orphan_propagation_keeps_its_dependents_without_the_reference() {
    let Some(c) = Cluster::start() else { return };
    owner_and_dependents(&c, false);
    c.ok(&["delete", "configmap", "owner", "--cascade=orphan"]);
    let refs = "{range .items[*]}{.metadata.name}:{.metadata.ownerReferences};{end}";
    let out = c.until(&["get", "configmaps", "-o", &format!("jsonpath={refs}")], SHORT, |o| !o.contains("owner:"));
    assert!(out.contains("dep-1:;") && out.contains("dep-2:;"), "{out}");
}

#[test]
fn deleting_a_deployment_removes_its_replicasets_and_pods() {
    let Some(c) = Cluster::start() else { return };
    c.ok(&["create", "deployment", "d", "--image=nginx", "--replicas=2"]);
    c.until(&["get", "pods", "-o", "name"], SHORT, |o| o.lines().count() == 2);
    c.ok(&["delete", "deployment", "d"]);
    c.until(&["get", "replicasets,pods", "-o", "name"], SHORT, |o| o.trim().is_empty());
}

#[test]
fn every_namespace_gets_a_default_service_account_and_the_root_ca() {
    let Some(c) = Cluster::start() else { return };
    c.ok(&["create", "namespace", "team"]);
    c.until(&["-n", "team", "get", "serviceaccounts", "-o", "name"], SHORT, |o| o.contains("serviceaccount/default"));
    let ca = c.until(
        &["-n", "team", "get", "configmap", "kube-root-ca.crt", "-o", "jsonpath={.data.ca\\.crt}"],
        SHORT,
        |o| o.contains("BEGIN CERTIFICATE"),
    );
    c.ok(&["-n", "team", "delete", "serviceaccount", "default"]);
    c.until(&["-n", "team", "get", "serviceaccounts", "-o", "name"], SHORT, |o| o.contains("serviceaccount/default"));
    c.ok(&[
        "-n",
        "team",
        "patch",
        "configmap",
        "kube-root-ca.crt",
        "--type=merge",
        "-p",
        r#"{"data":{"ca.crt":"junk"}}"#,
    ]);
    c.until(&["-n", "team", "get", "configmap", "kube-root-ca.crt", "-o", "jsonpath={.data.ca\\.crt}"], SHORT, |o| {
        o == ca
    });
}

#[test]
fn nodes_get_distinct_pod_cidrs_and_a_silent_node_becomes_unreachable() {
    let Some(c) = Cluster::start() else { return };
    c.apply(
        "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n---\napiVersion: v1\nkind: Node\nmetadata: {name: n2}\n",
    );
    let cidrs =
        c.until(&["get", "nodes", "-o", "jsonpath={.items[*].spec.podCIDR}"], SHORT, |o| o.split(' ').count() == 2);
    assert_eq!(cidrs, "10.233.64.0/24 10.233.65.0/24");
    // No kubelet ever renews these nodes' Leases: after the grace period (40 s by default)
    // they are Unknown and tainted unreachable.
    let taints = "{range .items[*]}{.spec.taints[*].key}:{.spec.taints[*].effect};{end}";
    let out = c.until(&["get", "nodes", "-o", &format!("jsonpath={taints}")], Duration::from_secs(70), |o| {
        o.matches("node.kubernetes.io/unreachable node.kubernetes.io/unreachable:NoSchedule NoExecute").count() == 2
    });
    assert!(!out.is_empty());
    let reason = c.ok(&["get", "node", "n1", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].reason}"]);
    assert_eq!(reason, "NodeStatusNeverUpdated");
}
