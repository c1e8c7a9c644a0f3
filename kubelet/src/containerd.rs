//! containerd as a supervised child (as k3s runs it): minik8s writes its config under the data
//! dir, starts it, and restarts it with back-off if it dies. Containers live in their shims, so
//! a containerd restart (or a minik8s restart) leaves them running.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

/// The sandbox (pause) image built by images/build.sh; named in containerd's `sandbox_image`.
pub const SANDBOX_IMAGE: &str = "registry.k8s.io/pause:3.10";
/// Where Debian's containernetworking-plugins installs the CNI binaries.
pub const CNI_BIN_DIR: &str = "/usr/lib/cni";
const MAX_BACK_OFF: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum ContainerdError {
    #[error("containerd not found: apt-get install containerd runc containernetworking-plugins")]
    NotInstalled,
    #[error("cannot write containerd's files under {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("cannot start containerd: {0}")]
    Spawn(std::io::Error),
}

/// Every path of minik8s' own containerd, all under `<data-dir>/agent/`.
#[derive(Clone, Debug)]
pub struct Paths {
    pub dir: PathBuf,
    pub root: PathBuf,
    pub state: PathBuf,
    pub socket: PathBuf,
    pub config: PathBuf,
    pub log: PathBuf,
    pub pid_file: PathBuf,
    pub cni_conf_dir: PathBuf,
}

impl Paths {
    pub fn new(data_dir: &Path) -> Paths {
        let dir = data_dir.join("agent").join("containerd");
        Paths {
            root: dir.join("root"),
            state: dir.join("state"),
            socket: dir.join("containerd.sock"),
            config: dir.join("config.toml"),
            log: dir.join("containerd.log"),
            pid_file: dir.join("containerd.pid"),
            cni_conf_dir: data_dir.join("agent").join("etc").join("cni").join("net.d"),
            dir,
        }
    }
}

/// containerd's config.toml (version 2): CRI on, our pause image, cgroupfs runc, CNI from the
/// distribution, streaming server on loopback. `restrict_oom_score_adj` is required here: root
/// lacks CAP_SYS_RESOURCE and the default sandbox oom_score_adj (-998) makes runc fail.
pub fn render_config(paths: &Paths, snapshotter: &str) -> String {
    let cri = "[plugins.\"io.containerd.grpc.v1.cri\"";
    format!(
        r#"# Written by minik8s at every start; edits are lost.
version = 2
root = "{root}"
state = "{state}"

[grpc]
  address = "{socket}"

{cri}]
  sandbox_image = "{sandbox}"
  restrict_oom_score_adj = true
  disable_apparmor = true
  enable_selinux = false
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
{cri}.containerd]
  snapshotter = "{snapshotter}"
  default_runtime_name = "runc"
{cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
{cri}.containerd.runtimes.runc.options]
  SystemdCgroup = false
{cri}.cni]
  bin_dir = "{cni_bin}"
  conf_dir = "{cni_conf}"
"#,
        root = paths.root.display(),
        state = paths.state.display(),
        socket = paths.socket.display(),
        sandbox = SANDBOX_IMAGE,
        cni_bin = CNI_BIN_DIR,
        cni_conf = paths.cni_conf_dir.display(),
    )
}

/// overlayfs if a test mount of it works in containerd's root, else native (slower, copies).
pub fn pick_snapshotter(root: &Path) -> &'static str {
    let dir = root.join("overlay-check");
    let ok = overlay_mounts(&dir).is_ok();
    let _ = rustix::mount::unmount(dir.join("merged"), rustix::mount::UnmountFlags::DETACH);
    let _ = std::fs::remove_dir_all(&dir);
    if ok { "overlayfs" } else { "native" }
}

fn overlay_mounts(dir: &Path) -> std::io::Result<()> {
    for sub in ["lower", "upper", "work", "merged"] {
        std::fs::create_dir_all(dir.join(sub))?;
    }
    let data = format!(
        "lowerdir={},upperdir={},workdir={}",
        dir.join("lower").display(),
        dir.join("upper").display(),
        dir.join("work").display()
    );
    let data = std::ffi::CString::new(data).map_err(std::io::Error::other)?;
    rustix::mount::mount(
        "overlay",
        dir.join("merged"),
        "overlay",
        rustix::mount::MountFlags::empty(),
        Some(data.as_c_str()),
    )?;
    Ok(())
}

