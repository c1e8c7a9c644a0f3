//! Pod workers (the kubelet's podWorkers): one task per pod UID, fed the newest spec through a
//! watch channel (the newest spec wins; nothing queues up), woken by PLEG and probes. A sync is
//! observe (CRI) -> plan (pure) -> apply (CRI) until nothing is left to do, then one status
//! write through pods/status with a merge patch.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Pod, PodStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::watcher;
use tokio::sync::{Notify, mpsc, watch};

use crate::cri::Cri;
use crate::kuberuntime::Memory;
use crate::pod_actions::{Action, Inputs};
use crate::runtime_pod::RuntimePod;

/// Node-wide things every worker uses.
pub struct Context {
    pub client: kube::Client,
    pub cri: Cri,
    pub config: crate::Config,
    pub host_ip: String,
    pub sandbox: crate::sandbox::Settings,
    pub recorder: crate::events::Recorder,
    pub probes: Arc<crate::probes::Manager>,
    pub node_milli_cpu: i64,
    pub node_memory_bytes: i64,
}

/// A sync with nothing to do looks again after this long (the kubelet's resync period).
const RESYNC: Duration = Duration::from_secs(30);
const MAX_ROUNDS: usize = 6;

enum Outcome {
    Requeue(Duration),
    Finished,
}

fn now_ns() -> i64 {
    jiff::Timestamp::now().as_nanosecond() as i64
}

/// Reads the pod from CRI and fills in termination messages the kubelet itself keeps.
async fn observe(ctx: &Context, uid: &str, pod: Option<&Pod>) -> crate::cri::Result<RuntimePod> {
    let mut rt = crate::runtime_pod::observe(&ctx.cri, uid).await?;
    let dir = crate::volumes::pod_dir(&ctx.config.data_dir, uid);
    for c in rt.containers.iter_mut().filter(|c| c.exited() && c.message.is_empty()) {
        let path = crate::kuberuntime::termination_log_path(&dir, &c.name, c.attempt);
        let text = std::fs::read(&path)
            .map(|b| String::from_utf8_lossy(&b[..b.len().min(4096)]).into_owned())
            .unwrap_or_default();
        c.message = if text.is_empty() { fallback_message(pod, c) } else { text };
    }
    Ok(rt)
}

/// FallbackToLogsOnError: a failed container's last log lines stand in for its message.
fn fallback_message(pod: Option<&Pod>, c: &crate::runtime_pod::Container) -> String {
    let Some(pod) = pod else { return String::new() };
    let spec = pod.spec.as_ref().and_then(|s| s.containers.iter().find(|x| x.name == c.name));
    let wants = spec.and_then(|s| s.termination_message_policy.as_deref()) == Some("FallbackToLogsOnError");
    if !wants || c.exit_code == 0 {
        return String::new();
    }
    let path = crate::sandbox::log_directory(pod).join(crate::container::log_path(&c.name, c.attempt));
    crate::logs::tail_text(&path, 80, 2048)
}

async fn sync(
    ctx: &Arc<Context>,
    uid: &str,
    pod: Option<&Pod>,
    mem: &mut Memory,
    last: &mut Option<PodStatus>,
) -> Result<Outcome, crate::kuberuntime::ApplyError> {
    mem.errors.clear();
    for _ in 0..MAX_ROUNDS {
        let rt = observe(ctx, uid, pod).await?;
        remember_sandbox(&rt, mem);
        let results = ctx.probes.results();
        let inputs = Inputs {
            pod,
            runtime: &rt,
            backoff: &mem.backoff,
            pull_failures: &mem.pull_failures,
            unhealthy: &results.unhealthy,
            now_ns: now_ns(),
        };
        let plan = crate::pod_actions::plan(&inputs);
        let had_errors = !mem.errors.is_empty();
        if plan.actions.is_empty() || had_errors {
            if let Some(p) = pod {
                write_status(ctx, p, &rt, plan.waiting, mem, &results, last).await;
                crate::kuberuntime::refresh_volumes(ctx, p, mem).await;
                sync_probes(ctx, p, &rt);
            }
            let retry = if had_errors { Duration::from_secs(1) } else { RESYNC };
            return Ok(Outcome::Requeue(plan.requeue.map_or(retry, |r| r.min(retry))));
        }
        for action in &plan.actions {
            let t = std::time::Instant::now();
            if let Err(e) = crate::kuberuntime::apply(ctx, pod, &rt, action, mem).await {
                // Still say what the pod waits on (ContainerCreating) before the retry.
                if let Some(p) = pod {
                    write_status(ctx, p, &rt, plan.waiting.clone(), mem, &results, last).await;
                }
                return Err(e);
            }
            tracing::debug!(pod = uid, took = ?t.elapsed(), "{action:?}");
            if *action == Action::FinishTermination {
                return Ok(Outcome::Finished);
            }
        }
    }
    Ok(Outcome::Requeue(Duration::from_secs(1)))
}

