//! Label selectors, parsed and matched as k8s.io/apimachinery/pkg/labels does.
//!
//! A [`Selector`] comes either from the query-string syntax (`?labelSelector=app=web,tier
//! notin (db)`) via [`Selector::parse`], or from a metav1 `LabelSelector` object found in
//! specs (`matchLabels` / `matchExpressions`) via [`Selector::from_label_selector`].

mod lexer;
mod parser;

use std::fmt;

use serde_json::{Map, Value};

use crate::validation;

/// Why a selector could not be built. Messages follow Kubernetes' wording.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    /// The selector string is malformed between requirements.
    #[error("{0}")]
    Parse(String),
    /// One requirement of the selector string is malformed or invalid.
    #[error("unable to parse requirement: {0}")]
    Requirement(String),
    /// A requirement built from a `LabelSelector` has an invalid key or values.
    #[error("{0}")]
    Invalid(String),
    /// A `matchExpressions` entry names an operator Kubernetes does not know.
    #[error("{0:?} is not a valid label selector operator")]
    UnknownOperator(String),
    /// The `LabelSelector` JSON does not have the shape of a metav1 LabelSelector.
    #[error("invalid label selector: {0}")]
    Malformed(String),
}

/// How a requirement relates a label to its values (Kubernetes' `selection.Operator`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    In,
    NotIn,
    Equals,
    DoubleEquals,
    NotEquals,
    Exists,
    DoesNotExist,
    GreaterThan,
    LessThan,
}

impl Operator {
    /// The operator as Kubernetes spells it in `selection.Operator`.
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::In => "in",
            Operator::NotIn => "notin",
            Operator::Equals => "=",
            Operator::DoubleEquals => "==",
            Operator::NotEquals => "!=",
            Operator::Exists => "exists",
            Operator::DoesNotExist => "!",
            Operator::GreaterThan => "gt",
            Operator::LessThan => "lt",
        }
    }
}

/// One condition on one label key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    key: String,
    operator: Operator,
    values: Vec<String>,
}

impl Requirement {
    /// Builds a requirement, validating it as Kubernetes' `NewRequirement` does.
    pub fn new(key: &str, operator: Operator, values: Vec<String>) -> Result<Self, SelectorError> {
        Self::build(key, operator, values).map_err(SelectorError::Invalid)
    }

    /// The label key this requirement looks at.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The operator.
    pub fn operator(&self) -> Operator {
        self.operator
    }

    /// The values (empty for `Exists` and `DoesNotExist`).
    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// Whether a label set satisfies this requirement.
    pub fn matches(&self, labels: &Map<String, Value>) -> bool {
        // Non-string label values cannot come from a valid object; treat them as absent.
        let value = labels.get(&self.key).and_then(Value::as_str);
        match self.operator {
            Operator::In | Operator::Equals | Operator::DoubleEquals => value.is_some_and(|v| self.has_value(v)),
            // Kubernetes: an object without the key is "not equal" to any value.
            Operator::NotIn | Operator::NotEquals => !value.is_some_and(|v| self.has_value(v)),
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
            Operator::GreaterThan | Operator::LessThan => value.is_some_and(|v| self.compares(v)),
        }
    }

    fn has_value(&self, value: &str) -> bool {
        self.values.iter().any(|v| v == value)
    }

    /// `gt`/`lt`: both sides must parse as 64-bit integers, else no match.
    fn compares(&self, label: &str) -> bool {
        let (Ok(label), [wanted]) = (label.parse::<i64>(), self.values.as_slice()) else {
            return false;
        };
        let Ok(wanted) = wanted.parse::<i64>() else {
            return false;
        };
        match self.operator {
            Operator::GreaterThan => label > wanted,
            _ => label < wanted,
        }
    }

    /// `NewRequirement`, with errors as the message Kubernetes would aggregate.
    pub(crate) fn build(key: &str, operator: Operator, values: Vec<String>) -> Result<Self, String> {
        let mut errs = Vec::new();
        errs.extend(validate_label_key(key, "key").err());
        errs.extend(check_value_count(operator, &values));
        for (i, value) in values.iter().enumerate() {
            errs.extend(validate_label_value(key, value, i).err());
        }
        if !errs.is_empty() {
            return Err(aggregate(errs));
        }
        Ok(Requirement { key: key.to_string(), operator, values })
    }
}

