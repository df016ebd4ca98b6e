//! Go text/template's parser for the subset Prometheus alert templates use: actions, pipelines,
//! variables (declared, assigned, scoped to their block), `if`/`else if`/`else`, `with`, `range`,
//! parenthesised pipelines. Parse-time errors are Go's (`unexpected EOF`, `undefined variable
//! "$x"`, `function "f" not defined`), since promtool reports them when checking rule files.

use super::ast::{Arg, Cmd, FUNCTIONS, Node, Pipe};
use super::lex::{Tok, Token};

/// How deep blocks and parentheses may nest: hostile input must not exhaust the stack.
const MAX_DEPTH: usize = 100;

pub struct Parser<'a> {
    toks: &'a [Token],
    at: usize,
    vars: Vec<String>,
    depth: usize,
    end_pos: usize,
}

type PResult<T> = Result<T, (String, usize)>;

/// How a list of nodes ended.
enum Stop {
    Eof,
    End,
    Else(usize),
}

impl<'a> Parser<'a> {
    pub fn new(toks: &'a [Token], end_pos: usize) -> Self {
        Parser {
            toks,
            at: 0,
            vars: vec!["$".into()],
            depth: 0,
            end_pos,
        }
    }

    pub fn parse(mut self) -> PResult<Vec<Node>> {
        let (nodes, end) = self.list()?;
        match end {
            Stop::Eof => Ok(nodes),
            Stop::End => Err(("unexpected {{end}}".into(), self.pos())),
            Stop::Else(p) => Err(("unexpected {{else}}".into(), p)),
        }
    }

