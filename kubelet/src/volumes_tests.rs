//! Volume files: payloads and the atomic writer.

use super::*;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kubelet-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn config_map_items_choose_keys_paths_and_modes() {
    let data = BTreeMap::from([("a".to_string(), b"1".to_vec()), ("b".to_string(), b"2".to_vec())]);
    let items = vec![KeyToPath { key: "b".into(), path: "sub/b.txt".into(), mode: Some(0o400) }];
    let p = key_payload(data.clone(), Some(&items), 0o644);
    assert_eq!(p.len(), 1);
    assert_eq!(p["sub/b.txt"], (b"2".to_vec(), 0o400));
    assert_eq!(key_payload(data, None, 0o644).len(), 2);
}

#[test]
fn the_atomic_writer_swaps_data_and_keeps_symlinks() {
    let d = tmp("atomic");
    let mut p = Payload::new();
    p.insert("k".into(), (b"v1".to_vec(), 0o644));
    write_atomic(&d, &p).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(std::fs::read(d.join("k")).unwrap_or_default(), b"v1");
    p.insert("k".into(), (b"v2".to_vec(), 0o644));
    p.insert("j".into(), (b"new".to_vec(), 0o644));
    write_atomic(&d, &p).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(std::fs::read(d.join("k")).unwrap_or_default(), b"v2");
    assert_eq!(std::fs::read(d.join("j")).unwrap_or_default(), b"new");
    assert!(std::fs::symlink_metadata(d.join("k")).map(|m| m.file_type().is_symlink()).unwrap_or(false));
    p.remove("j");
    write_atomic(&d, &p).unwrap_or_else(|e| panic!("{e}"));
    assert!(!d.join("j").exists());
    let stamps = std::fs::read_dir(&d)
        .map(|r| r.flatten().filter(|e| e.file_name().to_string_lossy().starts_with("..1")).count())
        .unwrap_or(0);
    assert_eq!(stamps, 1);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn downward_api_files_hold_labels_as_key_value_lines() {
    let pod: Pod = serde_json::from_value(serde_json::json!({"metadata": {"name": "p", "labels": {"a": "1", "b": "2"}}, "spec": {"containers": [{"name": "c"}]}})).unwrap_or_default();
    let items = vec![
        DownwardAPIVolumeFile {
            path: "labels".into(),
            field_ref: Some(k8s_openapi::api::core::v1::ObjectFieldSelector {
                field_path: "metadata.labels".into(),
                api_version: None,
            }),
            ..Default::default()
        },
        DownwardAPIVolumeFile {
            path: "name".into(),
            field_ref: Some(k8s_openapi::api::core::v1::ObjectFieldSelector {
                field_path: "metadata.name".into(),
                api_version: None,
            }),
            ..Default::default()
        },
    ];
    let p = downward_payload(&pod, &items, 0o644, &crate::env::Sources::default());
    assert_eq!(p["labels"].0, b"a=\"1\"\nb=\"2\"\n");
    assert_eq!(p["name"].0, b"p");
}

#[test]
fn a_host_path_of_type_directory_or_create_is_created() {
    let d = tmp("hostpath").join("x");
    let p = host_path(&d.to_string_lossy(), "DirectoryOrCreate").unwrap_or_else(|e| panic!("{e}"));
    assert!(p.is_dir());
    assert!(matches!(host_path("/nonexistent/zzz", "Directory"), Err(VolumeError::HostPathType { .. })));
    let _ = std::fs::remove_dir_all(d.parent().unwrap_or(&d));
}