impl fmt::Display for Requirement {
    /// The canonical selector-string form, as Kubernetes' `Requirement.String`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.operator == Operator::DoesNotExist {
            f.write_str("!")?;
        }
        f.write_str(&self.key)?;
        let op = match self.operator {
            Operator::Exists | Operator::DoesNotExist => return Ok(()),
            Operator::In => " in ",
            Operator::NotIn => " notin ",
            Operator::GreaterThan => ">",
            Operator::LessThan => "<",
            other => other.as_str(),
        };
        let mut values = self.values.clone();
        values.sort();
        let joined = values.join(",");
        match self.operator {
            Operator::In | Operator::NotIn => write!(f, "{op}({joined})"),
            _ => write!(f, "{op}{joined}"),
        }
    }
}

/// A conjunction of requirements, or the selector that matches nothing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selector {
    requirements: Vec<Requirement>,
    matches_nothing: bool,
}

impl Selector {
    /// Parses the label selector string syntax; the empty string selects everything.
    pub fn parse(selector: &str) -> Result<Self, SelectorError> {
        Ok(Selector { requirements: parser::parse(selector)?, matches_nothing: false })
    }

    /// Builds a selector from a metav1 `LabelSelector` object.
    ///
    /// `{}` selects everything; `null` (an absent selector) selects nothing, as
    /// Kubernetes' `LabelSelectorAsSelector` does for a nil pointer.
    pub fn from_label_selector(selector: &Value) -> Result<Self, SelectorError> {
        let object = match selector {
            Value::Null => return Ok(Self::nothing()),
            Value::Object(object) => object,
            _ => return Err(malformed("a LabelSelector must be an object")),
        };
        let mut requirements = match_labels(object.get("matchLabels"))?;
        requirements.extend(match_expressions(object.get("matchExpressions"))?);
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(Selector { requirements, matches_nothing: false })
    }

    /// The selector that matches every object.
    pub fn everything() -> Self {
        Self::default()
    }

    /// The selector that matches no object.
    pub fn nothing() -> Self {
        Selector { requirements: Vec::new(), matches_nothing: true }
    }

    /// True when the selector does not restrict anything (Kubernetes' `Empty`).
    pub fn is_empty(&self) -> bool {
        !self.matches_nothing && self.requirements.is_empty()
    }

    /// The requirements, sorted by key.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// Whether a `metadata.labels` map satisfies every requirement.
    pub fn matches(&self, labels: &Map<String, Value>) -> bool {
        !self.matches_nothing && self.requirements.iter().all(|r| r.matches(labels))
    }

    /// Whether an object's `metadata.labels` (missing means none) satisfies the selector.
    pub fn matches_object(&self, object: &Value) -> bool {
        let empty = Map::new();
        let labels = object.pointer("/metadata/labels").and_then(Value::as_object).unwrap_or(&empty);
        self.matches(labels)
    }
}

impl fmt::Display for Selector {
    /// The canonical selector string; "" for both everything and nothing, as Kubernetes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.requirements.iter().map(|r| r.to_string()).collect();
        f.write_str(&parts.join(","))
    }
}

fn match_labels(value: Option<&Value>) -> Result<Vec<Requirement>, SelectorError> {
    let Some(labels) = present(value) else {
        return Ok(Vec::new());
    };
    let labels = labels.as_object().ok_or_else(|| malformed("matchLabels must be an object"))?;
    labels
        .iter()
        .map(|(key, value)| {
            let value = value.as_str().ok_or_else(|| malformed("matchLabels values must be strings"))?;
            Requirement::new(key, Operator::Equals, vec![value.to_string()])
        })
        .collect()
}

fn match_expressions(value: Option<&Value>) -> Result<Vec<Requirement>, SelectorError> {
    let Some(expressions) = present(value) else {
        return Ok(Vec::new());
    };
    expressions
        .as_array()
        .ok_or_else(|| malformed("matchExpressions must be a list"))?
        .iter()
        .map(match_expression)
        .collect()
}

/// One `{key, operator, values}` entry of `matchExpressions`.
fn match_expression(expression: &Value) -> Result<Requirement, SelectorError> {
    let key = string_field(expression, "key")?;
    let operator = match string_field(expression, "operator")? {
        "In" => Operator::In,
        "NotIn" => Operator::NotIn,
        "Exists" => Operator::Exists,
        "DoesNotExist" => Operator::DoesNotExist,
        other => return Err(SelectorError::UnknownOperator(other.to_string())),
    };
    Requirement::new(key, operator, expression_values(expression)?)
}

