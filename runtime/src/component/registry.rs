//! Registration: how the runtime knows a component (or config block) by its catalogue name,
//! builds it, and checks its arguments. One [`Registration`] per name, made from the
//! component's typed [`Arguments`], so the rules `alloy validate` runs are the decoder `alloy
//! run` runs. `tests/catalogue.rs` checks every registration against the catalogue.

use std::collections::HashMap;
use std::sync::Arc;

use analyzer::rules::{ArgError, ArgumentRules};
use eval::Value;

use super::args::{self, Arguments};
use super::{Component, ComponentError, Context, Services};

pub type BuildFn = fn(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError>;

/// How a config block takes effect: its checked arguments, or `None` when the configuration
/// no longer has the block (its defaults apply again).
pub type ApplyFn = fn(services: &Services, args: Option<&Value>) -> Result<(), ComponentError>;

/// One builtin component or config block.
#[derive(Clone, Copy)]
pub struct Registration {
    /// The catalogue name, e.g. `otelcol.processor.batch`.
    pub name: &'static str,
    /// The names of the exports the component publishes (the catalogue's, checked by a test).
    pub exports: &'static [&'static str],
    /// `None` for config blocks.
    pub build: Option<BuildFn>,
    /// `Some` for config blocks (`logging`, `http`), which take effect instead of running.
    pub apply: Option<ApplyFn>,
    /// Decodes the arguments and runs the component's rules: every problem found.
    pub check: fn(&str, &Value) -> Vec<ArgError>,
    /// The dotted argument names the decoder reads or refuses (the catalogue test).
    pub coverage: fn(&str, &Value) -> args::Coverage,
}

impl Registration {
    /// A component built by `build` from arguments of type `A`.
    pub const fn component<A: Arguments>(name: &'static str, exports: &'static [&'static str], build: BuildFn) -> Self {
        Registration { name, exports, build: Some(build), apply: None, check: args::check::<A>, coverage: args::coverage::<A> }
    }

    /// A block the controller reads itself (`import.*`): only its argument rules.
    pub const fn checked<A: Arguments>(name: &'static str) -> Self {
        Registration { name, exports: &[], build: None, apply: None, check: args::check::<A>, coverage: args::coverage::<A> }
    }

    /// A config block whose arguments are of type `A`, applied by `apply`.
    pub const fn config<A: Arguments>(name: &'static str, apply: ApplyFn) -> Self {
        Registration { name, exports: &[], build: None, apply: Some(apply), check: args::check::<A>, coverage: args::coverage::<A> }
    }
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration").field("name", &self.name).finish()
    }
}

/// Every registration of a binary, by name; the argument rules `alloy validate`, the
/// language server and `alloy run` share.
#[derive(Debug, Default)]
pub struct Registrations {
    by_name: HashMap<&'static str, Registration>,
    /// Names registered more than once (the first registration wins; a test asserts none).
    pub duplicates: Vec<&'static str>,
}

impl Registrations {
    pub fn new(list: Vec<Registration>) -> Self {
        let mut out = Registrations::default();
        for r in list {
            if out.by_name.contains_key(r.name) {
                out.duplicates.push(r.name);
            } else {
                out.by_name.insert(r.name, r);
            }
        }
        out
    }

    pub fn contains(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    pub fn get(&self, name: &str) -> Option<&Registration> {
        self.by_name.get(name)
    }

    /// The config blocks, for the controller to apply or reset.
    pub fn configs(&self) -> impl Iterator<Item = &Registration> {
        self.by_name.values().filter(|r| r.apply.is_some())
    }
}

impl ArgumentRules for Registrations {
    fn covers(&self, name: &str) -> bool {
        self.contains(name)
    }

    fn check(&self, name: &str, args: &Value) -> Option<Vec<ArgError>> {
        self.get(name).map(|r| (r.check)(name, args))
    }
}
