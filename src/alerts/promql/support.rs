//! The static check of what the evaluator implements, so a rule using anything else is flagged
//! when it is loaded rather than failing at every evaluation.

use promql_parser::parser::Expr;
use promql_parser::parser::token::{
    T_AVG, T_BOTTOMK, T_COUNT, T_COUNT_VALUES, T_GROUP, T_LIMITK, T_MAX, T_MIN, T_QUANTILE,
    T_STDDEV, T_STDVAR, T_SUM, T_TOPK, TokenType,
};

use super::EvalError;
use super::eval::MAX_DEPTH;

/// `Err(EvalError::Unsupported(what))` for the first feature of `expr` the evaluator does not
/// implement (a function, an aggregation, a syntax extension); `Ok` when it can evaluate it.
pub fn check_supported(expr: &Expr) -> Result<(), EvalError> {
    walk(expr, 0)
}

fn walk(e: &Expr, depth: usize) -> Result<(), EvalError> {
    if depth > MAX_DEPTH {
        return Err(EvalError::Unsupported(format!(
            "expressions nested deeper than {MAX_DEPTH}"
        )));
    }
    let d = depth + 1;
    match e {
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) => Ok(()),
        Expr::VectorSelector(vs) => selector(vs),
        Expr::MatrixSelector(m) => selector(&m.vs),
        Expr::Paren(p) => walk(&p.expr, d),
        Expr::Unary(u) => walk(&u.expr, d),
        Expr::Subquery(s) => walk(&s.expr, d),
        Expr::Binary(b) => {
            if let Some(m) = &b.modifier
                && (m.fill_values.lhs.is_some() || m.fill_values.rhs.is_some())
            {
                return Err(EvalError::Unsupported("fill modifiers".into()));
            }
            walk(&b.lhs, d)?;
            walk(&b.rhs, d)
        }
        Expr::Aggregate(a) => {
            let id = a.op.id();
            if !matches!(
                id,
                T_SUM
                    | T_AVG
                    | T_MIN
                    | T_MAX
                    | T_COUNT
                    | T_GROUP
                    | T_STDDEV
                    | T_STDVAR
                    | T_TOPK
                    | T_BOTTOMK
                    | T_LIMITK
                    | T_QUANTILE
                    | T_COUNT_VALUES
            ) {
                return Err(EvalError::Unsupported(format!(
                    "aggregation {}",
                    TokenType::new(id)
                )));
            }
            if let Some(p) = &a.param {
                walk(p, d)?;
            }
            walk(&a.expr, d)
        }
        Expr::Call(c) => {
            if !super::funcs::implemented(c.func.name) {
                return Err(EvalError::Unsupported(format!("function {}", c.func.name)));
            }
            c.args.args.iter().try_for_each(|a| walk(a, d))
        }
        Expr::Extension(_) => Err(EvalError::Unsupported("extension expressions".into())),
    }
}

fn selector(vs: &promql_parser::parser::VectorSelector) -> Result<(), EvalError> {
    if vs.matchers.or_matchers.is_empty() {
        Ok(())
    } else {
        Err(EvalError::Unsupported(
            "\"or\" inside a label matcher list".into(),
        ))
    }
}
