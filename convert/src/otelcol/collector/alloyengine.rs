//! The `alloyengine` extension: a collector configuration that embeds an Alloy-syntax
//! configuration (a path, or inline content) with `alloy run` flags. Upstream runs a second
//! Alloy engine inside the collector for it; here both configurations run in one controller, so
//! this module only takes the extension out of the YAML and checks its settings.

use crate::yaml::{Kind, Node, Pos};

use super::ConfigError;

/// The collector type of the extension.
pub const TYPE: &str = "alloyengine";

/// The Alloy configuration an enabled `alloyengine` extension names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlloyEngine {
    /// The extension's collector ID (`alloyengine[/name]`).
    pub id: String,
    pub at: Pos,
    pub config: AlloyConfig,
    /// `alloy run` flags, without their `--`, each with where its key is.
    pub flags: Vec<(String, String, Pos)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AlloyConfig {
    /// A file, or a directory of `*.alloy` files.
    Path(String),
    Inline {
        content: String,
        module_path: Option<String>,
    },
}

fn is_alloyengine(id: &str) -> bool {
    crate::otelcol::config::id_ty(id) == TYPE
}

fn entries_mut(n: &mut Node) -> Option<&mut Vec<(Node, Node)>> {
    match &mut n.kind {
        Kind::Map(e) => Some(e),
        _ => None,
    }
}

fn scalar(n: &Node) -> String {
    if n.is_null() {
        String::new()
    } else {
        n.scalar().unwrap_or_default().to_string()
    }
}

/// Removes every `alloyengine` extension from `root` (definitions and `service.extensions`
/// entries) and returns the enabled one, checked.
pub fn extract(root: &mut Node) -> Result<Option<AlloyEngine>, Vec<ConfigError>> {
    let mut defs: Vec<(Node, Node)> = Vec::new();
    if let Some(exts) = root_section(root, "extensions") {
        let (engines, rest): (Vec<_>, Vec<_>) = std::mem::take(exts).into_iter().partition(|(k, _)| is_alloyengine(&scalar(k)));
        *exts = rest;
        defs = engines;
    }
    let mut enabled: Vec<(String, Pos)> = Vec::new();
    if let Some(list) = root_section(root, "service").and_then(|s| s.iter_mut().find(|(k, _)| k.scalar() == Some("extensions"))).map(|(_, v)| v) {
        if let Kind::Seq(items) = &mut list.kind {
            items.retain(|i| {
                let id = scalar(i);
                let engine = defs.iter().any(|(k, _)| scalar(k) == id);
                if engine {
                    enabled.push((id, i.pos()));
                }
                !engine
            });
        }
    }
    if let [_, (second, at), ..] = enabled.as_slice() {
        let msg = format!("service::extensions: {second:?}: only one alloyengine extension can be active per process");
        return Err(vec![ConfigError::at(msg, *at)]);
    }
    let Some((id, _)) = enabled.into_iter().next() else { return Ok(None) };
    let Some((key, node)) = defs.into_iter().find(|(k, _)| scalar(k) == id) else { return Ok(None) };
    parse(id, key.pos(), &node).map(Some)
}

fn root_section<'a>(root: &'a mut Node, name: &str) -> Option<&'a mut Vec<(Node, Node)>> {
    entries_mut(root)?.iter_mut().find(|(k, _)| k.scalar() == Some(name)).and_then(|(_, v)| entries_mut(v))
}

fn invalid(id: &str, at: Pos, what: String) -> ConfigError {
    ConfigError::at(format!("error decoding 'extensions': error reading configuration for {id:?}: {what}"), at)
}

/// Unknown keys of a map, each as an error.
fn unknown_keys(id: &str, n: &Node, parent: &str, known: &[&str], errors: &mut Vec<ConfigError>) {
    if let Kind::Map(entries) = &n.kind {
        for (k, _) in entries.iter().filter(|(k, _)| !known.contains(&k.scalar().unwrap_or_default())) {
            errors.push(invalid(id, k.pos(), format!("'{parent}' has invalid keys: {}", scalar(k))));
        }
    }
}

