//! `alloy-runtime`: runs a checked Alloy configuration (`alloy run`).
//!
//! * [`controller`]: lowers the analyzer's program into a graph of nodes, evaluates them in
//!   dependency order, builds components through the [`components`] registry, runs them as
//!   tokio tasks, re-evaluates dependants when exports change, and applies reloads; custom
//!   components (`module.rs`), imports (`imports.rs`) and `foreach` (`foreach.rs`) are expanded
//!   into the same graph;
//! * [`component`]: the API components implement and the [`component::Context`] they get;
//! * [`metrics`]: the process registry served on `/metrics`; [`process`]: resource metrics;
//! * [`http`]: the HTTP server (`/-/ready`, `/-/healthy`, `/-/reload`, `/metrics`, the web API,
//!   a small UI) and the `http` block; [`tls`]: TLS settings and the listener servers share;
//! * [`services`]: config blocks (`logging`, the `http` block) applied by the controller.

mod basic_auth;
pub mod component;
pub mod components;
pub mod controller;
pub mod delivery;
pub mod http;
pub mod metrics;
#[cfg(feature = "otelcol")]
pub mod otelcol;
pub mod process;
pub mod services;
pub mod tls;

pub use component::{BoxFuture, Component, ComponentError, Context, Health, HealthState, Registration};
pub use controller::{Controller, LoadError, Options, SourceFn};
