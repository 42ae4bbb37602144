//! `alloy-prom`: the Prometheus data model and formats shared by the runtime's metrics
//! pipelines, free of the runtime (no tokio, no components), so each part is tested alone.
//!
//! * [`labels`]: label sets ([`Labels`]) and their builder;
//! * [`sample`]: what travels between components: series, samples, exemplars, histograms,
//!   metadata, batches; the staleness marker;
//! * [`relabel`]: `rule` blocks: validation and evaluation;
//! * [`exposition`]: the Prometheus text, OpenMetrics and protobuf scrape formats;
//! * [`remote`]: the remote-write 1.0 and 2.0 wire formats;
//! * [`wal`]: the write-ahead log `prometheus.remote_write` keeps under `--storage.path`.

pub mod exposition;
pub mod labels;
pub mod relabel;
pub mod remote;
pub mod sample;
pub mod wal;

pub use labels::{Labels, LabelsBuilder};
pub use sample::{Batch, Exemplar, Histogram, Metadata, MetricType, Sample, SeriesRef, STALE_NAN};
