//! The `minik8s` binary: parses flags and wires the components together. No logic lives here.

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use std::net::IpAddr;
use std::path::PathBuf;

/// A complete, small Kubernetes in one binary.
#[derive(Parser)]
#[command(name = "minik8s", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the control plane (today: the API server) in the foreground.
    Server(ServerFlags),
}

/// Flags of `minik8s server`; names follow k3s where k3s has one.
#[derive(Args)]
struct ServerFlags {
    /// Directory holding the store, certificates and kubeconfig.
    #[arg(long, default_value = "/var/lib/minik8s", env = "MINIK8S_DATA_DIR")]
    data_dir: PathBuf,
    /// HTTPS port of the API server.
    #[arg(long, default_value_t = 6443)]
    https_listen_port: u16,
    /// Address the API server listens on.
    #[arg(long, default_value = "0.0.0.0")]
    bind_address: IpAddr,
    /// Extra hostname or IP for the serving certificate (repeatable).
    #[arg(long)]
    tls_san: Vec<String>,
    /// Where to write the admin kubeconfig [default: <data-dir>/kubeconfig.yaml].
    #[arg(long)]
    write_kubeconfig: Option<PathBuf>,
    /// File mode of the written kubeconfig, in octal.
    #[arg(long, default_value = "0600", value_parser = parse_mode)]
    write_kubeconfig_mode: u32,
    /// Shared secret: accepted as a bearer token (agents will join with it).
    #[arg(long, env = "MINIK8S_TOKEN")]
    token: Option<String>,
    /// IPv4 range Service ClusterIPs are allocated from.
    #[arg(long, default_value = "10.233.0.0/18")]
    service_cidr: String,
    /// IPv4 range pod IPs are allocated from (a /24 per node).
    #[arg(long, default_value = "10.233.64.0/18")]
    cluster_cidr: String,
    /// ClusterIP of the cluster DNS Service.
    #[arg(long, default_value = "10.233.0.3")]
    cluster_dns: IpAddr,
    /// Cluster domain.
    #[arg(long, default_value = "cluster.local")]
    cluster_domain: String,
    /// Port range for NodePort Services.
    #[arg(long, default_value = "30000-32767", value_parser = parse_range)]
    service_node_port_range: (u16, u16),
    /// Do not run a node (kubelet) on this machine.
    #[arg(long)]
    disable_agent: bool,
    /// Do not run the scheduler.
    #[arg(long)]
    disable_scheduler: bool,
    /// Do not run the controller manager.
    #[arg(long)]
    disable_controller_manager: bool,
    /// Name of this machine's node [default: the hostname].
    #[arg(long)]
    node_name: Option<String>,
    /// Label for this node, KEY=VALUE (repeatable).
    #[arg(long)]
    node_label: Vec<String>,
    /// Taint for this node, KEY=VALUE:EFFECT (repeatable).
    #[arg(long)]
    node_taint: Vec<String>,
    /// A node whose kubelet is silent this long is marked NotReady (e.g. 40s, 1m).
    #[arg(long, default_value = "40s", value_parser = parse_duration)]
    node_monitor_grace_period: std::time::Duration,
    /// Use this running containerd's socket instead of starting one.
    #[arg(long)]
    container_runtime_endpoint: Option<PathBuf>,
    /// Watch events kept for replay; older resourceVersions get 410 Gone.
    #[arg(long, default_value_t = 10_000, hide = true)]
    watch_history: usize,
}

fn parse_mode(s: &str) -> Result<u32, String> {
    u32::from_str_radix(s.trim_start_matches("0o"), 8).map_err(|e| format!("not an octal mode: {e}"))
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = digits.parse().map_err(|_| format!("{s}: expected a duration such as 40s or 2m"))?;
    match unit {
        "" | "s" => Ok(std::time::Duration::from_secs(n)),
        "m" => Ok(std::time::Duration::from_secs(n * 60)),
        "ms" => Ok(std::time::Duration::from_millis(n)),
        _ => Err(format!("{s}: unknown unit {unit:?} (use ms, s or m)")),
    }
}

