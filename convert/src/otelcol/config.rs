//! Loading a collector config as upstream's confmap does: `${...}` references (only the `env`
//! scheme, kept as text for the later rewrite), `$$` unescaping, strict top-level keys, known
//! component types, and the collector's own `Validate` checks.

use crate::yaml::{self, Kind, Node, Pos};

use super::components::{self, CKind};

/// One component definition: its ID (`type[/name]`) and its YAML (null when empty).
#[derive(Clone, Debug)]
pub struct Def {
    pub id: String,
    pub node: Node,
    /// Where the ID is written.
    pub at: Pos,
}

impl Def {
    pub fn ty(&self) -> &str {
        id_ty(&self.id)
    }

    pub fn name(&self) -> &str {
        id_name(&self.id)
    }
}

/// The type of a component ID (`type[/name]`).
pub fn id_ty(id: &str) -> &str {
    id.split_once('/').map_or(id, |(t, _)| t)
}

/// The name of a component ID (`type[/name]`), empty when it has none.
pub fn id_name(id: &str) -> &str {
    id.split_once('/').map_or("", |(_, n)| n)
}

/// One `service.pipelines` entry.
#[derive(Clone, Debug)]
pub struct Pipeline {
    pub signal: String,
    pub name: String,
    pub receivers: Vec<String>,
    pub processors: Vec<String>,
    pub exporters: Vec<String>,
    /// The pipeline's YAML, for positions.
    pub node: Node,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub receivers: Vec<Def>,
    pub processors: Vec<Def>,
    pub exporters: Vec<Def>,
    pub connectors: Vec<Def>,
    pub extensions: Vec<Def>,
    pub service_extensions: Vec<String>,
    pub pipelines: Vec<Pipeline>,
    pub telemetry: Node,
    /// Where each component is in its list, by kind and ID (the first of an ID written twice);
    /// built by decoding, so that looking components up is not a scan (100 000 receivers took
    /// 49 s). Empty for a config built otherwise, which [`Config::find`] then scans.
    index: std::collections::HashMap<(CKind, String), usize>,
}

impl Default for Pipeline {
    fn default() -> Pipeline {
        Pipeline { signal: String::new(), name: String::new(), receivers: Vec::new(), processors: Vec::new(), exporters: Vec::new(), node: Node::null(0, 0) }
    }
}

impl Pipeline {
    /// `signal[/name]`, as the collector names pipelines.
    pub fn id(&self) -> String {
        if self.name.is_empty() {
            self.signal.clone()
        } else {
            format!("{}/{}", self.signal, self.name)
        }
    }

    /// Where the list `list` names `id`, else where the pipeline is.
    pub fn position_of(&self, list: &str, id: &str) -> Pos {
        let item = match self.node.get(list).map(|l| &l.kind) {
            Some(Kind::Seq(items)) => items.iter().find(|i| i.scalar() == Some(id)),
            _ => None,
        };
        item.unwrap_or(&self.node).pos()
    }
}

/// A load error, and where it is when a node is to blame.
#[derive(Clone, Debug)]
pub struct Located {
    pub message: String,
    pub at: Option<Pos>,
    /// Hints for the user (`did you mean "otlp"?`), outside upstream's message.
    pub notes: Vec<String>,
}

impl Located {
    fn new(message: impl Into<String>) -> Located {
        Located { message: message.into(), at: None, notes: Vec::new() }
    }

    fn at(message: impl Into<String>, at: Pos) -> Located {
        Located { message: message.into(), at: Some(at), notes: Vec::new() }
    }

    fn prefixed(self, prefix: &str) -> Located {
        Located { message: format!("{prefix}{}", self.message), at: self.at, notes: self.notes }
    }
}

impl Default for Config {
    fn default() -> Config {
        Config {
            receivers: Vec::new(),
            processors: Vec::new(),
            exporters: Vec::new(),
            connectors: Vec::new(),
            extensions: Vec::new(),
            service_extensions: Vec::new(),
            pipelines: Vec::new(),
            telemetry: Node::null(0, 0),
            index: std::collections::HashMap::new(),
        }
    }
}

impl Config {
    pub fn defs(&self, kind: CKind) -> &[Def] {
        match kind {
            CKind::Receiver => &self.receivers,
            CKind::Processor => &self.processors,
            CKind::Exporter => &self.exporters,
            CKind::Connector => &self.connectors,
            CKind::Extension => &self.extensions,
        }
    }

