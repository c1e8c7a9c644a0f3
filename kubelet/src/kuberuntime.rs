//! The effectful half of a pod sync (the kubelet's kuberuntime manager): carries out the plan's
//! actions over CRI (sandbox, image, container start/kill, hooks) and records their events.
//! A failure is kept as the container's waiting reason for the status, never thrown away.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{ConfigMap, Container as ContainerSpec, LifecycleHandler, Pod, Secret, Service};
use kube::api::{Api, DeleteParams, ListParams, Preconditions};

use crate::backoff::BackOff;
use crate::events::{NORMAL, WARNING};
use crate::pod_actions::{Action, KillReason, Kind, Waiting};
use crate::pod_worker::Context;
use crate::runtime_pod::RuntimePod;

/// What a worker remembers about its pod between syncs.
#[derive(Default)]
pub struct Memory {
    pub backoff: BackOff,
    pull_backoff: BackOff,
    pub pull_failures: HashMap<String, (i64, Waiting)>,
    /// Errors of this sync's attempts, shown as the containers' waiting reasons.
    pub errors: BTreeMap<String, Waiting>,
    volumes: Option<(String, HashMap<String, PathBuf>, Instant)>,
    /// The sandbox this sync created or found: (id, IP).
    pub sandbox: Option<(String, String)>,
}

/// How often volumes with API content (configMap, secret, ...) are refreshed.
const VOLUME_RESYNC: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Cri(#[from] crate::cri::CriError),
    #[error("preparing the pod's directories: {0}")]
    Io(#[from] std::io::Error),
    #[error("the pod's sandbox could not be created: {0}")]
    Sandbox(crate::cri::CriError),
    #[error("deleting the pod object: {0}")]
    Delete(kube::Error),
}

fn now_ns() -> i64 {
    jiff::Timestamp::now().as_nanosecond() as i64
}

fn uid(pod: &Pod) -> &str {
    pod.metadata.uid.as_deref().unwrap_or_default()
}

fn find_spec<'a>(pod: &'a Pod, name: &str, kind: Kind) -> Option<&'a ContainerSpec> {
    let spec = pod.spec.as_ref()?;
    match kind {
        Kind::Init => spec.init_containers.as_ref()?.iter().find(|c| c.name == name),
        Kind::App => spec.containers.iter().find(|c| c.name == name),
    }
}

/// Carries out one action. `pod` is None when the API object is gone.
pub async fn apply(
    ctx: &Arc<Context>,
    pod: Option<&Pod>,
    rt: &RuntimePod,
    action: &Action,
    mem: &mut Memory,
) -> Result<(), ApplyError> {
    match action {
        Action::CreateSandbox { attempt } => match pod {
            Some(p) => create_sandbox(ctx, p, *attempt, mem).await,
            None => Ok(()),
        },
        Action::StartContainer { name, kind, attempt, restart } => {
            let Some(p) = pod else { return Ok(()) };
            let Some(spec) = find_spec(p, name, *kind) else { return Ok(()) };
            start_container(ctx, p, rt, spec, *kind, *attempt, *restart, mem).await;
            Ok(())
        }
        Action::KillContainer { id, name, grace_seconds, reason } => {
            kill_container(ctx, pod, id, name, *grace_seconds, reason).await;
            Ok(())
        }
        Action::RemoveContainer { id } => ignore_not_found(ctx.cri.remove_container(id).await),
        Action::StopSandbox { id } => ignore_not_found(ctx.cri.stop_pod_sandbox(id).await),
        Action::RemoveSandbox { id } => ignore_not_found(ctx.cri.remove_pod_sandbox(id).await),
        Action::FinishTermination => finish_termination(ctx, pod, rt).await,
    }
}

fn ignore_not_found(r: crate::cri::Result<()>) -> Result<(), ApplyError> {
    match r {
        Err(e) if !e.is_not_found() => Err(e.into()),
        _ => Ok(()),
    }
}

