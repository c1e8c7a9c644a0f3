//! End to end: the real `minik8s server` binary (API only), this crate's kubelet in-process
//! with its own supervised containerd, the offline images from images/build.sh, and the real
//! kubectl. A busybox pod reaches Running, answers on its pod IP, logs and exec work, and its
//! deletion leaves no sandbox behind. Skipped (with the reason) when not root or when
//! containerd, the CNI plugins, kubectl or the minik8s binary are missing.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const KUBECTL: &str = "/usr/bin/kubectl";
const TOKEN: &str = "kubelet-e2e-token";

fn minik8s_binary() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("MINIK8S_BIN") {
        return Some(PathBuf::from(p));
    }
    let exe = std::env::current_exe().ok()?;
    let p = exe.parent()?.parent()?.join("minik8s");
    p.exists().then_some(p)
}

fn skip_reason() -> Option<String> {
    if !rustix::process::geteuid().is_root() {
        return Some("not root".into());
    }
    for (path, what) in [
        ("/usr/bin/containerd", "containerd"),
        ("/usr/sbin/runc", "runc"),
        ("/usr/lib/cni/bridge", "containernetworking-plugins"),
        (KUBECTL, "kubectl"),
    ] {
        if !Path::new(path).exists() {
            return Some(format!("{what} is not installed ({path})"));
        }
    }
    if minik8s_binary().is_none() {
        return Some("the minik8s binary is not built (cargo build -p minik8s, or set MINIK8S_BIN)".into());
    }
    None
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    l.local_addr().map(|a| a.port()).unwrap_or_else(|e| panic!("{e}"))
}

/// The API server process; killed by PID on drop.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_server(dir: &Path, port: u16) -> Server {
    let mut child = Command::new(minik8s_binary().unwrap_or_default())
        .args(["server", "--disable-agent", "--bind-address", "127.0.0.1", "--token", TOKEN])
        .arg("--https-listen-port")
        .arg(port.to_string())
        .arg("--data-dir")
        .arg(dir)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn minik8s: {e}"));
    let stderr = child.stderr.take().unwrap_or_else(|| panic!("stderr"));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("API server ready") {
                let _ = tx.send(());
            }
            eprintln!("[minik8s] {line}");
        }
    });
    rx.recv_timeout(Duration::from_secs(30)).unwrap_or_else(|_| panic!("the API server says it is ready within 30 s"));
    Server(child)
}

fn kubectl(kubeconfig: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(KUBECTL)
        .env("KUBECONFIG", kubeconfig)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("kubectl: {e}"));
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// Polls `kubectl args` until its output satisfies `ok` or the time is up.
fn wait_for(kubeconfig: &Path, args: &[&str], what: &str, within: Duration, ok: impl Fn(&str) -> bool) -> String {
    let started = Instant::now();
    loop {
        let (_, out) = kubectl(kubeconfig, args);
        if ok(&out) {
            return out;
        }
        assert!(started.elapsed() < within, "waited {within:?} for {what}; last output: {out}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn build_images(data: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../images/build.sh");
    let out = Command::new("bash")
        .arg(script)
        .arg(data.join("agent/images"))
        .output()
        .unwrap_or_else(|e| panic!("images/build.sh: {e}"));
    assert!(out.status.success(), "images/build.sh failed: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_busybox_pod_runs_answers_on_its_ip_logs_execs_and_is_cleaned_up() {
    if let Some(reason) = skip_reason() {
        eprintln!("skipping the kubelet e2e test: {reason}");
        return;
    }
    let data = PathBuf::from(format!("/tmp/kl-e2e-{}", std::process::id()));
    build_images(&data);
    let _server = start_server(&data, free_port());
    let kubeconfig = data.join("kubeconfig.yaml");
    let runtime = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    let node = format!("e2e-{}", std::process::id());
    let mut config = kubelet::Config::for_node(&node, data.clone());
    config.server_token = TOKEN.into();
    config.kubelet_port = free_port();
    let kc = kube::config::Kubeconfig::read_from(&kubeconfig).unwrap_or_else(|e| panic!("{e}"));
    let client = runtime.block_on(async {
        let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default()).await.unwrap_or_else(|e| panic!("{e}"));
        kube::Client::try_from(cfg).unwrap_or_else(|e| panic!("{e}"))
    });
    let agent = runtime.spawn(kubelet::run(client, config));

    let ready = "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}";
    wait_for(&kubeconfig, &["get", "node", &node, "-o", ready], "the node to be Ready", Duration::from_secs(60), |o| {
        o == "True"
    });

    let overrides = format!("{{\"spec\":{{\"nodeName\":\"{node}\"}}}}");
    let (ok, out) = kubectl(
        &kubeconfig,
        &[
            "run",
            "bb",
            "--image=busybox",
            "--restart=Never",
            "--overrides",
            &overrides,
            "--",
            "sh",
            "-c",
            "echo hi; httpd -f -p 8080",
        ],
    );
    assert!(ok, "kubectl run: {out}");
    let phase = wait_for(
        &kubeconfig,
        &["get", "pod", "bb", "-o", "jsonpath={.status.phase} {.status.podIP}"],
        "bb to run",
        Duration::from_secs(60),
        |o| o.starts_with("Running "),
    );
    let ip = phase.trim_start_matches("Running ").trim().to_string();
    let reach = std::net::TcpStream::connect_timeout(
        &format!("{ip}:8080").parse().unwrap_or_else(|e| panic!("{e}")),
        Duration::from_secs(5),
    );
    assert!(reach.is_ok(), "the pod answers on {ip}:8080 from the host: {reach:?}");

    wait_for(&kubeconfig, &["logs", "bb"], "the pod's log", Duration::from_secs(10), |o| o == "hi\n");
    let (ok, out) = kubectl(&kubeconfig, &["exec", "bb", "--", "sh", "-c", "echo exec-$((20+22))"]);
    assert!(ok && out.contains("exec-42"), "kubectl exec: {out}");

    let (ok, out) = kubectl(&kubeconfig, &["delete", "pod", "bb", "--grace-period=1"]);
    assert!(ok, "kubectl delete: {out}");
    wait_for(&kubeconfig, &["get", "pods", "-o", "name"], "bb to go", Duration::from_secs(30), |o| {
        !o.contains("pod/bb")
    });
    let socket = data.join("agent/containerd/containerd.sock");
    let left = runtime.block_on(async {
        let cri = kubelet::cri::Cri::connect(&socket).unwrap_or_else(|e| panic!("{e}"));
        cri.list_pod_sandboxes(Default::default()).await.unwrap_or_else(|e| panic!("{e}"))
    });
    assert!(left.is_empty(), "no sandbox is left after the delete: {left:?}");

    agent.abort();
    drop(runtime); // drops the supervised containerd child (killed on drop)
    let _ = std::fs::remove_dir_all(&data);
}
