//! Mounts the kubelet makes itself (tmpfs for emptyDir medium Memory) and their removal.

use std::path::{Path, PathBuf};

/// Mount points at or under `dir`, deepest first, from /proc/self/mountinfo.
pub fn mounted_under(dir: &Path) -> Vec<PathBuf> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut v: Vec<PathBuf> = info
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|p| PathBuf::from(p.replace("\\040", " ")))
        .filter(|p| p.starts_with(dir))
        .collect();
    v.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    v
}

/// Mounts a tmpfs on `dir` unless one is there already.
pub fn ensure_tmpfs(dir: &Path, size: Option<&str>) -> std::io::Result<()> {
    if mounted_under(dir).iter().any(|p| p == dir) {
        return Ok(());
    }
    let mut data = String::from("mode=0777");
    if let Some(bytes) = size.and_then(crate::quantity::bytes) {
        data.push_str(&format!(",size={bytes}"));
    }
    let data = std::ffi::CString::new(data).map_err(std::io::Error::other)?;
    rustix::mount::mount("tmpfs", dir, "tmpfs", rustix::mount::MountFlags::empty(), Some(data.as_c_str()))?;
    Ok(())
}

/// Unmounts everything under `dir` (lazily), then removes it.
pub fn remove_dir(dir: &Path) -> std::io::Result<()> {
    for m in mounted_under(dir) {
        let _ = rustix::mount::unmount(&m, rustix::mount::UnmountFlags::DETACH);
    }
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Removes a pod's cgroup directories from every cgroup v1 hierarchy (runc leaves them).
pub fn remove_pod_cgroups(cgroup_parent: &str) {
    let Ok(entries) = std::fs::read_dir("/sys/fs/cgroup") else {
        return;
    };
    for h in entries.flatten() {
        let dir = h.path().join(cgroup_parent.trim_start_matches('/'));
        if dir.is_dir() {
            // Children first: runc's container cgroups may still be there.
            if let Ok(children) = std::fs::read_dir(&dir) {
                for c in children.flatten().filter(|c| c.path().is_dir()) {
                    let _ = std::fs::remove_dir(c.path());
                }
            }
            let _ = std::fs::remove_dir(&dir);
        }
    }
}