async fn create_sandbox(ctx: &Arc<Context>, pod: &Pod, attempt: u32, mem: &mut Memory) -> Result<(), ApplyError> {
    let config = crate::sandbox::config(pod, attempt, &ctx.sandbox);
    std::fs::create_dir_all(&config.log_directory)?;
    std::fs::create_dir_all(crate::volumes::pod_dir(&ctx.config.data_dir, uid(pod)))?;
    let id = match ctx.cri.run_pod_sandbox(config).await {
        Ok(id) => id,
        Err(e) => {
            let msg = format!("Failed to create pod sandbox: {e}");
            ctx.recorder.pod(pod, None, WARNING, "FailedCreatePodSandBox", msg);
            return Err(ApplyError::Sandbox(e));
        }
    };
    let host_network = pod.spec.as_ref().and_then(|s| s.host_network).unwrap_or(false);
    let ip = if host_network {
        ctx.host_ip.clone()
    } else {
        let status = ctx.cri.pod_sandbox_status(&id).await?;
        status.network.map(|n| n.ip).unwrap_or_default()
    };
    mem.sandbox = Some((id, ip));
    mem.volumes = None;
    Ok(())
}

/// The pull policy Kubernetes defaults to: Always for `:latest` or no tag, else IfNotPresent.
pub fn pull_policy(spec: &ContainerSpec) -> String {
    if let Some(p) = spec.image_pull_policy.clone() {
        return p;
    }
    let image = spec.image.clone().unwrap_or_default();
    let reference = crate::images::normalize_reference(&image);
    if reference.ends_with(":latest") && !image.contains('@') { "Always".into() } else { "IfNotPresent".into() }
}

/// Resolves the container's image to the runtime's image ID, pulling as the policy says. With
/// no registry reachable, a local image serves even under Always (the pull failure is noted).
async fn ensure_image(ctx: &Arc<Context>, pod: &Pod, spec: &ContainerSpec) -> Result<String, Waiting> {
    let image = spec.image.clone().unwrap_or_default();
    let name = Some(spec.name.as_str());
    let policy = pull_policy(spec);
    let local = ctx.cri.image_status(&image).await.ok().flatten();
    let present = |id: String| {
        ctx.recorder.pod(
            pod,
            name,
            NORMAL,
            "Pulled",
            format!("Container image \"{image}\" already present on machine"),
        );
        id
    };
    match (policy.as_str(), local) {
        ("Never", Some(i)) | ("IfNotPresent", Some(i)) => return Ok(present(i.id)),
        ("Never", None) => {
            let message = format!("Container image \"{image}\" is not present with pull policy of Never");
            ctx.recorder.pod(pod, name, WARNING, "ErrImageNeverPull", message.clone());
            return Err(Waiting { reason: "ErrImageNeverPull".into(), message });
        }
        _ => {}
    }
    ctx.recorder.pod(pod, name, NORMAL, "Pulling", format!("Pulling image \"{image}\""));
    let started = Instant::now();
    match ctx.cri.pull_image(&image).await {
        Ok(reference) => {
            let took = format!("{:.3}s", started.elapsed().as_secs_f64());
            ctx.recorder.pod(
                pod,
                name,
                NORMAL,
                "Pulled",
                format!("Successfully pulled image \"{image}\" in {took} ({took} including waiting)"),
            );
            Ok(reference)
        }
        Err(e) => match ctx.cri.image_status(&image).await.ok().flatten() {
            Some(i) => Ok(present(i.id)),
            None => {
                let message = format!("failed to pull and unpack image \"{image}\": {e}");
                ctx.recorder.pod(pod, name, WARNING, "Failed", format!("Failed to pull image \"{image}\": {e}"));
                Err(Waiting { reason: "ErrImagePull".into(), message })
            }
        },
    }
}

/// Volumes of the current sandbox, prepared once and refreshed every 30 s.
async fn volumes(
    ctx: &Arc<Context>,
    pod: &Pod,
    sandbox: &str,
    src: &crate::env::Sources,
    mem: &mut Memory,
) -> Result<HashMap<String, PathBuf>, crate::volumes::VolumeError> {
    if let Some((id, v, at)) = &mem.volumes
        && id == sandbox
        && at.elapsed() < VOLUME_RESYNC
    {
        return Ok(v.clone());
    }
    let dir = crate::volumes::pod_dir(&ctx.config.data_dir, uid(pod));
    let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
    let fetch = crate::volumes::Fetch { client: &ctx.client, namespace: ns };
    let v = crate::volumes::prepare(pod, &dir, &fetch, src).await?;
    mem.volumes = Some((sandbox.to_string(), v.clone(), Instant::now()));
    Ok(v)
}

