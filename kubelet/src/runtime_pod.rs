//! A pod as the runtime sees it: its sandboxes and containers read from CRI by the pod-UID
//! label the kubelet puts on everything it creates (the kubelet's kubecontainer.PodStatus).

use std::collections::HashMap;

use k8s_cri::v1 as cri;

use crate::cri::{Cri, Result};

pub const LABEL_POD_UID: &str = "io.kubernetes.pod.uid";
pub const LABEL_POD_NAME: &str = "io.kubernetes.pod.name";
pub const LABEL_POD_NAMESPACE: &str = "io.kubernetes.pod.namespace";
pub const LABEL_CONTAINER_NAME: &str = "io.kubernetes.container.name";
/// Marks the kind of a container (app or init), as the real kubelet's annotations do.
pub const LABEL_CONTAINER_KIND: &str = "minik8s.io/container-kind";

#[derive(Clone, Debug, PartialEq)]
pub struct Sandbox {
    pub id: String,
    pub attempt: u32,
    pub ready: bool,
    pub ip: Option<String>,
    pub created_at: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    Created,
    Running,
    Exited,
    Unknown,
}

/// One container's CRI status; times are nanoseconds since the epoch (0 = not yet).
#[derive(Clone, Debug, PartialEq)]
pub struct Container {
    pub id: String,
    pub name: String,
    pub attempt: u32,
    pub sandbox_id: String,
    pub state: RunState,
    pub image: String,
    pub image_ref: String,
    pub created_at: i64,
    pub started_at: i64,
    pub finished_at: i64,
    pub exit_code: i32,
    pub reason: String,
    pub message: String,
}

impl Container {
    pub fn running(&self) -> bool {
        self.state == RunState::Running
    }

    pub fn exited(&self) -> bool {
        matches!(self.state, RunState::Exited | RunState::Unknown)
    }

    pub fn succeeded(&self) -> bool {
        self.exited() && self.exit_code == 0
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct RuntimePod {
    pub uid: String,
    pub sandboxes: Vec<Sandbox>,
    pub containers: Vec<Container>,
}

impl RuntimePod {
    /// The newest sandbox, the one the pod's containers belong to.
    pub fn sandbox(&self) -> Option<&Sandbox> {
        self.sandboxes.iter().max_by_key(|s| (s.attempt, s.created_at))
    }

    /// Containers of `name`, newest attempt first.
    pub fn attempts(&self, name: &str) -> Vec<&Container> {
        let mut v: Vec<&Container> = self.containers.iter().filter(|c| c.name == name).collect();
        v.sort_by_key(|c| std::cmp::Reverse((c.attempt, c.created_at)));
        v
    }

    pub fn latest(&self, name: &str) -> Option<&Container> {
        self.attempts(name).into_iter().next()
    }

    pub fn any_running(&self) -> bool {
        self.containers.iter().any(Container::running)
    }
}

fn state(s: i32) -> RunState {
    match cri::ContainerState::try_from(s) {
        Ok(cri::ContainerState::ContainerCreated) => RunState::Created,
        Ok(cri::ContainerState::ContainerRunning) => RunState::Running,
        Ok(cri::ContainerState::ContainerExited) => RunState::Exited,
        _ => RunState::Unknown,
    }
}

pub fn uid_selector(uid: &str) -> HashMap<String, String> {
    HashMap::from([(LABEL_POD_UID.to_string(), uid.to_string())])
}

fn container(s: cri::ContainerStatus, sandbox_id: String) -> Container {
    let meta = s.metadata.unwrap_or_default();
    Container {
        name: s.labels.get(LABEL_CONTAINER_NAME).cloned().unwrap_or(meta.name),
        attempt: meta.attempt,
        sandbox_id,
        state: state(s.state),
        image: s.image.map(|i| i.image).unwrap_or_default(),
        image_ref: s.image_ref,
        created_at: s.created_at,
        started_at: s.started_at,
        finished_at: s.finished_at,
        exit_code: s.exit_code,
        reason: s.reason,
        message: s.message,
        id: s.id,
    }
}

async fn sandbox(cri: &Cri, s: cri::PodSandbox) -> Sandbox {
    let ready = s.state == cri::PodSandboxState::SandboxReady as i32;
    let ip = if ready {
        let status = cri.pod_sandbox_status(&s.id).await.ok();
        status.and_then(|st| st.network).map(|n| n.ip).filter(|ip| !ip.is_empty())
    } else {
        None
    };
    Sandbox { attempt: s.metadata.map(|m| m.attempt).unwrap_or(0), ready, ip, created_at: s.created_at, id: s.id }
}

/// Reads one pod's sandboxes and containers (with exit codes, which only ContainerStatus has).
pub async fn observe(cri: &Cri, uid: &str) -> Result<RuntimePod> {
    let sandboxes = cri.list_pod_sandboxes(uid_selector(uid)).await?;
    let listed = cri.list_containers(uid_selector(uid)).await?;
    let mut pod = RuntimePod { uid: uid.to_string(), ..Default::default() };
    for s in sandboxes {
        pod.sandboxes.push(sandbox(cri, s).await);
    }
    for c in listed {
        match cri.container_status(&c.id).await {
            Ok(s) => pod.containers.push(container(s, c.pod_sandbox_id)),
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(pod)
}
