//! The batch group: Jobs and CronJobs (pkg/apis/batch/v1/defaults.go,
//! pkg/apis/batch/validation, and the Job strategy's generated selector).

use crate::core::{default_pod_spec, validate_template};
use crate::field::{
    ErrorList, Path, immutable, invalid, invalid_go, nonnegative, nonnegative_fields, not_supported, required,
};
use crate::json::{self, default_nil, ensure_object, with_mut};
use crate::{cron, gofmt, meta};
use serde_json::{Value, json};

const LEGACY_UID: &str = "controller-uid";
const UID: &str = "batch.kubernetes.io/controller-uid";
const LEGACY_NAME: &str = "job-name";
const NAME: &str = "batch.kubernetes.io/job-name";

pub fn default(kind: &str, obj: &mut Value) {
    match kind {
        "Job" => default_job(obj),
        "CronJob" => default_cron_job(obj),
        _ => {}
    }
}

/// SetDefaults_Job, then the Job strategy's PrepareForCreate: a generated selector and the
/// pod labels it selects, unless the selector is manual.
fn default_job(job: &mut Value) {
    if let Some(spec) = ensure_object(job, "spec") {
        default_job_spec(spec);
        with_mut(spec, "/template/spec", default_pod_spec);
    }
    labels_from_template(job);
    let manual = job.pointer("/spec/manualSelector") == Some(&json!(true));
    let uid = job.pointer("/metadata/uid").and_then(Value::as_str).unwrap_or("").to_string();
    if !manual && !uid.is_empty() {
        let name = job.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("").to_string();
        generate_selector(job, &name, &uid);
    }
    // Read back from storage, Kubernetes defaults an unlabelled Job again, now from the
    // generated template labels: this is what a client sees.
    labels_from_template(job);
}

fn default_job_spec(spec: &mut Value) {
    if json::get(spec, "completions").is_none() && json::get(spec, "parallelism").is_none() {
        spec["completions"] = json!(1);
        spec["parallelism"] = json!(1);
    }
    default_nil(spec, "parallelism", json!(1));
    let per_index = json::get(spec, "backoffLimitPerIndex").is_some();
    default_nil(spec, "backoffLimit", json!(if per_index { i32::MAX } else { 6 }));
    default_nil(spec, "completionMode", json!("NonIndexed"));
    default_nil(spec, "suspend", json!(false));
    let has_failure_policy = json::get(spec, "podFailurePolicy").is_some();
    let replacement = if has_failure_policy { "Failed" } else { "TerminatingOrFailed" };
    default_nil(spec, "podReplacementPolicy", json!(replacement));
    with_mut(spec, "/podFailurePolicy", |pfp| {
        json::each_mut(pfp, "rules", |rule| {
            json::each_mut(rule, "onPodConditions", |c| json::default_zero(c, "status", json!("True")))
        })
    });
}

/// A Job without labels takes its template's.
fn labels_from_template(job: &mut Value) {
    let Some(labels) = job.pointer("/spec/template/metadata/labels").filter(|l| l.is_object()).cloned() else {
        return;
    };
    if let Some(md) = ensure_object(job, "metadata")
        && json::is_zero(md.get("labels"))
    {
        md["labels"] = labels;
    }
}

/// generateSelector: template labels for the job's name and uid, selector on the uid.
fn generate_selector(job: &mut Value, name: &str, uid: &str) {
    let Some(labels) = ensure_object(job, "spec")
        .and_then(|s| ensure_object(s, "template"))
        .and_then(|t| ensure_object(t, "metadata"))
        .and_then(|m| ensure_object(m, "labels"))
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    for (key, value) in [(LEGACY_NAME, name), (NAME, name), (LEGACY_UID, uid), (UID, uid)] {
        labels.entry(key).or_insert_with(|| json!(value));
    }
    let Some(match_labels) = ensure_object(job, "spec")
        .and_then(|s| ensure_object(s, "selector"))
        .and_then(|s| ensure_object(s, "matchLabels"))
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    match_labels.entry(UID).or_insert_with(|| json!(uid));
}

