//! The component catalogue: every builtin component and top-level config block with its
//! arguments, nested blocks, exports, types, defaults, enums and stability.
//!
//! The data is `catalog/catalog.json` (written by `catalog/generate.py`), embedded at build
//! time and parsed once on first use.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::types::Ty;

const CATALOG_JSON: &str = include_str!("../catalog/catalog.json");

/// Stability levels, least stable first (a level permits itself and every more stable one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Stability {
    Experimental,
    PublicPreview,
    #[default]
    GenerallyAvailable,
}

impl Stability {
    /// Upstream's spelling, as used by `--stability.level` and in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Stability::Experimental => "experimental",
            Stability::PublicPreview => "public-preview",
            Stability::GenerallyAvailable => "generally-available",
        }
    }

    pub fn parse(s: &str) -> Option<Stability> {
        Some(match s {
            "experimental" => Stability::Experimental,
            "public-preview" => Stability::PublicPreview,
            "generally-available" => Stability::GenerallyAvailable,
            _ => return None,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Component,
    Config,
}

#[derive(Clone, Debug)]
pub struct Attr {
    pub name: String,
    pub ty: Ty,
    pub required: bool,
    /// The default as an Alloy expression (a test evaluates every one of them).
    pub default: Option<String>,
    /// A default the component computes, in the documentation's words (`"20% of limit"`);
    /// the runtime's components read such attributes with `Reader::computed`.
    pub computed: Option<String>,
    pub enum_members: Option<Vec<String>>,
}

#[derive(Clone, Debug)]
pub struct BlockSchema {
    pub name: String,
    pub required: bool,
    pub repeatable: bool,
    pub label: bool,
    /// Also accepts the component's top-level blocks (`stage.match` nests stages).
    pub inherit: bool,
    pub body: Body,
}

#[derive(Clone, Debug, Default)]
pub struct Body {
    pub attrs: Vec<Attr>,
    pub blocks: Vec<BlockSchema>,
    /// The schema is not certain: unknown names and missing items are not reported.
    pub open: bool,
}

impl Body {
    pub fn attr(&self, name: &str) -> Option<&Attr> {
        self.attrs.iter().find(|a| a.name == name)
    }

    pub fn block(&self, name: &str) -> Option<&BlockSchema> {
        self.blocks.iter().find(|b| b.name == name)
    }
}

#[derive(Debug)]
pub struct Component {
    pub name: String,
    pub kind: Kind,
    /// `None` for community components.
    pub stability: Option<Stability>,
    pub community: bool,
    pub removed: bool,
    pub label_required: bool,
    pub doc: String,
    pub body: Body,
    pub exports: Vec<(String, Ty)>,
}

impl Component {
    pub fn export(&self, name: &str) -> Option<&Ty> {
        self.exports.iter().find(|(n, _)| n == name).map(|(_, t)| t)
    }
}

pub struct Catalog {
    pub components: Vec<Component>,
    by_name: HashMap<String, usize>,
}

impl Catalog {
    /// The embedded catalogue.
    pub fn get() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        // The embedded file is checked by a test, so this cannot fail in a build that passed it.
        CATALOG.get_or_init(|| Catalog::parse(CATALOG_JSON).unwrap_or_else(|e| panic!("embedded {e}")))
    }

    pub fn parse(text: &str) -> Result<Catalog, CatalogError> {
        let raw: RawCatalog = serde_json::from_str(text).map_err(|e| CatalogError::Json(e.to_string()))?;
        let mut components = Vec::with_capacity(raw.components.len());
        for c in raw.components {
            let stability = match c.stability.as_deref() {
                None => None,
                Some("ga") => Some(Stability::GenerallyAvailable),
                Some("preview") => Some(Stability::PublicPreview),
                Some("experimental") => Some(Stability::Experimental),
                Some(other) => return Err(CatalogError::Value(format!("{}: stability {other:?}", c.name))),
            };
            let body = convert_body(c.body, &c.name)?;
            let mut exports = Vec::new();
            for (n, t) in c.exports {
                let ty = Ty::parse(&t).ok_or_else(|| CatalogError::Type(format!("{}: export {n}: {t}", c.name)))?;
                exports.push((n, ty));
            }
            components.push(Component {
                kind: if c.kind == "component" { Kind::Component } else { Kind::Config },
                stability,
                community: c.community,
                removed: c.removed,
                label_required: c.label == "required",
                doc: c.doc,
                body,
                exports,
                name: c.name,
            });
        }
        let by_name = components.iter().enumerate().map(|(i, c)| (c.name.clone(), i)).collect();
        Ok(Catalog { components, by_name })
    }

    pub fn lookup(&self, name: &str) -> Option<&Component> {
        self.by_name.get(name).map(|&i| &self.components[i])
    }

    /// Names of builtin components (not config blocks).
    pub fn component_names(&self) -> impl Iterator<Item = &str> {
        self.components.iter().filter(|c| c.kind == Kind::Component).map(|c| c.name.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("catalogue is not valid JSON: {0}")]
    Json(String),
    #[error("catalogue has an unknown type: {0}")]
    Type(String),
    #[error("catalogue has an invalid value: {0}")]
    Value(String),
}

fn convert_body(raw: RawBody, comp: &str) -> Result<Body, CatalogError> {
    let mut attrs = Vec::with_capacity(raw.attrs.len());
    for a in raw.attrs {
        let ty = Ty::parse(&a.t).ok_or_else(|| CatalogError::Type(format!("{comp}: {}: {}", a.n, a.t)))?;
        attrs.push(Attr { name: a.n, ty, required: a.r, default: a.d, computed: a.c, enum_members: a.e });
    }
    let mut blocks = Vec::with_capacity(raw.blocks.len());
    for b in raw.blocks {
        blocks.push(BlockSchema { body: convert_body(b.body, comp)?, name: b.n, required: b.r, repeatable: b.m, label: b.l, inherit: b.inherit });
    }
    Ok(Body { attrs, blocks, open: raw.open })
}

#[derive(Deserialize)]
struct RawCatalog {
    components: Vec<RawComponent>,
}

#[derive(Deserialize)]
struct RawComponent {
    name: String,
    kind: String,
    stability: Option<String>,
    #[serde(default)]
    community: bool,
    #[serde(default)]
    removed: bool,
    label: String,
    doc: String,
    body: RawBody,
    exports: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct RawBody {
    attrs: Vec<RawAttr>,
    blocks: Vec<RawBlock>,
    #[serde(default)]
    open: bool,
}

#[derive(Deserialize)]
struct RawAttr {
    n: String,
    t: String,
    #[serde(default)]
    r: bool,
    #[serde(default)]
    d: Option<String>,
    #[serde(default)]
    c: Option<String>,
    #[serde(default)]
    e: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct RawBlock {
    n: String,
    #[serde(default)]
    r: bool,
    #[serde(default)]
    m: bool,
    #[serde(default)]
    l: bool,
    #[serde(default)]
    inherit: bool,
    body: RawBody,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_catalogue_loads_with_every_type_known() {
        let c = Catalog::get();
        assert_eq!(c.components.iter().filter(|c| c.kind == Kind::Component).count(), 185);
        assert_eq!(c.components.iter().filter(|c| c.kind == Kind::Config).count(), 13);
        assert!(c.components.iter().all(|c| !c.doc.is_empty()));
    }

    #[test]
    fn capsule_types_are_real_types() {
        let c = Catalog::get();
        let rw = c.lookup("prometheus.remote_write").expect("remote_write");
        assert_eq!(rw.export("receiver").map(|t| t.to_string()).as_deref(), Some("MetricsReceiver"));
        let scrape = c.lookup("prometheus.scrape").expect("scrape");
        assert_eq!(scrape.body.attr("forward_to").map(|a| a.ty.to_string()).as_deref(), Some("list(MetricsReceiver)"));
        let batch = c.lookup("otelcol.processor.batch").expect("batch");
        assert_eq!(batch.export("input").map(|t| t.to_string()).as_deref(), Some("otelcol.Consumer"));
    }
}
