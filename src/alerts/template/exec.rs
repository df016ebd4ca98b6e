//! Executing a parsed template over Prometheus's alert data: Go's value rules (truth, printing,
//! `missingkey=zero` map lookups, no implicit int/float mixing in comparisons) with the error
//! texts Go and Prometheus give.

use super::TemplateData;
use super::ast::{Arg, Cmd, Node, Pipe};
use super::funcs;
use super::gofmt;

/// A template value: the Go types an alert template can meet.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Str(String),
    Float(f64),
    Int(i64),
    Bool(bool),
    /// A `map[string]string`, sorted by key.
    Map(Vec<(String, String)>),
    /// The template's dot: `.Labels`, `.ExternalLabels`, `.ExternalURL`, `.Value`.
    Data,
    Nil,
}

impl Val {
    /// Go's name for the type, as error messages print it.
    pub fn go_type(&self) -> &'static str {
        match self {
            Val::Str(_) => "string",
            Val::Float(_) => "float64",
            Val::Int(_) => "int",
            Val::Bool(_) => "bool",
            Val::Map(_) => "map[string]string",
            Val::Data => DATA_TYPE,
            Val::Nil => "<nil>",
        }
    }

    /// Go's truth: false, 0, "", empty maps and nil are false.
    pub fn truth(&self) -> bool {
        match self {
            Val::Str(s) => !s.is_empty(),
            Val::Float(x) => *x != 0.0,
            Val::Int(i) => *i != 0,
            Val::Bool(b) => *b,
            Val::Map(m) => !m.is_empty(),
            Val::Data => true,
            Val::Nil => false,
        }
    }
}

/// The Go type of Prometheus's alert template data, named in "can't evaluate field" errors.
const DATA_TYPE: &str = "struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value float64 }";

/// An execution error: where (byte offset), the command as written, and Go's words.
pub struct ExecError {
    pub pos: usize,
    pub at: String,
    pub message: String,
}

pub struct State<'a> {
    pub data: &'a TemplateData<'a>,
    vars: Vec<(String, Val)>,
    out: String,
}

/// `break`/`continue` unwinding out of a range body.
enum Flow {
    Normal,
    Break,
    Continue,
}

type R<T> = Result<T, ExecError>;

fn sorted(labels: &[(String, String)]) -> Val {
    let mut m = labels.to_vec();
    m.sort();
    m.dedup_by(|a, b| a.0 == b.0);
    Val::Map(m)
}

impl<'a> State<'a> {
    pub fn new(data: &'a TemplateData<'a>) -> Self {
        State {
            data,
            vars: vec![("$".into(), Val::Data)],
            out: String::new(),
        }
    }

    pub fn run(mut self, nodes: &[Node]) -> R<String> {
        self.walk(nodes, &Val::Data)?;
        Ok(self.out)
    }

    fn walk(&mut self, nodes: &[Node], dot: &Val) -> R<Flow> {
        for n in nodes {
            match self.node(n, dot)? {
                Flow::Normal => {}
                other => return Ok(other),
            }
        }
        Ok(Flow::Normal)
    }

    fn scoped(&mut self, nodes: &[Node], dot: &Val) -> R<Flow> {
        let mark = self.vars.len();
        let r = self.walk(nodes, dot);
        self.vars.truncate(mark);
        r
    }

    fn node(&mut self, n: &Node, dot: &Val) -> R<Flow> {
        match n {
            Node::Text(t) => self.out.push_str(t),
            Node::Action(p) => {
                let v = self.pipe(p, dot)?;
                if p.decl.is_empty() {
                    self.out.push_str(&print(&v));
                }
            }
            Node::If { cond, then, else_ } | Node::With { cond, then, else_ } => {
                let mark = self.vars.len();
                let v = self.pipe(cond, dot)?;
                let with = matches!(n, Node::With { .. });
                let flow = if v.truth() {
                    let d = if with { v } else { dot.clone() };
                    self.walk(then, &d)
                } else {
                    self.walk(else_, dot)
                };
                self.vars.truncate(mark);
                return flow;
            }
            Node::Range { pipe, body, else_ } => {
                let mark = self.vars.len();
                let v = self.pipe_value(pipe, dot)?;
                let items: Vec<(Val, Val)> = match &v {
                    Val::Map(m) => m
                        .iter()
                        .map(|(k, v)| (Val::Str(k.clone()), Val::Str(v.clone())))
                        .collect(),
                    Val::Int(n) => (0..*n).map(|i| (Val::Int(i), Val::Int(i))).collect(),
                    Val::Nil => Vec::new(),
                    other => {
                        return Err(self.err(
                            pipe.cmds.first(),
                            format!("range can't iterate over {}", print(other)),
                        ));
                    }
                };
                if items.is_empty() {
                    self.vars.truncate(mark);
                    return self.scoped(else_, dot);
                }
                for (k, v) in items {
                    let inner = self.vars.len();
                    match pipe.decl.as_slice() {
                        [one] => self.vars.push((one.clone(), v.clone())),
                        [key, value] => {
                            self.vars.push((key.clone(), k));
                            self.vars.push((value.clone(), v.clone()));
                        }
                        _ => {}
                    }
                    let flow = self.walk(body, &v);
                    self.vars.truncate(inner);
                    if matches!(flow?, Flow::Break) {
                        break;
                    }
                }
                self.vars.truncate(mark);
            }
            Node::Break => return Ok(Flow::Break),
            Node::Continue => return Ok(Flow::Continue),
        }
        Ok(Flow::Normal)
    }