    pub fn find(&self, kind: CKind, id: &str) -> Option<&Def> {
        if self.index.is_empty() {
            return self.defs(kind).iter().find(|d| d.id == id);
        }
        self.index.get(&(kind, id.to_string())).and_then(|&i| self.defs(kind).get(i))
    }

    pub fn is_connector(&self, id: &str) -> bool {
        self.find(CKind::Connector, id).is_some()
    }
}

const GET: &str = "failed to get otelcol config: ";
const UNMARSHAL: &str = "decoding failed due to the following error(s):\n\n";

/// Reads and checks `src`; an error is the Critical's full text.
pub fn load(src: &[u8], validate: bool) -> Result<Config, Located> {
    let mut root = yaml::parse(src).map_err(|e| Located::new(format!("{GET}cannot resolve the configuration: {e}")))?;
    resolve_refs(&mut root).map_err(|e| Located::new(format!("{GET}cannot resolve the configuration: {e}")))?;
    load_tree(&root, validate)
}

/// Decodes and checks an already resolved tree (the collector engine's path).
pub fn load_tree(root: &Node, validate: bool) -> Result<Config, Located> {
    let cfg = decode(root).map_err(|e| e.prefixed(&format!("{GET}cannot unmarshal the configuration: ")))?;
    if validate {
        check(&cfg).map_err(|e| e.prefixed("failed to validate config: "))?;
    }
    Ok(cfg)
}

/// Applies confmap's reference rules to every scalar value.
fn resolve_refs(n: &mut Node) -> Result<(), String> {
    match &mut n.kind {
        Kind::Scalar { text, .. } => {
            if text.contains('$') {
                *text = resolve(text)?;
            }
        }
        Kind::Seq(items) => {
            for i in items {
                resolve_refs(i)?;
            }
        }
        Kind::Map(entries) => {
            for (_, v) in entries {
                resolve_refs(v)?;
            }
        }
    }
    Ok(())
}

/// A URI scheme: a letter, then letters, digits, `+`, `.` or `-`; two characters at least, so a
/// Windows drive letter is not one.
pub(crate) fn is_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic()) && s.len() >= 2 && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'))
}

/// `$$` is a literal `$`; `${env:X}` and `${X}` stay as `${env:X}` text (upstream's env provider
/// never reads the environment); any other scheme is an error.
pub fn resolve(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        rest = &rest[pos..];
        if let Some(after) = rest.strip_prefix("$$") {
            out.push('$');
            rest = after;
            continue;
        }
        let Some((inner, len)) = super::collector::confmap::reference_at(rest) else {
            if rest.starts_with("${") {
                // An unclosed reference stays text.
                out.push_str(rest);
                rest = "";
                break;
            }
            out.push('$');
            rest = &rest[1..];
            continue;
        };
        let opaque = match inner.split_once(':') {
            Some((scheme, value)) if is_scheme(scheme) && !value.starts_with('-') => {
                if scheme != "env" {
                    return Err(format!("scheme {scheme:?} is not supported for uri {inner:?}"));
                }
                value
            }
            _ => inner,
        };
        out.push_str("${env:");
        out.push_str(opaque);
        out.push('}');
        rest = &rest[len..];
    }
    out.push_str(rest);
    Ok(out)
}

fn entries(n: &Node) -> &[(Node, Node)] {
    match &n.kind {
        Kind::Map(e) => e,
        _ => &[],
    }
}

fn strings(n: Option<&Node>) -> Vec<String> {
    match n.map(|n| &n.kind) {
        Some(Kind::Seq(items)) => items.iter().map(super::schema::text).collect(),
        Some(Kind::Scalar { .. }) => n.map(super::schema::text).filter(|s| !s.is_empty()).into_iter().collect(),
        _ => Vec::new(),
    }
}

/// go's "invalid keys" error, placed on the first bad key in the file.
fn invalid_keys(ty: &str, bad: &mut [(String, Pos)]) -> Located {
    let first = bad.iter().map(|(_, p)| *p).min_by_key(|p| (p.source, p.line, p.col));
    bad.sort_by(|a, b| a.0.cmp(&b.0));
    let names: Vec<&str> = bad.iter().map(|(k, _)| k.as_str()).collect();
    Located { message: format!("{UNMARSHAL}'{ty}' has invalid keys: {}", names.join(", ")), at: first, notes: Vec::new() }
}

