//! The parsed form of a template: text, actions and blocks, pipelines of commands.

#[derive(Clone, Debug)]
pub enum Node {
    Text(String),
    Action(Pipe),
    If {
        cond: Pipe,
        then: Vec<Node>,
        else_: Vec<Node>,
    },
    With {
        cond: Pipe,
        then: Vec<Node>,
        else_: Vec<Node>,
    },
    Range {
        pipe: Pipe,
        body: Vec<Node>,
        else_: Vec<Node>,
    },
    Break,
    Continue,
}

#[derive(Clone, Debug)]
pub struct Pipe {
    pub decl: Vec<String>,
    /// `=` rather than `:=`.
    pub assign: bool,
    pub cmds: Vec<Cmd>,
}

#[derive(Clone, Debug)]
pub struct Cmd {
    pub args: Vec<Arg>,
    pub pos: usize,
    /// The command as written, for "executing ... at <...>".
    pub src: String,
    /// The first operand as written.
    pub first_src: String,
}

#[derive(Clone, Debug)]
pub enum Arg {
    Dot,
    /// `.A.B` on the dot.
    Field(Vec<String>),
    /// `$x.A.B`.
    Var(String, Vec<String>),
    Func(String),
    Str(String),
    Number(String),
    Bool(bool),
    Nil,
    /// `(pipeline).A.B`.
    Sub(Box<Pipe>, Vec<String>),
}

/// Every function name Prometheus 2.42 defines for templates, Go's built-ins included: a name not
/// here is a parse error, as in Go.
pub const FUNCTIONS: &[&str] = &[
    "and",
    "call",
    "html",
    "index",
    "slice",
    "js",
    "len",
    "not",
    "or",
    "print",
    "printf",
    "println",
    "urlquery",
    "eq",
    "ge",
    "gt",
    "le",
    "lt",
    "ne",
    "query",
    "first",
    "label",
    "value",
    "strvalue",
    "args",
    "reReplaceAll",
    "safeHtml",
    "match",
    "title",
    "toUpper",
    "toLower",
    "graphLink",
    "tableLink",
    "sortByLabel",
    "humanize",
    "humanize1024",
    "humanizeDuration",
    "humanizePercentage",
    "humanizeTimestamp",
    "toTime",
    "pathPrefix",
    "externalURL",
    "parseDuration",
    "stripPort",
    "stripDomain",
];
