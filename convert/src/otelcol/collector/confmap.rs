//! The collector's configuration rules (its `confmap` package): `--config` URIs read by
//! providers (`file:`, a bare path, `env:`, `yaml:`), `--set` values, `::` in keys as nesting,
//! configs merged in order, and `${...}` references expanded in values.

use crate::yaml::{self, Kind, Node};

use super::{ConfigError, Pos};

/// Where the configuration comes from: the process environment and the file system, or
/// stand-ins for tests.
pub struct Host<'a> {
    pub env: &'a dyn Fn(&str) -> Option<String>,
    pub read_file: &'a dyn Fn(&str) -> std::io::Result<Vec<u8>>,
}

impl Host<'static> {
    /// The real environment and file system.
    pub fn system() -> Host<'static> {
        Host { env: &|name| std::env::var(name).ok(), read_file: &|path| std::fs::read(path) }
    }
}

/// One text the configuration was read from, for positions in messages.
#[derive(Clone, Debug)]
pub struct Source {
    /// A file's path, or the URI (`env:NAME`, `yaml:…`, `--set a::b=c`).
    pub name: String,
    pub text: String,
    /// A file, where lines and columns mean something to the user (not an `env:`/`yaml:`
    /// URI or a `--set` value).
    pub is_file: bool,
}

/// The merged and expanded configuration, and the sources its nodes point into.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub root: Node,
    pub sources: Vec<Source>,
    /// Unset environment variables without a default (the collector logs these).
    pub warnings: Vec<ConfigError>,
}

/// Nesting of `${...}` inside resolved values; deeper is a loop or an attack.
const MAX_EXPANSION_DEPTH: usize = 32;

/// A configuration that could not be resolved: the error, and the sources read until then
/// (which the error's position points into).
#[derive(Clone, Debug)]
pub struct Failed {
    pub error: ConfigError,
    pub sources: Vec<Source>,
}

/// Reads, merges and expands the `--config` URIs and then the `--set` values, in order.
pub fn resolve(configs: &[String], sets: &[String], host: &Host) -> Result<Resolved, Failed> {
    let mut r = Resolver { host, sources: Vec::new(), warnings: Vec::new() };
    match r.resolve_all(configs, sets) {
        Ok(root) => Ok(Resolved { root, sources: r.sources, warnings: r.warnings }),
        Err(error) => Err(Failed { error, sources: r.sources }),
    }
}

impl Resolver<'_, '_> {
    fn resolve_all(&mut self, configs: &[String], sets: &[String]) -> Result<Node, ConfigError> {
        if configs.is_empty() {
            return Err(ConfigError::new("at least one config flag must be provided"));
        }
        let r = self;
        let mut root = Node { kind: Kind::Map(Vec::new()), line: 1, col: 1, source: 0 };
        for uri in configs {
            let conf = r.retrieve_config(uri)?;
            merge(&mut root, conf);
        }
        for set in sets {
            let Some((key, value)) = set.split_once('=') else {
                return Err(ConfigError::new(format!("missing equal sign for set value {set:?}")));
            };
            let conf = r.parse_conf(format!("--set {set}"), format!("{key}: {value}").into_bytes(), false)?;
            merge(&mut root, conf);
        }
        r.expand(&mut root, 0)?;
        Ok(root)
    }
}

struct Resolver<'a, 'h> {
    host: &'a Host<'h>,
    sources: Vec<Source>,
    warnings: Vec<ConfigError>,
}

/// `scheme:rest` when `uri` starts with a URI scheme.
fn split_scheme(uri: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = uri.split_once(':')?;
    crate::otelcol::config::is_scheme(scheme).then_some((scheme, rest))
}

