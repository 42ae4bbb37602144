//! The web API's JSON: components, health, and bodies in the alloy-json encoding
//! (`{"name","type":"attr","value":V}` / `{"name","type":"block","label"?,"body":[…]}`),
//! with optional attributes equal to their default (or zero) omitted and secrets redacted.

use analyzer::catalog::{Body, Catalog};
use eval::{Object, Value};
use serde::Serialize;
use serde_json::Value as Json;

use crate::controller::ComponentInfo;

#[derive(Serialize)]
pub struct HealthJson {
    state: &'static str,
    message: String,
    #[serde(rename = "updatedTime")]
    updated_time: String,
}

impl From<&crate::component::Health> for HealthJson {
    fn from(h: &crate::component::Health) -> Self {
        HealthJson { state: h.state.as_str(), message: h.message.clone(), updated_time: crate::services::logging::rfc3339_nanos(h.updated) }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ComponentJson {
    name: String,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "localID")]
    local_id: String,
    #[serde(rename = "moduleID")]
    module_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    label: String,
    references_to: Vec<String>,
    referenced_by: Vec<String>,
    data_flow_edges_to: Vec<String>,
    /// Not upstream's: what flows along each data-flow edge (`traces`, `metrics,logs`,
    /// `targets`…), by target local ID; the UI labels the graph's edges with it.
    data_flow_signals: std::collections::BTreeMap<String, String>,
    health: HealthJson,
    /// Not upstream's: the last changes of the health, oldest first (detail responses).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    health_history: Vec<HealthJson>,
    original: String,
    arguments: Vec<Json>,
    exports: Vec<Json>,
    debug_info: Vec<Json>,
    #[serde(rename = "createdModuleIDs", skip_serializing_if = "Vec::is_empty")]
    created_module_ids: Vec<String>,
    live_debugging_enabled: bool,
    /// Not upstream's: what the user wrote the component as when the configuration was
    /// generated (`alloy otel`: `receiver/otlp/in`).
    #[serde(skip_serializing_if = "Option::is_none")]
    origin: Option<String>,
}

impl ComponentJson {
    pub fn from_info(i: &ComponentInfo) -> Self {
        let schema = Catalog::get().lookup(&i.name).map(|c| &c.body);
        ComponentJson {
            name: i.name.clone(),
            kind: "block",
            local_id: i.local_id.clone(),
            module_id: i.module_id.clone(),
            label: i.label.clone().unwrap_or_default(),
            references_to: i.references_to.clone(),
            referenced_by: i.referenced_by.clone(),
            data_flow_edges_to: i.data_flow_edges_to.clone(),
            data_flow_signals: i.data_flow_edges_to.iter().cloned().zip(i.data_flow_signals.iter().cloned()).collect(),
            health: HealthJson::from(&i.health),
            health_history: i.health_history.iter().map(HealthJson::from).collect(),
            original: String::new(),
            arguments: i.arguments.as_ref().map(|a| body(a, schema)).unwrap_or_default(),
            exports: i.exports.as_ref().map(|e| body(e, None)).unwrap_or_default(),
            debug_info: i.debug_info.as_ref().map(|d| body(d, None)).unwrap_or_default(),
            created_module_ids: i.created_module_ids.clone(),
            live_debugging_enabled: i.live_debugging,
            origin: i.origin.clone(),
        }
    }
}

/// A value in the `{"type","value"}` encoding (secrets redacted).
pub fn value(v: &Value) -> Json {
    eval::json::value_json(v, eval::json::JsonOptions::default()).ok().and_then(|s| serde_json::from_str(&s).ok()).unwrap_or(Json::Null)
}

fn is_zero(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Number(n) => n.as_f64() == 0.0,
        Value::String(s) => s.is_empty(),
        Value::Bool(b) => !b,
        Value::Array(_) | Value::Bytes(_) | Value::Object(_) => v.is_empty(),
        _ => false,
    }
}

fn attr(name: &str, v: &Value) -> Json {
    serde_json::json!({"name": name, "type": "attr", "value": value(v)})
}

/// An object as a body: catalogue attributes and blocks when `schema` is known, else every
/// field as an attribute.
pub fn body(v: &Value, schema: Option<&Body>) -> Vec<Json> {
    let Some(obj) = v.as_object() else { return Vec::new() };
    body_of(&obj, schema)
}

fn body_of(obj: &Object, schema: Option<&Body>) -> Vec<Json> {
    let mut out = Vec::new();
    for (k, v) in obj.entries() {
        let Some(schema) = schema else {
            out.push(attr(k, v));
            continue;
        };
        if let Some(a) = schema.attr(k) {
            let default = a.default.as_deref().and_then(analyzer::args::catalogue_default);
            let equals_default = default.as_ref().is_some_and(|d| eval::value::values_equal(d, v) || render_equal(d, v));
            let both_zero = default.as_ref().is_none_or(is_zero) && is_zero(v);
            if !a.required && (equals_default || both_zero) {
                continue;
            }
            out.push(attr(k, v));
        } else if let Some(b) = schema.block(k) {
            let items: Vec<Value> = match v {
                Value::Array(items) => items.to_vec(),
                other => vec![other.clone()],
            };
            for item in items {
                let Some(o) = item.as_object() else { continue };
                let mut block = serde_json::Map::new();
                block.insert("name".into(), Json::from(k.as_str()));
                block.insert("type".into(), Json::from("block"));
                let mut inner = o.into_owned();
                if b.label {
                    if let Some(Value::String(l)) = inner.get("label") {
                        block.insert("label".into(), Json::from(l.to_string_lossy().as_ref()));
                    }
                    inner = inner.iter().filter(|(key, _)| key.as_str() != "label").map(|(key, val)| (key.clone(), val.clone())).collect();
                }
                block.insert("body".into(), Json::Array(body_of(&inner, Some(&b.body))));
                out.push(Json::Object(block));
            }
        } else {
            out.push(attr(k, v));
        }
    }
    out
}

/// Values that differ only in representation (a secret default and its plain text).
fn render_equal(a: &Value, b: &Value) -> bool {
    matches!((a, b), (Value::String(x), Value::OptionalSecret(y)) if !y.is_secret && x == y.expose())
}
