//! `otelcol.connector.servicegraph`: OpenTelemetry connector (servicegraph) that derives new telemetry from what it receives.

use std::sync::Arc;

use eval::Value;

use crate::component::args::decode_checked;
use crate::component::{Arguments, Component, ComponentError, Context, Reader, Registration};

const NAME: &str = "otelcol.connector.servicegraph";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["input"], build);

/// The component's arguments. Everything starts unsupported: move names to `r.get` /
/// `r.block` as they are implemented, and put cross-field rules in `validate`.
#[derive(Default)]
pub struct Args {}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&[
            "cache_loop",
            "database_name_attribute",
            "database_name_attributes",
            "dimensions",
            "exponential_histogram_max_size",
            "latency_histogram_buckets",
            "metrics_flush_interval",
            "store_expiration_loop",
            "virtual_node_extra_label",
            "virtual_node_peer_attributes",
            "output",
            "debug_metrics",
            "store",
        ]);
        Args {}
    }
}

struct Scaffold;

impl Component for Scaffold {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        decode_checked::<Args>(NAME, &args).map(|_| ())
    }
}

fn build(_ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    decode_checked::<Args>(NAME, &args)?;
    Ok(Arc::new(Scaffold))
}
