//! `otelcol.processor.resourcedetection`: adds attributes describing where the collector
//! runs to every resource. The `env` detector reads `OTEL_RESOURCE_ATTRIBUTES`; the
//! `system` detector gives `host.name` (from `hostname_sources`), `os.type`, `host.arch` and
//! `host.id` (each toggled by its `resource_attributes` block). Detection runs once, when
//! the component is built or updated; with several detectors the first to set a key wins,
//! and `override` decides whether detected values replace a resource's own.

mod system;

use std::sync::Arc;

use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;

use crate::component::args::types::Dur;
use crate::component::{Arguments, ComponentError, Context, Reader, Registration};
use crate::otelcol::consumer::{ConsumeError, Output};
use crate::otelcol::pdata::{Payload, Signal};
use crate::otelcol::processor::rewrite::{self, invalid, ProcessorArgs, Transform};
pub use system::SystemConfig;

const NAME: &str = "otelcol.processor.resourcedetection";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["input"], rewrite::build::<Args>);

/// The detectors this runtime has.
const DETECTORS: &[&str] = &["env", "system"];

/// The cloud and platform detectors' blocks, refused when written.
const OTHER_DETECTORS: &[&str] = &[
    "akamai",
    "alibaba_ecs",
    "aks",
    "azure",
    "consul",
    "docker",
    "digitalocean",
    "ec2",
    "ecs",
    "eks",
    "elasticbeanstalk",
    "gcp",
    "heroku",
    "hetzner",
    "kubeadm",
    "kubernetes_node",
    "lambda",
    "nova",
    "oraclecloud",
    "tencent_cvm",
    "scaleway",
    "upcloud",
    "vultr",
    "openshift",
    "dynatrace",
    "deployment.envir",
    "service.instance",
];

/// The component's arguments.
#[derive(Default)]
pub struct Args {
    detectors: Vec<String>,
    override_existing: bool,
    system: SystemConfig,
    output: Output,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&["debug_metrics", "fail_on_missing_metadata"]);
        r.unsupported(OTHER_DETECTORS);
        let detectors: Vec<String> = r.get("detectors");
        for d in &detectors {
            if !DETECTORS.contains(&d.as_str()) {
                let known = OTHER_DETECTORS.contains(&d.as_str());
                let why = if known { "is not supported by this runtime yet" } else { "is not a known detector" };
                r.error("detectors", format!("detector {} {why}", syntax::quote::go_quote(d)));
            }
        }
        // Local detection does not wait on anything, so it always finishes within `timeout`.
        let _: Dur = r.get("timeout");
        Args { detectors, override_existing: r.get("override"), system: r.block_or_default("system"), output: r.block_or_default("output") }
    }
}

/// `OTEL_RESOURCE_ATTRIBUTES`: `key=value` pairs separated by commas, values URL-escaped.
pub fn env_attributes(raw: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for pair in raw.split(',').filter(|p| !p.trim().is_empty()) {
        let Some((k, v)) = pair.split_once('=') else {
            return Err(format!("invalid resource format in attribute: {pair:?}, expected key=value"));
        };
        let value = unescape(v.trim()).ok_or_else(|| format!("invalid resource format in attribute: {pair:?}, invalid escape"))?;
        out.push((k.trim().to_string(), value));
    }
    Ok(out)
}

/// Query unescaping: `%XX` and `+` as a space.
fn unescape(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// The attributes the detectors find, the first detector winning on a shared key.
pub fn detect(detectors: &[String], system: &SystemConfig, env: Option<&str>) -> Result<Vec<(String, String)>, String> {
    let mut found: Vec<(String, String)> = Vec::new();
    for d in detectors {
        let attrs = match d.as_str() {
            "env" => env.map(env_attributes).transpose()?.unwrap_or_default(),
            "system" => system.detect()?,
            _ => Vec::new(),
        };
        for (k, v) in attrs {
            if !found.iter().any(|(f, _)| *f == k) {
                found.push((k, v));
            }
        }
    }
    Ok(found)
}

struct Rules {
    detected: Vec<KeyValue>,
    override_existing: bool,
}

impl Rules {
    fn merge(&self, resource: &mut Option<Resource>) {
        let res = resource.get_or_insert_with(Resource::default);
        for kv in &self.detected {
            match res.attributes.iter_mut().find(|a| a.key == kv.key) {
                Some(a) if self.override_existing => a.value = kv.value.clone(),
                Some(_) => {}
                None => res.attributes.push(kv.clone()),
            }
        }
    }
}

impl Transform for Rules {
    fn process(&self, data: Payload) -> Result<Option<Payload>, ConsumeError> {
        if self.detected.is_empty() {
            return Ok(Some(data));
        }
        let md = data.metadata().clone();
        let out = match data.signal() {
            Signal::Traces => {
                let mut req = data.decode_traces().map_err(invalid)?;
                req.resource_spans.iter_mut().for_each(|r| self.merge(&mut r.resource));
                Payload::from_traces(&req)
            }
            Signal::Metrics => {
                let mut req = data.decode_metrics().map_err(invalid)?;
                req.resource_metrics.iter_mut().for_each(|r| self.merge(&mut r.resource));
                Payload::from_metrics(&req)
            }
            Signal::Logs => {
                let mut req = data.decode_logs().map_err(invalid)?;
                req.resource_logs.iter_mut().for_each(|r| self.merge(&mut r.resource));
                Payload::from_logs(&req)
            }
        };
        Ok(Some(out.with_metadata(md)))
    }
}

impl ProcessorArgs for Args {
    const NAME: &'static str = NAME;

    fn into_parts(self, _ctx: &Context) -> Result<(Arc<dyn Transform>, Output), ComponentError> {
        let env = std::env::var("OTEL_RESOURCE_ATTRIBUTES").ok();
        let found = detect(&self.detectors, &self.system, env.as_deref()).map_err(|e| ComponentError(format!("resource detection failed: {e}")))?;
        let detected = found
            .into_iter()
            .map(|(key, v)| KeyValue { key, value: Some(AnyValue { value: Some(any_value::Value::StringValue(v)) }), ..Default::default() })
            .collect();
        Ok((Arc::new(Rules { detected, override_existing: self.override_existing }), self.output))
    }
}

#[cfg(test)]
mod tests;
