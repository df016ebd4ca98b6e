//! Go text/template's lexer: the text between actions, and the tokens inside `{{ }}`, with the
//! `{{- ` / ` -}}` whitespace trimming and `{{/* */}}` comments, each token keeping its byte offset
//! so errors can give Go's line and column.

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Text(String),
    /// `{{` (the trim marker already applied to the text before).
    Open,
    Close,
    /// `if`, `else`, `end`, `range`, `with`, `define`, `template`, `block`, `break`, `continue`.
    Keyword(&'static str),
    Ident(String),
    /// `$` or `$name`.
    Var(String),
    /// `.Name` (a chain `.A.B` is two tokens).
    Field(String),
    Dot,
    Str(String),
    Number(String),
    Bool(bool),
    Nil,
    Pipe,
    LParen,
    RParen,
    Declare,
    Assign,
    Comma,
}

#[derive(Clone, Debug)]
pub struct Token {
    pub tok: Tok,
    pub pos: usize,
    /// The text as written (for error messages that quote it).
    pub src: String,
}

const KEYWORDS: [&str; 10] = [
    "if", "else", "end", "range", "with", "define", "template", "block", "break", "continue",
];

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

/// Splits `text` into tokens; the error is Go's message and the byte offset it is about.
pub fn lex(text: &str) -> Result<Vec<Token>, (String, usize)> {
    let b = text.as_bytes();
    let mut out: Vec<Token> = Vec::new();
    let mut i = 0;
    let mut trim_next = false;
    while i < b.len() {
        let open = text[i..].find("{{").map_or(b.len(), |o| i + o);
        let mut chunk = &text[i..open];
        if trim_next {
            chunk = chunk.trim_start_matches(|c: char| c.is_ascii() && is_space(c as u8));
        }
        let trim_left =
            b.get(open + 2) == Some(&b'-') && b.get(open + 3).is_some_and(|&c| is_space(c));
        if trim_left {
            chunk = chunk.trim_end_matches(|c: char| c.is_ascii() && is_space(c as u8));
        }
        if !chunk.is_empty() {
            out.push(Token {
                tok: Tok::Text(chunk.to_owned()),
                pos: i,
                src: chunk.to_owned(),
            });
        }
        if open >= b.len() {
            break;
        }
        let mut j = open + 2 + if trim_left { 2 } else { 0 };
        // A comment is a whole action: {{/* ... */}}.
        let after_space = j + text[j..].bytes().take_while(|&c| is_space(c)).count();
        if text[after_space..].starts_with("/*") {
            let Some(end) = text[after_space + 2..].find("*/") else {
                return Err(("unclosed comment".into(), open));
            };
            let mut k = after_space + 2 + end + 2;
            let spaces = text[k..].bytes().take_while(|&c| is_space(c)).count();
            trim_next = false;
            if text[k + spaces..].starts_with("-}}") && spaces > 0 {
                k += spaces + 3;
                trim_next = true;
            } else if text[k..].starts_with("}}") {
                k += 2;
            } else {
                return Err(("comment ends before closing delimiter".into(), open));
            }
            i = k;
            continue;
        }
        out.push(Token {
            tok: Tok::Open,
            pos: open,
            src: "{{".into(),
        });
        trim_next = false;
        loop {
            let spaces = b[j..].iter().take_while(|&&c| is_space(c)).count();
            if spaces > 0 && text[j + spaces..].starts_with("-}}") {
                // ` -}}` closes and trims the text after.
                out.push(Token {
                    tok: Tok::Close,
                    pos: j + spaces,
                    src: "}}".into(),
                });
                j += spaces + 3;
                trim_next = true;
                break;
            }
            j += spaces;
            if j >= b.len() {
                return Err(("unclosed action".into(), open));
            }
            if text[j..].starts_with("}}") {
                out.push(Token {
                    tok: Tok::Close,
                    pos: j,
                    src: "}}".into(),
                });
                j += 2;
                break;
            }
            let start = j;
            let c = b[j];
            let tok = match c {
                b'|' => {
                    j += 1;
                    Tok::Pipe
                }
                b'(' => {
                    j += 1;
                    Tok::LParen
                }
                b')' => {
                    j += 1;
                    Tok::RParen
                }
                b',' => {
                    j += 1;
                    Tok::Comma
                }
                b'=' => {
                    j += 1;
                    Tok::Assign
                }
                b':' if b.get(j + 1) == Some(&b'=') => {
                    j += 2;
                    Tok::Declare
                }
                b'"' => {
                    let (s, end) =
                        quoted(text, j).ok_or(("unterminated quoted string".to_string(), j))?;
                    j = end;
                    Tok::Str(s)
                }
                b'`' => {
                    let end = text[j + 1..]
                        .find('`')
                        .ok_or(("unterminated raw quoted string".to_string(), j))?;
                    let s = text[j + 1..j + 1 + end].to_owned();
                    j += end + 2;
                    Tok::Str(s)
                }
                b'\'' => {
                    let (s, end) = quoted(text, j)
                        .ok_or(("unterminated character constant".to_string(), j))?;
                    j = end;
                    let mut chars = s.chars();
                    match (chars.next(), chars.next()) {
                        (Some(ch), None) => Tok::Number((ch as u32).to_string()),
                        _ => {
                            return Err((
                                format!("malformed character constant: {}", &text[start..j]),
                                start,
                            ));
                        }
                    }
                }
                b'$' => {
                    j += 1 + word_len(&b[j + 1..]);
                    Tok::Var(text[start..j].to_owned())
                }
                b'.' if b.get(j + 1).is_some_and(|c| c.is_ascii_digit()) => {
                    j = number_end(b, j);
                    Tok::Number(text[start..j].to_owned())
                }
                b'.' => {
                    let n = word_len(&b[j + 1..]);
                    j += 1 + n;
                    if n == 0 {
                        Tok::Dot
                    } else {
                        Tok::Field(text[start + 1..j].to_owned())
                    }
                }
                b'0'..=b'9' | b'-' | b'+' => {
                    j = number_end(b, j);
                    let s = &text[start..j];
                    if b.get(j)
                        .is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'.' || c == b'_')
                    {
                        let end = j + b[j..]
                            .iter()
                            .take_while(|c| {
                                !is_space(**c) && **c != b'}' && **c != b')' && **c != b'|'
                            })
                            .count();
                        return Err((format!("bad number syntax: {:?}", &text[start..end]), start));
                    }
                    if s == "-" || s == "+" {
                        return Err((format!("bad number syntax: {s:?}"), start));
                    }
                    Tok::Number(s.to_owned())
                }
                c if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                    j += word_len(&b[j..]).max(1);
                    let word = &text[start..j];
                    match word {
                        "true" => Tok::Bool(true),
                        "false" => Tok::Bool(false),
                        "nil" => Tok::Nil,
                        w => match KEYWORDS.iter().find(|k| **k == w) {
                            Some(k) => Tok::Keyword(k),
                            None => Tok::Ident(w.to_owned()),
                        },
                    }
                }
                _ => {
                    let ch = text[j..].chars().next().unwrap_or('?');
                    return Err((format!("unrecognized character in action: {ch:?}"), j));
                }
            };
            out.push(Token {
                tok,
                pos: start,
                src: text[start..j].to_owned(),
            });
        }
        i = j;
    }
    Ok(out)
}

