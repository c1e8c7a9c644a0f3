//! The serviceaccount controller (not built yet).

/// Runs the controller until the client's watches end.
pub async fn run(_client: kube::Client) {}
