//! The e2e harness: a real `minik8s server` process on a free port with its own data dir,
//! driven by the real kubectl. Each test gets its own cluster; Drop kills it by PID.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub const KUBECTL: &str = "/usr/bin/kubectl";

/// kubectl 1.27, the oldest version the project promises to work with.
pub fn kubectl_127() -> Option<PathBuf> {
    let p = PathBuf::from("/usr/lib/google-cloud-sdk/bin/kubectl.1.27");
    p.exists().then_some(p)
}

pub struct Cluster {
    child: Option<Child>,
    pub dir: tempfile::TempDir,
    pub port: u16,
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("local addr").port()
}

impl Cluster {
    pub fn start() -> Cluster {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut c = Cluster { child: None, dir, port: free_port() };
        c.boot();
        c
    }

    /// Starts the server on this cluster's data dir and waits for its "ready" line.
    pub fn boot(&mut self) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_minik8s"))
            .args(["server", "--disable-agent", "--bind-address", "127.0.0.1"])
            .arg("--https-listen-port")
            .arg(self.port.to_string())
            .arg("--data-dir")
            .arg(self.dir.path())
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
                eprintln!("[minik8s] {line}");
            }
        });
        rx.recv_timeout(Duration::from_secs(30)).expect("the server says it is ready within 30 s");
        self.child = Some(child);
    }

    /// SIGKILL, as a crash would.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig.yaml")
    }

    pub fn kubectl_with(&self, bin: &Path, args: &[&str]) -> Output {
        Command::new(bin)
            .args(args)
            .env("KUBECONFIG", self.kubeconfig())
            .env_remove("KUBERNETES_SERVICE_HOST")
            .output()
            .expect("run kubectl")
    }

    pub fn kubectl(&self, args: &[&str]) -> Output {
        self.kubectl_with(Path::new(KUBECTL), args)
    }

    /// Runs kubectl and returns stdout, failing the test with stderr if it fails.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        assert!(out.status.success(), "kubectl {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs kubectl expecting failure; returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        assert!(
            !out.status.success(),
            "kubectl {args:?} should fail but printed {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    pub async fn client(&self) -> kube::Client {
        let kc = kube::config::Kubeconfig::read_from(self.kubeconfig()).expect("read kubeconfig");
        let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default()).await.expect("kube config");
        kube::Client::try_from(cfg).expect("kube client")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.kill9();
    }
}

pub fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}
