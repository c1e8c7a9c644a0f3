//! Server-side apply and field ownership (`metadata.managedFields`), as
//! sigs.k8s.io/structured-merge-diff and k8s.io/apimachinery/pkg/util/managedfields do
//! them for Kubernetes 1.33, on `serde_json::Value` objects.
//!
//! * [`apply`]: an `application/apply-patch+yaml` PATCH: merges the applied configuration
//!   into the live object, removes what the applier stopped applying, and fails with
//!   [`ApplyError::Conflicts`] where it would change another manager's fields.
//! * [`record_update`]: after every other write (create, update, patch, status and scale
//!   writes): the writer takes ownership of the fields it set or changed.
//! * [`conflict_message`]: the 409 message; [`Conflict::cause_message`] its causes.
//!
//! Which lists are keyed, sets or atomic comes from the strategic-merge table
//! (`patch::schema`) with apply's own differences in `schema`; objects are owned field
//! by field except the few atomic ones listed there. Field sets and their `fieldsV1`
//! encoding are in [`fieldpath`].

mod apply;
mod conflict;
mod entries;
pub mod fieldpath;
mod schema;
mod typed;
mod update;

#[cfg(test)]
mod tests;

use serde_json::Value;

pub use conflict::{Conflict, conflict_message};

/// Who writes: the `fieldManager` of the request and the subresource written through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Manager<'a> {
    /// `fieldManager`, or the user agent's prefix ([`manager_name`]).
    pub name: &'a str,
    /// `""` for the resource itself, else `"status"`, `"scale"`, ...
    pub subresource: &'a str,
}

/// How a manager wrote its fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    Apply,
    Update,
}

impl Operation {
    /// `Apply` or `Update`, as in a managedFields entry.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Apply => "Apply",
            Operation::Update => "Update",
        }
    }
}

/// Why an apply failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// Another manager owns fields the apply would change: a 409 Conflict whose message
    /// is [`conflict_message`] and whose causes are `FieldManagerConflict`s.
    #[error("{}", conflict_message(.0))]
    Conflicts(Vec<Conflict>),
    /// The applied configuration cannot be applied: a 400 Bad Request.
    #[error("{0}")]
    Invalid(String),
}

/// Server-side apply of `applied` (the request body, parsed from YAML) onto `live`
/// (`None` when the apply creates the object) for an object of `kind`.
///
/// Returns the new object with its `metadata.managedFields` updated: every field of
/// `applied` set and owned by `manager` (operation Apply); fields it applied last time
/// and no longer does removed unless someone else owns them; nulls removing fields. A
/// field the apply would change that another manager owns is a conflict unless `force`,
/// which takes it over. Through the status subresource only `status` is applied; for the
/// main resource of a kind that has a status subresource the caller removes `status` from
/// `applied` first (Kubernetes' reset fields), so the applier never owns it. `now`
/// (RFC 3339) stamps the entry when the object changes.
pub fn apply(
    kind: &str,
    live: Option<&Value>,
    applied: &Value,
    manager: &Manager<'_>,
    force: bool,
    now: &str,
) -> Result<Value, ApplyError> {
    apply::apply(kind, live, applied, manager, force, now)
}

/// After a create (`old` is `None`), update or patch by `manager`: `manager` owns what
/// `new` (the object about to be stored) adds or changes, taking it from others (operation
/// Update, one entry per manager, version and subresource); removed fields lose their
/// owners. `new`'s own `managedFields`, if the client set them on the main resource,
/// replace the stored ones (`[]` clears them). Writes `new.metadata.managedFields`.
pub fn record_update(kind: &str, old: Option<&Value>, new: &mut Value, manager: &Manager<'_>, now: &str) {
    update::record_update(kind, old, new, manager, now);
}

/// The manager of a request without `fieldManager`: its User-Agent up to the first `/`,
/// printable characters only, at most 128 bytes (`kubectl/v1.33.0 (linux/amd64)` is
/// `kubectl`).
pub fn manager_name(field_manager: Option<&str>, user_agent: &str) -> String {
    if let Some(name) = field_manager.filter(|name| !name.is_empty()) {
        return name.to_string();
    }
    let prefix = user_agent.split('/').next().unwrap_or_default();
    let mut name = String::new();
    for c in prefix.chars().filter(|c| !c.is_control()) {
        if name.len() + c.len_utf8() > 128 {
            break;
        }
        name.push(c);
    }
    name
}
