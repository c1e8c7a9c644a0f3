//! Rollout strategies: ValidateDeploymentStrategy, ValidateDaemonSetUpdateStrategy, the
//! StatefulSet update strategy, and the int-or-percent checks they share.

use crate::field::{ErrorList, Path, forbidden, invalid_go, not_supported_go, required};
use crate::{gofmt, json};
use apimachinery::validation::regex_error;
use serde_json::Value;

/// `25%` as a number, if the value is a valid percent string.
fn percent(v: Option<&Value>) -> Option<i64> {
    let s = v?.as_str()?;
    let digits = s.strip_suffix('%')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// getIntOrPercentValue: a percent's number, an int's value, else 0.
fn int_or_percent_value(v: Option<&Value>) -> i64 {
    if let Some(p) = percent(v) {
        return p;
    }
    match v {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) => s.parse().unwrap_or(0),
        _ => 0,
    }
}

/// ValidatePositiveIntOrPercent.
fn positive_int_or_percent(v: Option<&Value>, p: &Path) -> ErrorList {
    match v {
        Some(Value::String(_)) if percent(v).is_none() => vec![invalid_go(
            p,
            &gofmt::int_or_string(v),
            &regex_error(
                "a valid percent string must be a numeric string followed by an ending '%'",
                "[0-9]+%",
                &["1%", "93%"],
            ),
        )],
        Some(Value::Number(n)) => crate::field::nonnegative(n.as_i64().unwrap_or(0), p),
        _ => Vec::new(),
    }
}

/// IsNotMoreThan100Percent.
fn not_over_100_percent(v: Option<&Value>, p: &Path) -> ErrorList {
    match percent(v) {
        Some(pct) if pct > 100 => vec![invalid_go(p, &gofmt::int_or_string(v), "must not be greater than 100%")],
        _ => Vec::new(),
    }
}

