//! Function values and the calling convention: the arity is checked, each argument is
//! converted to its parameter's type, then the body runs (`Function::call`).

use std::fmt;
use std::sync::Arc;

use crate::convert;
use crate::error::ValueError;
use crate::value::Value;

/// The type of a typed builtin's parameter; arguments are converted to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Param {
    /// A string (numbers and byte arrays convert; `null` gives `""`).
    String,
    /// A secret (strings and optional secrets convert).
    Secret,
    /// Any value, passed unchanged.
    Any,
    /// A list of strings (element-wise string conversion).
    ListString,
}

/// Why a call failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallError {
    /// A failure attributed to the callee expression: `<callee> <text>`.
    Callee(String),
    /// A problem with argument `index` (or a part of it). `converting` marks errors from the
    /// typed conversion of the argument (upstream wraps those in an argument error).
    Arg { index: usize, error: ValueError, converting: bool },
    /// A bare error text without position.
    Plain(String),
}

impl CallError {
    /// A raw builtin's complaint about argument `index` itself.
    pub fn arg(index: usize, error: ValueError) -> Self {
        CallError::Arg { index, error: error.direct(), converting: false }
    }
}

pub type TypedFn = fn(&[Value]) -> Result<Value, String>;
pub type RawFn = fn(&[Value]) -> Result<Value, CallError>;
pub type HostFn = dyn Fn(&[Value]) -> Result<Value, CallError> + Send + Sync;

pub enum Implementation {
    /// Arguments are converted to the parameter types before the call; an `Err` is a host
    /// error reported as `<callee> <text>`.
    Typed { params: &'static [Param], variadic: Option<Param>, f: TypedFn },
    /// Arguments are passed unconverted; the function reports its own errors.
    Raw(RawFn),
    /// A function supplied by the host (a component export).
    Host(Arc<HostFn>),
}

pub struct FunctionDef {
    /// Canonical name, e.g. `string.format`.
    pub name: &'static str,
    /// The upstream Go type, used in a few upstream error texts
    /// (`json: unsupported type: func(string) string`).
    pub go_type: &'static str,
    pub imp: Implementation,
}

/// A function value. Functions are never equal to anything.
#[derive(Clone)]
pub struct Function(pub Arc<FunctionDef>);

impl fmt::Debug for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "function({})", self.0.name)
    }
}

impl Function {
    pub fn typed(name: &'static str, go_type: &'static str, params: &'static [Param], variadic: Option<Param>, f: TypedFn) -> Self {
        Function(Arc::new(FunctionDef { name, go_type, imp: Implementation::Typed { params, variadic, f } }))
    }

    pub fn raw(name: &'static str, go_type: &'static str, f: RawFn) -> Self {
        Function(Arc::new(FunctionDef { name, go_type, imp: Implementation::Raw(f) }))
    }

    pub fn host(name: &'static str, go_type: &'static str, f: impl Fn(&[Value]) -> Result<Value, CallError> + Send + Sync + 'static) -> Self {
        Function(Arc::new(FunctionDef { name, go_type, imp: Implementation::Host(Arc::new(f)) }))
    }

    pub fn name(&self) -> &'static str {
        self.0.name
    }

    pub fn go_type(&self) -> &'static str {
        self.0.go_type
    }

    /// Calls the function: arity check, argument conversion, then the body.
    pub fn call(&self, args: &[Value]) -> Result<Value, CallError> {
        match &self.0.imp {
            Implementation::Raw(f) => f(args),
            Implementation::Host(f) => f(args),
            Implementation::Typed { params, variadic, f } => {
                match variadic {
                    Some(_) if args.len() < params.len() => {
                        return Err(CallError::Callee(format!("expected at least {} args, got {}", params.len(), args.len())));
                    }
                    None if args.len() != params.len() => {
                        return Err(CallError::Callee(format!("expected {} args, got {}", params.len(), args.len())));
                    }
                    _ => {}
                }
                let mut converted = Vec::with_capacity(args.len());
                for (i, arg) in args.iter().enumerate() {
                    let param = params.get(i).copied().or(*variadic).unwrap_or(Param::Any);
                    match convert::to_param(arg, param) {
                        Ok(v) => converted.push(v),
                        Err(error) => return Err(CallError::Arg { index: i, error, converting: true }),
                    }
                }
                f(&converted).map_err(CallError::Callee)
            }
        }
    }
}