/// Re-writes configMap/secret/downwardAPI volumes if they are due (updates propagate).
pub async fn refresh_volumes(ctx: &Arc<Context>, pod: &Pod, mem: &mut Memory) {
    let Some((sandbox, ip)) = mem.sandbox.clone() else { return };
    let src = base_sources(ctx, &ip);
    if let Err(e) = volumes(ctx, pod, &sandbox, &src, mem).await {
        tracing::debug!("refreshing volumes: {e}");
    }
}

fn base_sources(ctx: &Context, pod_ip: &str) -> crate::env::Sources {
    crate::env::Sources {
        pod_ip: pod_ip.into(),
        host_ip: ctx.host_ip.clone(),
        node_milli_cpu: ctx.node_milli_cpu,
        node_memory_bytes: ctx.node_memory_bytes,
        ..Default::default()
    }
}

/// The ConfigMaps, Secrets and Services the pod's environment refers to.
async fn env_sources(ctx: &Arc<Context>, pod: &Pod, pod_ip: &str) -> crate::env::Sources {
    let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
    let mut src = base_sources(ctx, pod_ip);
    let (cms, secrets) = crate::env::referenced(pod);
    let cm_api: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), ns);
    for name in cms {
        src.config_maps.insert(name.clone(), cm_api.get_opt(&name).await.ok().flatten());
    }
    let secret_api: Api<Secret> = Api::namespaced(ctx.client.clone(), ns);
    for name in secrets {
        src.secrets.insert(name.clone(), secret_api.get_opt(&name).await.ok().flatten());
    }
    if pod.spec.as_ref().and_then(|s| s.enable_service_links).unwrap_or(true) {
        let svc: Api<Service> = Api::namespaced(ctx.client.clone(), ns);
        let mut list = svc.list(&ListParams::default()).await.map(|l| l.items).unwrap_or_default();
        if ns != "default" {
            let default: Api<Service> = Api::namespaced(ctx.client.clone(), "default");
            list.extend(default.get_opt("kubernetes").await.ok().flatten());
        }
        src.service_env = crate::env::service_env(&list);
    }
    src
}

fn fail(mem: &mut Memory, name: &str, reason: &str, message: String) {
    mem.errors.insert(name.into(), Waiting { reason: reason.into(), message });
}

/// Pull, volumes, env, CreateContainer, StartContainer, postStart; each failure becomes the
/// container's waiting reason (ErrImagePull, CreateContainerConfigError, ...).
#[allow(clippy::too_many_arguments)]
async fn start_container(
    ctx: &Arc<Context>,
    pod: &Pod,
    rt: &RuntimePod,
    spec: &ContainerSpec,
    kind: Kind,
    attempt: u32,
    restart: bool,
    mem: &mut Memory,
) {
    let name = spec.name.as_str();
    let Some((sandbox_id, pod_ip)) = mem.sandbox.clone() else { return };
    let image_ref = match ensure_image(ctx, pod, spec).await {
        Ok(r) => r,
        Err(w) => {
            let key = crate::backoff::key(uid(pod), name);
            let now = now_ns();
            mem.pull_backoff.next(&key, now);
            let delay = mem.pull_backoff.delay(&key).unwrap_or_default();
            let meanwhile = match w.reason.as_str() {
                "ErrImagePull" => Waiting {
                    reason: "ImagePullBackOff".into(),
                    message: format!("Back-off pulling image \"{}\"", spec.image.clone().unwrap_or_default()),
                },
                _ => w.clone(),
            };
            mem.pull_failures.insert(name.into(), (now + delay.as_nanos() as i64, meanwhile));
            mem.errors.insert(name.into(), w);
            return;
        }
    };
    mem.pull_failures.remove(name);
    let src = env_sources(ctx, pod, &pod_ip).await;
    let volumes = match volumes(ctx, pod, &sandbox_id, &src, mem).await {
        Ok(v) => v,
        Err(e) => {
            ctx.recorder.pod(pod, None, WARNING, "FailedMount", format!("MountVolume.SetUp failed: {e}"));
            return fail(mem, name, "ContainerCreating", e.to_string());
        }
    };
    let env = match crate::env::resolve(pod, spec, &src) {
        Ok(env) => env,
        Err(e) => {
            ctx.recorder.pod(pod, Some(name), WARNING, "Failed", format!("Error: {e}"));
            return fail(mem, name, "CreateContainerConfigError", e.to_string());
        }
    };
    let id = match create(ctx, pod, spec, kind, attempt, &image_ref, env, &volumes, &sandbox_id, &pod_ip).await {
        Ok(id) => id,
        Err(e) => {
            ctx.recorder.pod(pod, Some(name), WARNING, "Failed", format!("Error: {e}"));
            return fail(mem, name, "CreateContainerError", e.to_string());
        }
    };
    ctx.recorder.pod(pod, Some(name), NORMAL, "Created", format!("Created container: {name}"));
    if restart {
        let previous = rt.latest(name).map_or(now_ns(), |c| c.finished_at);
        mem.backoff.next(&crate::backoff::key(uid(pod), name), previous);
    }
    if let Err(e) = ctx.cri.start_container(&id).await {
        ctx.recorder.pod(pod, Some(name), WARNING, "Failed", format!("Error: {e}"));
        return fail(mem, name, "RunContainerError", e.to_string());
    }
    ctx.recorder.pod(pod, Some(name), NORMAL, "Started", format!("Started container {name}"));
    mem.errors.remove(name);
    post_start(ctx, pod, spec, &id, &pod_ip).await;
}

