//! `make bench`: the store alone and the API server through HTTPS, side by side.
//!
//! Create, get, list and watch throughput with p50/p99 latency at 1, 16 and 64 concurrent
//! clients, on 2 KiB pods; the API figures are printed as a ratio to the store's. Aims (from
//! the API server issue): 64 concurrent creates p99 < 10 ms, a list of 10,000 pods < 200 ms.

use apiserver::storage::{SledStore, Storage};
use bytes::Bytes;
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, PostParams, WatchEvent, WatchParams};
use std::sync::Arc;
use std::time::{Duration, Instant};

const LEVELS: &[usize] = &[1, 16, 64];
const PER_LEVEL: usize = 640;
const LIST_SIZE: usize = 10_000;

fn pod_json(name: &str) -> serde_json::Value {
    serde_json::json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "bench", "tier": "web"},
                     "annotations": {"bench/padding": "x".repeat(1500)}},
        "spec": {"containers": [{"name": "web", "image": "nginx:1.25", "ports": [{"containerPort": 80}],
                 "env": [{"name": "MODE", "value": "bench"}]}]}})
}

struct Stats {
    ops: usize,
    wall: Duration,
    lat: Vec<Duration>,
}

impl Stats {
    fn pct(&self, p: f64) -> Duration {
        let mut l = self.lat.clone();
        l.sort();
        l.get(((l.len() as f64 - 1.0) * p) as usize).copied().unwrap_or_default()
    }

    fn rate(&self) -> f64 {
        self.ops as f64 / self.wall.as_secs_f64()
    }
}

/// Runs `op(i)` PER_LEVEL times with `conc` in flight, timing each.
async fn run<F, Fut>(conc: usize, op: F) -> Stats
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let t0 = Instant::now();
    let per = PER_LEVEL / conc;
    let mut tasks = Vec::new();
    for w in 0..conc {
        let op = op.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(per);
            for i in 0..per {
                let t = Instant::now();
                op(w * per + i).await;
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.unwrap_or_default());
    }
    Stats { ops: lat.len(), wall: t0.elapsed(), lat }
}

fn line(what: &str, conc: usize, s: &Stats, peer: Option<&Stats>) {
    let ratio = peer.map(|p| format!("  api/store throughput {:.2}x", s.rate() / p.rate())).unwrap_or_default();
    println!(
        "{what:<14} c={conc:<3} {:>9.0} ops/s  p50 {:>7.2} ms  p99 {:>7.2} ms{ratio}",
        s.rate(),
        s.pct(0.5).as_secs_f64() * 1e3,
        s.pct(0.99).as_secs_f64() * 1e3
    );
}

async fn store_bench(store: Arc<SledStore>, conc: usize, round: usize) -> (Stats, Stats) {
    let body = Bytes::from(pod_json("p").to_string());
    let (s, b) = (store.clone(), body.clone());
    let create = run(conc, move |i| {
        let (s, b) = (s.clone(), b.clone());
        async move {
            let _ = s.create(&format!("/registry/core/pods/bench/r{round}-c{conc}-{i}"), b).await;
        }
    })
    .await;
    let s = store.clone();
    let get = run(conc, move |i| {
        let s = s.clone();
        async move {
            let _ = s.get(&format!("/registry/core/pods/bench/r{round}-c{conc}-{i}")).await;
        }
    })
    .await;
    (create, get)
}

async fn api_bench(pods: Api<Pod>, conc: usize) -> (Stats, Stats) {
    let p = pods.clone();
    let create = run(conc, move |i| {
        let p = p.clone();
        async move {
            let pod: Pod = serde_json::from_value(pod_json(&format!("c{conc}-{i}"))).unwrap_or_default();
            let _ = p.create(&PostParams::default(), &pod).await;
        }
    })
    .await;
    let p = pods.clone();
    let get = run(conc, move |i| {
        let p = p.clone();
        async move {
            let _ = p.get(&format!("c{conc}-{i}")).await;
        }
    })
    .await;
    (create, get)
}

