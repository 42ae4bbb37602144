//! The collector's own telemetry, served where `service.telemetry.metrics` asks: the runtime's
//! `otelcol_*` families, with the collector's labels (`receiver="otlp/in"`,
//! `exporter="otlp/sink"`, `processor="batch"` with its `pipeline`) in place of Alloy's
//! `component_id` and `component_path`.

use convert::otelcol::collector::Mapped;
use runtime::metrics::{Labels, Snapshot};

/// The families of collector components, relabelled; everything else is left out.
pub fn relabel(families: Vec<Snapshot>, components: &[Mapped]) -> Vec<Snapshot> {
    let mut out = Vec::new();
    for mut f in families.into_iter().filter(|f| f.name.starts_with("otelcol_")) {
        f.samples = f.samples.into_iter().filter_map(|(suffix, labels, value)| Some((suffix, collector_labels(&labels, components)?, value))).collect();
        if !f.samples.is_empty() {
            out.push(f);
        }
    }
    out
}

fn collector_labels(labels: &Labels, components: &[Mapped]) -> Option<Labels> {
    let id = labels.iter().find(|(k, _)| k == "component_id").map(|(_, v)| v)?;
    let m = components.iter().find(|m| &m.alloy == id)?;
    let mut out: Labels = vec![(m.kind.to_string(), m.id.clone())];
    if let Some(p) = &m.pipeline {
        out.push(("pipeline".into(), p.clone()));
    }
    // The runtime's own `receiver`/`exporter` label holds the type only: the ID replaces it.
    out.extend(labels.iter().filter(|(k, _)| k != "component_id" && k != "component_path" && k != m.kind).cloned());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use convert::otelcol::collector::Pos;
    use runtime::metrics::Kind;

    #[test]
    fn alloy_labels_become_collector_ids() {
        let mapped = |kind: &'static str, id: &str, pipeline: Option<&str>, alloy: &str| Mapped {
            kind,
            id: id.into(),
            pipeline: pipeline.map(str::to_string),
            alloy: alloy.into(),
            at: Pos::default(),
        };
        let components =
            [mapped("receiver", "otlp/in", None, "otelcol.receiver.otlp.in"), mapped("processor", "batch", Some("traces"), "otelcol.processor.batch.traces")];
        let labels = |id: &str, extra: &[(&str, &str)]| {
            let mut l: Labels = vec![("component_id".into(), id.into()), ("component_path".into(), "/".into())];
            l.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
            l
        };
        let mut accepted = Snapshot::new("otelcol_receiver_accepted_spans_total", "Spans accepted.", Kind::Counter);
        accepted.samples.push(("", labels("otelcol.receiver.otlp.in", &[("receiver", "otlp"), ("transport", "grpc")]), 5.0));
        accepted.samples.push(("", labels("otelcol.receiver.otlp.other_alloy_component", &[]), 1.0));
        let mut batch = Snapshot::new("otelcol_processor_batch_batch_send_size", "Sizes.", Kind::Counter);
        batch.samples.push(("", labels("otelcol.processor.batch.traces", &[]), 2.0));
        let alloy_own = Snapshot::new("alloy_build_info", "Build.", Kind::Gauge);
        let text = runtime::metrics::render_families(relabel(vec![accepted, batch, alloy_own], &components));
        assert_eq!(
            text,
            "# HELP otelcol_receiver_accepted_spans_total Spans accepted.\n# TYPE otelcol_receiver_accepted_spans_total counter\n\
             otelcol_receiver_accepted_spans_total{receiver=\"otlp/in\",transport=\"grpc\"} 5\n\
             # HELP otelcol_processor_batch_batch_send_size Sizes.\n# TYPE otelcol_processor_batch_batch_send_size counter\n\
             otelcol_processor_batch_batch_send_size{processor=\"batch\",pipeline=\"traces\"} 2\n"
        );
    }
}
