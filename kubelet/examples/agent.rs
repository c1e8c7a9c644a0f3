//! Runs the kubelet alone against a running API server, for development and tests before (or
//! beside) `minik8s server` wiring it in:
//!
//!   KUBECONFIG=/tmp/kl-test/kubeconfig.yaml cargo run -p kubelet --example agent -- DATA_DIR [NODE]

use std::path::PathBuf;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let mut args = std::env::args().skip(1);
    let data_dir = PathBuf::from(args.next().ok_or("usage: agent DATA_DIR [NODE_NAME]")?);
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")?.trim().to_string();
    let node = args.next().unwrap_or(hostname);
    let client = kube::Client::try_default().await?;
    let mut config = kubelet::Config::for_node(&node, data_dir);
    config.control_plane = true;
    config.server_token = std::env::var("KUBELET_TOKEN").unwrap_or_default();
    if let Ok(port) = std::env::var("KUBELET_PORT") {
        config.kubelet_port = port.parse()?;
    }
    tokio::select! {
        () = kubelet::run(client, config) => {}
        _ = tokio::signal::ctrl_c() => eprintln!("agent: interrupted"),
    }
    Ok(())
}
