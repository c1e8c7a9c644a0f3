//! Temporary probe of pre-filter cost.
use std::sync::Arc;
use std::time::Instant;
use k8s_openapi::api::core::v1::TopologySpreadConstraint;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use scheduler::cache::Cache;
use scheduler::framework::Framework;
use scheduler::testing::{node, pod};
use scheduler::PodInfo;
fn main() {
    let mut cache = Cache::default();
    for i in 0..5000 {
        cache.set_node(node(&format!("hollow-{i:05}")).cpu("32").memory("128Gi").label("topology.kubernetes.io/zone", &format!("zone-{}", i % 3)).build());
    }
    let spread = TopologySpreadConstraint {
        max_skew: 1, topology_key: "topology.kubernetes.io/zone".into(), when_unsatisfiable: "DoNotSchedule".into(),
        label_selector: Some(LabelSelector { match_labels: Some([("app".to_string(), "spread".to_string())].into()), match_expressions: None }),
        ..Default::default()
    };
    let mut fw = Framework::default();
    let mut t = Instant::now();
    for i in 0..4000 {
        let info = Arc::new(PodInfo::new(pod(&format!("pod-{i}")).cpu("100m").label("app", "spread").spread(spread.clone()).build()));
        let r = fw.schedule_one(&info, cache.snapshot()).unwrap();
        if i % 500 == 0 { println!("{i}: evaluated {} feasible {} last500 {:?}", r.evaluated, r.feasible, t.elapsed()); t = Instant::now(); }
        cache.assume(info, &r.node);
    }
    let max = cache.snapshot().nodes().iter().map(|n| n.pods.len()).max();
    println!("max pods per node {max:?}");
}