#[allow(clippy::too_many_arguments)]
async fn create(
    ctx: &Arc<Context>,
    pod: &Pod,
    spec: &ContainerSpec,
    kind: Kind,
    attempt: u32,
    image_ref: &str,
    env: Vec<(String, String)>,
    volumes: &HashMap<String, PathBuf>,
    sandbox_id: &str,
    pod_ip: &str,
) -> Result<String, ApplyError> {
    let dir = crate::volumes::pod_dir(&ctx.config.data_dir, uid(pod));
    let host_network = pod.spec.as_ref().and_then(|s| s.host_network).unwrap_or(false);
    let etc_hosts = if host_network {
        None
    } else {
        let path = dir.join("etc-hosts");
        std::fs::write(&path, crate::container::etc_hosts(pod, pod_ip, &ctx.config.cluster_domain))?;
        Some(path)
    };
    let termination_log = termination_log_path(&dir, &spec.name, attempt);
    if let Some(parent) = termination_log.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&termination_log, b"")?;
    std::fs::create_dir_all(crate::sandbox::log_directory(pod).join(&spec.name))?;
    let inputs =
        crate::container::Inputs { pod, spec, kind, attempt, image_ref, env, volumes, etc_hosts, termination_log };
    let config = crate::container::config(&inputs);
    let attempt_of_sandbox = 0;
    let sandbox_config = crate::sandbox::config(pod, attempt_of_sandbox, &ctx.sandbox);
    Ok(ctx.cri.create_container(sandbox_id, config, sandbox_config).await?)
}

/// `<pod dir>/containers/<name>/<attempt>-termination-log`, mounted at terminationMessagePath.
pub fn termination_log_path(pod_dir: &std::path::Path, name: &str, attempt: u32) -> PathBuf {
    pod_dir.join("containers").join(name).join(format!("{attempt}-termination-log"))
}

/// Runs a lifecycle hook (exec or httpGet); Err carries what to report.
async fn run_hook(
    ctx: &Arc<Context>,
    h: &LifecycleHandler,
    spec: &ContainerSpec,
    id: &str,
    pod_ip: &str,
    timeout: Duration,
) -> Result<(), String> {
    if let Some(e) = &h.exec {
        let r =
            ctx.cri.exec_sync(id, e.command.clone().unwrap_or_default(), timeout).await.map_err(|e| e.to_string())?;
        return if r.exit_code == 0 {
            Ok(())
        } else {
            Err(format!("command exited with {}: {}", r.exit_code, String::from_utf8_lossy(&r.stdout)))
        };
    }
    if let Some(g) = &h.http_get {
        let host = g.host.clone().filter(|h| !h.is_empty()).unwrap_or_else(|| pod_ip.into());
        let port = crate::probes::resolve_port(&g.port, spec).ok_or("unknown port")?;
        let path = g.path.clone().unwrap_or_else(|| "/".into());
        let (ok, msg) = crate::http_probe::get(&host, port, &path, &[], timeout).await;
        return if ok { Ok(()) } else { Err(msg) };
    }
    if let Some(s) = &h.sleep {
        tokio::time::sleep(Duration::from_secs(s.seconds.max(0) as u64).min(timeout)).await;
    }
    Ok(())
}

