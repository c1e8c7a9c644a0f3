//! Pod start latency, create -> Running seen through a watch, for N pods of a local image
//! created one after another (or all at once with --parallel), against a running cluster:
//!
//!   KUBECONFIG=... cargo run -p kubelet --example pod_latency -- NODE [N] [--parallel] [--floor SOCKET]
//!
//! With `--floor`, the same N pods are also run straight over CRI on that containerd socket
//! (RunPodSandbox + CreateContainer + StartContainer, the floor), in the same run. `--always`
//! uses `busybox` with pull policy Always, so every start tries (and fails) a registry pull.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, PostParams};
use kube::runtime::watcher;

fn pod(name: &str, node: &str) -> Result<Pod, serde_json::Error> {
    // --always: `kubectl run`'s default (busybox:latest, pull policy Always; no registry here).
    let always = std::env::args().any(|a| a == "--always");
    let (image, policy) = if always { ("busybox", "Always") } else { ("busybox:1.36", "IfNotPresent") };
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": name, "labels": {"bench": "pod-latency"}},
        "spec": {"nodeName": node, "terminationGracePeriodSeconds": 0, "containers": [{
            "name": "c", "image": image, "imagePullPolicy": policy,
            "command": ["sleep", "3600"]}]}
    }))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// RunPodSandbox -> StartContainer straight over CRI, as the kubelet would issue them.
async fn floor(socket: &str, n: usize) -> Result<Vec<Duration>, Box<dyn std::error::Error>> {
    let cri = kubelet::cri::Cri::connect(std::path::Path::new(socket))?;
    let image = cri.image_status("busybox:1.36").await?.ok_or("busybox:1.36 is not imported")?.id;
    let settings = kubelet::sandbox::Settings {
        cluster_dns: [10, 233, 0, 3].into(),
        cluster_domain: "cluster.local".into(),
        host_resolv: String::new(),
    };
    let mut took = Vec::new();
    for i in 0..n {
        let mut p = pod(&format!("floor-{i}"), "")?;
        p.metadata.namespace = Some("default".into());
        p.metadata.uid = Some(format!("floor-{i}-{}", std::process::id()));
        let spec = p.spec.clone().unwrap_or_default().containers[0].clone();
        let mut sandbox = kubelet::sandbox::config(&p, 0, &settings);
        // Without the pod-UID label: the running kubelet would tear down a pod the API lacks.
        sandbox.labels.remove(kubelet::runtime_pod::LABEL_POD_UID);
        std::fs::create_dir_all(&sandbox.log_directory)?;
        let t = Instant::now();
        let id = cri.run_pod_sandbox(sandbox.clone()).await?;
        let volumes = HashMap::new();
        let inputs = kubelet::container::Inputs {
            pod: &p,
            spec: &spec,
            kind: kubelet::pod_actions::Kind::App,
            attempt: 0,
            image_ref: &image,
            env: vec![],
            volumes: &volumes,
            etc_hosts: None,
            termination_log: "/dev/null".into(),
        };
        let mut config = kubelet::container::config(&inputs);
        config.labels.remove(kubelet::runtime_pod::LABEL_POD_UID);
        let c = cri.create_container(&id, config, sandbox.clone()).await?;
        cri.start_container(&c).await?;
        took.push(t.elapsed());
        cri.stop_pod_sandbox(&id).await?;
        cri.remove_pod_sandbox(&id).await?;
        let _ = std::fs::remove_dir_all(&sandbox.log_directory);
    }
    Ok(took)
}

fn report(what: &str, took: &[Duration]) {
    let mut sorted = took.to_vec();
    sorted.sort();
    println!(
        "{what}: p50 {:?}  p90 {:?}  p99 {:?}  max {:?}",
        percentile(&sorted, 0.5),
        percentile(&sorted, 0.9),
        percentile(&sorted, 0.99),
        sorted[sorted.len() - 1]
    );
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let node = args.first().cloned().ok_or("usage: pod_latency NODE [N] [--parallel]")?;
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10);
    let parallel = args.iter().any(|a| a == "--parallel");
    let client = kube::Client::try_default().await?;
    let pods: Api<Pod> = Api::default_namespaced(client);
    let cfg = watcher::Config::default().labels("bench=pod-latency");
    let mut events = std::pin::pin!(watcher::watcher(pods.clone(), cfg));
    while let Some(ev) = events.next().await {
        if matches!(ev?, watcher::Event::InitDone) {
            break;
        }
    }
    let mut started: HashMap<String, Instant> = HashMap::new();
    let mut took: Vec<Duration> = Vec::new();
    let mut done: HashSet<String> = HashSet::new();
    let names: Vec<String> = (0..n).map(|i| format!("lat-{i}")).collect();
    let mut next = 0;
    while took.len() < n {
        let may_create = if parallel { next < n } else { next < n && started.len() == done.len() };
        if may_create {
            pods.create(&PostParams::default(), &pod(&names[next], &node)?).await?;
            started.insert(names[next].clone(), Instant::now());
            next += 1;
            continue;
        }
        let Some(ev) = events.next().await else { break };
        if let watcher::Event::Apply(p) = ev? {
            let name = p.metadata.name.clone().unwrap_or_default();
            let running = p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running");
            if let (true, Some(t)) = (running, started.get(&name))
                && done.insert(name)
            {
                took.push(t.elapsed());
            }
        }
    }
    let mut sorted = took.clone();
    sorted.sort();
    println!(
        "pods: {n} ({}), create -> Running through a watch",
        if parallel { "all at once" } else { "one after another" }
    );
    report("minik8s", &took);
    println!(
        "ratio to the 133 ms CRI floor of the notes: p50 {:.2}x  p99 {:.2}x",
        percentile(&sorted, 0.5).as_secs_f64() / 0.133,
        percentile(&sorted, 0.99).as_secs_f64() / 0.133
    );
    let dp = DeleteParams { grace_period_seconds: Some(0), ..Default::default() };
    for name in names {
        let _ = pods.delete(&name, &dp).await;
    }
    if let Some(i) = args.iter().position(|a| a == "--floor") {
        let socket = args.get(i + 1).ok_or("--floor needs the containerd socket")?;
        let f = floor(socket, n).await?;
        report("CRI floor (same containerd, same run)", &f);
        let mut fs = f.clone();
        fs.sort();
        println!(
            "ratio to this run's floor: p50 {:.2}x  p99 {:.2}x",
            percentile(&sorted, 0.5).as_secs_f64() / percentile(&fs, 0.5).as_secs_f64(),
            percentile(&sorted, 0.99).as_secs_f64() / percentile(&fs, 0.99).as_secs_f64()
        );
    }
    Ok(())
}
