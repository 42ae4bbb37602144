//! `loki.echo`: logs every entry it receives (info level, `received log entry`), for
//! debugging a pipeline.

use std::sync::Arc;

use eval::{Object, Value};
use loki::push::format_labels;
use loki::Entry;
use tokio_util::sync::CancellationToken;

use super::receiver::Inbox;
use crate::component::args::decode_checked;
use crate::component::{Arguments, BoxFuture, Component, ComponentError, Context, Reader, Registration};

const NAME: &str = "loki.echo";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["receiver"], build);

#[derive(Default)]
pub struct Args;

impl Arguments for Args {
    fn decode(_: &mut Reader<'_>) -> Self {
        Args
    }
}

struct Echo {
    ctx: Context,
    inbox: Inbox,
}

fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    decode_checked::<Args>(NAME, &args)?;
    let c = Arc::new(Echo { inbox: Inbox::new(ctx.id()).tapped(&ctx), ctx });
    let mut exports = Object::new();
    exports.insert("receiver", c.inbox.receiver().to_value());
    c.ctx.set_exports(Value::object(exports));
    Ok(c)
}

/// The fields upstream logs: the line, its time as Go prints a `time.Time`, the labels as
/// label-set text and the structured metadata as a JSON object.
pub fn fields(e: &Entry) -> (String, String, String) {
    let metadata: serde_json::Map<String, serde_json::Value> =
        e.structured_metadata.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect();
    (crate::civil_date::go_time(e.timestamp_ns), format_labels(e.labels.iter()), serde_json::Value::Object(metadata).to_string())
}

impl Component for Echo {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        decode_checked::<Args>(NAME, &args)?;
        Ok(())
    }

    fn run(self: Arc<Self>, shutdown: CancellationToken) -> BoxFuture<Result<(), ComponentError>> {
        Box::pin(async move {
            let id = self.ctx.id().to_string();
            self.inbox
                .serve(shutdown, |entries| {
                    for e in &entries {
                        let (entry_timestamp, labels, structured_metadata) = fields(e);
                        tracing::info!(component_id = id.as_str(), entry = e.line.as_str(), entry_timestamp, labels, structured_metadata, "received log entry");
                    }
                    std::future::ready(())
                })
                .await;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use prom::Labels;

    use super::*;

    #[test]
    fn fields_are_printed_as_upstream_prints_them() {
        let mut e = Entry::new(Labels::new([("job", "a"), ("env", "p")]), 1_700_000_000_120_000_000, "hello");
        e.set_metadata("trace_id", "x");
        assert_eq!(fields(&e), ("2023-11-14 22:13:20.12 +0000 UTC".to_string(), r#"{env="p", job="a"}"#.to_string(), r#"{"trace_id":"x"}"#.to_string()));
    }
}
