//! Jobs and CronJobs.

mod common;

use common::{assert_has, create_errors, defaulted, status_errors, update_errors};
use serde_json::{Value, json};

const UID: &str = "0b1c2d3e-0000-4000-8000-000000000001";

fn job(pod_spec: Value) -> Value {
    json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "pi", "namespace": "default", "uid": UID},
        "spec": {"template": {"spec": pod_spec}}
    })
}

fn pi() -> Value {
    job(
        json!({"restartPolicy": "Never", "containers": [{"name": "pi", "image": "perl:5.34", "command": ["perl", "-e", "print 1"]}]}),
    )
}

fn cron_job(schedule: &str) -> Value {
    json!({
        "apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": "hello", "namespace": "default"},
        "spec": {"schedule": schedule, "jobTemplate": {"spec": {"template": {"spec": {
            "restartPolicy": "OnFailure",
            "containers": [{"name": "hello", "image": "busybox:1.36", "command": ["date"]}]
        }}}}}
    })
}

#[test]
fn a_job_gets_its_defaults() {
    let j = defaulted("batch", "Job", pi());
    let spec = &j["spec"];
    assert_eq!(spec["parallelism"], 1);
    assert_eq!(spec["completions"], 1);
    assert_eq!(spec["backoffLimit"], 6);
    assert_eq!(spec["completionMode"], "NonIndexed");
    assert_eq!(spec["suspend"], false);
    assert_eq!(spec["podReplacementPolicy"], "TerminatingOrFailed");
    assert!(spec.get("manualSelector").is_none());
}

#[test]
fn a_job_with_parallelism_only_gets_no_completions() {
    let mut j = pi();
    j["spec"]["parallelism"] = json!(3);
    let j = defaulted("batch", "Job", j);
    assert!(j["spec"].get("completions").is_none());
    assert_eq!(j["spec"]["parallelism"], 3);
}

#[test]
fn a_job_gets_a_generated_selector_and_pod_labels() {
    let j = defaulted("batch", "Job", pi());
    assert_eq!(j["spec"]["selector"], json!({"matchLabels": {"batch.kubernetes.io/controller-uid": UID}}));
    let labels = json!({
        "job-name": "pi",
        "batch.kubernetes.io/job-name": "pi",
        "controller-uid": UID,
        "batch.kubernetes.io/controller-uid": UID
    });
    assert_eq!(j["spec"]["template"]["metadata"]["labels"], labels);
    assert_eq!(j["metadata"]["labels"], labels);
}

#[test]
fn a_job_with_template_labels_keeps_them_as_its_own() {
    let mut j = pi();
    j["spec"]["template"]["metadata"] = json!({"labels": {"app": "pi"}});
    let j = defaulted("batch", "Job", j);
    assert_eq!(j["metadata"]["labels"], json!({"app": "pi"}));
    assert_eq!(j["spec"]["template"]["metadata"]["labels"]["app"], "pi");
}

#[test]
fn a_manual_selector_is_not_generated() {
    let mut j = pi();
    j["spec"]["manualSelector"] = json!(true);
    j["spec"]["selector"] = json!({"matchLabels": {"app": "pi"}});
    j["spec"]["template"]["metadata"] = json!({"labels": {"app": "pi"}});
    let d = defaulted("batch", "Job", j.clone());
    assert_eq!(d["spec"]["selector"], json!({"matchLabels": {"app": "pi"}}));
    assert!(create_errors("batch", "Job", j).is_empty());
}

#[test]
fn a_valid_job_passes() {
    assert_eq!(create_errors("batch", "Job", pi()), Vec::<String>::new());
}

