//! Probes and lifecycle handlers: validateProbe, validateHandler and the actions
//! (exec, httpGet, tcpSocket, grpc, sleep), plus ValidatePortNumOrName.

use super::container::port_num;
use crate::field::{ErrorList, Path, forbidden, invalid, nonnegative, not_supported, required};
use crate::json;
use apimachinery::validation::{self as v, regex_error};
use serde_json::Value;

/// validateProbe: one handler and non-negative timings.
pub fn validate_probe(pr: &Value, grace: Option<i64>, p: &Path) -> ErrorList {
    let mut errs = validate_handler(pr, grace, false, p);
    for f in ["initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"] {
        errs.extend(nonnegative(json::int(pr, f).unwrap_or(0), &p.child(f)));
    }
    if let Some(g) = json::int(pr, "terminationGracePeriodSeconds").filter(|g| *g <= 0) {
        errs.push(invalid(&p.child("terminationGracePeriodSeconds"), g, "must be greater than 0"));
    }
    errs
}

/// validateHandler: exactly one of the actions a probe (or, with `sleep`, a hook) may hold.
pub fn validate_handler(h: &Value, grace: Option<i64>, lifecycle: bool, p: &Path) -> ErrorList {
    let actions: &[&str] =
        if lifecycle { &["exec", "httpGet", "tcpSocket", "sleep"] } else { &["exec", "httpGet", "tcpSocket", "grpc"] };
    let mut errs = Vec::new();
    let mut count = 0;
    for action in actions {
        let Some(a) = json::get(h, action) else {
            continue;
        };
        let ap = p.child(action);
        if count > 0 {
            errs.push(forbidden(&ap, "may not specify more than 1 handler type"));
            continue;
        }
        count += 1;
        errs.extend(validate_action(action, a, grace, &ap));
    }
    if count == 0 {
        errs.push(required(p, "must specify a handler type"));
    }
    errs
}

fn validate_action(action: &str, a: &Value, grace: Option<i64>, p: &Path) -> ErrorList {
    match action {
        "exec" if json::items(a, "command").is_empty() => vec![required(&p.child("command"), "")],
        "httpGet" => validate_http_get(a, p),
        "tcpSocket" => port_num_or_name(a.get("port"), &p.child("port")),
        "grpc" => port_num(json::int(a, "port").unwrap_or(0), &p.child("port")),
        "sleep" => validate_sleep(a, grace, p),
        _ => Vec::new(),
    }
}

fn validate_http_get(g: &Value, p: &Path) -> ErrorList {
    let mut errs = Vec::new();
    if json::string(g, "path").is_empty() {
        errs.push(required(&p.child("path"), ""));
    }
    errs.extend(port_num_or_name(g.get("port"), &p.child("port")));
    let scheme = json::string(g, "scheme");
    if scheme != "HTTP" && scheme != "HTTPS" {
        errs.push(not_supported(&p.child("scheme"), scheme, &["HTTP", "HTTPS"]));
    }
    for h in json::items(g, "httpHeaders") {
        let name = json::string(h, "name");
        let ok = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !ok {
            let msg = regex_error(
                "a valid HTTP header must consist of alphanumeric characters or '-'",
                "[-A-Za-z0-9]+",
                &["X-Header-Name"],
            );
            errs.push(invalid(&p.child("httpHeaders"), name, msg));
        }
    }
    errs
}

/// validateSleepAction, with PodLifecycleSleepActionAllowZero (on in 1.33).
fn validate_sleep(s: &Value, grace: Option<i64>, p: &Path) -> ErrorList {
    let secs = json::int(s, "seconds").unwrap_or(0);
    match grace {
        Some(g) if secs < 0 || secs > g => {
            vec![invalid(p, secs, format!("must be non-negative and less than terminationGracePeriodSeconds ({g})"))]
        }
        _ => Vec::new(),
    }
}

/// ValidatePortNumOrName: a number 1-65535 or an IANA_SVC_NAME.
pub fn port_num_or_name(port: Option<&Value>, p: &Path) -> ErrorList {
    match port {
        Some(Value::String(name)) => {
            v::is_valid_port_name(name).into_iter().map(|m| invalid(p, name.as_str(), m)).collect()
        }
        Some(Value::Number(n)) => port_num(n.as_i64().unwrap_or(0), p),
        _ => port_num(0, p),
    }
}