async fn post_start(ctx: &Arc<Context>, pod: &Pod, spec: &ContainerSpec, id: &str, pod_ip: &str) {
    let Some(h) = spec.lifecycle.as_ref().and_then(|l| l.post_start.as_ref()) else { return };
    if let Err(e) = run_hook(ctx, h, spec, id, pod_ip, Duration::from_secs(30)).await {
        let name = spec.name.as_str();
        ctx.recorder.pod(pod, Some(name), WARNING, "FailedPostStartHook", e);
        let _ = ctx.cri.stop_container(id, Duration::from_secs(2)).await;
    }
}

/// preStop (within the grace period), then StopContainer with what is left of it.
async fn kill_container(ctx: &Arc<Context>, pod: Option<&Pod>, id: &str, name: &str, grace: i64, reason: &KillReason) {
    let started = Instant::now();
    let grace = Duration::from_secs(grace.max(0) as u64);
    if let Some(p) = pod {
        ctx.recorder.pod(p, Some(name), NORMAL, "Killing", reason.message(name));
        let spec = find_spec(p, name, Kind::App).or_else(|| find_spec(p, name, Kind::Init));
        if let Some(spec) = spec
            && let Some(h) = spec.lifecycle.as_ref().and_then(|l| l.pre_stop.as_ref())
        {
            let ip = p.status.as_ref().and_then(|s| s.pod_ip.clone()).unwrap_or_default();
            if let Err(e) = run_hook(ctx, h, spec, id, &ip, grace).await {
                ctx.recorder.pod(p, Some(name), WARNING, "FailedPreStopHook", e);
            }
        }
    }
    let left = grace.saturating_sub(started.elapsed());
    if let Err(e) = ctx.cri.stop_container(id, left).await
        && !e.is_not_found()
    {
        tracing::warn!("stopping container {id}: {e}");
    }
}

/// `/var/log/pods/<ns>_<name>_<uid>` found by the UID alone (the pod object may be gone).
fn remove_logs(pod_uid: &str) {
    let Ok(entries) = std::fs::read_dir(crate::sandbox::POD_LOGS_ROOT) else { return };
    let suffix = format!("_{pod_uid}");
    for e in entries.flatten() {
        if !pod_uid.is_empty() && e.file_name().to_string_lossy().ends_with(&suffix) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

fn ctx_uid(rt: &RuntimePod) -> String {
    rt.uid.clone()
}

/// The pod is gone from the runtime: its files, logs and cgroups go, then the API object.
async fn finish_termination(ctx: &Arc<Context>, pod: Option<&Pod>, rt: &RuntimePod) -> Result<(), ApplyError> {
    let ids: Vec<String> = rt.containers.iter().map(|c| c.id.clone()).collect();
    ctx.probes.forget(&ids);
    let pod_uid = pod.map(uid).unwrap_or(&ctx_uid(rt)).to_string();
    remove_logs(&pod_uid);
    crate::mounts::remove_dir(&crate::volumes::pod_dir(&ctx.config.data_dir, &pod_uid))?;
    for qos in ["", "burstable/", "besteffort/"] {
        crate::mounts::remove_pod_cgroups(&format!("/kubepods/{qos}pod{pod_uid}"));
    }
    // Without the API object (force-deleted, or an orphan) there is nothing more to delete.
    let Some(pod) = pod.filter(|p| p.metadata.deletion_timestamp.is_some()) else { return Ok(()) };
    let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), ns);
    let params = DeleteParams {
        grace_period_seconds: Some(0),
        preconditions: Some(Preconditions { uid: pod.metadata.uid.clone(), resource_version: None }),
        ..Default::default()
    };
    match api.delete(pod.metadata.name.as_deref().unwrap_or_default(), &params).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => Ok(()),
        Err(e) => Err(ApplyError::Delete(e)),
    }
}
