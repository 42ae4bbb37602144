//! `rule` blocks: validation when a block is decoded, and evaluation against label sets.
//!
//! Used by `discovery.relabel`, `prometheus.relabel`, `loki.relabel`, `write_relabel_config` and
//! the `relabel_rules` of log sources. A [`RuleConfig`] is the block as written; [`Rule::new`]
//! compiles it once (Go regex syntax, templates parsed) so [`process`] only matches and copies.
//! Messages, defaults and behaviour follow upstream Alloy/Prometheus exactly.

pub mod expand;
pub mod re2;
mod text;

use std::fmt;

use md5::{Digest, Md5};
use smol_str::SmolStr;

use crate::labels::{Labels, LabelsBuilder};

pub use expand::{Sink, Template};
pub use re2::{GoRegex, SyntaxError};
pub use text::{go_quote, is_legacy_name};

/// What a rule does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Action {
    #[default]
    Replace,
    Keep,
    Drop,
    KeepEqual,
    DropEqual,
    HashMod,
    LabelMap,
    LabelDrop,
    LabelKeep,
    Lowercase,
    Uppercase,
}

impl Action {
    pub const ALL: [Action; 11] = [
        Action::Replace,
        Action::Keep,
        Action::Drop,
        Action::KeepEqual,
        Action::DropEqual,
        Action::HashMod,
        Action::LabelMap,
        Action::LabelDrop,
        Action::LabelKeep,
        Action::Lowercase,
        Action::Uppercase,
    ];

    /// The action named `s` (case-sensitive, as Alloy decodes it).
    pub fn parse(s: &str) -> Result<Action, String> {
        Action::ALL.into_iter().find(|a| a.as_str() == s).ok_or_else(|| format!("unrecognized action type {}", go_quote(s)))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Replace => "replace",
            Action::Keep => "keep",
            Action::Drop => "drop",
            Action::KeepEqual => "keepequal",
            Action::DropEqual => "dropequal",
            Action::HashMod => "hashmod",
            Action::LabelMap => "labelmap",
            Action::LabelDrop => "labeldrop",
            Action::LabelKeep => "labelkeep",
            Action::Lowercase => "lowercase",
            Action::Uppercase => "uppercase",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Action {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Action::parse(s)
    }
}

/// The regex a rule has when none is written.
pub const DEFAULT_REGEX: &str = "(.*)";
/// The separator a rule has when none is written.
pub const DEFAULT_SEPARATOR: &str = ";";
/// The replacement a rule has when none is written.
pub const DEFAULT_REPLACEMENT: &str = "$1";

/// A `rule` block as written. `Default` gives Alloy's defaults; an empty `source_labels` means
/// the attribute was not set.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RuleConfig {
    pub source_labels: Vec<String>,
    pub separator: String,
    /// The pattern as written; it is matched fully anchored.
    pub regex: String,
    pub modulus: u64,
    pub target_label: String,
    pub replacement: String,
    pub action: Action,
}

impl Default for RuleConfig {
    fn default() -> Self {
        RuleConfig {
            source_labels: Vec::new(),
            separator: DEFAULT_SEPARATOR.into(),
            regex: DEFAULT_REGEX.into(),
            modulus: 0,
            target_label: String::new(),
            replacement: DEFAULT_REPLACEMENT.into(),
            action: Action::Replace,
        }
    }
}

/// Which label names a `replace` may write after `$` expansion (spec 1.5): `discovery.relabel`
/// accepts any non-empty UTF-8 name; the other components the legacy form only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NameValidation {
    Utf8,
    Legacy,
}

impl NameValidation {
    pub fn is_valid(self, name: &str) -> bool {
        match self {
            NameValidation::Utf8 => !name.is_empty(),
            NameValidation::Legacy => is_legacy_name(name),
        }
    }
}

/// A validated, compiled rule.
#[derive(Clone)]
pub struct Rule {
    config: RuleConfig,
    regex: GoRegex,
    /// The default `(.*)` matches every string: no search needed.
    matches_all: bool,
    target: SmolStr,
    target_template: Template,
    replacement: Template,
    /// Highest group the templates of a `replace` refer to.
    max_group: Option<usize>,
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.config, f)
    }
}