fn remember_sandbox(rt: &RuntimePod, mem: &mut Memory) {
    mem.sandbox = rt.sandbox().filter(|s| s.ready).map(|s| (s.id.clone(), s.ip.clone().unwrap_or_default()));
}

fn sync_probes(ctx: &Arc<Context>, pod: &Pod, rt: &RuntimePod) {
    let sandbox = rt.sandbox();
    let ip = sandbox.and_then(|s| s.ip.clone()).unwrap_or_else(|| ctx.host_ip.clone());
    let running: HashMap<String, String> =
        rt.containers.iter().filter(|c| c.running()).map(|c| (c.name.clone(), c.id.clone())).collect();
    ctx.probes.sync(&Arc::new(pod.clone()), &running, &ip);
}

/// Computes the status and writes it if it changed since the last write.
async fn write_status(
    ctx: &Arc<Context>,
    pod: &Pod,
    rt: &RuntimePod,
    mut waiting: std::collections::BTreeMap<String, crate::pod_actions::Waiting>,
    mem: &Memory,
    results: &crate::probes::Results,
    last: &mut Option<PodStatus>,
) {
    for (name, w) in &mem.errors {
        waiting.insert(name.clone(), w.clone());
    }
    let mut base = pod.clone();
    if let Some(prev) = last.clone() {
        base.status = Some(prev);
    }
    let extra = crate::status::Extra {
        waiting,
        ready: Some(&results.ready),
        started: Some(&results.started),
        host_ip: ctx.host_ip.clone(),
        now: Some(Time(jiff::Timestamp::now())),
    };
    let back_offs: Vec<(String, String)> = extra
        .waiting
        .iter()
        .filter(|(_, w)| w.reason.ends_with("BackOff"))
        .map(|(n, w)| (n.clone(), w.reason.clone()))
        .collect();
    let status = crate::status::compute(&base, rt, &extra);
    if last.as_ref() == Some(&status) {
        return;
    }
    for (name, reason) in back_offs {
        record_back_off(ctx, pod, &name, &reason);
    }
    let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
    let name = pod.metadata.name.as_deref().unwrap_or_default();
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), ns);
    let patch = serde_json::json!({ "status": status });
    match api.patch_status(name, &PatchParams::default(), &Patch::Merge(&patch)).await {
        Ok(_) => *last = Some(status),
        Err(kube::Error::Api(e)) if e.code == 404 => {}
        Err(e) => tracing::warn!("writing the status of pod {ns}/{name}: {e}"),
    }
}

/// The kubelet's BackOff events, once per status change while a container waits them out.
fn record_back_off(ctx: &Context, pod: &Pod, name: &str, reason: &str) {
    let m = &pod.metadata;
    let who = format!(
        "{}_{}({})",
        m.name.as_deref().unwrap_or_default(),
        m.namespace.as_deref().unwrap_or_default(),
        m.uid.as_deref().unwrap_or_default()
    );
    let (kind, message) = match reason {
        "CrashLoopBackOff" => {
            (crate::events::WARNING, format!("Back-off restarting failed container {name} in pod {who}"))
        }
        _ => {
            let spec = pod.spec.as_ref().and_then(|s| s.containers.iter().find(|c| c.name == name));
            let image = spec.and_then(|c| c.image.clone()).unwrap_or_default();
            (crate::events::NORMAL, format!("Back-off pulling image \"{image}\""))
        }
    };
    ctx.recorder.pod(pod, Some(name), kind, "BackOff", message);
}

struct Worker {
    ctx: Arc<Context>,
    uid: String,
    pod: watch::Receiver<Option<Arc<Pod>>>,
    wake: Arc<Notify>,
}

impl Worker {
    async fn run(mut self, done: mpsc::UnboundedSender<String>) {
        let mut mem = Memory::default();
        let mut last: Option<PodStatus> = None;
        let mut error_delay = Duration::from_millis(500);
        loop {
            let pod = self.pod.borrow_and_update().clone();
            let wait = match sync(&self.ctx, &self.uid, pod.as_deref(), &mut mem, &mut last).await {
                Ok(Outcome::Finished) => break,
                Ok(Outcome::Requeue(d)) => {
                    error_delay = Duration::from_millis(500);
                    d
                }
                Err(e) => {
                    tracing::warn!("syncing pod {}: {e}", self.uid);
                    error_delay = (error_delay * 2).min(Duration::from_secs(30));
                    error_delay / 2
                }
            };
            tokio::select! {
                // The dispatcher is gone: the kubelet is stopping; the containers stay.
                r = self.pod.changed() => if r.is_err() { return },
                _ = self.wake.notified() => {},
                _ = tokio::time::sleep(wait) => {},
            }
        }
        let _ = done.send(self.uid);
    }
}

