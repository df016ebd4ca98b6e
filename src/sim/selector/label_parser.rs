//! The `labelSelector` query-string grammar: a tokenizer and a recursive-descent parser shaped like
//! apimachinery's, so each malformed selector fails where, and with the message, it does there.

use super::{Op, Requirement, SelectorError, validate_key};

/// The requirements in the order written; the caller sorts them.
pub(super) fn parse(s: &str) -> Result<Vec<Requirement>, SelectorError> {
    Parser::new(s).parse()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Token<'a> {
    /// Any run of characters that is neither whitespace nor a symbol; `in` and `notin` are words
    /// too, and become operators only where the parser expects one.
    Word(&'a str),
    Symbol(&'static str),
    End,
}

impl Token<'_> {
    /// The literal quoted in error messages; the end of the string is quoted as empty.
    fn literal(&self) -> &str {
        match self {
            Token::Word(w) => w,
            Token::Symbol(s) => s,
            Token::End => "",
        }
    }
}

const SYMBOLS: [&str; 9] = ["!=", "==", "=", "!", "(", ")", ",", ">", "<"];

fn tokenize(s: &str) -> Vec<Token<'_>> {
    let is_space = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n');
    let is_symbol_start = |c: char| "=!(),<>".contains(c);
    let mut tokens = Vec::new();
    let mut rest = s.trim_start_matches(is_space);
    while !rest.is_empty() {
        if let Some(sym) = SYMBOLS.iter().find(|sym| rest.starts_with(**sym)) {
            tokens.push(Token::Symbol(sym));
            rest = &rest[sym.len()..];
        } else {
            let end = rest
                .find(|c| is_space(c) || is_symbol_start(c))
                .unwrap_or(rest.len());
            tokens.push(Token::Word(&rest[..end]));
            rest = &rest[end..];
        }
        rest = rest.trim_start_matches(is_space);
    }
    tokens.push(Token::End);
    tokens
}

/// A recursive-descent parser shaped like apimachinery's, so each error arises where it does there.
struct Parser<'a> {
    tokens: Vec<Token<'a>>,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn new(s: &'a str) -> Self {
        Self {
            tokens: tokenize(s),
            pos: 0,
        }
    }

    fn peek(&self) -> Token<'a> {
        self.tokens[self.pos]
    }

    fn next(&mut self) -> Token<'a> {
        let token = self.tokens[self.pos];
        if token != Token::End {
            self.pos += 1;
        }
        token
    }

    fn parse(&mut self) -> Result<Vec<Requirement>, SelectorError> {
        let mut requirements = Vec::new();
        loop {
            match self.peek() {
                Token::End => return Ok(requirements),
                Token::Word(_) | Token::Symbol("!") => {}
                other => {
                    return Err(SelectorError::Syntax(format!(
                        "found '{}', expected: !, identifier, or 'end of string'",
                        other.literal()
                    )));
                }
            }
            requirements.push(self.requirement().map_err(SelectorError::Requirement)?);
            match self.next() {
                Token::End => return Ok(requirements),
                Token::Symbol(",") => match self.peek() {
                    Token::Word(_) | Token::Symbol("!") => {}
                    other => {
                        return Err(SelectorError::Syntax(format!(
                            "found '{}', expected: identifier after ','",
                            other.literal()
                        )));
                    }
                },
                other => {
                    return Err(SelectorError::Syntax(format!(
                        "found '{}', expected: ',' or 'end of string'",
                        other.literal()
                    )));
                }
            }
        }
    }

    fn requirement(&mut self) -> Result<Requirement, String> {
        let negated = self.peek() == Token::Symbol("!");
        if negated {
            self.next();
        }
        let key = match self.next() {
            Token::Word(key) => key,
            other => return Err(format!("found '{}', expected: identifier", other.literal())),
        };
        validate_key(key)?;
        // `!key` is complete by itself; anything after it is left for the caller to reject.
        if negated {
            return Requirement::new(key, Op::DoesNotExist, Vec::new());
        }
        if matches!(self.peek(), Token::End | Token::Symbol(",")) {
            return Requirement::new(key, Op::Exists, Vec::new());
        }
        let op = match self.next() {
            Token::Word("in") => Op::In,
            Token::Word("notin") => Op::NotIn,
            Token::Symbol("=") => Op::Equals,
            Token::Symbol("==") => Op::DoubleEquals,
            Token::Symbol("!=") => Op::NotEquals,
            Token::Symbol(">") => Op::GreaterThan,
            Token::Symbol("<") => Op::LessThan,
            other => {
                return Err(format!(
                    "found '{}', expected: in, notin, =, ==, !=, gt, lt",
                    other.literal()
                ));
            }
        };
        let values = match op {
            Op::In | Op::NotIn => self.value_set()?,
            _ => vec![self.exact_value()?],
        };
        Requirement::new(key, op, values)
    }

    /// `(a,b)`; empty members (`()`, `(a,)`, `(,a)`) are the empty string, as in apimachinery.
    fn value_set(&mut self) -> Result<Vec<String>, String> {
        match self.next() {
            Token::Symbol("(") => {}
            other => return Err(format!("found '{}' expected: '('", other.literal())),
        }
        let mut values = Vec::new();
        let mut expect_value = true;
        loop {
            match self.next() {
                Token::Word(w) if expect_value => {
                    values.push(w.to_owned());
                    expect_value = false;
                }
                Token::Symbol(",") => {
                    if expect_value {
                        values.push(String::new());
                    }
                    expect_value = true;
                }
                Token::Symbol(")") => {
                    if expect_value {
                        values.push(String::new());
                    }
                    return Ok(values);
                }
                other if values.is_empty() => {
                    return Err(format!(
                        "found '{}', expected: ',', ')' or identifier",
                        other.literal()
                    ));
                }
                other if expect_value => {
                    return Err(format!(
                        "found '{}', expected: ',', or identifier",
                        other.literal()
                    ));
                }
                other => {
                    return Err(format!("found '{}', expected: ',' or ')'", other.literal()));
                }
            }
        }
    }

    /// The value after `=`, `!=`, `>` or `<`; nothing before `,` or the end means the empty string.
    fn exact_value(&mut self) -> Result<String, String> {
        match self.peek() {
            Token::End | Token::Symbol(",") => Ok(String::new()),
            Token::Word(w) => {
                self.next();
                Ok(w.to_owned())
            }
            other => Err(format!("found '{}', expected: identifier", other.literal())),
        }
    }
}