impl PartialEq for Rule {
    fn eq(&self, other: &Self) -> bool {
        self.config == other.config
    }
}

impl Eq for Rule {}

impl Rule {
    /// Compiles the regex (`^(?s:` + regex + `)$`, Go syntax) and validates the block in
    /// upstream's order; the error is the message upstream gives.
    pub fn new(config: RuleConfig) -> Result<Rule, String> {
        let regex = GoRegex::new(&format!("^(?s:{})$", config.regex)).map_err(|e| e.to_string())?;
        validate(&config)?;
        let target_template = Template::new(&config.target_label, &regex);
        let replacement = Template::new(&config.replacement, &regex);
        let max_group = match config.action {
            Action::Replace => target_template.max_group().max(replacement.max_group()),
            _ => None,
        };
        Ok(Rule {
            matches_all: config.regex == DEFAULT_REGEX,
            target: SmolStr::new(&config.target_label),
            target_template,
            replacement,
            max_group,
            regex,
            config,
        })
    }

    pub fn config(&self) -> &RuleConfig {
        &self.config
    }

    pub fn action(&self) -> Action {
        self.config.action
    }

    /// The regex as written (without the anchoring wrapper), for display and exports.
    pub fn regex_text(&self) -> &str {
        &self.config.regex
    }

    /// The compiled, anchored regex.
    pub fn regex(&self) -> &GoRegex {
        &self.regex
    }

    fn is_match(&self, s: &str) -> bool {
        self.matches_all || self.regex.is_match(s)
    }

    /// Applies the rule; `false` means the label set is dropped.
    pub fn apply(&self, labels: &mut LabelsBuilder, names: NameValidation) -> bool {
        let joined;
        let value: &str = match self.config.source_labels.as_slice() {
            [] => "",
            [one] => labels.get(one).unwrap_or(""),
            many => {
                joined = join(labels, many, &self.config.separator);
                &joined
            }
        };
        match self.config.action {
            Action::Drop => !self.is_match(value),
            Action::Keep => self.is_match(value),
            Action::DropEqual => labels.get(&self.config.target_label).unwrap_or("") != value,
            Action::KeepEqual => labels.get(&self.config.target_label).unwrap_or("") == value,
            Action::Replace => {
                match self.replace(value, names) {
                    Some((name, v)) if v.is_empty() => labels.del(&name),
                    Some((name, v)) => labels.set(name, v),
                    None => {}
                }
                true
            }
            Action::Lowercase => {
                let v = text::go_lower(value);
                labels.set(self.target.clone(), v);
                true
            }
            Action::Uppercase => {
                let v = text::go_upper(value);
                labels.set(self.target.clone(), v);
                true
            }
            Action::HashMod => {
                let v = hash_mod(value, self.config.modulus);
                labels.set(self.target.clone(), v);
                true
            }
            Action::LabelMap => {
                self.label_map(labels);
                true
            }
            Action::LabelDrop => {
                labels.retain(|n| !self.is_match(n));
                true
            }
            Action::LabelKeep => {
                labels.retain(|n| self.is_match(n));
                true
            }
        }
    }

    /// The (name, value) a `replace` writes, `None` when it does nothing; an empty value deletes.
    fn replace(&self, value: &str, names: NameValidation) -> Option<(SmolStr, SmolStr)> {
        let regex = self.regex.regex();
        if self.matches_all {
            // `(.*)` matches everything; group 1 is the whole value, like group 0.
            return self.written(&|i| (i <= 1).then_some(value), names);
        }
        match self.max_group {
            None => {
                if !regex.is_match(value) {
                    return None;
                }
                self.written(&|_| None, names)
            }
            Some(0) => {
                let m = regex.find(value)?;
                self.written(&|i| (i == 0).then_some(m.as_str()), names)
            }
            Some(_) => {
                let caps = regex.captures(value)?;
                self.written(&|i| caps.get(i).map(|m| m.as_str()), names)
            }
        }
    }