fn decode(root: &Node) -> Result<Config, Located> {
    let mut cfg = Config::default();
    let mut bad = Vec::new();
    for (k, v) in entries(root) {
        let key = super::schema::text(k);
        let kind = match key.as_str() {
            "receivers" => CKind::Receiver,
            "processors" => CKind::Processor,
            "exporters" => CKind::Exporter,
            "connectors" => CKind::Connector,
            "extensions" => CKind::Extension,
            "service" => {
                decode_service(v, &mut cfg)?;
                continue;
            }
            _ => {
                bad.push((key, k.pos()));
                continue;
            }
        };
        let defs = decode_defs(&key, kind, v)?;
        match kind {
            CKind::Receiver => cfg.receivers = defs,
            CKind::Processor => cfg.processors = defs,
            CKind::Exporter => cfg.exporters = defs,
            CKind::Connector => cfg.connectors = defs,
            CKind::Extension => cfg.extensions = defs,
        }
    }
    if !bad.is_empty() {
        return Err(invalid_keys("otelcol.configSettings", &mut bad));
    }
    let mut index = std::collections::HashMap::new();
    for kind in [CKind::Receiver, CKind::Processor, CKind::Exporter, CKind::Connector, CKind::Extension] {
        for (i, d) in cfg.defs(kind).iter().enumerate() {
            index.entry((kind, d.id.clone())).or_insert(i);
        }
    }
    cfg.index = index;
    Ok(cfg)
}

fn decode_defs(section: &str, kind: CKind, n: &Node) -> Result<Vec<Def>, Located> {
    let mut defs = Vec::new();
    for (k, v) in entries(n) {
        let id = super::schema::text(k);
        let def = Def { id: id.clone(), node: v.clone(), at: k.pos() };
        let ty = def.ty();
        let fail = |msg: String| Err(Located::at(format!("{UNMARSHAL}error decoding '{section}': {msg}"), k.pos()));
        if ty.is_empty() || id.ends_with('/') {
            return fail(format!("the part of the ID before the '/' and the part after it must be non-empty: {id:?}"));
        }
        if components::lookup(kind, ty).is_none() {
            if ty == "logging" {
                return fail("the logging exporter has been deprecated, use the debug exporter instead".into());
            }
            let types = components::types(kind);
            let valid = types.join(" ");
            let mut e = Located::at(format!("{UNMARSHAL}error decoding '{section}': unknown type: {ty:?} for id: {id:?} (valid values: [{valid}])"), k.pos());
            e.notes.extend(closest_type(ty, &types).map(|c| format!("did you mean \"{c}\"?")));
            return Err(e);
        }
        defs.push(def);
    }
    Ok(defs)
}