fn parse(id: String, at: Pos, node: &Node) -> Result<AlloyEngine, Vec<ConfigError>> {
    let mut errors = Vec::new();
    unknown_keys(&id, node, "", &["config", "flags"], &mut errors);
    let null = Node::null(at.line, at.col);
    let config = node.get("config").unwrap_or(&null);
    unknown_keys(&id, config, "config", &["path", "file", "inline"], &mut errors);
    let inline = config.get("inline").filter(|n| !n.is_null());
    if let Some(i) = inline {
        unknown_keys(&id, i, "config.inline", &["content", "module_path"], &mut errors);
    }
    let path = config.get("path").map(scalar).filter(|s| !s.is_empty());
    let file = config.get("file").map(scalar).filter(|s| !s.is_empty());
    // Problems of the `config` block are placed on its key (or on the extension's ID).
    let here = match &node.kind {
        Kind::Map(entries) => entries.iter().find(|(k, _)| k.scalar() == Some("config")).map_or(at, |(k, _)| k.pos()),
        _ => at,
    };
    let source = match (path, file, inline) {
        (Some(_), Some(_), _) => Err("config.path and config.file (its deprecated alias) cannot both be set".to_string()),
        (Some(p), None, None) | (None, Some(p), None) => Ok(AlloyConfig::Path(p)),
        (None, None, Some(i)) => match i.get("content").map(scalar).filter(|s| !s.is_empty()) {
            Some(content) => Ok(AlloyConfig::Inline { content, module_path: i.get("module_path").map(scalar).filter(|s| !s.is_empty()) }),
            None => Err("config.inline.content must be set".to_string()),
        },
        (Some(_), None, Some(_)) | (None, Some(_), Some(_)) => Err("exactly one of config.path and config.inline may be set".to_string()),
        (None, None, None) => Err("exactly one of config.path and config.inline must be set".to_string()),
    };
    let mut flags = Vec::new();
    if let Some(f) = node.get("flags").filter(|n| !n.is_null()) {
        match &f.kind {
            Kind::Map(entries) => flags.extend(entries.iter().map(|(k, v)| (scalar(k), scalar(v), k.pos()))),
            _ => errors.push(invalid(&id, f.pos(), "'flags' expected a map of flag names to values".into())),
        }
    }
    match source {
        Ok(config) if errors.is_empty() => Ok(AlloyEngine { id, at, config, flags }),
        Ok(_) => Err(errors),
        Err(what) => {
            errors.push(invalid(&id, here, what));
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extracted(yaml: &str) -> (Result<Option<AlloyEngine>, Vec<String>>, Node) {
        let mut root = crate::yaml::parse(yaml.as_bytes()).expect("parses");
        let r = extract(&mut root)
            .map_err(|errs| errs.into_iter().map(|e| format!("{}:{} {}", e.at.map_or(0, |p| p.line), e.at.map_or(0, |p| p.col), e.message)).collect());
        (r, root)
    }

    #[test]
    fn the_enabled_engine_is_taken_out_of_the_config() {
        let yaml = "extensions:\n  alloyengine:\n    config:\n      path: ./pipeline.alloy\n    flags:\n      stability.level: public-preview\n  zpages:\nservice:\n  extensions: [alloyengine, zpages]\n";
        let (r, root) = extracted(yaml);
        let e = r.expect("valid").expect("enabled");
        assert_eq!(e.config, AlloyConfig::Path("./pipeline.alloy".into()));
        assert_eq!(e.flags.iter().map(|(k, v, _)| (k.as_str(), v.as_str())).collect::<Vec<_>>(), [("stability.level", "public-preview")]);
        let left = crate::otelcol::collector::print::to_yaml(&root, false);
        assert_eq!(left, "extensions:\n  zpages: ~\nservice:\n  extensions:\n    - zpages\n");
    }

    #[test]
    fn inline_content_and_a_disabled_engine() {
        let yaml = "extensions:\n  alloyengine/x:\n    config:\n      inline:\n        content: |\n          logging {}\n";
        let (r, _) = extracted(yaml);
        assert_eq!(r.expect("valid"), None, "defined but not enabled: nothing runs");
        let (r, _) = extracted(&format!("{yaml}service:\n  extensions: [alloyengine/x]\n"));
        assert_eq!(r.expect("valid").expect("enabled").config, AlloyConfig::Inline { content: "logging {}\n".into(), module_path: None });
    }

    #[test]
    fn settings_are_checked() {
        let enabled = "service:\n  extensions: [alloyengine]\n";
        let err = |ext: &str| extracted(&format!("extensions:\n  alloyengine:\n{ext}{enabled}")).0.expect_err("refused");
        assert_eq!(err("    config:\n      path: a\n      file: b\n"), ["3:5 error decoding 'extensions': error reading configuration for \"alloyengine\": config.path and config.file (its deprecated alias) cannot both be set"]);
        assert_eq!(
            err("    config:\n      path: a\n      inline:\n        content: x\n"),
            ["3:5 error decoding 'extensions': error reading configuration for \"alloyengine\": exactly one of config.path and config.inline may be set"]
        );
        assert_eq!(
            err("    config: {}\n"),
            ["3:5 error decoding 'extensions': error reading configuration for \"alloyengine\": exactly one of config.path and config.inline must be set"]
        );
        assert_eq!(
            err("    config:\n      path: a\n    flag:\n      x: y\n"),
            ["5:5 error decoding 'extensions': error reading configuration for \"alloyengine\": '' has invalid keys: flag"]
        );
        let two = extracted("extensions:\n  alloyengine/a:\n    config: {path: a}\n  alloyengine/b:\n    config: {path: b}\nservice:\n  extensions: [alloyengine/a, alloyengine/b]\n").0;
        assert_eq!(two.expect_err("refused"), ["7:31 service::extensions: \"alloyengine/b\": only one alloyengine extension can be active per process"]);
    }
}
