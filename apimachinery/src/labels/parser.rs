//! Recursive-descent parser for label selector strings, as Kubernetes' `labels.Parser`.
//!
//! The error texts and the odd corners (`k=` means "equals the empty string", `k in ()`
//! means "in the set {\"\"}") are Kubernetes' own, so clients see the same behaviour.

use std::collections::BTreeSet;

use super::lexer::{ScannedItem, Token, scan};
use super::{Operator, Requirement, SelectorError, validate_label_key};

/// Kubernetes reports a bad key found by the parser at the nil field path.
const PARSER_KEY_PATH: &str = "<nil>";

const BINARY_OPERATORS: &str = "in, notin, =, ==, !=, gt, lt";

/// `in` and `notin` are operators after a key but plain values inside `(...)`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    KeyAndOperator,
    Values,
}

/// Parses a selector into its requirements, sorted by key as Kubernetes sorts them.
pub(crate) fn parse(selector: &str) -> Result<Vec<Requirement>, SelectorError> {
    let mut parser = Parser { items: scan(selector), position: 0 };
    let mut requirements = parser.parse_requirements()?;
    requirements.sort_by(|a, b| a.key().cmp(b.key()));
    Ok(requirements)
}

struct Parser {
    items: Vec<ScannedItem>,
    position: usize,
}

impl Parser {
    fn lookahead(&self, context: Context) -> (Token, String) {
        // The scan always ends with EndOfString, so clamping keeps us on it.
        let index = self.position.min(self.items.len() - 1);
        let item = &self.items[index];
        (in_context(item.token, context), item.literal.clone())
    }

    fn consume(&mut self, context: Context) -> (Token, String) {
        let current = self.lookahead(context);
        self.position += 1;
        current
    }

    fn parse_requirements(&mut self) -> Result<Vec<Requirement>, SelectorError> {
        let mut requirements = Vec::new();
        loop {
            let (token, literal) = self.lookahead(Context::Values);
            match token {
                Token::Identifier | Token::DoesNotExist => {
                    let requirement = self.parse_requirement().map_err(SelectorError::Requirement)?;
                    requirements.push(requirement);
                    if self.after_requirement()? {
                        return Ok(requirements);
                    }
                }
                Token::EndOfString => return Ok(requirements),
                _ => {
                    return Err(SelectorError::Parse(format!(
                        "found '{literal}', expected: !, identifier, or 'end of string'"
                    )));
                }
            }
        }
    }

    /// Consumes what follows a requirement; true when the selector is finished.
    fn after_requirement(&mut self) -> Result<bool, SelectorError> {
        let (token, literal) = self.consume(Context::Values);
        match token {
            Token::EndOfString => Ok(true),
            Token::Comma => {
                let (next, next_literal) = self.lookahead(Context::Values);
                if next != Token::Identifier && next != Token::DoesNotExist {
                    return Err(SelectorError::Parse(format!(
                        "found '{next_literal}', expected: identifier after ','"
                    )));
                }
                Ok(false)
            }
            _ => Err(SelectorError::Parse(format!("found '{literal}', expected: ',' or 'end of string'"))),
        }
    }

    fn parse_requirement(&mut self) -> Result<Requirement, String> {
        let (key, inferred) = self.parse_key_and_infer_operator()?;
        if let Some(operator) = inferred {
            return Requirement::build(&key, operator, Vec::new());
        }
        let operator = self.parse_operator()?;
        let values = match operator {
            Operator::In | Operator::NotIn => self.parse_values()?,
            _ => self.parse_exact_value()?,
        };
        Requirement::build(&key, operator, values.into_iter().collect())
    }

    /// Reads `[!]key`; the operator is known already when nothing else follows.
    fn parse_key_and_infer_operator(&mut self) -> Result<(String, Option<Operator>), String> {
        let (mut token, mut literal) = self.consume(Context::Values);
        let mut operator = None;
        if token == Token::DoesNotExist {
            operator = Some(Operator::DoesNotExist);
            (token, literal) = self.consume(Context::Values);
        }
        if token != Token::Identifier {
            return Err(format!("found '{literal}', expected: identifier"));
        }
        validate_label_key(&literal, PARSER_KEY_PATH)?;
        let (next, _) = self.lookahead(Context::Values);
        if matches!(next, Token::EndOfString | Token::Comma) && operator.is_none() {
            operator = Some(Operator::Exists);
        }
        Ok((literal, operator))
    }