fn valid_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Resolver<'_, '_> {
    /// One `--config` URI as a configuration map.
    fn retrieve_config(&mut self, uri: &str) -> Result<Node, ConfigError> {
        match split_scheme(uri) {
            None => self.retrieve_file(uri, uri),
            Some(("file", path)) => self.retrieve_file(uri, path),
            Some(("env", name)) => {
                let text = self.env_var(name, None)?.unwrap_or_default();
                self.parse_conf(uri.to_string(), text.into_bytes(), false)
            }
            Some(("yaml", text)) => self.parse_conf(uri.to_string(), text.as_bytes().to_vec(), false),
            Some((scheme @ ("http" | "https"), _)) => Err(ConfigError::new(format!(
                "cannot retrieve the configuration: the {scheme:?} provider is not supported by this build for uri {uri:?}; fetch the file and pass file:PATH"
            ))),
            Some(_) => Err(ConfigError::new(format!("unsupported scheme on URI {uri:?}"))),
        }
    }

    fn retrieve_file(&mut self, uri: &str, path: &str) -> Result<Node, ConfigError> {
        let bytes =
            (self.host.read_file)(path).map_err(|e| ConfigError::new(format!("cannot retrieve the configuration: unable to read the file {uri}: {e}")))?;
        self.parse_conf(path.to_string(), bytes, true)
    }

    /// Parses a retrieved text that must be a map (or nothing) and records it as a source.
    fn parse_conf(&mut self, name: String, bytes: Vec<u8>, is_file: bool) -> Result<Node, ConfigError> {
        let source = self.add_source(Source { name, text: String::from_utf8_lossy(&bytes).into_owned(), is_file })?;
        let mut node = yaml::parse_source(&bytes, source).map_err(|e| ConfigError::at(e.to_string(), Pos { source, line: e.line, col: e.col }))?;
        match &node.kind {
            Kind::Map(_) => {}
            _ if node.is_null() => node.kind = Kind::Map(Vec::new()),
            _ => {
                let msg = format!("cannot retrieve the configuration: retrieved value (type={}) cannot be used as a Conf", node.tag());
                return Err(ConfigError::at(msg, node.pos()));
            }
        }
        split_keys(&mut node);
        Ok(node)
    }

    fn add_source(&mut self, source: Source) -> Result<u16, ConfigError> {
        let id = u16::try_from(self.sources.len()).map_err(|_| ConfigError::new("too many configuration sources"))?;
        self.sources.push(source);
        Ok(id)
    }

    /// `NAME` or `NAME:-default` of the env provider: `None` when unset without a default.
    fn env_var(&mut self, spec: &str, at: Option<&Node>) -> Result<Option<String>, ConfigError> {
        let (name, default) = match spec.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (spec, None),
        };
        if !valid_env_name(name) {
            let msg = format!("environment variable {name:?} has invalid name: must match regex ^[a-zA-Z_][a-zA-Z0-9_]*$");
            return Err(located(msg, at));
        }
        match ((self.host.env)(name), default) {
            (Some(v), _) => Ok(Some(v)),
            (None, Some(d)) => Ok(Some(d.to_string())),
            (None, None) => {
                let msg = format!("configuration references unset environment variable {name:?}");
                self.warnings.push(located(msg, at));
                Ok(None)
            }
        }
    }

    /// Expands every reference in the values below `n` (keys are never expanded).
    fn expand(&mut self, n: &mut Node, depth: usize) -> Result<(), ConfigError> {
        match &mut n.kind {
            Kind::Seq(items) => items.iter_mut().try_for_each(|i| self.expand(i, depth)),
            Kind::Map(entries) => entries.iter_mut().try_for_each(|(_, v)| self.expand(v, depth)),
            Kind::Scalar { text, .. } if text.contains('$') => {
                let text = text.clone();
                if let Some(inner) = whole_reference(&text) {
                    // A value that is one reference takes the retrieved value's type.
                    let mut value = self.retrieve_value(inner, n, depth)?;
                    (value.line, value.col, value.source) = (n.line, n.col, n.source);
                    *n = value;
                } else {
                    let s = self.interpolate(&text, n, depth)?;
                    n.kind = Kind::Scalar { text: s, quoted: true };
                }
                Ok(())
            }
            Kind::Scalar { .. } => Ok(()),
        }
    }

    /// A string with `$$` escapes and embedded references, each of which must give a scalar.
    fn interpolate(&mut self, text: &str, at: &Node, depth: usize) -> Result<String, ConfigError> {
        if depth > MAX_EXPANSION_DEPTH {
            return Err(located(format!("too many recursive expansions in {text:?}"), Some(at)));
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(i) = rest.find('$') {
            out.push_str(&rest[..i]);
            rest = &rest[i..];
            if let Some(after) = rest.strip_prefix("$$") {
                out.push('$');
                rest = after;
                continue;
            }
            match reference_at(rest) {
                Some((inner, len)) => {
                    let value = self.retrieve_value(inner, at, depth)?;
                    match &value.kind {
                        Kind::Scalar { text, .. } => out.push_str(if value.is_null() { "" } else { text }),
                        _ => {
                            let msg = format!("expanding ${{{inner}}}: expected convertable to string value type, got {}", value.tag());
                            return Err(located(msg, Some(at)));
                        }
                    }
                    rest = &rest[len..];
                }
                None => {
                    out.push('$');
                    rest = &rest[1..];
                }
            }
        }
        out.push_str(rest);
        Ok(out)
    }

    /// The value of the reference `inner` (what is between `${` and `}`), itself expanded.
    fn retrieve_value(&mut self, inner: &str, at: &Node, depth: usize) -> Result<Node, ConfigError> {
        if depth > MAX_EXPANSION_DEPTH {
            return Err(located(format!("too many recursive expansions at ${{{inner}}}"), Some(at)));
        }
        // A reference inside a reference (`${env:A:-${env:B}}`) is expanded first.
        let inner = if inner.contains("${") { self.interpolate(inner, at, depth + 1)? } else { inner.to_string() };
        let text = match split_scheme(&inner) {
            Some(("env", spec)) => self.env_var(spec, Some(at))?,
            Some(("file", path)) => {
                let bytes = (self.host.read_file)(path).map_err(|e| located(format!("unable to read the file {path}: {e}"), Some(at)))?;
                Some(String::from_utf8_lossy(&bytes).into_owned())
            }
            Some(("yaml", text)) => Some(text.to_string()),
            Some((scheme, rest)) if !rest.starts_with('-') => {
                return Err(located(format!("scheme {scheme:?} is not supported for uri {inner:?}"), Some(at)));
            }
            // `${NAME}` and `${NAME:-default}` use the default scheme, env.
            _ => self.env_var(&inner, Some(at))?,
        };
        let Some(text) = text else { return Ok(Node::null(at.line, at.col)) };
        // The retrieved text is YAML when it parses as YAML, else a plain string.
        let mut value = match yaml::parse(text.as_bytes()) {
            Ok(v) if !matches!(v.kind, Kind::Scalar { .. }) => v,
            _ => Node { kind: Kind::Scalar { text: text.trim_end_matches('\n').to_string(), quoted: false }, line: at.line, col: at.col, source: at.source },
        };
        set_position(&mut value, at);
        self.expand(&mut value, depth + 1)?;
        Ok(value)
    }
}

