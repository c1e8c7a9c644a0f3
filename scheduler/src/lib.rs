//! The scheduler: watches pending pods, filters and scores nodes as kube-scheduler's default
//! profile does, and binds each pod through pods/binding.
//!
//! - `queue`: pending pods by priority, backoff, and parked unschedulable pods.
//! - `cache`: nodes with their pods (bound and assumed), the `Snapshot` the plugins read.
//! - `framework`: runs `filter` and `score` plugins; `schedule_one` is the pure core.
//! - `preemption`: evicts lower-priority pods when nothing fits.
//! - `binder`, `status`, `events`: the API calls at the edge; `watch` feeds the cache.
//! - `scheduler`: the loop that ties them together.
//!
//! Left out, compared with kube-scheduler's default profile: ImageLocality scoring, PodDisruptionBudgets
//! in preemption, static PersistentVolume matching for WaitForFirstConsumer claims (provisioning is
//! assumed possible), volume limits and restrictions, DynamicResources, extenders and profiles.
//! Default spreading counts the pods of the same controller rather than the selectors of the
//! Services and workloads that select the pod.

pub mod binder;
pub mod cache;
pub mod events;
pub mod filter;
pub mod framework;
pub mod node_info;
pub mod pod_info;
pub mod preemption;
pub mod quantity;
pub mod queue;
pub mod resources;
mod scheduler;
pub mod score;
pub mod selector;
pub mod status;
#[doc(hidden)]
pub mod testing;
pub mod topology;
pub mod watch;

pub use cache::Snapshot;
pub use framework::{FitError, Framework, schedule_one};
pub use pod_info::PodInfo;

/// Settings of the scheduler.
#[derive(Clone, Debug)]
pub struct Config {
    /// Pods whose spec.schedulerName is this (or unset) are ours: "default-scheduler".
    pub scheduler_name: String,
    /// percentageOfNodesToScore; 0 is kube-scheduler's adaptive default.
    pub percentage_of_nodes_to_score: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config { scheduler_name: "default-scheduler".into(), percentage_of_nodes_to_score: 0 }
    }
}

/// Schedules pods until the client's watches end.
pub async fn run(client: kube::Client, config: Config) {
    scheduler::run(client, config).await;
}
