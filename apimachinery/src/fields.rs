//! Field selectors (`?fieldSelector=spec.nodeName=n1,status.phase!=Failed`), as
//! k8s.io/apimachinery/pkg/fields parses them.
//!
//! Which field names a resource supports is the server's business: it inspects
//! [`FieldSelector::requirements`] and rejects the names it does not index.

use std::fmt;

/// Why a field selector string could not be parsed. Messages follow Kubernetes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldSelectorError {
    /// A term has no `=`, `==` or `!=`.
    #[error("invalid selector: '{selector}'; can't understand '{term}'")]
    UnknownTerm { selector: String, term: String },
    /// A backslash escapes something other than `\`, `,` or `=`.
    #[error("invalid field selector: invalid escape sequence: {0}")]
    InvalidEscapeSequence(String),
    /// A value contains a bare `,` or `=`.
    ///
    /// Kubernetes formats the character with `%v` of a Go rune, which prints its
    /// code point as a number (`61` for `=`); the same number is printed here.
    #[error("invalid field selector: unescaped character in value: {}", u32::from(*.0))]
    UnescapedCharacter(char),
}

/// How a field is compared with the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldOperator {
    /// `=` or `==`.
    Equals,
    /// `!=`.
    NotEquals,
}

/// One `field op value` term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRequirement {
    /// The field path, e.g. `metadata.name`, exactly as written (no trimming, as Kubernetes).
    pub field: String,
    /// The comparison.
    pub operator: FieldOperator,
    /// The unescaped value; may be empty.
    pub value: String,
}

impl FieldRequirement {
    fn matches(&self, actual: &str) -> bool {
        match self.operator {
            FieldOperator::Equals => actual == self.value,
            FieldOperator::NotEquals => actual != self.value,
        }
    }
}

/// A conjunction of field terms; the empty selector matches everything.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldSelector {
    requirements: Vec<FieldRequirement>,
}

impl FieldSelector {
    /// Parses `f1=v1,f2!=v2`; `\,` `\=` and `\\` escape those characters in values.
    pub fn parse(selector: &str) -> Result<Self, FieldSelectorError> {
        let mut terms = split_terms(selector);
        // Kubernetes sorts the raw terms so the parsed selector is deterministic.
        terms.sort_unstable();
        let requirements = terms
            .into_iter()
            .filter(|term| !term.is_empty())
            .map(|term| parse_term(selector, term))
            .collect::<Result<_, _>>()?;
        Ok(FieldSelector { requirements })
    }

    /// The selector that matches every object.
    pub fn everything() -> Self {
        Self::default()
    }

    /// True when the selector does not restrict anything.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// The terms, so the server can check the field names it supports.
    pub fn requirements(&self) -> &[FieldRequirement] {
        &self.requirements
    }

    /// Whether an object satisfies every term; `get` returns a field's value, and a
    /// missing field compares as the empty string, as in Kubernetes.
    pub fn matches(&self, get: impl Fn(&str) -> Option<String>) -> bool {
        self.requirements.iter().all(|requirement| {
            let actual = get(&requirement.field).unwrap_or_default();
            requirement.matches(&actual)
        })
    }
}

impl fmt::Display for FieldSelector {
    /// The canonical form, values escaped as Kubernetes' `EscapeValue` does.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let terms: Vec<String> = self
            .requirements
            .iter()
            .map(|r| {
                let op = match r.operator {
                    FieldOperator::Equals => "=",
                    FieldOperator::NotEquals => "!=",
                };
                format!("{}{op}{}", r.field, escape_value(&r.value))
            })
            .collect();
        f.write_str(&terms.join(","))
    }
}

/// Escapes `\`, `,` and `=` so a literal value can be put in a field selector.
pub fn escape_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '\\' | ',' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Splits on commas that are not backslash-escaped; escapes stay in the terms.
fn split_terms(selector: &str) -> Vec<&str> {
    if selector.is_empty() {
        return Vec::new();
    }
    let mut terms = Vec::new();
    let mut start = 0;
    let mut in_slash = false;
    for (i, c) in selector.char_indices() {
        if in_slash {
            in_slash = false;
        } else if c == '\\' {
            in_slash = true;
        } else if c == ',' {
            terms.push(&selector[start..i]);
            start = i + 1;
        }
    }
    terms.push(&selector[start..]);
    terms
}

fn parse_term(selector: &str, term: &str) -> Result<FieldRequirement, FieldSelectorError> {
    let (field, operator, raw_value) = split_term(term)
        .ok_or_else(|| FieldSelectorError::UnknownTerm { selector: selector.to_string(), term: term.to_string() })?;
    Ok(FieldRequirement { field: field.to_string(), operator, value: unescape_value(raw_value)? })
}