    fn pos(&self) -> usize {
        self.toks.get(self.at).map_or(self.end_pos, |t| t.pos)
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at).map(|t| &t.tok)
    }

    fn next(&mut self) -> Option<&'a Token> {
        let t = self.toks.get(self.at);
        self.at += 1;
        t
    }

    fn expect_close(&mut self, ctx: &str) -> PResult<()> {
        match self.next() {
            Some(Token {
                tok: Tok::Close, ..
            }) => Ok(()),
            Some(t) => Err((format!("unexpected {:?} in {ctx}", t.src), t.pos)),
            None => Err(("unclosed action".into(), self.end_pos)),
        }
    }

    fn list(&mut self) -> PResult<(Vec<Node>, Stop)> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(("max nesting depth exceeded".into(), self.pos()));
        }
        let mut nodes = Vec::new();
        let end = loop {
            let Some(t) = self.next() else {
                break Stop::Eof;
            };
            match &t.tok {
                Tok::Text(s) => nodes.push(Node::Text(s.clone())),
                Tok::Open => match self.peek() {
                    Some(Tok::Keyword("end")) => {
                        self.at += 1;
                        self.expect_close("end")?;
                        break Stop::End;
                    }
                    Some(Tok::Keyword("else")) => {
                        let p = self.pos();
                        self.at += 1;
                        break Stop::Else(p);
                    }
                    Some(Tok::Keyword(k)) => {
                        let k = *k;
                        self.at += 1;
                        nodes.push(self.keyword(k)?);
                    }
                    _ => {
                        let pipe = self.pipeline("command", false)?;
                        nodes.push(Node::Action(pipe));
                    }
                },
                _ => return Err((format!("unexpected {:?}", t.src), t.pos)),
            }
        };
        self.depth -= 1;
        Ok((nodes, end))
    }

    fn keyword(&mut self, k: &str) -> PResult<Node> {
        match k {
            "if" | "with" | "range" => self.block(k),
            "break" | "continue" => {
                self.expect_close(k)?;
                Ok(if k == "break" {
                    Node::Break
                } else {
                    Node::Continue
                })
            }
            other => Err((
                format!("unsupported by watchfloor: {{{{{other}}}}}"),
                self.pos(),
            )),
        }
    }

    /// `if`/`with`/`range` after the keyword: the pipeline, the body, an optional else (which
    /// may be `else if`/`else with`, sharing the one `{{end}}`).
    fn block(&mut self, k: &str) -> PResult<Node> {
        let scope = self.vars.len();
        let cond = self.pipeline(k, k == "range")?;
        let (then, end) = self.list()?;
        let else_ = match end {
            Stop::Eof => return Err(("unexpected EOF".into(), self.end_pos)),
            Stop::End => Vec::new(),
            Stop::Else(_) => {
                if k != "range"
                    && self.peek() == Some(&Tok::Keyword(if k == "if" { "if" } else { "with" }))
                {
                    self.at += 1;
                    vec![self.block(k)?]
                } else {
                    self.expect_close("else")?;
                    let (else_, end) = self.list()?;
                    match end {
                        Stop::End => else_,
                        Stop::Eof => return Err(("unexpected EOF".into(), self.end_pos)),
                        Stop::Else(p) => return Err(("unexpected {{else}}".into(), p)),
                    }
                }
            }
        };
        self.vars.truncate(scope);
        Ok(match k {
            "if" => Node::If { cond, then, else_ },
            "with" => Node::With { cond, then, else_ },
            _ => Node::Range {
                pipe: cond,
                body: then,
                else_,
            },
        })
    }

    /// A pipeline up to `}}` (or `)` when `ctx` is "parenthesized pipeline").
    fn pipeline(&mut self, ctx: &str, range: bool) -> PResult<Pipe> {
        let mut decl = Vec::new();
        let mut assign = false;
        // `$x :=`, `$x =`, `$k, $v :=` (the last only in range).
        let save = self.at;
        if let Some(Tok::Var(v)) = self.peek() {
            let v = v.clone();
            self.at += 1;
            match self.peek() {
                Some(Tok::Declare) | Some(Tok::Assign) => {
                    assign = self.peek() == Some(&Tok::Assign);
                    self.at += 1;
                    decl.push(v);
                }
                Some(Tok::Comma) if range => {
                    self.at += 1;
                    if let (Some(Tok::Var(v2)), Some(Tok::Declare | Tok::Assign)) = (
                        self.toks.get(self.at).map(|t| &t.tok),
                        self.toks.get(self.at + 1).map(|t| &t.tok),
                    ) {
                        decl.push(v);
                        decl.push(v2.clone());
                        self.at += 2;
                    } else {
                        return Err(("range can only initialize variables".into(), self.pos()));
                    }
                }
                _ => self.at = save,
            }
        }
        if assign {
            for v in &decl {
                if !self.vars.contains(v) {
                    return Err((format!("undefined variable {v:?}"), self.pos()));
                }
            }
        }
        let closer = if ctx == "parenthesized pipeline" {
            Tok::RParen
        } else {
            Tok::Close
        };
        let mut cmds = Vec::new();
        loop {
            match self.peek() {
                Some(t) if *t == closer => {
                    self.at += 1;
                    break;
                }
                None => {
                    return Err((
                        if ctx == "parenthesized pipeline" {
                            "unclosed left paren"
                        } else {
                            "unclosed action"
                        }
                        .into(),
                        self.end_pos,
                    ));
                }
                Some(Tok::Close) => return Err(("unclosed left paren".into(), self.pos())),
                Some(Tok::RParen) => return Err(("unexpected right paren".into(), self.pos())),
                _ => {}
            }
            let cmd = self.command()?;
            if !cmds.is_empty()
                && !matches!(
                    cmd.args.first(),
                    Some(Arg::Func(_))
                        | Some(Arg::Field(_))
                        | Some(Arg::Var(..))
                        | Some(Arg::Sub(..))
                        | Some(Arg::Dot)
                )
            {
                return Err((
                    format!(
                        "non executable command in pipeline stage {}",
                        cmds.len() + 1
                    ),
                    cmd.pos,
                ));
            }
            cmds.push(cmd);
            if self.peek() == Some(&Tok::Pipe) {
                self.at += 1;
            }
        }
        if cmds.is_empty() {
            return Err((format!("missing value for {ctx}"), self.pos()));
        }
        if !assign {
            self.vars.extend(decl.iter().cloned());
        }
        Ok(Pipe { decl, assign, cmds })
    }

    fn command(&mut self) -> PResult<Cmd> {
        let pos = self.pos();
        let first = self.at;
        let mut args = Vec::new();
        loop {
            match self.peek() {
                None | Some(Tok::Close) | Some(Tok::RParen) | Some(Tok::Pipe) => break,
                _ => args.push(self.operand()?),
            }
        }
        if args.is_empty() {
            let t = self.toks.get(self.at);
            return Err(match t {
                Some(t) if t.tok == Tok::Pipe => {
                    (format!("unexpected {:?} in command", t.src), t.pos)
                }
                _ => ("missing value for command".into(), pos),
            });
        }
        let first_src = self.toks[first..]
            .iter()
            .take_while(|t| matches!(t.tok, Tok::Field(_)) || t.pos == pos)
            .map(|t| t.src.as_str())
            .collect::<String>();
        let src = self.toks[first..self.at]
            .iter()
            .map(|t| t.src.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        Ok(Cmd {
            args,
            pos,
            src,
            first_src,
        })
    }

    fn fields(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(Tok::Field(f)) = self.peek() {
            out.push(f.clone());
            self.at += 1;
        }
        out
    }

    fn operand(&mut self) -> PResult<Arg> {
        let Some(t) = self.next() else {
            return Err(("unclosed action".into(), self.end_pos));
        };
        Ok(match &t.tok {
            Tok::Dot => Arg::Dot,
            Tok::Field(f) => {
                let mut chain = vec![f.clone()];
                chain.extend(self.fields());
                Arg::Field(chain)
            }
            Tok::Var(v) => {
                if !self.vars.contains(v) {
                    return Err((format!("undefined variable {v:?}"), t.pos));
                }
                let v = v.clone();
                Arg::Var(v, self.fields())
            }
            Tok::Ident(name) => {
                if !FUNCTIONS.contains(&name.as_str()) {
                    return Err((format!("function {name:?} not defined"), t.pos));
                }
                Arg::Func(name.clone())
            }
            Tok::Str(s) => Arg::Str(s.clone()),
            Tok::Number(n) => Arg::Number(n.clone()),
            Tok::Bool(b) => Arg::Bool(*b),
            Tok::Nil => Arg::Nil,
            Tok::LParen => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err(("max nesting depth exceeded".into(), t.pos));
                }
                let pipe = self.pipeline("parenthesized pipeline", false)?;
                self.depth -= 1;
                Arg::Sub(Box::new(pipe), self.fields())
            }
            _ => return Err((format!("unexpected {:?} in operand", t.src), t.pos)),
        })
    }
}
