//! CreateContainer configs from container specs.

use super::*;

fn pod(spec: serde_json::Value) -> Pod {
    let v = serde_json::json!({"metadata": {"name": "p", "namespace": "default", "uid": "u1"}, "spec": spec});
    serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"))
}

fn build(p: &Pod, volumes: &HashMap<String, PathBuf>) -> cri::ContainerConfig {
    let spec = p.spec.clone().unwrap_or_default().containers[0].clone();
    let env = vec![("GREETING".to_string(), "hi".to_string())];
    let i = Inputs {
        pod: p,
        spec: &spec,
        kind: Kind::App,
        attempt: 2,
        image_ref: "sha256:abc",
        env,
        volumes,
        etc_hosts: Some("/pods/u1/etc-hosts".into()),
        termination_log: "/pods/u1/t".into(),
    };
    config(&i)
}

#[test]
fn command_and_args_expand_env_references() {
    let p = pod(
        serde_json::json!({"containers": [{"name": "c", "image": "busybox", "command": ["sh", "-c"], "args": ["echo $(GREETING)"], "workingDir": "/tmp"}]}),
    );
    let c = build(&p, &HashMap::new());
    assert_eq!(c.command, ["sh", "-c"]);
    assert_eq!(c.args, ["echo hi"]);
    assert_eq!(c.working_dir, "/tmp");
    assert_eq!(c.log_path, "c/2.log");
    assert_eq!(c.metadata.map(|m| m.attempt), Some(2));
    assert_eq!(c.image.map(|i| i.image).as_deref(), Some("sha256:abc"));
}

#[test]
fn limits_become_cfs_quota_shares_and_a_memory_limit() {
    let p = pod(
        serde_json::json!({"containers": [{"name": "c", "resources": {"requests": {"cpu": "250m"}, "limits": {"cpu": "500m", "memory": "64Mi"}}}]}),
    );
    let r = resources(&p.spec.clone().unwrap_or_default().containers[0]);
    assert_eq!(r.cpu_shares, 256);
    assert_eq!((r.cpu_quota, r.cpu_period), (50_000, 100_000));
    assert_eq!(r.memory_limit_in_bytes, 64 * 1024 * 1024);
}

#[test]
fn a_container_without_requests_gets_the_minimum_shares() {
    let p = pod(serde_json::json!({"containers": [{"name": "c"}]}));
    let r = resources(&p.spec.clone().unwrap_or_default().containers[0]);
    assert_eq!((r.cpu_shares, r.cpu_quota, r.memory_limit_in_bytes), (2, 0, 0));
}

#[test]
fn volume_mounts_point_at_the_volumes_host_paths_plus_hosts_and_termination_log() {
    let p = pod(
        serde_json::json!({"volumes": [{"name": "data", "emptyDir": {}}], "containers": [{"name": "c", "volumeMounts": [{"name": "data", "mountPath": "/data", "readOnly": true}]}]}),
    );
    let vols = HashMap::from([("data".to_string(), PathBuf::from("/pods/u1/volumes/kubernetes.io~empty-dir/data"))]);
    let m = build(&p, &vols).mounts;
    assert_eq!(m[0].container_path, "/data");
    assert_eq!(m[0].host_path, "/pods/u1/volumes/kubernetes.io~empty-dir/data");
    assert!(m[0].readonly);
    assert!(m.iter().any(|m| m.container_path == "/etc/hosts"));
    assert!(m.iter().any(|m| m.container_path == "/dev/termination-log"));
}

#[test]
fn the_security_context_of_the_container_wins_over_the_pods() {
    let p = pod(
        serde_json::json!({"securityContext": {"runAsUser": 1000, "runAsGroup": 3000}, "containers": [{"name": "c", "securityContext": {"runAsUser": 65534, "readOnlyRootFilesystem": true, "allowPrivilegeEscalation": false, "capabilities": {"add": ["NET_ADMIN"]}}}]}),
    );
    let sc = security_context(&p, &p.spec.clone().unwrap_or_default().containers[0]);
    assert_eq!(sc.run_as_user.map(|u| u.value), Some(65534));
    assert_eq!(sc.run_as_group.map(|g| g.value), Some(3000));
    assert!(sc.readonly_rootfs && sc.no_new_privs);
    assert_eq!(sc.capabilities.map(|c| c.add_capabilities), Some(vec!["NET_ADMIN".to_string()]));
}

#[test]
fn the_managed_hosts_file_names_the_pod_and_its_host_aliases() {
    let p = pod(
        serde_json::json!({"hostname": "web-0", "subdomain": "web", "hostAliases": [{"ip": "1.2.3.4", "hostnames": ["foo.local", "bar.local"]}], "containers": [{"name": "c"}]}),
    );
    let h = etc_hosts(&p, "10.233.64.3", "cluster.local");
    assert!(h.starts_with("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n"));
    assert!(h.contains("10.233.64.3\tweb-0.web.default.svc.cluster.local\tweb-0\n"));
    assert!(h.contains("1.2.3.4\tfoo.local\tbar.local\n"));
}