/// SetDefaults_CronJob, and PodSpec defaults for the job template's pods.
fn default_cron_job(cj: &mut Value) {
    let Some(spec) = ensure_object(cj, "spec") else {
        return;
    };
    json::default_zero(spec, "concurrencyPolicy", json!("Allow"));
    default_nil(spec, "suspend", json!(false));
    default_nil(spec, "successfulJobsHistoryLimit", json!(3));
    default_nil(spec, "failedJobsHistoryLimit", json!(1));
    with_mut(spec, "/jobTemplate/spec/template/spec", default_pod_spec);
}

pub fn validate(kind: &str, obj: &Value, old: Option<&Value>) -> ErrorList {
    match (kind, old) {
        ("Job", None) => validate_job(obj),
        ("Job", Some(old)) => validate_job_update(obj, old),
        ("CronJob", _) => validate_cron_job(obj, old),
        _ => Vec::new(),
    }
}

/// ValidateJob: the generated selector, then the spec.
fn validate_job(job: &Value) -> ErrorList {
    let mut errs = validate_generated_selector(job);
    let spec = json::get(job, "spec").cloned().unwrap_or_default();
    errs.extend(validate_job_spec_with_selector(&spec, &Path::new("spec")));
    errs
}

/// ValidateGeneratedSelector: the generated labels are on the template and selected.
fn validate_generated_selector(job: &Value) -> ErrorList {
    if job.pointer("/spec/manualSelector") == Some(&json!(true)) {
        return Vec::new();
    }
    let Some(sel) = json::at(job, "/spec/selector") else {
        return Vec::new();
    };
    let uid = job.pointer("/metadata/uid").and_then(Value::as_str).unwrap_or("");
    let name = job.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
    let mut errs = Vec::new();
    if uid.is_empty() {
        errs.push(required(&Path::new("metadata").child("uid"), ""));
    }
    let tmd = job.pointer("/spec/template/metadata");
    let tp = Path::new("spec").children(&["template", "metadata"]);
    for (key, value) in [(LEGACY_UID, uid), (LEGACY_NAME, name), (UID, uid), (NAME, name)] {
        errs.extend(meta::validate_has_label(tmd, &tp, key, value));
    }
    let expected = json!({UID: uid, NAME: name});
    if meta::selector(Some(sel)).is_some_and(|s| !meta::matches(&s, Some(&expected))) {
        errs.push(invalid_go(
            &Path::new("spec").child("selector"),
            &gofmt::label_selector(Some(sel)),
            "`selector` not auto-generated",
        ));
    }
    errs
}

/// ValidateJobSpec: validateJobSpec plus a selector that selects the template.
fn validate_job_spec_with_selector(spec: &Value, p: &Path) -> ErrorList {
    let mut errs = validate_job_spec(spec, p);
    let sel = json::get(spec, "selector");
    match sel {
        None => errs.push(required(&p.child("selector"), "")),
        Some(s) => errs.extend(meta::validate_label_selector(Some(s), &p.child("selector"))),
    }
    let labels = spec.pointer("/template/metadata/labels");
    if meta::selector(sel).is_some_and(|s| !meta::matches(&s, labels)) {
        errs.push(meta::selector_mismatch(labels, &p.children(&["template", "metadata", "labels"])));
    }
    errs
}

/// validateJobSpec.
fn validate_job_spec(spec: &Value, p: &Path) -> ErrorList {
    let mut errs = Vec::new();
    for f in [
        "parallelism",
        "completions",
        "activeDeadlineSeconds",
        "backoffLimit",
        "ttlSecondsAfterFinished",
        "backoffLimitPerIndex",
        "maxFailedIndexes",
    ] {
        if let Some(v) = json::int(spec, f) {
            errs.extend(nonnegative(v, &p.child(f)));
        }
    }
    errs.extend(validate_completion_mode(spec, p));
    errs.extend(validate_pod_replacement_policy(spec, &p.child("podReplacementPolicy")));
    errs.extend(validate_pod_failure_policy(spec, &p.child("podFailurePolicy")));
    errs.extend(validate_template(json::get(spec, "template"), &p.child("template")));
    errs.extend(validate_restart_policy(spec, &p.children(&["template", "spec", "restartPolicy"])));
    errs
}

