//! Tokenizer for label selector strings, byte for byte as Kubernetes' `labels.Lexer`.

/// What the lexer recognised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Token {
    Error,
    EndOfString,
    ClosedPar,
    Comma,
    DoesNotExist,
    DoubleEquals,
    Equals,
    GreaterThan,
    Identifier,
    In,
    LessThan,
    NotEquals,
    NotIn,
    OpenPar,
}

/// A token and the text it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ScannedItem {
    pub(crate) token: Token,
    pub(crate) literal: String,
}

/// Splits a whole selector string into tokens, ending with `EndOfString`.
pub(crate) fn scan(selector: &str) -> Vec<ScannedItem> {
    let mut lexer = Lexer { bytes: selector.as_bytes(), pos: 0 };
    let mut items = Vec::new();
    loop {
        let item = lexer.lex();
        let done = item.token == Token::EndOfString;
        items.push(item);
        if done {
            return items;
        }
    }
}

/// The literal tokens; identifiers are everything else.
fn literal_token(text: &[u8]) -> Option<Token> {
    Some(match text {
        b")" => Token::ClosedPar,
        b"," => Token::Comma,
        b"!" => Token::DoesNotExist,
        b"==" => Token::DoubleEquals,
        b"=" => Token::Equals,
        b">" => Token::GreaterThan,
        b"in" => Token::In,
        b"<" => Token::LessThan,
        b"!=" => Token::NotEquals,
        b"notin" => Token::NotIn,
        b"(" => Token::OpenPar,
        _ => return None,
    })
}

fn is_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_special_symbol(b: u8) -> bool {
    matches!(b, b'=' | b'!' | b'(' | b')' | b',' | b'>' | b'<')
}

struct Lexer<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn lex(&mut self) -> ScannedItem {
        while self.peek().is_some_and(is_whitespace) {
            self.pos += 1;
        }
        match self.peek() {
            None => item(Token::EndOfString, ""),
            Some(b) if is_special_symbol(b) => self.scan_special_symbol(),
            Some(_) => self.scan_id_or_keyword(),
        }
    }

    fn scan_id_or_keyword(&mut self) -> ScannedItem {
        let start = self.pos;
        while self.peek().is_some_and(|b| !is_special_symbol(b) && !is_whitespace(b)) {
            self.pos += 1;
        }
        let text = &self.bytes[start..self.pos];
        let token = literal_token(text).unwrap_or(Token::Identifier);
        item(token, &String::from_utf8_lossy(text))
    }

    /// Takes the longest run of symbols that still forms an operator, as Kubernetes does.
    fn scan_special_symbol(&mut self) -> ScannedItem {
        let start = self.pos;
        let mut last: Option<(Token, usize)> = None;
        while self.peek().is_some_and(is_special_symbol) {
            let candidate = &self.bytes[start..=self.pos];
            match literal_token(candidate) {
                Some(token) => last = Some((token, self.pos + 1)),
                None if last.is_some() => break,
                None => {}
            }
            self.pos += 1;
        }
        match last {
            Some((token, end)) => {
                self.pos = end;
                item(token, &String::from_utf8_lossy(&self.bytes[start..end]))
            }
            None => {
                let buffer = String::from_utf8_lossy(&self.bytes[start..self.pos]);
                item(Token::Error, &format!("error expected: keyword found '{buffer}'"))
            }
        }
    }
}

fn item(token: Token, literal: &str) -> ScannedItem {
    ScannedItem { token, literal: literal.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(s: &str) -> Vec<(Token, String)> {
        scan(s).into_iter().map(|i| (i.token, i.literal)).collect()
    }

    #[test]
    fn operators_are_split_from_identifiers_without_spaces() {
        assert_eq!(
            tokens("a!=b,c==d"),
            vec![
                (Token::Identifier, "a".into()),
                (Token::NotEquals, "!=".into()),
                (Token::Identifier, "b".into()),
                (Token::Comma, ",".into()),
                (Token::Identifier, "c".into()),
                (Token::DoubleEquals, "==".into()),
                (Token::Identifier, "d".into()),
                (Token::EndOfString, "".into()),
            ]
        );
    }

    #[test]
    fn keywords_are_recognised_between_whitespace() {
        let kinds: Vec<Token> = scan(" x\tin (a) ,y notin(b)\n").into_iter().map(|i| i.token).collect();
        assert_eq!(
            kinds,
            vec![
                Token::Identifier,
                Token::In,
                Token::OpenPar,
                Token::Identifier,
                Token::ClosedPar,
                Token::Comma,
                Token::Identifier,
                Token::NotIn,
                Token::OpenPar,
                Token::Identifier,
                Token::ClosedPar,
                Token::EndOfString,
            ]
        );
    }

    #[test]
    fn a_bang_before_a_key_is_the_not_exists_token() {
        assert_eq!(tokens("!a")[0], (Token::DoesNotExist, "!".into()));
    }

    #[test]
    fn symbols_that_form_no_operator_are_an_error() {
        // "=!" is not an operator, but "=" is, so the lexer stops after "=".
        assert_eq!(tokens("=!")[0], (Token::Equals, "=".into()));
        assert_eq!(tokens("=!")[1], (Token::DoesNotExist, "!".into()));
    }
}