/// Writes the config and the directories containerd and CNI need.
pub fn prepare(paths: &Paths) -> Result<&'static str, ContainerdError> {
    fn write(path: &Path) -> impl FnOnce(std::io::Error) -> ContainerdError + '_ {
        move |source| ContainerdError::Write { path: path.to_path_buf(), source }
    }
    for dir in [&paths.root, &paths.state, &paths.cni_conf_dir] {
        std::fs::create_dir_all(dir).map_err(write(dir))?;
    }
    let snapshotter = pick_snapshotter(&paths.root);
    std::fs::write(&paths.config, render_config(paths, snapshotter)).map_err(write(&paths.config))?;
    Ok(snapshotter)
}

fn binary() -> Result<PathBuf, ContainerdError> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin")])
        .map(|d| d.join("containerd"))
        .find(|p| p.is_file())
        .ok_or(ContainerdError::NotInstalled)
}

/// Stops a containerd left running by an earlier minik8s on the same data dir (one killed with
/// SIGKILL cannot stop its child). Only a process whose command line names our config is touched.
pub async fn stop_stale(paths: &Paths) {
    let Some(pid) = std::fs::read_to_string(&paths.pid_file).ok().and_then(|s| s.trim().parse::<i32>().ok()) else {
        return;
    };
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let ours = String::from_utf8_lossy(&cmdline).contains(&*paths.config.to_string_lossy());
    let Some(pid) = rustix::process::Pid::from_raw(pid).filter(|_| ours) else {
        return;
    };
    eprintln!("kubelet: stopping the containerd (pid {pid:?}) left by an earlier run");
    let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
    let deadline = Instant::now() + Duration::from_secs(10);
    while Path::new(&format!("/proc/{}", pid.as_raw_nonzero())).exists() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn spawn(paths: &Paths, bin: &Path) -> Result<Child, ContainerdError> {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(&paths.log).map_err(ContainerdError::Spawn)?;
    let log2 = log.try_clone().map_err(ContainerdError::Spawn)?;
    let child = Command::new(bin)
        .arg("--config")
        .arg(&paths.config)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        .kill_on_drop(true)
        .spawn()
        .map_err(ContainerdError::Spawn)?;
    if let Some(pid) = child.id() {
        let _ = std::fs::write(&paths.pid_file, pid.to_string());
    }
    Ok(child)
}

/// Starts containerd and returns the task that keeps it running: when it exits it is started
/// again after a back-off (1 s doubling to 30 s, reset after a minute of good health).
pub fn start(paths: &Paths) -> Result<tokio::task::JoinHandle<()>, ContainerdError> {
    let bin = binary()?;
    let mut child = spawn(paths, &bin)?;
    let paths = paths.clone();
    Ok(tokio::spawn(async move {
        let mut back_off = Duration::from_secs(1);
        loop {
            let started = Instant::now();
            let status = child.wait().await;
            eprintln!("kubelet: containerd exited ({status:?}); see {}", paths.log.display());
            if started.elapsed() > Duration::from_secs(60) {
                back_off = Duration::from_secs(1);
            }
            tokio::time::sleep(back_off).await;
            back_off = (back_off * 2).min(MAX_BACK_OFF);
            eprintln!("kubelet: restarting containerd");
            match spawn(&paths, &bin) {
                Ok(c) => child = c,
                Err(e) => eprintln!("kubelet: {e}"),
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_restricts_oom_score_adj_and_names_our_pause_image() {
        let paths = Paths::new(Path::new("/var/lib/minik8s"));
        let c = render_config(&paths, "overlayfs");
        assert!(c.contains("restrict_oom_score_adj = true"));
        assert!(c.contains("sandbox_image = \"registry.k8s.io/pause:3.10\""));
        assert!(c.contains("snapshotter = \"overlayfs\""));
    }

    #[test]
    fn containerd_lives_under_the_data_dir() {
        let paths = Paths::new(Path::new("/d"));
        let c = render_config(&paths, "native");
        assert!(c.contains("address = \"/d/agent/containerd/containerd.sock\""));
        assert!(c.contains("conf_dir = \"/d/agent/etc/cni/net.d\""));
        assert!(c.contains("bin_dir = \"/usr/lib/cni\""));
        assert!(c.contains("root = \"/d/agent/containerd/root\""));
    }
}