    /// The expanded target (if a valid name) and replacement for one match.
    fn written<'h>(&self, group: &dyn Fn(usize) -> Option<&'h str>, names: NameValidation) -> Option<(SmolStr, SmolStr)> {
        let target = self.target_template.expand(group);
        names.is_valid(&target).then(|| (target, self.replacement.expand(group)))
    }

    /// Copies every label whose name matches to the name the replacement makes of it; the
    /// names are taken from the set as it was before the rule.
    fn label_map(&self, labels: &mut LabelsBuilder) {
        let mut updates: Vec<(SmolStr, SmolStr)> = Vec::new();
        for (name, value) in labels.iter() {
            if !self.is_match(name) {
                continue;
            }
            let mut b = smol_str::SmolStrBuilder::new();
            self.regex.replace_all_into(name, &self.replacement, &mut b);
            let new = b.finish();
            if new != name {
                updates.push((new, SmolStr::new(value)));
            }
        }
        for (name, value) in updates {
            labels.set(name, value);
        }
    }
}

fn join(labels: &LabelsBuilder, names: &[String], separator: &str) -> String {
    let mut out = String::new();
    for (i, n) in names.iter().enumerate() {
        if i > 0 {
            out.push_str(separator);
        }
        out.push_str(labels.get(n).unwrap_or(""));
    }
    out
}

/// MD5 of the value, bytes 8..16 as a big-endian integer, modulo `modulus`, in decimal.
fn hash_mod(value: &str, modulus: u64) -> SmolStr {
    let digest = Md5::digest(value.as_bytes());
    let mut tail = [0u8; 8];
    tail.copy_from_slice(&digest[8..16]);
    let h = u64::from_be_bytes(tail).checked_rem(modulus).unwrap_or(0);
    smol_str::format_smolstr!("{h}")
}

/// Upstream's checks in upstream's order; the first failure is the message.
fn validate(c: &RuleConfig) -> Result<(), String> {
    use Action::*;
    let action = c.action;
    let target = &c.target_label;
    let invalid_target = || Err(format!("{} is invalid 'target_label' for {action} action", go_quote(target)));
    if action == HashMod && c.modulus == 0 {
        return Err("relabel configuration for hashmod requires non-zero modulus".into());
    }
    if matches!(action, Replace | HashMod | Lowercase | Uppercase | KeepEqual | DropEqual) && target.is_empty() {
        return Err(format!("relabel configuration for {action} action requires 'target_label' value"));
    }
    if action == Replace {
        let ok = if target.contains('$') { text::is_template_name(target) } else { NameValidation::Utf8.is_valid(target) };
        if !ok {
            return invalid_target();
        }
    }
    if matches!(action, Lowercase | Uppercase | KeepEqual | DropEqual) {
        if !NameValidation::Utf8.is_valid(target) {
            return invalid_target();
        }
        if c.replacement != DEFAULT_REPLACEMENT {
            return Err(format!("'replacement' can not be set for {action} action"));
        }
    }
    if action == LabelMap && !text::is_template_name(&c.replacement) {
        return Err(format!("{} is invalid 'replacement' for {action} action", go_quote(&c.replacement)));
    }
    if action == HashMod && !NameValidation::Utf8.is_valid(target) {
        return invalid_target();
    }
    let defaults = c.modulus == 0 && c.separator == DEFAULT_SEPARATOR && c.replacement == DEFAULT_REPLACEMENT;
    if matches!(action, LabelDrop | LabelKeep) && !(defaults && c.source_labels.is_empty() && target.is_empty()) {
        return Err(format!("{action} action requires only 'regex', and no other fields"));
    }
    if matches!(action, KeepEqual | DropEqual) && !(defaults && c.regex == DEFAULT_REGEX) {
        return Err(format!("{action} action requires only 'source_labels' and 'target_label', and no other fields"));
    }
    Ok(())
}

/// Runs `rules` in order on `labels`; `false` when a rule dropped the set (later rules do not run).
pub fn process(rules: &[Rule], labels: &mut LabelsBuilder, names: NameValidation) -> bool {
    rules.iter().all(|r| r.apply(labels, names))
}

/// [`process`] on a frozen set: the relabelled set, or `None` when dropped.
pub fn process_labels(rules: &[Rule], labels: &Labels, names: NameValidation) -> Option<Labels> {
    if rules.is_empty() {
        return Some(labels.clone());
    }
    let mut b = labels.builder();
    process(rules, &mut b, names).then(|| b.into_labels())
}

#[cfg(test)]
mod tests;