fn validate_completion_mode(spec: &Value, p: &Path) -> ErrorList {
    let mut errs = Vec::new();
    let mode = json::str_of(spec, "completionMode");
    if json::get(spec, "backoffLimitPerIndex").is_some() && mode != Some("Indexed") {
        errs.push(crate::field::forbidden(&p.child("backoffLimitPerIndex"), "requires indexed completion mode"));
    }
    match mode {
        Some("Indexed") => {
            if json::get(spec, "completions").is_none() {
                errs.push(required(&p.child("completions"), "when completion mode is Indexed"));
            }
            if let Some(par) = json::int(spec, "parallelism").filter(|n| *n > 100_000) {
                errs.push(invalid(
                    &p.child("parallelism"),
                    par,
                    "must be less than or equal to 100000 when completion mode is Indexed",
                ));
            }
        }
        Some("NonIndexed") | None => {}
        Some(other) => errs.push(not_supported(&p.child("completionMode"), other, &["NonIndexed", "Indexed"])),
    }
    errs
}

/// validatePodReplacementPolicy: only Failed beside a podFailurePolicy.
fn validate_pod_replacement_policy(spec: &Value, p: &Path) -> ErrorList {
    let Some(policy) = json::str_of(spec, "podReplacementPolicy") else {
        return Vec::new();
    };
    if json::get(spec, "podFailurePolicy").is_some() {
        if policy != "Failed" {
            return vec![not_supported(p, policy, &["Failed"])];
        }
        return Vec::new();
    }
    if policy != "Failed" && policy != "TerminatingOrFailed" {
        return vec![not_supported(p, policy, &["Failed", "TerminatingOrFailed"])];
    }
    Vec::new()
}

/// validatePodFailurePolicy: known actions, each rule with exactly one requirement kind.
fn validate_pod_failure_policy(spec: &Value, p: &Path) -> ErrorList {
    let Some(pfp) = json::get(spec, "podFailurePolicy") else {
        return Vec::new();
    };
    let rules = json::items(pfp, "rules");
    if rules.len() > 20 {
        return vec![crate::field::too_many(&p.child("rules"), rules.len(), 20)];
    }
    let mut errs = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let rp = p.child("rules").index(i);
        let action = json::string(rule, "action");
        let actions = ["Count", "FailIndex", "FailJob", "Ignore"];
        if !actions.contains(&action) {
            errs.push(not_supported(&rp.child("action"), action, &actions));
        }
        let (codes, conds) = (json::get(rule, "onExitCodes"), json::get(rule, "onPodConditions"));
        if codes.is_some() == conds.is_some() {
            errs.push(invalid(&rp, "", "specifying one of OnExitCodes and OnPodConditions is required"));
        }
    }
    errs
}

/// A Job's pods end: restartPolicy defaults to Always for any PodSpec, so both "" and Always
/// are refused as Required.
fn validate_restart_policy(spec: &Value, p: &Path) -> ErrorList {
    let policy = spec.pointer("/template/spec/restartPolicy").and_then(Value::as_str).unwrap_or("");
    match policy {
        "" | "Always" => vec![required(p, "valid values: \"OnFailure\", \"Never\"")],
        "OnFailure" if json::get(spec, "podFailurePolicy").is_some() => {
            vec![invalid(p, policy, "only \"Never\" is supported when podFailurePolicy is specified")]
        }
        "OnFailure" | "Never" => Vec::new(),
        other => vec![not_supported(p, other, &["OnFailure", "Never"])],
    }
}

