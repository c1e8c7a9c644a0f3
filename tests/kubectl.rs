//! A new user's first session, with the real kubectl: discovery, apply, get, describe,
//! label, annotate, delete, watch, and bad input.

mod common;

use common::{Cluster, fixture};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn kubectl_get_ns_shows_the_system_namespaces_as_active() {
    let c = Cluster::start();
    let out = c.ok(&["get", "ns"]);
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        let line = out.lines().find(|l| l.starts_with(ns)).unwrap_or_else(|| panic!("{ns} missing in {out}"));
        assert!(line.contains("Active"), "{line}");
    }
    assert!(out.starts_with("NAME"), "{out}");
}

#[test]
fn kubectl_version_reports_kubernetes_1_33() {
    let c = Cluster::start();
    let out = c.ok(&["version", "-o", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["serverVersion"]["major"], "1");
    assert_eq!(v["serverVersion"]["minor"], "33");
}

#[test]
fn api_resources_and_api_versions_list_every_group() {
    let c = Cluster::start();
    let res = c.ok(&["api-resources"]);
    let deploy = res.lines().find(|l| l.starts_with("deployments ")).expect("deployments row");
    for col in ["deploy", "apps/v1", "true", "Deployment"] {
        assert!(deploy.contains(col), "{deploy}");
    }
    let ns = res.lines().find(|l| l.starts_with("namespaces ")).expect("namespaces row");
    assert!(ns.contains("false"), "{ns}");
    let versions = c.ok(&["api-versions"]);
    for gv in
        ["v1", "apps/v1", "batch/v1", "networking.k8s.io/v1", "rbac.authorization.k8s.io/v1", "discovery.k8s.io/v1"]
    {
        assert!(versions.lines().any(|l| l == gv), "{gv} missing in {versions}");
    }
}

#[test]
fn applying_the_seed_objects_creates_them_and_twice_is_unchanged() {
    let c = Cluster::start();
    for f in ["deployment.yaml", "service.yaml", "configmap.yaml", "daemonset.yaml", "statefulset.yaml"] {
        let out = c.ok(&["apply", "-f", &fixture(f)]);
        assert!(out.contains("created"), "{f}: {out}");
        let again = c.ok(&["apply", "-f", &fixture(f)]);
        assert!(again.contains("unchanged"), "{f}: {again}");
    }
    let deploy = c.ok(&["get", "deploy", "mydp"]);
    assert!(deploy.contains("READY") && deploy.contains("UP-TO-DATE") && deploy.contains("mydp"), "{deploy}");
    let ds = c.ok(&["get", "ds", "-A", "-o", "wide"]);
    assert!(ds.contains("kube-system") && ds.contains("fluentd-elasticsearch") && ds.contains("CONTAINERS"), "{ds}");
    let svc = c.ok(&["get", "svc", "myclusterip", "-o", "wide"]);
    assert!(svc.contains("10.233.10.10") && svc.contains("80/TCP") && svc.contains("app=webui"), "{svc}");
}

#[test]
fn a_changed_file_updates_the_object_and_keeps_other_fields() {
    let c = Cluster::start();
    c.ok(&["apply", "-f", &fixture("deployment.yaml")]);
    let changed =
        std::fs::read_to_string(fixture("deployment.yaml")).expect("read").replace("nginx:1.14", "nginx:1.25");
    let path = c.dir.path().join("changed.yaml");
    std::fs::write(&path, changed).expect("write");
    let out = c.ok(&["apply", "-f", path.to_str().expect("utf8")]);
    assert!(out.contains("configured"), "{out}");
    let image = c.ok(&["get", "deploy", "mydp", "-o", "jsonpath={.spec.template.spec.containers[0].image}"]);
    assert_eq!(image, "nginx:1.25");
    let port =
        c.ok(&["get", "deploy", "mydp", "-o", "jsonpath={.spec.template.spec.containers[0].ports[0].containerPort}"]);
    assert_eq!(port, "80");
    let generation = c.ok(&["get", "deploy", "mydp", "-o", "jsonpath={.metadata.generation}"]);
    assert_eq!(generation, "2");
}

#[test]
fn get_yaml_describe_label_annotate_and_delete_work_on_a_configmap() {
    let c = Cluster::start();
    c.ok(&["apply", "-f", &fixture("configmap.yaml")]);
    let yaml = c.ok(&["get", "cm", "app-config", "-o", "yaml"]);
    for want in ["APP_MODE: learning", "uid:", "resourceVersion:", "creationTimestamp:", "namespace: default"] {
        assert!(yaml.contains(want), "{want} missing in {yaml}");
    }
    assert!(c.ok(&["label", "cm", "app-config", "tier=web"]).contains("labeled"));
    assert!(c.ok(&["annotate", "cm", "app-config", "owner=me"]).contains("annotated"));
    let shown = c.ok(&["get", "cm", "-l", "tier=web", "-o", "name"]);
    assert_eq!(shown.trim(), "configmap/app-config");
    let described = c.ok(&["describe", "cm", "app-config"]);
    assert!(
        described.contains("tier=web") && described.contains("owner: me") && described.contains("APP_MODE"),
        "{described}"
    );
    assert!(c.ok(&["label", "cm", "app-config", "tier-"]).contains("unlabeled"));
    assert!(c.ok(&["get", "cm", "-l", "tier=web", "-o", "name"]).trim().is_empty());
    assert!(c.ok(&["delete", "-f", &fixture("configmap.yaml")]).contains("deleted"));
    let gone = c.fails(&["get", "cm", "app-config"]);
    assert!(gone.contains("NotFound") || gone.contains("not found"), "{gone}");
}

#[test]
fn describe_shows_a_deployment_with_its_selector_and_template() {
    let c = Cluster::start();
    c.ok(&["apply", "-f", &fixture("deployment.yaml")]);
    let d = c.ok(&["describe", "deployment", "mydp"]);
    for want in ["Name:", "mydp", "Selector:", "app=webui", "nginx:1.14"] {
        assert!(d.contains(want), "{want} missing in {d}");
    }
}

#[test]
fn get_pods_watch_shows_a_pod_created_elsewhere() {
    let c = Cluster::start();
    let mut watch = Command::new(common::KUBECTL)
        .args(["get", "pods", "-w", "--request-timeout=30s"])
        .env("KUBECONFIG", c.kubeconfig())
        .stdout(Stdio::piped())
        .spawn()
        .expect("kubectl get -w");
    let stdout = watch.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    // The watch is established once kubectl has listed (it prints nothing for an empty list),
    // so create until the watcher reports it, bounded.
    c.ok(&["run", "web", "--image=nginx", "--restart=Never"]);
    let seen = (0..20).find_map(|_| rx.recv_timeout(Duration::from_secs(1)).ok().filter(|l| l.starts_with("web ")));
    let _ = watch.kill();
    let _ = watch.wait();
    let line = seen.expect("kubectl get -w printed the new pod");
    assert!(line.contains("Pending"), "{line}");
}

#[test]
fn bad_input_gets_a_status_naming_the_problem_and_stores_nothing() {
    let c = Cluster::start();
    let dir = c.dir.path();
    let write = |name: &str, body: &str| {
        let p = dir.join(name);
        std::fs::write(&p, body).expect("write");
        p.to_str().expect("utf8").to_string()
    };
    let bad_name = write("badname.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n");
    let err = c.fails(&["create", "-f", &bad_name]);
    assert!(err.contains("metadata.name: Invalid value: \"Bad_Name\"") && err.contains("RFC 1123"), "{err}");

    let bad_svc = write(
        "badsvc.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: rootSvc\nspec:\n  ports:\n  - port: 80\n",
    );
    let err = c.fails(&["create", "-f", &bad_svc]);
    assert!(err.contains("DNS-1035"), "{err}");

    let unknown = write("unknown.yaml", "apiVersion: v1\nkind: Potato\nmetadata:\n  name: a\n");
    let err = c.fails(&["create", "-f", &unknown]);
    assert!(err.contains("Potato"), "{err}");

    let wrong_version = write("wrongver.yaml", "apiVersion: apps/v2\nkind: Deployment\nmetadata:\n  name: a\n");
    let err = c.fails(&["create", "-f", &wrong_version]);
    assert!(err.contains("apps/v2") || err.contains("Deployment"), "{err}");

    let wrong_type = write(
        "wrongtype.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\nspec:\n  replicas: three\n",
    );
    let err = c.fails(&["create", "-f", &wrong_type, "--validate=false"]);
    assert!(err.contains("spec.replicas"), "{err}");

    let big = write(
        "big.json",
        &format!(
            "{{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{{\"name\":\"big\"}},\"data\":{{\"k\":\"{}\"}}}}",
            "x".repeat(3 * 1024 * 1024 + 10)
        ),
    );
    let err = c.fails(&["create", "--raw", "/api/v1/namespaces/default/configmaps", "-f", &big]);
    assert!(err.contains("too large") || err.contains("413"), "{err}");

    let malformed = write("malformed.json", "{\"apiVersion\": \"v1\", \"kind\": ");
    let err = c.fails(&["create", "--raw", "/api/v1/namespaces/default/configmaps", "-f", &malformed]);
    assert!(err.contains("json") || err.contains("BadRequest"), "{err}");

    let cms = c.ok(&["get", "cm", "-o", "name"]);
    let stored: Vec<&str> = cms.lines().filter(|l| *l != "configmap/kube-root-ca.crt").collect();
    assert!(stored.is_empty(), "nothing stored: {cms}");
    assert!(c.ok(&["get", "ns", "default"]).contains("Active"), "the server keeps serving");
}

#[test]
fn kubectl_1_27_works_as_well() {
    let Some(old) = common::kubectl_127() else {
        eprintln!("kubectl 1.27 is not installed here; skipping");
        return;
    };
    let c = Cluster::start();
    let out = c.kubectl_with(&old, &["apply", "-f", &fixture("deployment.yaml")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = c.kubectl_with(&old, &["get", "deploy", "mydp"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("mydp") && text.contains("UP-TO-DATE"), "{text}");
    let out = c.kubectl_with(&old, &["get", "ns"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("kube-system"));
}

#[test]
fn requests_without_credentials_get_401_with_a_status() {
    let c = Cluster::start();
    let url = format!("https://127.0.0.1:{}/api/v1/namespaces", c.port);
    let out = Command::new("curl").args(["-sk", &url]).output().expect("curl");
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a Status body");
    assert_eq!((body["kind"].as_str(), body["code"].as_i64()), (Some("Status"), Some(401)));
}

#[test]
fn kubectl_1_33_create_and_expose_send_protobuf_and_work() {
    let c = Cluster::start();
    assert!(c.ok(&["create", "deployment", "np-pods", "--image=nginx", "--replicas=2"]).contains("created"));
    let out = c.ok(&["expose", "deployment", "np-pods", "--type=NodePort", "--name=np-svc-v2", "--port=80"]);
    assert!(out.contains("exposed"), "{out}");
    let svc = c.ok(&[
        "get",
        "svc",
        "np-svc-v2",
        "-o",
        "jsonpath={.spec.type} {.spec.ports[0].nodePort} {.spec.ports[0].targetPort}",
    ]);
    let parts: Vec<&str> = svc.split(' ').collect();
    assert_eq!(parts[0], "NodePort");
    assert!(parts[1].parse::<u16>().is_ok_and(|p| (30000..=32767).contains(&p)), "{svc}");
    assert_eq!(parts[2], "80");
    assert!(c.ok(&["create", "configmap", "c1", "--from-literal=a=b"]).contains("created"));
    assert_eq!(c.ok(&["get", "cm", "c1", "-o", "jsonpath={.data.a}"]), "b");
}

#[test]
fn server_side_apply_conflicts_with_kubectl_scale_until_forced() {
    let c = Cluster::start();
    let f = fixture("deployment.yaml");
    assert!(c.ok(&["apply", "--server-side", "-f", &f]).contains("serverside-applied"));
    c.ok(&["scale", "deploy", "mydp", "--replicas=5"]);
    let err = c.fails(&["apply", "--server-side", "-f", &f]);
    assert!(err.contains("Apply failed with 1 conflict") && err.contains(".spec.replicas"), "{err}");
    c.ok(&["apply", "--server-side", "--force-conflicts", "-f", &f]);
    assert_eq!(c.ok(&["get", "deploy", "mydp", "-o", "jsonpath={.spec.replicas}"]), "3");
}

#[test]
fn seed_004s_session_affinity_typo_is_rejected_with_kubernetes_wording() {
    let c = Cluster::start();
    let p = c.dir.path().join("affinity.yaml");
    std::fs::write(&p, "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  sessionAffinity: ClusterIP\n  selector:\n    app: web\n  ports:\n  - port: 80\n").expect("write");
    let err = c.fails(&["apply", "-f", p.to_str().expect("utf8")]);
    assert!(
        err.contains(r#"spec.sessionAffinity: Unsupported value: "ClusterIP": supported values: "ClientIP", "None""#),
        "{err}"
    );
}
