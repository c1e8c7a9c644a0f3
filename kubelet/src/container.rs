//! A container as CRI's CreateContainer wants it (the kubelet's generateContainerConfig):
//! image, command/args with `$(VAR)` expansion, env, working dir, mounts, resources and the
//! security context, labels tying it to its pod, and its log path.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use k8s_cri::v1 as cri;
use k8s_openapi::api::core::v1::{Container, Pod};

use crate::pod_actions::Kind;
use crate::runtime_pod::{LABEL_CONTAINER_KIND, LABEL_CONTAINER_NAME};

/// The CFS period the kubelet uses (100 ms) and the smallest quota it sets.
const CPU_PERIOD: i64 = 100_000;
const MIN_QUOTA: i64 = 1_000;
const MIN_SHARES: i64 = 2;
pub const DEFAULT_TERMINATION_MESSAGE_PATH: &str = "/dev/termination-log";

/// Everything one CreateContainer needs beyond the pod itself.
pub struct Inputs<'a> {
    pub pod: &'a Pod,
    pub spec: &'a Container,
    pub kind: Kind,
    pub attempt: u32,
    /// The image as the runtime names it (its ID), resolved by the image step.
    pub image_ref: &'a str,
    pub env: Vec<(String, String)>,
    pub volumes: &'a HashMap<String, PathBuf>,
    /// The pod's managed /etc/hosts (None for hostNetwork pods).
    pub etc_hosts: Option<PathBuf>,
    pub termination_log: PathBuf,
}

/// `<container>/<attempt>.log`, relative to the sandbox's log directory.
pub fn log_path(name: &str, attempt: u32) -> String {
    format!("{name}/{attempt}.log")
}

fn quantity(c: &Container, limits: bool, key: &str) -> Option<String> {
    let r = c.resources.as_ref()?;
    let m = if limits { r.limits.as_ref() } else { r.requests.as_ref() };
    m?.get(key).map(|q| q.0.clone())
}

/// requests/limits as Linux resources: cpu.shares from the cpu request (limit if no request),
/// CFS quota from the cpu limit, memory limit in bytes.
pub fn resources(c: &Container) -> cri::LinuxContainerResources {
    let req_cpu = quantity(c, false, "cpu").or_else(|| quantity(c, true, "cpu"));
    let shares =
        req_cpu.and_then(|q| crate::quantity::milli_cpu(&q)).map_or(MIN_SHARES, |m| (m * 1024 / 1000).max(MIN_SHARES));
    let limit_cpu = quantity(c, true, "cpu").and_then(|q| crate::quantity::milli_cpu(&q));
    let memory = quantity(c, true, "memory").and_then(|q| crate::quantity::bytes(&q)).unwrap_or(0);
    cri::LinuxContainerResources {
        cpu_shares: shares,
        cpu_period: if limit_cpu.is_some() { CPU_PERIOD } else { 0 },
        cpu_quota: limit_cpu.map_or(0, |m| (m * CPU_PERIOD / 1000).max(MIN_QUOTA)),
        memory_limit_in_bytes: memory,
        ..Default::default()
    }
}

fn propagation(p: Option<&str>) -> i32 {
    match p {
        Some("HostToContainer") => cri::MountPropagation::PropagationHostToContainer as i32,
        Some("Bidirectional") => cri::MountPropagation::PropagationBidirectional as i32,
        _ => cri::MountPropagation::PropagationPrivate as i32,
    }
}

/// volumeMounts on their host paths (subPath created if missing), the pod's /etc/hosts and
/// the termination-message file.
pub fn mounts(i: &Inputs) -> Vec<cri::Mount> {
    let mut out = Vec::new();
    for m in i.spec.volume_mounts.iter().flatten() {
        let Some(base) = i.volumes.get(&m.name) else { continue };
        let host = match m.sub_path.as_deref().filter(|s| !s.is_empty()) {
            Some(sub) => sub_path(base, sub),
            None => base.clone(),
        };
        out.push(cri::Mount {
            container_path: m.mount_path.clone(),
            host_path: host.to_string_lossy().into_owned(),
            readonly: m.read_only.unwrap_or(false),
            propagation: propagation(m.mount_propagation.as_deref()),
            ..Default::default()
        });
    }
    let has = |out: &[cri::Mount], p: &str| out.iter().any(|m| m.container_path == p);
    if let Some(hosts) = &i.etc_hosts
        && !has(&out, "/etc/hosts")
    {
        out.push(bind(hosts, "/etc/hosts", false));
    }
    let term = i.spec.termination_message_path.clone().unwrap_or_else(|| DEFAULT_TERMINATION_MESSAGE_PATH.into());
    if !has(&out, &term) {
        out.push(bind(&i.termination_log, &term, false));
    }
    out
}

fn sub_path(base: &Path, sub: &str) -> PathBuf {
    let p = base.join(sub.trim_start_matches('/'));
    if !p.exists() {
        let _ = std::fs::create_dir_all(&p);
    }
    p
}