#[test]
fn a_job_without_restart_policy_must_choose_one() {
    let j = job(json!({"containers": [{"name": "pi", "image": "perl:5.34"}]}));
    assert_eq!(
        create_errors("batch", "Job", j),
        vec![r#"spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never""#]
    );
}

#[test]
fn a_job_that_restarts_always_is_refused_the_same_way() {
    let j = job(json!({"restartPolicy": "Always", "containers": [{"name": "pi", "image": "perl:5.34"}]}));
    assert_eq!(
        create_errors("batch", "Job", j),
        vec![r#"spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never""#]
    );
}

#[test]
fn negative_parallelism_and_completions_are_rejected() {
    let mut j = pi();
    j["spec"]["parallelism"] = json!(-1);
    j["spec"]["completions"] = json!(-2);
    assert_eq!(
        create_errors("batch", "Job", j),
        vec![
            "spec.parallelism: Invalid value: -1: must be greater than or equal to 0",
            "spec.completions: Invalid value: -2: must be greater than or equal to 0"
        ]
    );
}

#[test]
fn an_indexed_job_needs_completions() {
    let mut j = pi();
    j["spec"]["completionMode"] = json!("Indexed");
    j["spec"]["parallelism"] = json!(2);
    assert_eq!(
        create_errors("batch", "Job", j),
        vec!["spec.completions: Required value: when completion mode is Indexed"]
    );
}

#[test]
fn a_job_selector_is_immutable() {
    let old = defaulted("batch", "Job", pi());
    let mut new = old.clone();
    new["spec"]["selector"]["matchLabels"]["extra"] = json!("x");
    new["spec"]["template"]["metadata"]["labels"]["extra"] = json!("x");
    let errs = update_errors("batch", "Job", old, new);
    assert_has(
        &errs,
        &format!(
            "spec.selector: Invalid value: v1.LabelSelector{{MatchLabels:map[string]string{{\"batch.kubernetes.io/controller-uid\":\"{UID}\", \"extra\":\"x\"}}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}}: field is immutable"
        ),
    );
}

#[test]
fn a_job_template_is_immutable() {
    let old = defaulted("batch", "Job", pi());
    let mut new = old.clone();
    new["spec"]["template"]["spec"]["containers"][0]["image"] = json!("perl:5.36");
    let errs = update_errors("batch", "Job", old, new);
    assert_eq!(errs.len(), 1);
    assert!(errs[0].starts_with("spec.template: Invalid value: "), "{errs:?}");
    assert!(errs[0].ends_with(": field is immutable"), "{errs:?}");
}

#[test]
fn a_suspended_job_may_move_to_other_nodes() {
    let mut old = pi();
    old["spec"]["suspend"] = json!(true);
    let old = defaulted("batch", "Job", old);
    let mut new = old.clone();
    new["spec"]["template"]["spec"]["nodeSelector"] = json!({"disk": "ssd"});
    assert!(update_errors("batch", "Job", old, new).is_empty());
}

#[test]
fn job_completions_are_immutable() {
    let old = defaulted("batch", "Job", pi());
    let mut new = old.clone();
    new["spec"]["completions"] = json!(3);
    assert_eq!(update_errors("batch", "Job", old, new), vec!["spec.completions: Invalid value: 3: field is immutable"]);
}

#[test]
fn a_job_status_count_is_not_negative() {
    let old = defaulted("batch", "Job", pi());
    let mut new = old.clone();
    new["status"] = json!({"active": -1});
    assert_eq!(
        status_errors("batch", "Job", old, new),
        vec!["status.active: Invalid value: -1: must be greater than or equal to 0"]
    );
}

#[test]
fn a_cron_job_gets_its_defaults() {
    let c = defaulted("batch", "CronJob", cron_job("*/1 * * * *"));
    let spec = &c["spec"];
    assert_eq!(spec["concurrencyPolicy"], "Allow");
    assert_eq!(spec["suspend"], false);
    assert_eq!(spec["successfulJobsHistoryLimit"], 3);
    assert_eq!(spec["failedJobsHistoryLimit"], 1);
    let pod_spec = &spec["jobTemplate"]["spec"]["template"]["spec"];
    assert_eq!(pod_spec["dnsPolicy"], "ClusterFirst");
    assert!(spec["jobTemplate"]["spec"].get("backoffLimit").is_none());
}

#[test]
fn a_valid_cron_job_passes() {
    assert_eq!(create_errors("batch", "CronJob", cron_job("*/1 * * * *")), Vec::<String>::new());
    assert!(create_errors("batch", "CronJob", cron_job("@hourly")).is_empty());
}

#[test]
fn a_cron_job_needs_a_schedule() {
    assert_eq!(create_errors("batch", "CronJob", cron_job("")), vec!["spec.schedule: Required value"]);
}

#[test]
fn a_schedule_with_six_fields_is_rejected() {
    assert_eq!(
        create_errors("batch", "CronJob", cron_job("* * * * * *")),
        vec![r#"spec.schedule: Invalid value: "* * * * * *": expected exactly 5 fields, found 6: [* * * * * *]"#]
    );
}

#[test]
fn a_schedule_minute_past_59_is_rejected() {
    assert_eq!(
        create_errors("batch", "CronJob", cron_job("61 * * * *")),
        vec![r#"spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61"#]
    );
}

#[test]
fn a_time_zone_belongs_in_its_own_field() {
    assert_eq!(
        create_errors("batch", "CronJob", cron_job("TZ=UTC 0 * * * *")),
        vec![
            r#"spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead"#
        ]
    );
}

#[test]
fn an_unknown_concurrency_policy_lists_the_supported_ones() {
    let mut c = cron_job("@daily");
    c["spec"]["concurrencyPolicy"] = json!("Sometimes");
    assert_eq!(
        create_errors("batch", "CronJob", c),
        vec![
            r#"spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace""#
        ]
    );
}

#[test]
fn a_local_time_zone_is_refused() {
    let mut c = cron_job("@daily");
    c["spec"]["timeZone"] = json!("Local");
    assert_eq!(
        create_errors("batch", "CronJob", c),
        vec![
            r#"spec.timeZone: Invalid value: "Local": timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"#
        ]
    );
}

#[test]
fn a_malformed_time_zone_is_unknown() {
    let mut c = cron_job("@daily");
    c["spec"]["timeZone"] = json!("Mars/../Base");
    assert_eq!(
        create_errors("batch", "CronJob", c),
        vec![r#"spec.timeZone: Invalid value: "Mars/../Base": unknown time zone Mars/../Base"#]
    );
}

#[test]
fn a_cron_job_template_must_not_restart_always() {
    let mut c = cron_job("@daily");
    c["spec"]["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"] = json!("Always");
    assert_eq!(
        create_errors("batch", "CronJob", c),
        vec![
            r#"spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never""#
        ]
    );
}

#[test]
fn a_cron_job_template_may_not_set_a_selector() {
    let mut c = cron_job("@daily");
    c["spec"]["jobTemplate"]["spec"]["selector"] = json!({"matchLabels": {"a": "b"}});
    assert_eq!(
        create_errors("batch", "CronJob", c),
        vec![
            r#"spec.jobTemplate.spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"a":"b"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: `selector` will be auto-generated"#
        ]
    );
}

#[test]
fn a_cron_job_name_leaves_room_for_the_job_suffix() {
    let mut c = cron_job("@daily");
    c["metadata"]["name"] = json!("a".repeat(53));
    assert_eq!(
        create_errors("batch", "CronJob", c),
        vec![format!("metadata.name: Invalid value: \"{}\": must be no more than 52 characters", "a".repeat(53))]
    );
}