/// ValidateDeploymentStrategy.
pub fn deployment_strategy(spec: &Value, p: &Path) -> ErrorList {
    let strategy = json::get(spec, "strategy");
    let s = strategy.cloned().unwrap_or_default();
    let rolling = json::get(&s, "rollingUpdate");
    match json::string(&s, "type") {
        "Recreate" if rolling.is_some() => {
            vec![forbidden(&p.child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'")]
        }
        "Recreate" => Vec::new(),
        "RollingUpdate" => match rolling {
            None => vec![required(&p.child("rollingUpdate"), "this should be defaulted and never be nil")],
            Some(ru) => rolling_update_deployment(ru, &p.child("rollingUpdate")),
        },
        _ => vec![not_supported_go(
            p,
            &gofmt::strategy("apps.DeploymentStrategy", "apps.RollingUpdateDeployment", strategy),
            &["Recreate", "RollingUpdate"],
        )],
    }
}

/// ValidateRollingUpdateDeployment.
fn rolling_update_deployment(ru: &Value, p: &Path) -> ErrorList {
    let (unavailable, surge) = (ru.get("maxUnavailable"), ru.get("maxSurge"));
    let up = p.child("maxUnavailable");
    let mut errs = positive_int_or_percent(unavailable, &up);
    errs.extend(positive_int_or_percent(surge, &p.child("maxSurge")));
    if int_or_percent_value(unavailable) == 0 && int_or_percent_value(surge) == 0 {
        errs.push(invalid_go(&up, &gofmt::int_or_string(unavailable), "may not be 0 when `maxSurge` is 0"));
    }
    errs.extend(not_over_100_percent(unavailable, &up));
    errs
}

/// ValidateDaemonSetUpdateStrategy.
pub fn daemon_set_strategy(spec: &Value, p: &Path) -> ErrorList {
    let strategy = json::get(spec, "updateStrategy");
    let s = strategy.cloned().unwrap_or_default();
    match json::string(&s, "type") {
        "OnDelete" => Vec::new(),
        "RollingUpdate" => match json::get(&s, "rollingUpdate") {
            None => vec![required(&p.child("rollingUpdate"), "")],
            Some(ru) => rolling_update_daemon_set(ru, &p.child("rollingUpdate")),
        },
        _ => vec![not_supported_go(
            p,
            &gofmt::strategy("apps.DaemonSetUpdateStrategy", "apps.RollingUpdateDaemonSet", strategy),
            &["RollingUpdate", "OnDelete"],
        )],
    }
}

/// ValidateRollingUpdateDaemonSet: exactly one of maxSurge and maxUnavailable is non-zero.
fn rolling_update_daemon_set(ru: &Value, p: &Path) -> ErrorList {
    let (unavailable, surge) = (ru.get("maxUnavailable"), ru.get("maxSurge"));
    let (up, sp) = (p.child("maxUnavailable"), p.child("maxSurge"));
    let mut errs = positive_int_or_percent(unavailable, &up);
    errs.extend(positive_int_or_percent(surge, &sp));
    errs.extend(not_over_100_percent(unavailable, &up));
    errs.extend(not_over_100_percent(surge, &sp));
    let has_unavailable = int_or_percent_value(unavailable) != 0;
    let has_surge = int_or_percent_value(surge) != 0;
    match (has_unavailable, has_surge) {
        (true, true) => {
            errs.push(invalid_go(&sp, &gofmt::int_or_string(surge), "may not be set when maxUnavailable is non-zero"))
        }
        (false, false) => errs.push(required(&up, "cannot be 0 when maxSurge is 0")),
        _ => {}
    }
    errs
}

/// The StatefulSet update strategy: RollingUpdate (with a partition) or OnDelete.
pub fn stateful_set_strategy(spec: &Value, p: &Path) -> ErrorList {
    let strategy = json::get(spec, "updateStrategy");
    let s = strategy.cloned().unwrap_or_default();
    let rolling = json::get(&s, "rollingUpdate");
    match json::string(&s, "type") {
        "" => vec![required(p, "")],
        "OnDelete" => match rolling {
            Some(_) => vec![invalid_go(
                &p.child("rollingUpdate"),
                "(*apps.RollingUpdateStatefulSetStrategy)(0xc000000000)",
                "only allowed for updateStrategy 'RollingUpdate'",
            )],
            None => Vec::new(),
        },
        "RollingUpdate" => {
            rolling.map_or_else(Vec::new, |ru| rolling_update_stateful_set(ru, &p.child("rollingUpdate")))
        }
        _ => vec![invalid_go(
            p,
            &gofmt::strategy("apps.StatefulSetUpdateStrategy", "apps.RollingUpdateStatefulSetStrategy", strategy),
            "must be 'RollingUpdate' or 'OnDelete'",
        )],
    }
}

/// validateRollingUpdateStatefulSet.
fn rolling_update_stateful_set(ru: &Value, p: &Path) -> ErrorList {
    let mut errs = crate::field::nonnegative(json::int(ru, "partition").unwrap_or(0), &p.child("partition"));
    let Some(mu) = json::get(ru, "maxUnavailable") else {
        return errs;
    };
    let mp = p.child("maxUnavailable");
    errs.extend(positive_int_or_percent(Some(mu), &mp));
    if int_or_percent_value(Some(mu)) == 0 {
        errs.push(invalid_go(&mp, &gofmt::int_or_string(Some(mu)), "cannot be 0"));
    }
    errs.extend(not_over_100_percent(Some(mu), &mp));
    errs
}

/// ValidatePersistentVolumeClaimRetentionPolicy.
pub fn claim_retention_policy(spec: &Value, p: &Path) -> ErrorList {
    let Some(policy) = json::get(spec, "persistentVolumeClaimRetentionPolicy") else {
        return Vec::new();
    };
    ["whenDeleted", "whenScaled"]
        .iter()
        .filter_map(|f| {
            let v = json::string(policy, f);
            (v != "Retain" && v != "Delete").then(|| crate::field::not_supported(&p.child(f), v, &["Retain", "Delete"]))
        })
        .collect()
}
