//! Scheduling throughput on 5,000 hollow nodes: `schedule_one` plus the assume step, no server.
//!
//! Run: `CARGO_TARGET_DIR=/work/target-scheduler cargo bench -p scheduler --bench throughput`

use std::sync::Arc;
use std::time::Instant;

use k8s_openapi::api::core::v1::{
    Affinity, Pod, PodAffinityTerm, PodAntiAffinity, TopologySpreadConstraint, WeightedPodAffinityTerm,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use scheduler::PodInfo;
use scheduler::cache::Cache;
use scheduler::framework::Framework;
use scheduler::testing::{node, pod};

const NODES: usize = 5_000;
const PODS: usize = 10_000;
/// kube-scheduler's scheduler_perf CI floor for SchedulingBasic on 5,000 nodes (pods/s).
const KUBE_SCHEDULER_FLOOR: f64 = 1_100.0;

fn cluster() -> Cache {
    let mut cache = Cache::default();
    for i in 0..NODES {
        let hollow = node(&format!("hollow-{i:05}"))
            .cpu("32")
            .memory("128Gi")
            .pods("110")
            .label("topology.kubernetes.io/zone", &format!("zone-{}", i % 3))
            .build();
        cache.set_node(hollow);
    }
    cache
}

fn selector(app: &str) -> Option<LabelSelector> {
    Some(LabelSelector { match_labels: Some([("app".to_string(), app.to_string())].into()), match_expressions: None })
}

/// Runs one workload of `count` pods made by `make`: returns pods/s.
fn run(name: &str, count: usize, make: &dyn Fn(usize) -> Pod) -> f64 {
    let pods: Vec<Pod> = (0..count).map(make).collect();
    let mut cache = cluster();
    let mut framework = Framework::default();
    let started = Instant::now();
    let mut failed = 0;
    for p in pods {
        let info = Arc::new(PodInfo::new(p));
        match framework.schedule_one(&info, cache.snapshot()) {
            Ok(result) => cache.assume(info, &result.node),
            Err(_) => failed += 1,
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let rate = count as f64 / elapsed;
    println!(
        "{name:<45} {count} pods on {NODES} nodes in {elapsed:6.2}s: {rate:>7.0} pods/s = {:.1}x kube-scheduler's {KUBE_SCHEDULER_FLOOR} floor{}",
        rate / KUBE_SCHEDULER_FLOOR,
        if failed > 0 { format!(", {failed} unschedulable") } else { String::new() }
    );
    rate
}

/// A named way to make the i-th pod.
type Workload = (&'static str, Box<dyn Fn(usize) -> Pod>);

fn basic(i: usize) -> Pod {
    pod(&format!("pod-{i}")).cpu("100m").memory("128Mi").label("app", "web").build()
}

fn main() {
    // `cargo bench --bench throughput -- spread` runs only workloads whose name contains "spread".
    let only: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let spread = TopologySpreadConstraint {
        max_skew: 1,
        topology_key: "topology.kubernetes.io/zone".into(),
        when_unsatisfiable: "DoNotSchedule".into(),
        label_selector: selector("spread"),
        ..Default::default()
    };
    let anti = Affinity {
        pod_anti_affinity: Some(PodAntiAffinity {
            required_during_scheduling_ignored_during_execution: None,
            preferred_during_scheduling_ignored_during_execution: Some(vec![WeightedPodAffinityTerm {
                weight: 1,
                pod_affinity_term: PodAffinityTerm {
                    label_selector: selector("anti"),
                    topology_key: "kubernetes.io/hostname".into(),
                    ..Default::default()
                },
            }]),
        }),
        ..Default::default()
    };
    let workloads: Vec<Workload> = vec![
        ("basic: requests only", Box::new(basic)),
        (
            "default spread: replicas of 10 ReplicaSets",
            Box::new(|i| {
                pod(&format!("pod-{i}")).cpu("100m").memory("128Mi").controller(&format!("rs-{}", i % 10)).build()
            }),
        ),
        (
            "zone topology spread, DoNotSchedule",
            Box::new(move |i| {
                pod(&format!("pod-{i}")).cpu("100m").label("app", "spread").spread(spread.clone()).build()
            }),
        ),
        (
            "preferred pod anti-affinity",
            Box::new(move |i| pod(&format!("pod-{i}")).cpu("100m").label("app", "anti").affinity(anti.clone()).build()),
        ),
    ];
    let count = std::env::var("BENCH_PODS").ok().and_then(|n| n.parse().ok()).unwrap_or(PODS);
    for (name, make) in &workloads {
        if only.is_empty() || only.iter().any(|o| name.contains(o.as_str())) {
            run(name, count, make.as_ref());
        }
    }
}
