//! The scheduler (not built yet).

/// Settings of the scheduler.
#[derive(Clone, Debug, Default)]
pub struct Config {}

/// Schedules pods until the client's watches end.
pub async fn run(_client: kube::Client, _config: Config) {}