/// ValidateJobUpdate: the spec is valid; selector, completion mode, failure policy and
/// (but for a suspended, never-started Job's scheduling directives) the template never change.
fn validate_job_update(new: &Value, old: &Value) -> ErrorList {
    let p = Path::new("spec");
    let spec = json::get(new, "spec").cloned().unwrap_or_default();
    let old_spec = json::get(old, "spec").cloned().unwrap_or_default();
    let mut errs = validate_job_spec_with_selector(&spec, &p);
    errs.extend(validate_completions_update(&spec, &old_spec, &p));
    let (sel, old_sel) = (json::get(&spec, "selector"), json::get(&old_spec, "selector"));
    if !json::semantic_eq(sel, old_sel) {
        errs.push(invalid_go(&p.child("selector"), &gofmt::label_selector(sel), crate::field::IMMUTABLE));
    }
    errs.extend(validate_template_update(&spec, &old_spec, old, &p.child("template")));
    for f in ["completionMode", "podFailurePolicy", "backoffLimitPerIndex", "managedBy"] {
        errs.extend(immutable(spec.get(f), old_spec.get(f), &p.child(f)));
    }
    errs
}

/// validateCompletions: immutable, except an Indexed Job scaled with its parallelism.
fn validate_completions_update(spec: &Value, old: &Value, p: &Path) -> ErrorList {
    let (n, o) = (spec.get("completions"), old.get("completions"));
    let indexed = json::string(spec, "completionMode") == "Indexed";
    if !indexed {
        return immutable(n, o, &p.child("completions"));
    }
    match json::int(spec, "completions") {
        Some(c) if !json::semantic_eq(n, o) && Some(c) != json::int(spec, "parallelism") => {
            vec![invalid(&p.child("completions"), c, "can only be modified in tandem with spec.parallelism")]
        }
        _ => Vec::new(),
    }
}

/// validatePodTemplateUpdate.
fn validate_template_update(spec: &Value, old_spec: &Value, old: &Value, p: &Path) -> ErrorList {
    let new_t = json::get(spec, "template").cloned().unwrap_or_default();
    let mut old_t = json::get(old_spec, "template").cloned().unwrap_or_default();
    let suspended = old.pointer("/spec/suspend") == Some(&json!(true));
    let started = json::at(old, "/status/startTime").is_some();
    if suspended && !started {
        for ptr in [
            "/metadata/labels",
            "/metadata/annotations",
            "/spec/nodeSelector",
            "/spec/tolerations",
            "/spec/schedulingGates",
            "/spec/affinity/nodeAffinity",
        ] {
            copy_at(&new_t, &mut old_t, ptr);
        }
    }
    if json::semantic_eq(Some(&new_t), Some(&old_t)) {
        return Vec::new();
    }
    vec![invalid(p, new_t, crate::field::IMMUTABLE)]
}

/// Sets (or removes) the value at `ptr` in `to` to what `from` holds there.
fn copy_at(from: &Value, to: &mut Value, ptr: &str) {
    let Some((parent, key)) = ptr.rsplit_once('/') else {
        return;
    };
    let value = from.pointer(ptr).cloned();
    let mut cur = to;
    for seg in parent.split('/').filter(|s| !s.is_empty()) {
        let Some(next) = ensure_object(cur, seg) else {
            return;
        };
        cur = next;
    }
    if let Value::Object(m) = cur {
        match value {
            Some(v) => m.insert(key.to_string(), v),
            None => m.remove(key),
        };
    }
}

/// ValidateCronJobCreate / ValidateCronJobUpdate.
fn validate_cron_job(cj: &Value, old: Option<&Value>) -> ErrorList {
    let p = Path::new("spec");
    let spec = json::get(cj, "spec").cloned().unwrap_or_default();
    let old_spec = old.and_then(|o| json::get(o, "spec"));
    let mut errs = validate_schedule(&spec, old_spec, &p);
    if let Some(d) = json::int(&spec, "startingDeadlineSeconds") {
        errs.extend(nonnegative(d, &p.child("startingDeadlineSeconds")));
    }
    if old_spec.is_none_or(|o| o.get("timeZone") != spec.get("timeZone")) {
        errs.extend(validate_time_zone(&spec, &p.child("timeZone")));
    }
    let policy = json::string(&spec, "concurrencyPolicy");
    errs.extend(crate::field::enum_required(policy, &["Allow", "Forbid", "Replace"], &p.child("concurrencyPolicy")));
    errs.extend(validate_job_template(&spec, &p.child("jobTemplate")));
    for f in ["successfulJobsHistoryLimit", "failedJobsHistoryLimit"] {
        if let Some(v) = json::int(&spec, f) {
            errs.extend(nonnegative(v, &p.child(f)));
        }
    }
    let name = cj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
    if old.is_none() && name.len() > 52 {
        errs.push(invalid(&Path::new("metadata").child("name"), name, "must be no more than 52 characters"));
    }
    errs
}

