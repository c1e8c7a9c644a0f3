//! The storage contract through the real server: acknowledged writes survive SIGKILL, and a
//! kube-rs watcher sees every event of many writes in order, with no gap.

mod common;

use common::Cluster;
use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams};
use kube::runtime::watcher;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

fn configmap(name: &str) -> ConfigMap {
    let mut cm = ConfigMap::default();
    cm.metadata.name = Some(name.into());
    cm.data = Some(BTreeMap::from([("n".to_string(), name.to_string())]));
    cm.metadata.labels = Some(BTreeMap::from([("test".to_string(), "durability".to_string())]));
    cm
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_write_survives_kill_9_mid_load() {
    let mut c = Cluster::start();
    let api: Api<ConfigMap> = Api::namespaced(c.client().await, "default");
    let acked = Arc::new(Mutex::new(Vec::new()));
    let mut writers = Vec::new();
    for w in 0..8 {
        let (api, acked) = (api.clone(), acked.clone());
        writers.push(tokio::spawn(async move {
            for i in 0.. {
                let name = format!("cm-{w}-{i}");
                if api.create(&PostParams::default(), &configmap(&name)).await.is_err() {
                    break;
                }
                acked.lock().expect("lock").push(name);
            }
        }));
    }
    // Kill once a good number of writes has been acknowledged, while the writers still run.
    while acked.lock().expect("lock").len() < 300 {
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    c.kill9();
    for w in writers {
        let _ = w.await;
    }
    let acked = acked.lock().expect("lock").clone();
    c.boot();
    let api: Api<ConfigMap> = Api::namespaced(c.client().await, "default");
    let present: std::collections::HashSet<String> = api
        .list(&Default::default())
        .await
        .expect("list after restart")
        .items
        .into_iter()
        .filter_map(|cm| cm.metadata.name)
        .collect();
    let lost: Vec<&String> = acked.iter().filter(|n| !present.contains(*n)).collect();
    assert!(acked.len() >= 300);
    assert!(lost.is_empty(), "{} of {} acknowledged writes lost, e.g. {:?}", lost.len(), acked.len(), lost.first());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kube_rs_watcher_sees_a_thousand_writes_in_order() {
    let c = Cluster::start();
    let client = c.client().await;
    let api: Api<ConfigMap> = Api::namespaced(client, "default");
    // Only this test's objects: the controllers write ConfigMaps of their own (kube-root-ca.crt).
    let mut events = watcher(api.clone(), watcher::Config::default().labels("test=durability")).boxed();
    // The initial list is empty; InitDone means the watch is established.
    loop {
        match events.next().await.expect("stream").expect("event") {
            watcher::Event::InitDone => break,
            _ => continue,
        }
    }
    let writer = tokio::spawn(async move {
        for i in 0..1000 {
            api.create(&PostParams::default(), &configmap(&format!("w-{i:04}"))).await.expect("create");
        }
    });
    let mut seen = Vec::new();
    let mut last_rv = 0u64;
    while seen.len() < 1000 {
        let ev = tokio::time::timeout(std::time::Duration::from_secs(60), events.next())
            .await
            .expect("events keep coming")
            .expect("stream")
            .expect("event");
        if let watcher::Event::Apply(cm) = ev {
            let rv: u64 = cm.metadata.resource_version.as_deref().unwrap_or("0").parse().expect("numeric rv");
            assert!(rv > last_rv, "resourceVersions increase");
            last_rv = rv;
            seen.push(cm.metadata.name.unwrap_or_default());
        }
    }
    writer.await.expect("writer");
    let expected: Vec<String> = (0..1000).map(|i| format!("w-{i:04}")).collect();
    assert_eq!(seen, expected);
}
