//! `prometheus.exporter.self`: this process' own metrics (what `/metrics` serves) as a
//! scrape target.

use std::sync::Arc;

use eval::{Object, Value};

use crate::component::args::decode_checked;
use crate::component::{Arguments, Component, ComponentError, Context, Reader, Registration};

const NAME: &str = "prometheus.exporter.self";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["targets"], build);

#[derive(Default)]
pub struct Args;

impl Arguments for Args {
    fn decode(_r: &mut Reader<'_>) -> Self {
        Args
    }
}

struct SelfExporter {
    _served: super::Registered,
}

fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    let _: Args = decode_checked(NAME, &args)?;
    let registry = ctx.registry();
    let served = super::register(
        ctx.id(),
        Arc::new(move |_: &[(String, String)]| ("text/plain; version=0.0.4; charset=utf-8".to_string(), registry.render().into_bytes())),
    );
    let mut exports = Object::new();
    exports.insert("targets", super::target(&ctx, "self", &super::host_instance()));
    ctx.set_exports(Value::object(exports));
    Ok(Arc::new(SelfExporter { _served: served }))
}

impl Component for SelfExporter {
    fn update(&self, _args: Value) -> Result<(), ComponentError> {
        Ok(())
    }
}
