//! batch/v1 printers: jobs and cron jobs.

use jiff::Timestamp;
use serde_json::Value;

use crate::age::{age, elapsed, parse_time, since};
use crate::core::{containers_column, images_column};
use crate::format::{container_cells, format_label_selector, int, list, name, text};
use crate::{Column, Printer, doc, human_signed_duration};

/// The printer for a batch resource.
pub(crate) fn printer(resource: &str) -> Option<Printer> {
    match resource {
        "jobs" => Some(Printer { columns: JOB, cells: job }),
        "cronjobs" => Some(Printer { columns: CRON_JOB, cells: cron_job }),
        _ => None,
    }
}

const JOB: &[Column] = &[
    Column::name(),
    Column::string("Status", "Status of the job."),
    Column::string("Completions", doc::JOB_STATUS_SUCCEEDED),
    Column::string("Duration", "Time required to complete the job."),
    Column::age(),
    containers_column(),
    images_column(),
    Column::string("Selector", doc::JOB_SPEC_SELECTOR).wide(),
];

fn job(obj: &Value, now: Timestamp) -> Vec<Value> {
    let spec = &obj["spec"];
    let [names, images] = container_cells(&spec["template"]["spec"]);
    vec![
        name(obj),
        Value::from(job_status(obj)),
        Value::from(completions(obj)),
        Value::from(job_duration(&obj["status"], now)),
        age(obj, now),
        names,
        images,
        Value::from(format_label_selector(&spec["selector"])),
    ]
}

/// "succeeded/completions", or "succeeded/1 of parallelism" for a work queue without completions.
fn completions(job: &Value) -> String {
    let (spec, succeeded) = (&job["spec"], int(&job["status"]["succeeded"]));
    if let Some(completions) = spec["completions"].as_i64() {
        return format!("{succeeded}/{completions}");
    }
    match int(&spec["parallelism"]) {
        parallelism if parallelism > 1 => format!("{succeeded}/1 of {parallelism}"),
        _ => format!("{succeeded}/1"),
    }
}

/// How long the job ran, or has been running; "" before it starts.
fn job_duration(status: &Value, now: Timestamp) -> String {
    let Some(start) = parse_time(&status["startTime"]) else {
        return String::new();
    };
    match parse_time(&status["completionTime"]) {
        Some(end) => human_signed_duration(end.duration_since(start)),
        None => elapsed(start, now),
    }
}

/// The STATUS column new in 1.33, from the job's conditions in order of precedence.
fn job_status(job: &Value) -> &'static str {
    let conditions = list(&job["status"]["conditions"]);
    let has = |kind: &str| {
        let found = conditions.iter().find(|c| text(&c["type"]) == kind);
        found.is_some_and(|c| text(&c["status"]) == "True")
    };
    if has("Complete") {
        "Complete"
    } else if has("Failed") {
        "Failed"
    } else if job["metadata"]["deletionTimestamp"].is_string() {
        "Terminating"
    } else if has("Suspended") {
        "Suspended"
    } else if has("FailureTarget") {
        "FailureTarget"
    } else {
        "Running"
    }
}

const CRON_JOB: &[Column] = &[
    Column::name(),
    Column::string("Schedule", doc::CRON_JOB_SPEC_SCHEDULE),
    Column::string("Timezone", doc::CRON_JOB_SPEC_TIME_ZONE),
    Column::boolean("Suspend", doc::CRON_JOB_SPEC_SUSPEND),
    Column::integer("Active", doc::CRON_JOB_STATUS_ACTIVE),
    Column::string("Last Schedule", doc::CRON_JOB_STATUS_LAST_SCHEDULE),
    Column::age(),
    containers_column(),
    images_column(),
    Column::string("Selector", doc::JOB_SPEC_SELECTOR).wide(),
];

