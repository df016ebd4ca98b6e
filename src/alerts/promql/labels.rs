//! The label functions: `label_replace`, `label_join`, `sort_by_label[_desc]`.

use promql_parser::parser::Call;
use regex::Regex;

use super::eval::{Ctx, V, get, set_label};
use super::funcs::{eval_string, eval_vector};
use super::{Compat, EvalError};

fn arg_str<'a>(
    ctx: &Ctx<'a>,
    c: &Call,
    i: usize,
    t: i64,
    depth: usize,
) -> Result<String, EvalError> {
    match c.args.args.get(i) {
        Some(e) => eval_string(ctx, e, t, depth),
        None => Err(EvalError::Runtime(format!(
            "missing argument {} of {}",
            i + 1,
            c.func.name
        ))),
    }
}

fn first_vector<'a>(
    ctx: &Ctx<'a>,
    c: &Call,
    t: i64,
    depth: usize,
) -> Result<Vec<super::eval::Elem<'a>>, EvalError> {
    match c.args.args.first() {
        Some(e) => eval_vector(ctx, e, t, depth),
        None => Err(EvalError::Runtime(format!(
            "missing argument 1 of {}",
            c.func.name
        ))),
    }
}

/// A label name PromQL's label functions accept: Prometheus 3 takes any UTF-8 name, 2.x the
/// legacy `[a-zA-Z_][a-zA-Z0-9_]*`.
fn valid_name(name: &str, compat: Compat) -> bool {
    match compat {
        Compat::V3 => !name.is_empty(),
        Compat::V2 => {
            let mut chars = name.chars();
            chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
    }
}

/// `label_replace(v, dst, replacement, src, regex)`: where the anchored regex matches the
/// source label, the destination becomes the expanded replacement (removed when empty).
pub(super) fn label_replace<'a>(
    ctx: &Ctx<'a>,
    c: &Call,
    t: i64,
    depth: usize,
) -> Result<V<'a>, EvalError> {
    let mut v = first_vector(ctx, c, t, depth)?;
    let dst = arg_str(ctx, c, 1, t, depth)?;
    let repl = arg_str(ctx, c, 2, t, depth)?;
    let src = arg_str(ctx, c, 3, t, depth)?;
    let re_text = arg_str(ctx, c, 4, t, depth)?;
    let anchored = match ctx.compat {
        Compat::V3 => format!("^(?s:{re_text})$"),
        Compat::V2 => format!("^(?:{re_text})$"),
    };
    let re = Regex::new(&anchored).map_err(|_| {
        EvalError::Runtime(format!(
            "invalid regular expression in label_replace(): {re_text}"
        ))
    })?;
    if !valid_name(&dst, ctx.compat) {
        return Err(EvalError::Runtime(format!(
            "invalid destination label name in label_replace(): {dst}"
        )));
    }
    for e in &mut v {
        let src_value = get(&e.labels, &src).unwrap_or("").to_owned();
        if let Some(caps) = re.captures(&src_value) {
            let mut out = String::new();
            caps.expand(&repl, &mut out);
            e.labels.edit(|l| set_label(l, &dst, &out));
            if dst == "__name__" {
                e.drop_name = false;
            }
        }
    }
    Ok(V::Vector(v))
}

/// `label_join(v, dst, sep, src...)`.
pub(super) fn label_join<'a>(
    ctx: &Ctx<'a>,
    c: &Call,
    t: i64,
    depth: usize,
) -> Result<V<'a>, EvalError> {
    let mut v = first_vector(ctx, c, t, depth)?;
    let dst = arg_str(ctx, c, 1, t, depth)?;
    let sep = arg_str(ctx, c, 2, t, depth)?;
    let mut srcs = Vec::new();
    for i in 3..c.args.args.len() {
        let s = arg_str(ctx, c, i, t, depth)?;
        if !valid_name(&s, ctx.compat) {
            return Err(EvalError::Runtime(format!(
                "invalid source label name in label_join(): {s}"
            )));
        }
        srcs.push(s);
    }
    if !valid_name(&dst, ctx.compat) {
        return Err(EvalError::Runtime(format!(
            "invalid destination label name in label_join(): {dst}"
        )));
    }
    for e in &mut v {
        let joined = srcs
            .iter()
            .map(|s| get(&e.labels, s).unwrap_or(""))
            .collect::<Vec<_>>()
            .join(&sep);
        e.labels.edit(|l| set_label(l, &dst, &joined));
        if dst == "__name__" {
            e.drop_name = false;
        }
    }
    Ok(V::Vector(v))
}

/// `sort_by_label(v, label...)`: by the labels' values in natural order, then by all labels.
pub(super) fn sort_by_label<'a>(
    ctx: &Ctx<'a>,
    c: &Call,
    t: i64,
    depth: usize,
) -> Result<V<'a>, EvalError> {
    let mut v = first_vector(ctx, c, t, depth)?;
    let mut names = Vec::new();
    for i in 1..c.args.args.len() {
        names.push(arg_str(ctx, c, i, t, depth)?);
    }
    let desc = c.func.name == "sort_by_label_desc";
    v.sort_by(|a, b| {
        let by_names = names
            .iter()
            .map(|n| {
                natural_cmp(
                    get(&a.labels, n).unwrap_or(""),
                    get(&b.labels, n).unwrap_or(""),
                )
            })
            .find(|o| o.is_ne())
            .unwrap_or_else(|| a.labels.cmp(&b.labels));
        if desc { by_names.reverse() } else { by_names }
    });
    Ok(V::Vector(v))
}

/// Natural order: runs of digits compare as numbers.
fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return std::cmp::Ordering::Equal,
            (None, _) => return std::cmp::Ordering::Less,
            (_, None) => return std::cmp::Ordering::Greater,
            (Some(p), Some(q)) if p.is_ascii_digit() && q.is_ascii_digit() => {
                let dx = x.iter().take_while(|c| c.is_ascii_digit()).count();
                let dy = y.iter().take_while(|c| c.is_ascii_digit()).count();
                let (nx, ny) = (&x[..dx], &y[..dy]);
                let tx = nx.iter().skip_while(|&&c| c == b'0').count();
                let ty = ny.iter().skip_while(|&&c| c == b'0').count();
                let o = tx.cmp(&ty).then_with(|| nx[dx - tx..].cmp(&ny[dy - ty..]));
                if o.is_ne() {
                    return o;
                }
                (x, y) = (&x[dx..], &y[dy..]);
            }
            (Some(p), Some(q)) => {
                if p != q {
                    return p.cmp(q);
                }
                (x, y) = (&x[1..], &y[1..]);
            }
        }
    }
}