/// Letters, digits, `_` and any non-ASCII byte (Go allows Unicode letters in names).
fn word_len(b: &[u8]) -> usize {
    b.iter()
        .take_while(|&&c| c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80)
        .count()
}

fn number_end(b: &[u8], mut j: usize) -> usize {
    if matches!(b.get(j), Some(b'-' | b'+')) {
        j += 1;
    }
    let hex = b.get(j) == Some(&b'0') && matches!(b.get(j + 1), Some(b'x' | b'X'));
    if hex {
        j += 2;
        while b
            .get(j)
            .is_some_and(|c| c.is_ascii_hexdigit() || *c == b'_')
        {
            j += 1;
        }
        return j;
    }
    while b
        .get(j)
        .is_some_and(|c| c.is_ascii_digit() || *c == b'_' || *c == b'.')
    {
        j += 1;
    }
    if matches!(b.get(j), Some(b'e' | b'E')) {
        let mut k = j + 1;
        if matches!(b.get(k), Some(b'-' | b'+')) {
            k += 1;
        }
        if b.get(k).is_some_and(u8::is_ascii_digit) {
            j = k;
            while b.get(j).is_some_and(u8::is_ascii_digit) {
                j += 1;
            }
        }
    }
    j
}

/// A Go double- or single-quoted literal at `start`: its value and the offset after it.
fn quoted(text: &str, start: usize) -> Option<(String, usize)> {
    let quote = text[start..].chars().next()?;
    let mut out = String::new();
    let mut chars = text[start + 1..].char_indices();
    while let Some((k, c)) = chars.next() {
        match c {
            '\n' => return None,
            c if c == quote => return Some((out, start + 1 + k + 1)),
            '\\' => {
                let (_, e) = chars.next()?;
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'a' => out.push('\u{7}'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'v' => out.push('\u{b}'),
                    '\\' | '"' | '\'' => out.push(e),
                    'x' | 'u' | 'U' => {
                        let n = match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let hex: String = (0..n)
                            .filter_map(|_| chars.next().map(|(_, h)| h))
                            .collect();
                        let v = u32::from_str_radix(&hex, 16).ok()?;
                        out.push(char::from_u32(v)?);
                    }
                    _ => return None,
                }
            }
            c => out.push(c),
        }
    }
    None
}