fn parse_range(s: &str) -> Result<(u16, u16), String> {
    let (a, b) = s.split_once('-').ok_or("expected LOW-HIGH, e.g. 30000-32767")?;
    let lo: u16 = a.parse().map_err(|e| format!("{a}: {e}"))?;
    let hi: u16 = b.parse().map_err(|e| format!("{b}: {e}"))?;
    if lo > hi {
        return Err(format!("{lo} is above {hi}"));
    }
    Ok((lo, hi))
}

impl ServerFlags {
    fn kubelet_config(&self, server_token: &str) -> kubelet::Config {
        let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_else(|_| "minik8s".into());
        kubelet::Config {
            node_name: self.node_name.clone().unwrap_or_else(|| hostname.trim().to_lowercase()),
            data_dir: self.data_dir.clone(),
            container_runtime_endpoint: self.container_runtime_endpoint.clone(),
            node_labels: self.node_label.clone(),
            node_taints: self.node_taint.clone(),
            cluster_dns: self.cluster_dns,
            cluster_domain: self.cluster_domain.clone(),
            server_token: server_token.to_string(),
            control_plane: true,
            node_ip: None,
            kubelet_port: 10250,
        }
    }

    fn api_config(&self) -> apiserver::Config {
        apiserver::Config {
            data_dir: self.data_dir.clone(),
            bind_address: self.bind_address,
            https_port: self.https_listen_port,
            tls_sans: self.tls_san.clone(),
            token: self.token.clone(),
            write_kubeconfig: self.write_kubeconfig.clone().unwrap_or_else(|| self.data_dir.join("kubeconfig.yaml")),
            write_kubeconfig_mode: self.write_kubeconfig_mode,
            service_cidr: self.service_cidr.clone(),
            cluster_cidr: self.cluster_cidr.clone(),
            cluster_dns: self.cluster_dns,
            cluster_domain: self.cluster_domain.clone(),
            service_node_port_range: self.service_node_port_range,
            watch_history: self.watch_history,
        }
    }
}

/// Every component is an API client over HTTPS, even in this process (DESIGN.md).
async fn client(kubeconfig: &std::path::Path) -> Result<kube::Client> {
    let kc = kube::config::Kubeconfig::read_from(kubeconfig).context("reading the admin kubeconfig")?;
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default()).await?;
    Ok(kube::Client::try_from(cfg)?)
}

async fn server(flags: ServerFlags) -> Result<()> {
    let config = flags.api_config();
    eprintln!("minik8s: starting the API server (data in {})", config.data_dir.display());
    let started = apiserver::start(&config).await.context("starting the API server")?;
    eprintln!("minik8s: API server ready on https://{}", started.address);
    eprintln!("minik8s: kubeconfig written to {}", config.write_kubeconfig.display());
    let client = client(&config.write_kubeconfig).await?;
    let mut components = tokio::task::JoinSet::new();
    if !flags.disable_controller_manager {
        let cfg = controllers::Config {
            cluster_cidr: flags.cluster_cidr.clone(),
            root_ca: started.pki.ca_cert.clone(),
            node_monitor_grace_period: flags.node_monitor_grace_period,
        };
        components.spawn(controllers::run(client.clone(), cfg));
        eprintln!("minik8s: controller manager started");
    }
    if !flags.disable_scheduler {
        components.spawn(scheduler::run(client.clone(), scheduler::Config::default()));
        eprintln!("minik8s: scheduler started");
    }
    if !flags.disable_agent {
        components.spawn(kubelet::run(client.clone(), flags.kubelet_config(&started.pki.token)));
        eprintln!("minik8s: node agent starting");
    }
    tokio::select! {
        r = started.serve => r.context("the API server stopped")?,
        _ = tokio::signal::ctrl_c() => eprintln!("minik8s: interrupted, stopping"),
    }
    components.shutdown().await;
    Ok(())
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match cli.command {
        Command::Server(flags) => runtime.block_on(server(flags)),
    }
}
