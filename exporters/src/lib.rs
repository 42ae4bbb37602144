//! In-process Prometheus exporters.
//!
//! [`unix`] is `prometheus.exporter.unix`: node_exporter's Linux collectors reading `/proc` and `/sys` (paths
//! configurable so tests run against fixture trees), rendered in the Prometheus text exposition format 0.0.4.

pub mod blackbox;
pub mod expfmt;
pub mod unix;