struct Handle {
    pod: watch::Sender<Option<Arc<Pod>>>,
    wake: Arc<Notify>,
}

/// All workers of the node, keyed by pod UID.
pub struct PodWorkers {
    ctx: Arc<Context>,
    workers: HashMap<String, Handle>,
    done_tx: mpsc::UnboundedSender<String>,
    /// The initial pod list has arrived: runtime pods unknown to the API are orphans.
    synced: bool,
    known: std::collections::HashSet<String>,
    wake_tx: mpsc::UnboundedSender<String>,
}

/// Wakes every pod the runtime holds, so those no API pod owns (orphans) are torn down.
async fn wake_runtime_pods(cri: Cri, wake: mpsc::UnboundedSender<String>) {
    let sandboxes = cri.list_pod_sandboxes(HashMap::new()).await.unwrap_or_default();
    for s in sandboxes {
        if let Some(uid) = s.labels.get(crate::runtime_pod::LABEL_POD_UID) {
            let _ = wake.send(uid.clone());
        }
    }
}

impl PodWorkers {
    fn new(
        ctx: Arc<Context>,
        done_tx: mpsc::UnboundedSender<String>,
        wake_tx: mpsc::UnboundedSender<String>,
    ) -> PodWorkers {
        PodWorkers { ctx, workers: HashMap::new(), done_tx, synced: false, known: Default::default(), wake_tx }
    }

    /// Hands the newest version of a pod (None: deleted) to its worker, starting one if needed.
    fn update(&mut self, uid: &str, pod: Option<Arc<Pod>>) {
        if let Some(h) = self.workers.get(uid) {
            h.pod.send_replace(pod);
            return;
        }
        let (tx, rx) = watch::channel(pod);
        let wake = Arc::new(Notify::new());
        let worker = Worker { ctx: self.ctx.clone(), uid: uid.into(), pod: rx, wake: wake.clone() };
        tokio::spawn(worker.run(self.done_tx.clone()));
        self.workers.insert(uid.into(), Handle { pod: tx, wake });
    }

    fn wake(&mut self, uid: &str) {
        match self.workers.get(uid) {
            Some(h) => h.wake.notify_one(),
            // A runtime pod no API pod owns (left from before a restart): tear it down.
            None if self.synced && !self.known.contains(uid) => self.update(uid, None),
            None => {}
        }
    }

    fn on_event(&mut self, ev: watcher::Event<Pod>) {
        match ev {
            watcher::Event::Init => self.known.clear(),
            watcher::Event::InitApply(p) | watcher::Event::Apply(p) => {
                let uid = p.metadata.uid.clone().unwrap_or_default();
                self.known.insert(uid.clone());
                self.update(&uid, Some(Arc::new(p)));
            }
            watcher::Event::Delete(p) => {
                let uid = p.metadata.uid.clone().unwrap_or_default();
                self.known.remove(&uid);
                if self.workers.contains_key(&uid) {
                    self.update(&uid, None);
                }
            }
            watcher::Event::InitDone => {
                self.synced = true;
                tokio::spawn(wake_runtime_pods(self.ctx.cri.clone(), self.wake_tx.clone()));
                let gone: Vec<String> = self.workers.keys().filter(|u| !self.known.contains(*u)).cloned().collect();
                for uid in gone {
                    self.update(&uid, None);
                }
            }
        }
    }
}

/// Watches the pods bound to this node and runs their workers until the watch ends.
pub async fn run(
    ctx: Arc<Context>,
    wake_tx: mpsc::UnboundedSender<String>,
    mut wake_rx: mpsc::UnboundedReceiver<String>,
) {
    let node = ctx.config.node_name.clone();
    let api: Api<Pod> = Api::all(ctx.client.clone());
    let cfg = watcher::Config::default().fields(&format!("spec.nodeName={node}"));
    let mut events = std::pin::pin!(watcher::watcher(api, cfg));
    let (done_tx, mut done_rx) = mpsc::unbounded_channel();
    let mut workers = PodWorkers::new(ctx, done_tx, wake_tx);
    loop {
        tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(ev)) => workers.on_event(ev),
                Some(Err(e)) => tracing::warn!("watching pods: {e}"),
                None => return,
            },
            Some(uid) = wake_rx.recv() => workers.wake(&uid),
            Some(uid) = done_rx.recv() => { workers.workers.remove(&uid); },
        }
    }
}