async fn watch_latency(pods: Api<Pod>) -> Duration {
    let mut stream = match pods.watch(&WatchParams::default(), "0").await {
        Ok(s) => s.boxed(),
        Err(_) => return Duration::ZERO,
    };
    let mut total = Duration::ZERO;
    for i in 0..100 {
        let t = Instant::now();
        let pod: Pod = serde_json::from_value(pod_json(&format!("w-{i}"))).unwrap_or_default();
        let _ = pods.create(&PostParams::default(), &pod).await;
        while let Some(Ok(ev)) = stream.next().await {
            if let WatchEvent::Added(p) = ev
                && p.metadata.name.as_deref() == Some(&format!("w-{i}"))
            {
                break;
            }
        }
        total += t.elapsed();
    }
    total / 100
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = Arc::new(SledStore::open(&dir.path().join("store"), 10_000)?);
    let config = apiserver::Config {
        data_dir: dir.path().join("server"),
        bind_address: "127.0.0.1".parse()?,
        https_port: 0,
        tls_sans: vec![],
        token: None,
        write_kubeconfig: dir.path().join("kubeconfig.yaml"),
        write_kubeconfig_mode: 0o600,
        service_cidr: "10.233.0.0/18".into(),
        cluster_cidr: "10.233.64.0/18".into(),
        cluster_dns: "10.233.0.3".parse()?,
        cluster_domain: "cluster.local".into(),
        service_node_port_range: (30000, 32767),
        watch_history: 10_000,
    };
    let started = apiserver::start(&config).await?;
    let mut kc = kube::config::Kubeconfig::read_from(&config.write_kubeconfig)?;
    for c in &mut kc.clusters {
        if let Some(cluster) = c.cluster.as_mut() {
            cluster.server = Some(format!("https://{}", started.address));
        }
    }
    let client = kube::Client::try_from(kube::Config::from_custom_kubeconfig(kc, &Default::default()).await?)?;
    let pods: Api<Pod> = Api::namespaced(client, "default");
    println!(
        "minik8s API benchmark: {PER_LEVEL} ops per level, 2 KiB pods (store = sled alone, api = HTTPS + kube-rs)"
    );
    for (round, &conc) in LEVELS.iter().enumerate() {
        let (sc, sg) = store_bench(store.clone(), conc, round).await;
        let (ac, ag) = api_bench(pods.clone(), conc).await;
        line("store create", conc, &sc, None);
        line("api create", conc, &ac, Some(&sc));
        line("store get", conc, &sg, None);
        line("api get", conc, &ag, Some(&sg));
    }
    let have = pods.list(&ListParams::default()).await?.items.len();
    let fill = (have..LIST_SIZE).collect::<Vec<_>>();
    let p = pods.clone();
    futures::stream::iter(fill)
        .for_each_concurrent(64, |i| {
            let p = p.clone();
            async move {
                let pod: Pod = serde_json::from_value(pod_json(&format!("l-{i}"))).unwrap_or_default();
                let _ = p.create(&PostParams::default(), &pod).await;
            }
        })
        .await;
    let t = Instant::now();
    let n = store.list("/registry/core/pods/", None, 0).await?.items.len();
    let store_list = t.elapsed();
    let t = Instant::now();
    let listed = pods.list(&ListParams::default()).await?.items.len();
    let api_list = t.elapsed();
    println!("store list     {n} objects in {:.1} ms", store_list.as_secs_f64() * 1e3);
    println!(
        "api list       {listed} pods in {:.1} ms  (aim < 200 ms; {:.1}x the store)",
        api_list.as_secs_f64() * 1e3,
        api_list.as_secs_f64() / store_list.as_secs_f64().max(1e-9)
    );
    println!(
        "api watch      create -> event seen: {:.2} ms mean over 100",
        watch_latency(pods).await.as_secs_f64() * 1e3
    );
    started.serve.abort();
    Ok(())
}