/// Splits at the first operator; `!=` and `==` are tried before `=` at each position
/// so `a==b` does not leave `=b` as the value.
fn split_term(term: &str) -> Option<(&str, FieldOperator, &str)> {
    const OPERATORS: [(&str, FieldOperator); 3] =
        [("!=", FieldOperator::NotEquals), ("==", FieldOperator::Equals), ("=", FieldOperator::Equals)];
    term.char_indices().find_map(|(i, _)| {
        let rest = &term[i..];
        OPERATORS.iter().find_map(|(text, op)| rest.strip_prefix(text).map(|value| (&term[..i], *op, value)))
    })
}

fn unescape_value(raw: &str) -> Result<String, FieldSelectorError> {
    let mut out = String::with_capacity(raw.len());
    let mut in_slash = false;
    for c in raw.chars() {
        if in_slash {
            if !matches!(c, '\\' | ',' | '=') {
                return Err(FieldSelectorError::InvalidEscapeSequence(format!("\\{c}")));
            }
            out.push(c);
            in_slash = false;
        } else if c == '\\' {
            in_slash = true;
        } else if matches!(c, ',' | '=') {
            return Err(FieldSelectorError::UnescapedCharacter(c));
        } else {
            out.push(c);
        }
    }
    if in_slash {
        return Err(FieldSelectorError::InvalidEscapeSequence("\\".to_string()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn object(fields: &[(&str, &str)]) -> HashMap<String, String> {
        fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn selects(selector: &str, fields: &[(&str, &str)]) -> bool {
        let fields = object(fields);
        FieldSelector::parse(selector).expect("selector parses").matches(|name| fields.get(name).cloned())
    }

    #[test]
    fn the_empty_selector_matches_everything() {
        assert!(FieldSelector::parse("").unwrap().is_empty());
        assert!(selects("", &[]));
    }

    #[test]
    fn equals_and_double_equals_mean_the_same() {
        assert!(selects("metadata.name=foo", &[("metadata.name", "foo")]));
        assert!(selects("metadata.name==foo", &[("metadata.name", "foo")]));
        assert!(!selects("metadata.name=foo", &[("metadata.name", "bar")]));
    }

    #[test]
    fn not_equals_matches_other_values() {
        assert!(selects("status.phase!=Running", &[("status.phase", "Pending")]));
        assert!(!selects("status.phase!=Running", &[("status.phase", "Running")]));
    }

    #[test]
    fn a_missing_field_compares_as_empty() {
        assert!(selects("spec.nodeName=", &[]));
        assert!(!selects("spec.nodeName!=", &[]));
        assert!(selects("spec.nodeName!=", &[("spec.nodeName", "n1")]));
    }

    #[test]
    fn every_term_must_hold() {
        let selector = "spec.nodeName=n1,status.phase!=Failed";
        assert!(selects(selector, &[("spec.nodeName", "n1"), ("status.phase", "Running")]));
        assert!(!selects(selector, &[("spec.nodeName", "n1"), ("status.phase", "Failed")]));
    }

    #[test]
    fn requirements_expose_field_operator_and_value_in_sorted_order() {
        let selector = FieldSelector::parse("status.phase!=Failed,metadata.name==a").unwrap();
        assert_eq!(
            selector.requirements(),
            &[
                FieldRequirement { field: "metadata.name".into(), operator: FieldOperator::Equals, value: "a".into() },
                FieldRequirement {
                    field: "status.phase".into(),
                    operator: FieldOperator::NotEquals,
                    value: "Failed".into()
                },
            ]
        );
    }

    #[test]
    fn escaped_commas_and_equals_are_part_of_the_value() {
        let selector = FieldSelector::parse(r"metadata.name=a\,b\=c\\d").unwrap();
        assert_eq!(selector.requirements()[0].value, r"a,b=c\d");
        assert_eq!(selector.to_string(), r"metadata.name=a\,b\=c\\d");
    }

    #[test]
    fn a_term_without_an_operator_is_rejected() {
        assert_eq!(
            FieldSelector::parse("a=b,foo").unwrap_err().to_string(),
            "invalid selector: 'a=b,foo'; can't understand 'foo'"
        );
    }

    #[test]
    fn bare_special_characters_in_values_are_rejected_like_kubernetes() {
        assert_eq!(
            FieldSelector::parse("a=b=c").unwrap_err().to_string(),
            "invalid field selector: unescaped character in value: 61"
        );
        assert_eq!(
            FieldSelector::parse(r"a=b\x").unwrap_err().to_string(),
            r"invalid field selector: invalid escape sequence: \x"
        );
        assert_eq!(
            FieldSelector::parse(r"a=b\").unwrap_err().to_string(),
            r"invalid field selector: invalid escape sequence: \"
        );
    }

    #[test]
    fn empty_terms_are_skipped() {
        assert_eq!(FieldSelector::parse("a=b,,").unwrap().requirements().len(), 1);
    }

    #[test]
    fn whitespace_is_not_trimmed() {
        let selector = FieldSelector::parse("status.phase = Running").unwrap();
        assert_eq!(selector.requirements()[0].field, "status.phase ");
        assert_eq!(selector.requirements()[0].value, " Running");
    }
}
