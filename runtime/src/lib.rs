//! `alloy-runtime`: runs a checked Alloy configuration (`alloy run`).
//!
//! Layers, lowest first (`tests/layers.rs` keeps them free of cycles):
//!
//! * [`metrics`]: the process registry served on `/metrics`; [`process`]: resource metrics;
//! * [`livedebugging`]: the per-controller hub components publish what they send to, and
//!   debug and graph streams listen on;
//! * [`component`]: the component API: typed arguments (`args`), registration (`registry`),
//!   the [`component::Context`] components get and the `Host` behind it, per-controller
//!   `Services`; it knows no controller, server or family;
//! * shared building blocks: [`tls`] (server and client `tls` blocks, the TLS listener),
//!   [`delivery`] (sending queue, retry, compression);
//! * families ([`otelcol`], behind its cargo feature), [`services`] (the `logging` and `http`
//!   config blocks) and [`components`], the list a binary registers;
//! * [`controller`]: lowers the analyzer's program into a graph of nodes, evaluates them in
//!   dependency order (arguments checked by the same rules as `alloy validate`), builds
//!   components through their registrations, runs them as tokio tasks, re-evaluates dependants
//!   when exports change, and applies reloads; custom components (`module.rs`), imports
//!   (`imports.rs`) and `foreach` (`foreach.rs`) are expanded into the same graph;
//! * [`http`]: the HTTP server (`/-/ready`, `/-/healthy`, `/-/reload`, `/metrics`, the web API,
//!   a small UI), which reads the `http` block's settings from the controller's services.

mod basic_auth;
#[cfg(any(feature = "prometheus", feature = "loki"))]
pub mod bounded_cache;
pub mod civil_date;
pub mod component;
pub mod components;
pub mod controller;
pub mod delivery;
#[cfg(feature = "prometheus")]
pub mod discovery;
#[cfg(any(feature = "prometheus", feature = "loki"))]
pub mod docker_engine;
pub mod error_chain;
#[cfg(any(feature = "prometheus", feature = "loki"))]
pub mod file_glob;
pub mod http;
pub mod http_client;
pub mod http_server;
pub mod livedebugging;
#[cfg(feature = "loki")]
pub mod loki;
pub mod metrics;
#[cfg(feature = "otelcol")]
pub mod otelcol;
pub mod process;
#[cfg(feature = "prometheus")]
pub mod prometheus;
#[cfg(any(feature = "prometheus", feature = "loki"))]
pub mod relabel_rules;
pub mod server;
pub mod services;
pub mod tls;

pub use component::{BoxFuture, Component, ComponentError, Context, Health, HealthState, Registration};
pub use controller::{Controller, LoadError, Options, SourceFn};