fn bind(host: &Path, container: &str, readonly: bool) -> cri::Mount {
    cri::Mount {
        container_path: container.into(),
        host_path: host.to_string_lossy().into_owned(),
        readonly,
        ..Default::default()
    }
}

/// The container's securityContext over the pod's (container fields win).
pub fn security_context(pod: &Pod, c: &Container) -> cri::LinuxContainerSecurityContext {
    let psc = pod.spec.as_ref().and_then(|s| s.security_context.clone()).unwrap_or_default();
    let sc = c.security_context.clone().unwrap_or_default();
    let caps = sc.capabilities.clone().unwrap_or_default();
    cri::LinuxContainerSecurityContext {
        capabilities: Some(cri::Capability {
            add_capabilities: caps.add.unwrap_or_default(),
            drop_capabilities: caps.drop.unwrap_or_default(),
            add_ambient_capabilities: Vec::new(),
        }),
        privileged: sc.privileged.unwrap_or(false),
        namespace_options: Some(crate::sandbox::namespace_options(pod)),
        run_as_user: sc.run_as_user.or(psc.run_as_user).map(|value| cri::Int64Value { value }),
        run_as_group: sc.run_as_group.or(psc.run_as_group).map(|value| cri::Int64Value { value }),
        readonly_rootfs: sc.read_only_root_filesystem.unwrap_or(false),
        supplemental_groups: psc
            .supplemental_groups
            .clone()
            .unwrap_or_default()
            .into_iter()
            .chain(psc.fs_group)
            .collect(),
        no_new_privs: sc.allow_privilege_escalation == Some(false),
        seccomp: crate::sandbox::seccomp(sc.seccomp_profile.as_ref().or(psc.seccomp_profile.as_ref())),
        ..Default::default()
    }
}

fn labels(i: &Inputs) -> HashMap<String, String> {
    let mut l = crate::sandbox::pod_labels(i.pod);
    l.retain(|k, _| k.starts_with("io.kubernetes."));
    l.insert(LABEL_CONTAINER_NAME.into(), i.spec.name.clone());
    l.insert(LABEL_CONTAINER_KIND.into(), i.kind.as_str().into());
    l
}

fn annotations(i: &Inputs) -> HashMap<String, String> {
    let term = i.spec.termination_message_path.clone().unwrap_or_else(|| DEFAULT_TERMINATION_MESSAGE_PATH.into());
    HashMap::from([
        ("io.kubernetes.container.restartCount".into(), i.attempt.to_string()),
        ("io.kubernetes.container.terminationMessagePath".into(), term),
    ])
}

/// The whole CreateContainer config.
pub fn config(i: &Inputs) -> cri::ContainerConfig {
    let expand =
        |v: &Option<Vec<String>>| v.iter().flatten().map(|s| crate::env::expand(s, &i.env)).collect::<Vec<_>>();
    cri::ContainerConfig {
        metadata: Some(cri::ContainerMetadata { name: i.spec.name.clone(), attempt: i.attempt }),
        image: Some(cri::ImageSpec {
            image: i.image_ref.into(),
            user_specified_image: i.spec.image.clone().unwrap_or_default(),
            ..Default::default()
        }),
        command: expand(&i.spec.command),
        args: expand(&i.spec.args),
        working_dir: i.spec.working_dir.clone().unwrap_or_default(),
        envs: i.env.iter().map(|(key, value)| cri::KeyValue { key: key.clone(), value: value.clone() }).collect(),
        mounts: mounts(i),
        labels: labels(i),
        annotations: annotations(i),
        log_path: log_path(&i.spec.name, i.attempt),
        stdin: i.spec.stdin.unwrap_or(false),
        stdin_once: i.spec.stdin_once.unwrap_or(false),
        tty: i.spec.tty.unwrap_or(false),
        linux: Some(cri::LinuxContainerConfig {
            resources: Some(resources(i.spec)),
            security_context: Some(security_context(i.pod, i.spec)),
        }),
        ..Default::default()
    }
}

/// The pod's /etc/hosts (the kubelet's managed hosts file), with hostAliases.
pub fn etc_hosts(pod: &Pod, pod_ip: &str, domain: &str) -> String {
    let spec = pod.spec.clone().unwrap_or_default();
    let host = crate::sandbox::hostname(pod);
    let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
    let mut s = String::from(
        "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n",
    );
    match spec.subdomain.as_deref().filter(|d| !d.is_empty()) {
        Some(sub) => s.push_str(&format!("{pod_ip}\t{host}.{sub}.{ns}.svc.{domain}\t{host}\n")),
        None => s.push_str(&format!("{pod_ip}\t{host}\n")),
    }
    let aliases = spec.host_aliases.unwrap_or_default();
    if !aliases.is_empty() {
        s.push_str("\n# Entries added by HostAliases.\n");
        for a in aliases {
            s.push_str(&format!("{}\t{}\n", a.ip, a.hostnames.unwrap_or_default().join("\t")));
        }
    }
    s
}

#[cfg(test)]
#[path = "container_tests.rs"]
mod tests;