/// The known type closest to `ty`: the analyzer's typo rule, else (type names being short)
/// within two edits, so that a swapped pair (`otpl`) still finds `otlp`.
fn closest_type<'a>(ty: &str, types: &[&'a str]) -> Option<&'a str> {
    if let Some(c) = analyzer::suggest::best(ty, types.iter().copied()) {
        return Some(c);
    }
    let distance = |a: &str, b: &str| {
        let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
        let mut prev: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.iter().enumerate() {
            let mut cur = vec![i + 1; b.len() + 1];
            for (j, cb) in b.iter().enumerate() {
                cur[j + 1] = (prev[j + 1] + 1).min(cur[j] + 1).min(prev[j] + usize::from(ca != cb));
            }
            prev = cur;
        }
        prev[b.len()]
    };
    let mut best: Option<(usize, &str)> = None;
    for &c in types {
        let d = distance(ty, c);
        if ty.chars().count() >= 4 && d <= 2 && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

fn decode_service(n: &Node, cfg: &mut Config) -> Result<(), Located> {
    let mut bad = Vec::new();
    for (k, v) in entries(n) {
        match super::schema::text(k).as_str() {
            "extensions" => cfg.service_extensions = strings(Some(v)),
            "telemetry" => cfg.telemetry = v.clone(),
            "pipelines" => {
                for (pk, pv) in entries(v) {
                    let id = super::schema::text(pk);
                    let (signal, name) = id.split_once('/').map_or((id.as_str(), ""), |(s, n)| (s, n));
                    let node = if pv.is_null() { Node { kind: Kind::Map(Vec::new()), ..pk.clone() } } else { pv.clone() };
                    let mut p = Pipeline { signal: signal.to_string(), name: name.to_string(), node, ..Pipeline::default() };
                    let mut pbad = Vec::new();
                    for (fk, fv) in entries(pv) {
                        match super::schema::text(fk).as_str() {
                            "receivers" => p.receivers = strings(Some(fv)),
                            "processors" => p.processors = strings(Some(fv)),
                            "exporters" => p.exporters = strings(Some(fv)),
                            other => pbad.push((other.to_string(), fk.pos())),
                        }
                    }
                    if !pbad.is_empty() {
                        return Err(invalid_keys("pipelines.PipelineConfig", &mut pbad));
                    }
                    cfg.pipelines.push(p);
                }
            }
            other => bad.push((other.to_string(), k.pos())),
        }
    }
    if !bad.is_empty() {
        return Err(invalid_keys("service", &mut bad));
    }
    cfg.pipelines.sort_by(|a, b| (a.name.as_str(), a.signal.as_str()).cmp(&(b.name.as_str(), b.signal.as_str())));
    Ok(())
}

/// The collector's top-level `Validate`.
fn check(cfg: &Config) -> Result<(), Located> {
    if cfg.receivers.is_empty() && cfg.exporters.is_empty() && cfg.processors.is_empty() && cfg.connectors.is_empty() && cfg.extensions.is_empty() {
        return Err(Located::new("empty configuration file"));
    }
    if cfg.receivers.is_empty() {
        return Err(Located::new("no receiver configuration specified in config"));
    }
    if cfg.exporters.is_empty() {
        return Err(Located::new("no exporter configuration specified in config"));
    }
    if cfg.pipelines.is_empty() {
        return Err(Located::new("service::pipelines: service must have at least one pipeline"));
    }
    for p in &cfg.pipelines {
        // The collector's own `PipelineConfig.Validate`.
        let pid = p.id();
        if p.receivers.is_empty() {
            return Err(Located::at(format!("service::pipelines::{pid}: must have at least one receiver"), p.node.pos()));
        }
        if p.exporters.is_empty() {
            return Err(Located::at(format!("service::pipelines::{pid}: must have at least one exporter"), p.node.pos()));
        }
    }
    for c in &cfg.connectors {
        for (kind, what) in [(CKind::Exporter, "exporter"), (CKind::Receiver, "receiver")] {
            if cfg.find(kind, &c.id).is_some() {
                return Err(Located::at(
                    format!(
                        "connectors::{0}: ambiguous ID: Found both {0:?} {what} and {0:?} connector. Change one of the components' IDs to eliminate ambiguity (e.g. rename {0:?} connector to \"{0}/connector\")",
                        c.id
                    ),
                    c.at,
                ));
            }
        }
    }
    for e in &cfg.service_extensions {
        if cfg.find(CKind::Extension, e).is_none() {
            return Err(Located::new(format!("service::extensions: references extension {e:?} which is not configured")));
        }
    }
    for p in &cfg.pipelines {
        let pid = p.id();
        for r in &p.receivers {
            if cfg.find(CKind::Receiver, r).is_none() && !cfg.is_connector(r) {
                return Err(Located::at(
                    format!("service::pipelines::{pid}: references receiver {r:?} which is not configured"),
                    p.position_of("receivers", r),
                ));
            }
        }
        for r in &p.processors {
            if cfg.find(CKind::Processor, r).is_none() {
                return Err(Located::at(
                    format!("service::pipelines::{pid}: references processor {r:?} which is not configured"),
                    p.position_of("processors", r),
                ));
            }
        }
        for r in &p.exporters {
            if cfg.find(CKind::Exporter, r).is_none() && !cfg.is_connector(r) {
                return Err(Located::at(
                    format!("service::pipelines::{pid}: references exporter {r:?} which is not configured"),
                    p.position_of("exporters", r),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        assert_eq!(resolve("${env:X}").unwrap(), "${env:X}");
        assert_eq!(resolve("${X}").unwrap(), "${env:X}");
        assert_eq!(resolve("pa$$word").unwrap(), "pa$word");
        assert_eq!(resolve("$${env:X}").unwrap(), "${env:X}");
        assert_eq!(resolve("${env:X:-a{b}}").unwrap(), "${env:X:-a{b}}");
        assert_eq!(resolve("http://${env:H}:4317").unwrap(), "http://${env:H}:4317");
        assert_eq!(resolve("${wow:X}").unwrap_err(), "scheme \"wow\" is not supported for uri \"wow:X\"");
    }
}