fn expression_values(expression: &Value) -> Result<Vec<String>, SelectorError> {
    let Some(values) = present(expression.get("values")) else {
        return Ok(Vec::new());
    };
    let values = values.as_array().ok_or_else(|| malformed("matchExpressions values must be a list"))?;
    values
        .iter()
        .map(|v| v.as_str().map(str::to_string))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| malformed("matchExpressions values must be strings"))
}

/// A string field of a matchExpressions entry; absent reads as "" like Go's zero value.
fn string_field<'a>(expression: &'a Value, name: &str) -> Result<&'a str, SelectorError> {
    match present(expression.get(name)) {
        None => Ok(""),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(malformed(&format!("matchExpressions {name} must be a string"))),
    }
}

/// JSON `null` and a missing field mean the same thing in Kubernetes objects.
fn present(value: Option<&Value>) -> Option<&Value> {
    value.filter(|v| !v.is_null())
}

fn malformed(message: &str) -> SelectorError {
    SelectorError::Malformed(message.to_string())
}

/// `validateLabelKey`: a field.Invalid error at `path` when the key is not a qualified name.
pub(crate) fn validate_label_key(key: &str, path: &str) -> Result<(), String> {
    let errs = validation::is_qualified_name(key);
    if errs.is_empty() {
        return Ok(());
    }
    Err(field_invalid(path, &go_quote(key), &errs.join("; ")))
}

/// `validateLabelValue`: reported at `values[i][key]` as Kubernetes does.
fn validate_label_value(key: &str, value: &str, index: usize) -> Result<(), String> {
    let errs = validation::is_valid_label_value(value);
    if errs.is_empty() {
        return Ok(());
    }
    let path = format!("values[{index}][{key}]");
    Err(field_invalid(&path, &go_quote(value), &errs.join("; ")))
}

fn check_value_count(operator: Operator, values: &[String]) -> Vec<String> {
    let bad = |detail: &str| vec![field_invalid("values", &go_string_slice(values), detail)];
    match operator {
        Operator::In | Operator::NotIn if values.is_empty() => {
            bad("for 'in', 'notin' operators, values set can't be empty")
        }
        Operator::Equals | Operator::DoubleEquals | Operator::NotEquals if values.len() != 1 => {
            bad("exact-match compatibility requires one single value")
        }
        Operator::Exists | Operator::DoesNotExist if !values.is_empty() => {
            bad("values set must be empty for exists and does not exist")
        }
        Operator::GreaterThan | Operator::LessThan => check_integer_values(values),
        _ => Vec::new(),
    }
}

fn check_integer_values(values: &[String]) -> Vec<String> {
    let mut errs = Vec::new();
    if values.len() != 1 {
        errs.push(field_invalid(
            "values",
            &go_string_slice(values),
            "for 'Gt', 'Lt' operators, exactly one value is required",
        ));
    }
    for (i, value) in values.iter().enumerate() {
        if value.parse::<i64>().is_err() {
            errs.push(field_invalid(
                &format!("values[{i}]"),
                &go_quote(value),
                "for 'Gt', 'Lt' operators, the value must be an integer",
            ));
        }
    }
    errs
}

/// A field.Invalid error rendered as `field.Error.Error()` renders it.
fn field_invalid(path: &str, bad_value: &str, detail: &str) -> String {
    format!("{path}: Invalid value: {bad_value}: {detail}")
}

/// `utilerrors.Aggregate`: one message alone, several as `[a, b]` without repeats.
fn aggregate(errs: Vec<String>) -> String {
    let mut unique: Vec<String> = Vec::new();
    for err in errs {
        if !unique.contains(&err) {
            unique.push(err);
        }
    }
    match unique.as_slice() {
        [one] => one.clone(),
        _ => format!("[{}]", unique.join(", ")),
    }
}

/// Go's `%q` for ordinary strings (Rust's escaping differs only for exotic characters).
fn go_quote(s: &str) -> String {
    format!("{s:?}")
}

/// Go's `%#v` of a `[]string`.
fn go_string_slice(values: &[String]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| go_quote(v)).collect();
    format!("[]string{{{}}}", quoted.join(", "))
}

#[cfg(test)]
mod tests;