/// validateScheduleFormat: robfig/cron's standard syntax, no TZ in the schedule.
fn validate_schedule(spec: &Value, old: Option<&Value>, p: &Path) -> ErrorList {
    let schedule = json::string(spec, "schedule");
    let sp = p.child("schedule");
    if schedule.is_empty() {
        return vec![required(&sp, "")];
    }
    let mut errs = Vec::new();
    if let Err(e) = cron::parse_standard(schedule) {
        errs.push(invalid(&sp, schedule, e));
    }
    let allow_tz = old.is_some_and(|o| json::string(o, "schedule").contains("TZ"));
    if schedule.contains("TZ") {
        if !allow_tz {
            errs.push(invalid(&sp, schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"));
        } else if json::get(spec, "timeZone").is_some() {
            errs.push(invalid(&sp, schedule, "cannot use both timeZone field and TZ or CRON_TZ in schedule"));
        }
    }
    errs
}

/// validateTimeZone: an IANA zone name the system knows.
fn validate_time_zone(spec: &Value, p: &Path) -> ErrorList {
    let Some(tz) = json::str_of(spec, "timeZone") else {
        return Vec::new();
    };
    if tz.is_empty() {
        return vec![invalid(p, tz, "timeZone must be nil or non-empty string")];
    }
    let valid_part = |part: &str| {
        part != "."
            && part != ".."
            && !part.starts_with('-')
            && (1..=14).contains(&part.len())
            && part.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-+".contains(&b))
    };
    if !tz.split('/').all(valid_part) {
        return vec![invalid(p, tz, format!("unknown time zone {tz}"))];
    }
    if tz.eq_ignore_ascii_case("Local") {
        return vec![invalid(
            p,
            tz,
            "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones",
        )];
    }
    if !known_zone(tz) {
        return vec![invalid(p, tz, format!("unknown time zone {tz}"))];
    }
    Vec::new()
}

/// time.LoadLocation: UTC, or a file of the system's zoneinfo database (when it has one).
fn known_zone(tz: &str) -> bool {
    let db = std::path::Path::new("/usr/share/zoneinfo");
    tz == "UTC" || !db.is_dir() || db.join(tz).is_file()
}

/// ValidateJobTemplateSpec: a valid job spec whose selector will be generated.
fn validate_job_template(spec: &Value, p: &Path) -> ErrorList {
    let job_spec = spec.pointer("/jobTemplate/spec").cloned().unwrap_or_default();
    let sp = p.child("spec");
    let mut errs = validate_job_spec(&job_spec, &sp);
    if let Some(sel) = json::get(&job_spec, "selector") {
        errs.push(invalid_go(
            &sp.child("selector"),
            &gofmt::label_selector(Some(sel)),
            "`selector` will be auto-generated",
        ));
    }
    if job_spec.get("manualSelector") == Some(&json!(true)) {
        errs.push(not_supported(&sp.child("manualSelector"), true, &["nil", "false"]));
    }
    errs
}

pub fn validate_status(kind: &str, obj: &Value) -> ErrorList {
    if kind != "Job" {
        return Vec::new();
    }
    let fields = ["active", "succeeded", "failed", "ready", "terminating"];
    let present: Vec<&str> = fields.into_iter().filter(|f| obj.pointer(&format!("/status/{f}")).is_some()).collect();
    nonnegative_fields(obj, "/status", &present, &Path::new("status"))
}
