//! Alloy values, expression evaluation, the standard library, decoding into typed targets and
//! value rendering.
//!
//! ```
//! let scope = eval::Scope::new();
//! let (v, _warnings) = eval::eval_source("string.format(\"%d-%s\", 1 + 2, \"x\")", &scope).unwrap();
//! assert_eq!(eval::render::render(&v), "\"3-x\"");
//! ```
//!
//! Secrets never print their text: `Debug`, [`render`], [`json::value_json`] and error
//! messages show `(secret)`; only explicit un-redaction options or
//! [`value::Secret::expose`] reveal it.

pub mod convert;
pub mod decode;
pub mod error;
pub mod eval;
pub mod function;
pub mod gofmt;
pub mod json;
pub mod jsonpath;
pub mod number;
pub mod render;
pub mod stdlib;
pub mod testing;
pub mod value;
pub mod yaml;

pub use decode::Decode;
pub use error::{ErrorPos, EvalError, PathSeg, ValueError};
pub use eval::{eval_source, EvalFailure, Evaluator, Scope};
pub use function::Function;
pub use number::Number;
pub use value::{Capsule, CapsuleValue, Object, OptionalSecret, Secret, Str, Type, Value};

/// Evaluates an expression and decodes its value into `T`; decode errors are attributed to
/// the expression like evaluation errors.
pub fn eval_and_decode<T: Decode>(src: &str, scope: &Scope) -> Result<T, EvalFailure> {
    let parsed = syntax::parse_expression(src.as_bytes());
    if parsed.has_errors() {
        return Err(EvalFailure::Parse { diagnostics: parsed.diagnostics, lines: parsed.lines });
    }
    let mut ev = Evaluator::new(&parsed.lines, scope);
    let span = parsed.tree.span();
    let v = match ev.eval(&parsed.tree) {
        Ok(v) => v,
        Err(error) => return Err(EvalFailure::Eval { error, span, lines: parsed.lines }),
    };
    match T::decode(&v) {
        Ok(t) => Ok(t),
        Err(e) => {
            let error = ev.attribute(Some(&parsed.tree), &v, e, false);
            Err(EvalFailure::Eval { error, span, lines: parsed.lines })
        }
    }
}