fn cron_job(obj: &Value, now: Timestamp) -> Vec<Value> {
    let (spec, status) = (&obj["spec"], &obj["status"]);
    let job_spec = &spec["jobTemplate"]["spec"];
    let [names, images] = container_cells(&job_spec["template"]["spec"]);
    let last_schedule = if status["lastScheduleTime"].is_string() {
        since(&status["lastScheduleTime"], now)
    } else {
        "<none>".to_owned()
    };
    vec![
        name(obj),
        Value::from(text(&spec["schedule"])),
        Value::from(spec["timeZone"].as_str().unwrap_or("<none>")),
        Value::from(print_bool(&spec["suspend"])),
        Value::from(list(&status["active"]).len()),
        Value::from(last_schedule),
        age(obj, now),
        names,
        images,
        Value::from(format_label_selector(&job_spec["selector"])),
    ]
}

/// `printBoolPtr`: the cell is a string even though the column says boolean.
fn print_bool(value: &Value) -> &'static str {
    match value.as_bool() {
        Some(true) => "True",
        Some(false) => "False",
        None => "<unset>",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        "2025-06-01T12:00:00Z".parse().expect("a valid timestamp")
    }

    fn pi_template() -> Value {
        json!({"spec": {"restartPolicy": "Never", "containers": [{"name": "pi", "image": "perl:5.34"}]}})
    }

    #[test]
    fn a_completed_job_shows_complete_and_how_long_it_took() {
        let job = json!({
            "metadata": {"name": "pi", "creationTimestamp": "2025-06-01T11:00:00Z"},
            "spec": {
                "completions": 1,
                "parallelism": 1,
                "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "4f0c"}},
                "template": pi_template()
            },
            "status": {
                "startTime": "2025-06-01T11:00:01Z",
                "completionTime": "2025-06-01T11:00:38Z",
                "succeeded": 1,
                "conditions": [
                    {"type": "SuccessCriteriaMet", "status": "True"},
                    {"type": "Complete", "status": "True"}
                ]
            }
        });
        assert_eq!(
            crate::cells("batch", "jobs", &job, now()),
            [
                json!("pi"),
                json!("Complete"),
                json!("1/1"),
                json!("37s"),
                json!("60m"),
                json!("pi"),
                json!("perl:5.34"),
                json!("batch.kubernetes.io/controller-uid=4f0c")
            ]
        );
    }

    #[test]
    fn a_running_work_queue_job_counts_against_its_parallelism() {
        let job = json!({
            "metadata": {"name": "queue"},
            "spec": {"parallelism": 3, "template": pi_template()},
            "status": {"startTime": "2025-06-01T11:55:00Z", "active": 3}
        });
        let cells = crate::cells("batch", "jobs", &job, now());
        assert_eq!(cells[1..4], [json!("Running"), json!("0/1 of 3"), json!("5m")]);
    }

    #[test]
    fn a_failed_job_that_has_not_started_has_no_duration() {
        let job = json!({"metadata": {"name": "j"}, "spec": {"completions": 2}, "status": {"conditions": [{"type": "Failed", "status": "True"}]}});
        let cells = crate::cells("batch", "jobs", &job, now());
        assert_eq!(cells[1..4], [json!("Failed"), json!("0/2"), json!("")]);
    }

    #[test]
    fn a_suspended_cron_job_with_a_time_zone() {
        let cron_job = json!({
            "metadata": {"name": "backup", "creationTimestamp": "2025-05-25T12:00:00Z"},
            "spec": {
                "schedule": "0 3 * * *",
                "timeZone": "Europe/Berlin",
                "suspend": true,
                "jobTemplate": {"spec": {"template": pi_template()}}
            },
            "status": {"active": [{"kind": "Job", "name": "backup-29100"}], "lastScheduleTime": "2025-06-01T03:00:00Z"}
        });
        assert_eq!(
            crate::cells("batch", "cronjobs", &cron_job, now()),
            [
                json!("backup"),
                json!("0 3 * * *"),
                json!("Europe/Berlin"),
                json!("True"),
                json!(1),
                json!("9h"),
                json!("7d"),
                json!("pi"),
                json!("perl:5.34"),
                json!("<none>")
            ]
        );
    }

    #[test]
    fn a_cron_job_that_never_ran_has_placeholders() {
        let cron_job = json!({"metadata": {"name": "c"}, "spec": {"schedule": "@hourly"}});
        let cells = crate::cells("batch", "cronjobs", &cron_job, now());
        assert_eq!(cells[2..6], [json!("<none>"), json!("<unset>"), json!(0), json!("<none>")]);
    }
}