fn located(message: String, at: Option<&Node>) -> ConfigError {
    match at {
        Some(n) => ConfigError::at(message, n.pos()),
        None => ConfigError::new(message),
    }
}

/// Retrieved values have no place in a file: they are reported where they were referenced.
fn set_position(n: &mut Node, at: &Node) {
    (n.line, n.col, n.source) = (at.line, at.col, at.source);
    match &mut n.kind {
        Kind::Scalar { .. } => {}
        Kind::Seq(items) => items.iter_mut().for_each(|i| set_position(i, at)),
        Kind::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            set_position(k, at);
            set_position(v, at);
        }),
    }
}

/// `(inner, length)` when `s` starts with a `${...}` reference, matching nested braces.
pub(crate) fn reference_at(s: &str) -> Option<(&str, usize)> {
    let body = s.strip_prefix("${")?;
    let mut depth = 1;
    for (i, c) in body.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some((&body[..i], i + 3));
                }
            }
            _ => {}
        }
    }
    None
}

/// The reference's inside when the whole text is one `${...}`.
fn whole_reference(text: &str) -> Option<&str> {
    reference_at(text).filter(|(_, len)| *len == text.len()).map(|(inner, _)| inner)
}

/// `a::b: v` is `a: {b: v}`, at every level (confmap's key delimiter).
fn split_keys(n: &mut Node) {
    match &mut n.kind {
        Kind::Scalar { .. } => {}
        Kind::Seq(items) => items.iter_mut().for_each(split_keys),
        Kind::Map(entries) => {
            let old = std::mem::take(entries);
            let mut out = Node { kind: Kind::Map(Vec::new()), line: n.line, col: n.col, source: n.source };
            for (k, mut v) in old {
                split_keys(&mut v);
                let key = k.scalar().unwrap_or_default().to_string();
                let mut parts: Vec<&str> = key.split("::").collect();
                let last = parts.pop().unwrap_or_default();
                let mut value = v;
                let mut key_node = Node { kind: Kind::Scalar { text: last.to_string(), quoted: false }, ..k.clone() };
                for part in parts.iter().rev() {
                    let map = Node { kind: Kind::Map(vec![(key_node, value)]), line: k.line, col: k.col, source: k.source };
                    key_node = Node { kind: Kind::Scalar { text: (*part).to_string(), quoted: false }, ..k.clone() };
                    value = map;
                }
                let single = Node { kind: Kind::Map(vec![(key_node, value)]), line: k.line, col: k.col, source: k.source };
                merge(&mut out, single);
            }
            n.kind = out.kind;
        }
    }
}

/// confmap's merge: maps merge key by key, anything else is replaced by the later value.
pub fn merge(base: &mut Node, over: Node) {
    match (&mut base.kind, over.kind) {
        (Kind::Map(entries), Kind::Map(over_entries)) => {
            for (k, v) in over_entries {
                let key = k.scalar().map(str::to_string);
                match entries.iter_mut().find(|(bk, _)| bk.scalar().map(str::to_string) == key) {
                    Some((_, bv)) => merge(bv, v),
                    None => entries.push((k, v)),
                }
            }
        }
        (_, kind) => {
            *base = Node { kind, line: over.line, col: over.col, source: over.source };
        }
    }
}

#[cfg(test)]
mod tests;