    fn parse_operator(&mut self) -> Result<Operator, String> {
        let (token, literal) = self.consume(Context::KeyAndOperator);
        match token {
            Token::In => Ok(Operator::In),
            Token::Equals => Ok(Operator::Equals),
            Token::DoubleEquals => Ok(Operator::DoubleEquals),
            Token::GreaterThan => Ok(Operator::GreaterThan),
            Token::LessThan => Ok(Operator::LessThan),
            Token::NotIn => Ok(Operator::NotIn),
            Token::NotEquals => Ok(Operator::NotEquals),
            _ => Err(format!("found '{literal}', expected: {BINARY_OPERATORS}")),
        }
    }

    /// Reads `(a,b,...)`.
    fn parse_values(&mut self) -> Result<BTreeSet<String>, String> {
        let (token, literal) = self.consume(Context::Values);
        if token != Token::OpenPar {
            return Err(format!("found '{literal}' expected: '('"));
        }
        let (token, literal) = self.lookahead(Context::Values);
        match token {
            Token::Identifier | Token::Comma => {
                let values = self.parse_identifiers_list()?;
                if self.consume(Context::Values).0 != Token::ClosedPar {
                    // Kubernetes names the token that opened the list here, not the bad one.
                    return Err(format!("found '{literal}', expected: ')'"));
                }
                Ok(values)
            }
            Token::ClosedPar => {
                self.consume(Context::Values);
                Ok(BTreeSet::from([String::new()]))
            }
            _ => Err(format!("found '{literal}', expected: ',', ')' or identifier")),
        }
    }

    /// Reads `a,b,...` up to (not including) `)`; empty entries are the empty value.
    fn parse_identifiers_list(&mut self) -> Result<BTreeSet<String>, String> {
        let mut values = BTreeSet::new();
        loop {
            let (token, literal) = self.consume(Context::Values);
            match token {
                Token::Identifier => {
                    values.insert(literal);
                    let (next, next_literal) = self.lookahead(Context::Values);
                    match next {
                        Token::Comma => continue,
                        Token::ClosedPar => return Ok(values),
                        _ => return Err(format!("found '{next_literal}', expected: ',' or ')'")),
                    }
                }
                Token::Comma => {
                    if self.empty_value_after_comma(&mut values) {
                        return Ok(values);
                    }
                }
                _ => return Err(format!("found '{literal}', expected: ',', or identifier")),
            }
        }
    }

    /// Handles `(,` `,,` and `,)`, which all stand for the empty value; true at `)`.
    fn empty_value_after_comma(&mut self, values: &mut BTreeSet<String>) -> bool {
        if values.is_empty() {
            values.insert(String::new());
        }
        match self.lookahead(Context::Values).0 {
            Token::ClosedPar => {
                values.insert(String::new());
                true
            }
            Token::Comma => {
                self.consume(Context::Values);
                values.insert(String::new());
                false
            }
            _ => false,
        }
    }

    /// Reads the single value after `=`, `==`, `!=`, `>` or `<`; nothing means "".
    fn parse_exact_value(&mut self) -> Result<BTreeSet<String>, String> {
        let (next, _) = self.lookahead(Context::Values);
        if matches!(next, Token::EndOfString | Token::Comma) {
            return Ok(BTreeSet::from([String::new()]));
        }
        let (token, literal) = self.consume(Context::Values);
        if token == Token::Identifier {
            return Ok(BTreeSet::from([literal]));
        }
        Err(format!("found '{literal}', expected: identifier"))
    }
}

fn in_context(token: Token, context: Context) -> Token {
    match (token, context) {
        (Token::In | Token::NotIn, Context::Values) => Token::Identifier,
        _ => token,
    }
}
