//! Startup, liveness and readiness probes (the kubelet's prober): one task per running
//! container and probe kind; exec via CRI ExecSync, httpGet, tcpSocket (and grpc, the standard
//! health protocol). Results wake the pod's worker, which acts on them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Container, Pod, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use tokio::sync::mpsc;

use crate::cri::Cri;
use crate::pod_actions::KillReason;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProbeKind {
    Startup,
    Liveness,
    Readiness,
}

impl ProbeKind {
    fn name(self) -> &'static str {
        match self {
            ProbeKind::Startup => "Startup",
            ProbeKind::Liveness => "Liveness",
            ProbeKind::Readiness => "Readiness",
        }
    }
}

/// Probe results by container ID, read by the pod worker at each sync.
#[derive(Clone, Debug, Default)]
pub struct Results {
    pub ready: HashMap<String, bool>,
    pub started: HashMap<String, bool>,
    pub unhealthy: HashMap<String, KillReason>,
}

/// Counts consecutive outcomes against a probe's thresholds.
#[derive(Clone, Debug, Default)]
pub struct Counter {
    successes: i32,
    failures: i32,
}

/// What a run of results means once thresholds are applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Success,
    Failure,
    Undecided,
}

impl Counter {
    pub fn record(&mut self, ok: bool, probe: &Probe) -> Verdict {
        if ok {
            self.successes += 1;
            self.failures = 0;
        } else {
            self.failures += 1;
            self.successes = 0;
        }
        let success_threshold = probe.success_threshold.unwrap_or(1).max(1);
        let failure_threshold = probe.failure_threshold.unwrap_or(3).max(1);
        if self.successes >= success_threshold {
            Verdict::Success
        } else if self.failures >= failure_threshold {
            Verdict::Failure
        } else {
            Verdict::Undecided
        }
    }
}

pub struct Manager {
    cri: Cri,
    results: Mutex<Results>,
    tasks: Mutex<HashMap<(String, ProbeKind), tokio::task::JoinHandle<()>>>,
    wake: mpsc::UnboundedSender<String>,
    recorder: crate::events::Recorder,
}

fn probe_of(c: &Container, kind: ProbeKind) -> Option<&Probe> {
    match kind {
        ProbeKind::Startup => c.startup_probe.as_ref(),
        ProbeKind::Liveness => c.liveness_probe.as_ref(),
        ProbeKind::Readiness => c.readiness_probe.as_ref(),
    }
}

impl Manager {
    pub fn new(cri: Cri, wake: mpsc::UnboundedSender<String>, recorder: crate::events::Recorder) -> Arc<Manager> {
        Arc::new(Manager { cri, results: Mutex::default(), tasks: Mutex::default(), wake, recorder })
    }

    pub fn results(&self) -> Results {
        self.results.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Starts the probe tasks of each running container (`running`: name -> container ID) and
    /// stops those of containers no longer running.
    pub fn sync(self: &Arc<Self>, pod: &Arc<Pod>, running: &HashMap<String, String>, pod_ip: &str) {
        let Ok(mut tasks) = self.tasks.lock() else { return };
        let live: Vec<&String> = running.values().collect();
        tasks.retain(|(id, _), t| {
            let keep = live.contains(&id) && !t.is_finished();
            if !keep {
                t.abort();
            }
            keep
        });
        let spec = pod.spec.clone().unwrap_or_default();
        for c in spec.containers.iter() {
            let Some(id) = running.get(&c.name) else { continue };
            for kind in [ProbeKind::Startup, ProbeKind::Liveness, ProbeKind::Readiness] {
                let key = (id.clone(), kind);
                if probe_of(c, kind).is_none() || tasks.contains_key(&key) {
                    continue;
                }
                let task = Task {
                    manager: self.clone(),
                    pod: pod.clone(),
                    container: c.clone(),
                    id: id.clone(),
                    kind,
                    pod_ip: pod_ip.into(),
                };
                tasks.insert(key, tokio::spawn(task.run()));
            }
        }
    }

    /// Forgets a container's probes and results (it is gone).
    pub fn forget(&self, ids: &[String]) {
        if let Ok(mut r) = self.results.lock() {
            for id in ids {
                r.ready.remove(id);
                r.started.remove(id);
                r.unhealthy.remove(id);
            }
        }
    }

    fn set(&self, uid: &str, f: impl FnOnce(&mut Results) -> bool) {
        let changed = self.results.lock().map(|mut r| f(&mut r)).unwrap_or(false);
        if changed {
            let _ = self.wake.send(uid.to_string());
        }
    }

    fn started(&self, id: &str) -> bool {
        self.results.lock().map(|r| r.started.get(id).copied().unwrap_or(false)).unwrap_or(false)
    }
}

struct Task {
    manager: Arc<Manager>,
    pod: Arc<Pod>,
    container: Container,
    id: String,
    kind: ProbeKind,
    pod_ip: String,
}

impl Task {
    async fn run(self) {
        let Some(probe) = probe_of(&self.container, self.kind).cloned() else { return };
        let uid = self.pod.metadata.uid.clone().unwrap_or_default();
        let has_startup = self.container.startup_probe.is_some();
        tokio::time::sleep(Duration::from_secs(probe.initial_delay_seconds.unwrap_or(0).max(0) as u64)).await;
        let period = Duration::from_secs(probe.period_seconds.unwrap_or(10).max(1) as u64);
        let mut counter = Counter::default();
        loop {
            let waiting_for_startup = self.kind != ProbeKind::Startup && has_startup && !self.manager.started(&self.id);
            if !waiting_for_startup {
                let (ok, output) = run_probe(&self.manager.cri, &probe, &self.container, &self.id, &self.pod_ip).await;
                if !ok {
                    let msg = format!("{} probe failed: {}", self.kind.name(), output.trim());
                    self.manager.recorder.pod(
                        &self.pod,
                        Some(&self.container.name),
                        crate::events::WARNING,
                        "Unhealthy",
                        msg,
                    );
                }
                if self.apply(&uid, counter.record(ok, &probe)) {
                    return;
                }
            }
            tokio::time::sleep(period).await;
        }
    }

