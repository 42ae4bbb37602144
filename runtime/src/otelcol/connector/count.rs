//! `otelcol.connector.count`: OpenTelemetry connector (count) that derives new telemetry from what it receives.

use std::sync::Arc;

use eval::Value;

use crate::component::args::decode_checked;
use crate::component::{Arguments, Component, ComponentError, Context, Reader, Registration};

const NAME: &str = "otelcol.connector.count";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["input"], build);

/// The component's arguments. Everything starts unsupported: move names to `r.get` /
/// `r.block` as they are implemented, and put cross-field rules in `validate`.
#[derive(Default)]
pub struct Args {}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&["output", "datapoints", "debug_metrics", "logs", "metrics", "spanevents", "spans"]);
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
