//! Helpers for the tests: default, prepare and validate objects as the API server does.

#![allow(dead_code)]

use serde_json::Value;

/// DNS-1123 label message, as apimachinery words it.
pub const DNS_LABEL: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
/// DNS-1123 subdomain message.
pub const DNS_SUBDOMAIN: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
/// DNS-1035 label message.
pub const DNS_1035: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

/// The object after Kubernetes' defaults for its kind.
pub fn defaulted(group: &str, kind: &str, mut obj: Value) -> Value {
    apis::default(group, kind, &mut obj);
    obj
}

/// The messages of a create, after defaulting.
pub fn create_errors(group: &str, kind: &str, obj: Value) -> Vec<String> {
    let obj = defaulted(group, kind, obj);
    messages(&apis::validate(group, kind, &obj, None))
}

/// The messages of an update of `old` (as stored) to `new` (as sent).
pub fn update_errors(group: &str, kind: &str, old: Value, new: Value) -> Vec<String> {
    let old = defaulted(group, kind, old);
    let mut new = defaulted(group, kind, new);
    apis::prepare_update(group, kind, &mut new, &old);
    messages(&apis::validate(group, kind, &new, Some(&old)))
}

/// The messages of a status write.
pub fn status_errors(group: &str, kind: &str, old: Value, new: Value) -> Vec<String> {
    let old = defaulted(group, kind, old);
    let new = defaulted(group, kind, new);
    messages(&apis::validate_status(group, kind, &new, &old))
}

pub fn messages(errs: &[apis::FieldError]) -> Vec<String> {
    errs.iter().map(apis::FieldError::message).collect()
}

/// Asserts that `expected` is among the messages, showing them all if not.
#[track_caller]
pub fn assert_has(errs: &[String], expected: &str) {
    assert!(errs.iter().any(|e| e == expected), "expected {expected:?} among {errs:#?}");
}