    /// Records a verdict; true when this probe task is done (startup passed, or a kill is due).
    fn apply(&self, uid: &str, verdict: Verdict) -> bool {
        let id = self.id.clone();
        match (self.kind, verdict) {
            (_, Verdict::Undecided) => false,
            (ProbeKind::Readiness, v) => {
                let ready = v == Verdict::Success;
                self.manager.set(uid, |r| r.ready.insert(id, ready) != Some(ready));
                false
            }
            (ProbeKind::Startup, Verdict::Success) => {
                self.manager.set(uid, |r| r.started.insert(id, true) != Some(true));
                true
            }
            (ProbeKind::Startup, Verdict::Failure) => {
                self.manager.set(uid, |r| r.unhealthy.insert(id, KillReason::FailedStartup).is_none());
                true
            }
            (ProbeKind::Liveness, Verdict::Success) => false,
            (ProbeKind::Liveness, Verdict::Failure) => {
                self.manager.set(uid, |r| r.unhealthy.insert(id, KillReason::FailedLiveness).is_none());
                true
            }
        }
    }
}

/// A named port of the container, or a number.
pub fn resolve_port(port: &IntOrString, c: &Container) -> Option<u16> {
    match port {
        IntOrString::Int(n) => u16::try_from(*n).ok(),
        IntOrString::String(name) => c
            .ports
            .iter()
            .flatten()
            .find(|p| p.name.as_deref() == Some(name.as_str()))
            .and_then(|p| u16::try_from(p.container_port).ok()),
    }
}

/// Runs one probe: (success, output for the event).
pub async fn run_probe(cri: &Cri, p: &Probe, c: &Container, id: &str, pod_ip: &str) -> (bool, String) {
    let timeout = Duration::from_secs(p.timeout_seconds.unwrap_or(1).max(1) as u64);
    if let Some(e) = &p.exec {
        return match cri.exec_sync(id, e.command.clone().unwrap_or_default(), timeout).await {
            Ok(r) => (r.exit_code == 0, String::from_utf8_lossy(&[r.stdout, r.stderr].concat()).into_owned()),
            Err(e) => (false, e.to_string()),
        };
    }
    if let Some(h) = &p.http_get {
        let host = h.host.clone().filter(|h| !h.is_empty()).unwrap_or_else(|| pod_ip.into());
        let Some(port) = resolve_port(&h.port, c) else { return (false, "unknown port".into()) };
        let path = h.path.clone().unwrap_or_else(|| "/".into());
        let headers: Vec<(String, String)> =
            h.http_headers.iter().flatten().map(|x| (x.name.clone(), x.value.clone())).collect();
        return crate::http_probe::get(&host, port, &path, &headers, timeout).await;
    }
    if let Some(g) = &p.grpc {
        let Ok(port) = u16::try_from(g.port) else { return (false, "bad port".into()) };
        return crate::grpc_probe::check(pod_ip, port, g.service.as_deref().unwrap_or(""), timeout).await;
    }
    let port = p.tcp_socket.as_ref().and_then(|t| resolve_port(&t.port, c));
    let host =
        p.tcp_socket.as_ref().and_then(|t| t.host.clone()).filter(|h| !h.is_empty()).unwrap_or_else(|| pod_ip.into());
    match port {
        Some(port) => {
            match tokio::time::timeout(timeout, tokio::net::TcpStream::connect((host.as_str(), port))).await {
                Ok(Ok(_)) => (true, String::new()),
                Ok(Err(e)) => (false, format!("dial tcp {host}:{port}: {e}")),
                Err(_) => (false, format!("dial tcp {host}:{port}: i/o timeout")),
            }
        }
        None => (true, String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(success: i32, failure: i32) -> Probe {
        Probe { success_threshold: Some(success), failure_threshold: Some(failure), ..Default::default() }
    }

    #[test]
    fn a_probe_fails_only_after_failure_threshold_consecutive_failures() {
        let p = probe(1, 3);
        let mut c = Counter::default();
        assert_eq!(c.record(false, &p), Verdict::Undecided);
        assert_eq!(c.record(false, &p), Verdict::Undecided);
        assert_eq!(c.record(false, &p), Verdict::Failure);
    }

    #[test]
    fn a_success_resets_the_failure_count() {
        let p = probe(1, 2);
        let mut c = Counter::default();
        c.record(false, &p);
        assert_eq!(c.record(true, &p), Verdict::Success);
        assert_eq!(c.record(false, &p), Verdict::Undecided);
    }

    #[test]
    fn a_named_port_resolves_to_the_containers_port() {
        let c: Container = serde_json::from_value(
            serde_json::json!({"name": "c", "ports": [{"name": "http", "containerPort": 8080}]}),
        )
        .unwrap_or_default();
        assert_eq!(resolve_port(&IntOrString::String("http".into()), &c), Some(8080));
        assert_eq!(resolve_port(&IntOrString::Int(81), &c), Some(81));
    }
}