    /// A pipeline's value without declaring its variables (range declares per item).
    fn pipe_value(&mut self, p: &Pipe, dot: &Val) -> R<Val> {
        let mut v: Option<Val> = None;
        for c in &p.cmds {
            v = Some(self.cmd(c, dot, v)?);
        }
        Ok(v.unwrap_or(Val::Nil))
    }

    fn pipe(&mut self, p: &Pipe, dot: &Val) -> R<Val> {
        let v = self.pipe_value(p, dot)?;
        for name in &p.decl {
            if p.assign {
                if let Some(slot) = self.vars.iter_mut().rev().find(|(n, _)| n == name) {
                    slot.1 = v.clone();
                }
            } else {
                self.vars.push((name.clone(), v.clone()));
            }
        }
        Ok(v)
    }

    fn err(&self, cmd: Option<&Cmd>, message: String) -> ExecError {
        ExecError {
            pos: cmd.map_or(0, |c| c.pos),
            at: cmd.map_or(String::new(), |c| c.src.clone()),
            message,
        }
    }

    fn cmd(&mut self, c: &Cmd, dot: &Val, last: Option<Val>) -> R<Val> {
        let Some(first) = c.args.first() else {
            return Ok(Val::Nil);
        };
        if let Arg::Func(name) = first {
            let mut args = Vec::with_capacity(c.args.len());
            for a in &c.args[1..] {
                args.push(self.arg(a, dot, c)?);
            }
            args.extend(last);
            return funcs::call(name, &args, self.data).map_err(|m| self.err(Some(c), m));
        }
        if c.args.len() > 1 || last.is_some() {
            let mut e = self.err(
                Some(c),
                format!("can't give argument to non-function {}", c.first_src),
            );
            e.at = c.first_src.clone();
            return Err(e);
        }
        if let Arg::Nil = first {
            return Err(self.err(Some(c), "nil is not a command".into()));
        }
        self.arg(first, dot, c)
    }

    fn arg(&mut self, a: &Arg, dot: &Val, c: &Cmd) -> R<Val> {
        match a {
            Arg::Dot => Ok(dot.clone()),
            Arg::Field(chain) => self.fields(dot.clone(), chain, c),
            Arg::Var(name, chain) => {
                let v = self
                    .vars
                    .iter()
                    .rev()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.clone())
                    .unwrap_or(Val::Nil);
                self.fields(v, chain, c)
            }
            Arg::Func(name) => funcs::call(name, &[], self.data).map_err(|m| self.err(Some(c), m)),
            Arg::Str(s) => Ok(Val::Str(s.clone())),
            Arg::Number(n) => {
                number(n).ok_or_else(|| self.err(Some(c), format!("bad number syntax: {n:?}")))
            }
            Arg::Bool(b) => Ok(Val::Bool(*b)),
            Arg::Nil => Ok(Val::Nil),
            Arg::Sub(p, chain) => {
                let mark = self.vars.len();
                let v = self.pipe(p, dot);
                self.vars.truncate(mark);
                self.fields(v?, chain, c)
            }
        }
    }

    fn fields(&self, mut v: Val, chain: &[String], c: &Cmd) -> R<Val> {
        for f in chain {
            v = match v {
                Val::Data => match f.as_str() {
                    "Labels" => sorted(self.data.labels),
                    "ExternalLabels" => sorted(self.data.external_labels),
                    "ExternalURL" => Val::Str(self.data.external_url.to_owned()),
                    "Value" => Val::Float(self.data.value),
                    _ => {
                        return Err(self.err(
                            Some(c),
                            format!("can't evaluate field {f} in type {DATA_TYPE}"),
                        ));
                    }
                },
                // Prometheus runs templates with missingkey=zero: an absent label is "".
                Val::Map(m) => Val::Str(
                    m.iter()
                        .find(|(k, _)| k == f)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default(),
                ),
                Val::Nil => {
                    return Err(self.err(
                        Some(c),
                        format!("nil pointer evaluating interface {{}}.{f}"),
                    ));
                }
                other => {
                    return Err(self.err(
                        Some(c),
                        format!("can't evaluate field {f} in type {}", other.go_type()),
                    ));
                }
            };
        }
        Ok(v)
    }
}

/// A number literal as Go's template parser types it: an integer when it is one, else float64.
pub fn number(text: &str) -> Option<Val> {
    let clean: String = text.chars().filter(|c| *c != '_').collect();
    let (neg, digits) = match clean.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, clean.strip_prefix('+').unwrap_or(&clean)),
    };
    let int = if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        i64::from_str_radix(hex, 16).ok()
    } else {
        digits.parse::<i64>().ok()
    };
    if let Some(i) = int {
        return Some(Val::Int(if neg { -i } else { i }));
    }
    let f: f64 = digits.parse().ok()?;
    Some(Val::Float(if neg { -f } else { f }))
}

/// Go's `fmt.Fprint` of one value, as an action prints it.
pub fn print(v: &Val) -> String {
    match v {
        Val::Str(s) => s.clone(),
        Val::Float(x) => gofmt::fmt_v(*x),
        Val::Int(i) => i.to_string(),
        Val::Bool(b) => b.to_string(),
        Val::Map(m) => {
            let items: Vec<String> = m.iter().map(|(k, v)| format!("{k}:{v}")).collect();
            format!("map[{}]", items.join(" "))
        }
        Val::Data => "{...}".into(),
        Val::Nil => "<no value>".into(),
    }
}
