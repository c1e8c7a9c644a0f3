//! Security contexts: ValidateSecurityContext (containers) and validatePodSpecSecurityContext.

use crate::field::{ErrorList, Path, duplicate, invalid, not_supported, required};
use crate::json;
use apimachinery::validation::inclusive_range_error;
use serde_json::Value;

/// UIDs and GIDs run from 0 to uint32 max (IsValidUserID / IsValidGroupID).
fn id_in_range(value: i64, p: &Path) -> ErrorList {
    if (0..=0xffff_ffff).contains(&value) {
        return Vec::new();
    }
    vec![invalid(p, value, inclusive_range_error(0, 0xffff_ffff))]
}

fn ids(ctx: &Value, fields: &[&str], p: &Path) -> ErrorList {
    fields.iter().filter_map(|f| json::int(ctx, f).map(|v| id_in_range(v, &p.child(f)))).flatten().collect()
}

/// validateSeccompProfileField.
fn seccomp(ctx: &Value, p: &Path) -> ErrorList {
    let Some(sp) = json::get(ctx, "seccompProfile") else {
        return Vec::new();
    };
    let p = p.child("seccompProfile");
    let ty = json::string(sp, "type");
    let mut errs = match ty {
        "Localhost" | "RuntimeDefault" | "Unconfined" => Vec::new(),
        "" => vec![required(&p.child("type"), "type is required when seccompProfile is set")],
        other => vec![not_supported(&p.child("type"), other, &["Localhost", "RuntimeDefault", "Unconfined"])],
    };
    let profile = json::get(sp, "localhostProfile");
    if ty == "Localhost" && profile.is_none() {
        errs.push(required(&p.child("localhostProfile"), "must be set when seccomp type is Localhost"));
    } else if ty != "Localhost" && profile.is_some() {
        errs.push(invalid(&p.child("localhostProfile"), sp.clone(), "can only be set when seccomp type is Localhost"));
    }
    errs
}

/// ValidateSecurityContext of a container.
pub fn validate_container_context(ctx: Option<&Value>, p: &Path) -> ErrorList {
    let Some(ctx) = ctx else {
        return Vec::new();
    };
    let mut errs = ids(ctx, &["runAsUser", "runAsGroup"], p);
    if let Some(pm) = json::str_of(ctx, "procMount")
        && pm != "Default"
        && pm != "Unmasked"
    {
        errs.push(not_supported(&p.child("procMount"), pm, &["Default", "Unmasked"]));
    }
    errs.extend(seccomp(ctx, p));
    let no_escalation = ctx.get("allowPrivilegeEscalation") == Some(&Value::Bool(false));
    if no_escalation && json::boolean(ctx, "privileged") {
        errs.push(invalid(p, ctx.clone(), "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"));
    }
    errs
}

/// validatePodSpecSecurityContext.
pub fn validate_pod_context(spec: &Value, p: &Path) -> ErrorList {
    let Some(ctx) = json::get(spec, "securityContext") else {
        return Vec::new();
    };
    let mut errs = ids(ctx, &["fsGroup", "runAsUser", "runAsGroup"], p);
    for (i, gid) in json::items(ctx, "supplementalGroups").iter().enumerate() {
        let gid = gid.as_i64().unwrap_or(0);
        errs.extend(id_in_range(gid, &p.child("supplementalGroups").index(i)));
    }
    if ctx.get("shareProcessNamespace") == Some(&Value::Bool(true)) && json::boolean(spec, "hostPID") {
        errs.push(invalid(
            &p.child("shareProcessNamespace"),
            true,
            "ShareProcessNamespace and HostPID cannot both be enabled",
        ));
    }
    errs.extend(sysctls(ctx, &p.child("sysctls")));
    errs.extend(enum_field(ctx, "fsGroupChangePolicy", &["Always", "OnRootMismatch"], p));
    errs.extend(seccomp(ctx, p));
    errs.extend(enum_field(ctx, "supplementalGroupsPolicy", &["Merge", "Strict"], p));
    errs.extend(enum_field(ctx, "seLinuxChangePolicy", &["MountOption", "Recursive"], p));
    errs
}

fn enum_field(ctx: &Value, f: &str, allowed: &[&str], p: &Path) -> ErrorList {
    match json::str_of(ctx, f) {
        Some(v) if !allowed.contains(&v) => vec![not_supported(&p.child(f), v, allowed)],
        _ => Vec::new(),
    }
}

/// validateSysctls: names like `net.core.somaxconn`, each once.
fn sysctls(ctx: &Value, p: &Path) -> ErrorList {
    let mut errs = Vec::new();
    let mut seen = Vec::new();
    for (i, s) in json::items(ctx, "sysctls").iter().enumerate() {
        let name = json::string(s, "name");
        let np = p.index(i).child("name");
        if name.is_empty() {
            errs.push(required(&np, ""));
        } else if !valid_sysctl(name) {
            errs.push(invalid(
                &np,
                name,
                "must have at most 253 characters and match regex ^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$",
            ));
        } else if seen.contains(&name) {
            errs.push(duplicate(&np, name));
        }
        seen.push(name);
    }
    errs
}

fn valid_sysctl(name: &str) -> bool {
    let segment = |s: &str| {
        let b = s.as_bytes();
        let edge = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
        !b.is_empty() && edge(b[0]) && edge(b[b.len() - 1]) && b.iter().all(|c| edge(*c) || *c == b'-' || *c == b'_')
    };
    name.len() <= 253 && name.split(['.', '/']).all(segment)
}
