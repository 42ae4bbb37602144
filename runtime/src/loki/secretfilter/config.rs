//! gitleaks configuration files: the built-in default rule set (`gitleaks.toml`, gitleaks
//! v8.30.1's) and `gitleaks_config` files, read into rules whose patterns are compiled as Go
//! regular expressions ([`GoRegex`]).
//!
//! This follows gitleaks' `ViperConfig.Translate`: keys match case-insensitively (viper), a
//! single string stands for a list of one, `[rules.allowlist]` / `[allowlist]` are the old
//! spellings of `[[rules.allowlists]]` / `[[allowlists]]`, `[extend]` merges a base config
//! (`useDefault` or `path`, two levels deep at most) rule by rule, `disabledRules` leaves base
//! rules out, and `[[allowlists]]` with `targetRules` attach to those rules. Where gitleaks
//! panics (a pattern that does not compile) this returns an error naming the file, the line and
//! the rule. Keys gitleaks does not know are ignored, as viper does, and reported as warnings.

use std::fmt;
use std::ops::Range;
use std::sync::{Arc, OnceLock};

use aho_corasick::AhoCorasick;
use prom::relabel::GoRegex;
use toml_edit::{Item, Key, TableLike};

/// gitleaks' default configuration, with an attribution header.
pub const DEFAULT_TOML: &str = include_str!("gitleaks.toml");
/// How errors name the built-in file.
pub const DEFAULT_NAME: &str = "built-in gitleaks.toml";
/// gitleaks' `maxExtendDepth`: a file, its base, and the base's base.
const MAX_EXTEND_DEPTH: usize = 2;

/// Why a configuration cannot be used; the message names the file (and line, rule) at fault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// What an allowlist's `regexes` are tested against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The captured secret (the default, `regexTarget = "secret"`).
    Secret,
    /// The whole text the rule's regex matched.
    Match,
    /// The line(s) holding the match.
    Line,
}

/// Values a finding may have without being reported.
#[derive(Debug)]
pub struct Allowlist {
    pub description: String,
    /// `condition = "AND"`: every kind of check present must pass; otherwise one regex or
    /// stopword is enough.
    pub all: bool,
    /// Commits and paths never match a log line (it has neither), so with `AND` they make the
    /// allowlist inert, and with `OR` they do nothing.
    pub commits: Vec<String>,
    pub paths: Vec<GoRegex>,
    pub target: Target,
    /// The `regexes` joined into one `(?:a|b|…)` pattern, as gitleaks does.
    pub regex: Option<GoRegex>,
    /// Lowercased and deduplicated.
    pub stopwords: Vec<String>,
    stopword_matcher: Option<AhoCorasick>,
}

impl Allowlist {
    /// Whether a finding is allowed (not a secret): gitleaks' `checkFindingAllowed` for a
    /// fragment without commit or path.
    pub fn allows(&self, secret: &str, matched: &str, line: &str) -> bool {
        let target = match self.target {
            Target::Secret => secret,
            Target::Match => matched,
            Target::Line => line,
        };
        let regex = !target.is_empty() && self.regex.as_ref().is_some_and(|r| r.is_match(target));
        let stopword = self.contains_stopword(secret);
        if self.all {
            self.commits.is_empty() && self.paths.is_empty() && (self.regex.is_none() || regex) && (self.stopwords.is_empty() || stopword)
        } else {
            regex || stopword
        }
    }

    fn contains_stopword(&self, secret: &str) -> bool {
        match &self.stopword_matcher {
            Some(m) if !secret.is_empty() => m.is_match(&secret.to_lowercase()),
            _ => false,
        }
    }
}

/// A `[[rules.required]]` entry: another rule that must also find something nearby.
#[derive(Clone, Debug)]
pub struct Required {
    pub id: String,
    pub within_lines: Option<i64>,
    pub within_columns: Option<i64>,
}

/// One detection rule.
#[derive(Clone, Debug)]
pub struct Rule {
    pub id: String,
    pub description: String,
    /// The minimum Shannon entropy a secret must exceed; 0 checks nothing.
    pub entropy: f64,
    /// The capture group holding the secret; 0 (or less) picks the first non-empty group.
    pub secret_group: i64,
    pub regex: Option<GoRegex>,
    /// Matched against the file path, which a log line does not have (see the detector).
    pub path: Option<GoRegex>,
    /// Lowercased. A rule with keywords runs only on lines holding one of them.
    pub keywords: Vec<String>,
    pub tags: Vec<String>,
    pub allowlists: Vec<Arc<Allowlist>>,
    pub required: Vec<Required>,
    pub skip_report: bool,
    /// `file:line` where the rule is defined (for errors).
    pub at: String,
}

/// A configuration ready for the detector.
#[derive(Clone, Debug, Default)]
pub struct Config {
    pub title: String,
    /// In file order; after an `[extend]`, sorted by ID (as gitleaks orders them).
    pub rules: Vec<Rule>,
    /// Global allowlists, applied to every rule.
    pub allowlists: Vec<Arc<Allowlist>>,
    /// Things accepted but worth telling (unknown keys, disabled rules that do not exist).
    pub warnings: Vec<String>,
}

/// The built-in configuration, parsed once.
pub fn default_config() -> Result<Config, ConfigError> {
    static DEFAULT: OnceLock<Result<Config, ConfigError>> = OnceLock::new();
    DEFAULT.get_or_init(|| load(DEFAULT_NAME, DEFAULT_TOML, 0)).clone()
}

/// A `gitleaks_config` file.
pub fn load_file(path: &str) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError(format!("read gitleaks config {path}: {e}")))?;
    load(path, &text, 0)
}

/// A configuration from TOML text; `name` is how errors name it.
pub fn parse(name: &str, text: &str) -> Result<Config, ConfigError> {
    load(name, text, 0)
}

/// gitleaks' `Translate` at extend depth `depth`.
fn load(name: &str, text: &str, depth: usize) -> Result<Config, ConfigError> {
    let src = Source { name, text };
    let doc = toml_edit::Document::parse(text).map_err(|e| {
        let (line, col) = e.span().map(|s| src.line_col(s.start)).unwrap_or((1, 1));
        ConfigError(format!("parse gitleaks config {name}: line {line}, column {col}: {}", e.message().trim()))
    })?;
    let file = read_file(&src, doc.as_table())?;
    let mut config = Config { title: file.title, rules: file.rules, allowlists: file.allowlists, warnings: file.warnings };
    if depth < MAX_EXTEND_DEPTH {
        let ext = &file.extend;
        if !ext.path.is_empty() && ext.use_default {
            return Err(ConfigError(format!("{name}: unable to load config due to extend.path and extend.useDefault being set")));
        }
        if ext.use_default {
            let base = if depth == 0 { default_config()? } else { load(DEFAULT_NAME, DEFAULT_TOML, depth + 1)? };
            config.extend(base, &ext.disabled, "default");
        } else if !ext.path.is_empty() {
            let text = std::fs::read_to_string(&ext.path).map_err(|e| ConfigError(format!("{name}: failed to load extended config {}: {e}", ext.path)))?;
            let base = load(&ext.path, &text, depth + 1)?;
            config.extend(base, &ext.disabled, &ext.path);
        }
    }
    if depth == 0 {
        for rule in &config.rules {
            validate(rule)?;
        }
        // Allowlists naming their rules join those rules once every base is merged.
        for (ids, allowlist, at) in file.targeted {
            for id in ids {
                let Some(rule) = config.rules.iter_mut().find(|r| r.id == id) else {
                    return Err(ConfigError(format!("{at}: [[allowlists]] target rule ID '{id}' does not exist")));
                };
                rule.allowlists.push(allowlist.clone());
            }
        }
    }
    Ok(config)
}

/// gitleaks' `Rule.Validate`.
fn validate(rule: &Rule) -> Result<(), ConfigError> {
    let at = &rule.at;
    if rule.id.trim().is_empty() {
        let mut context = String::new();
        if !rule.description.is_empty() {
            context.push_str(&format!(", description: {}", rule.description));
        }
        if let Some(r) = &rule.regex {
            context.push_str(&format!(", regex: {}", r.as_str()));
        }
        if let Some(p) = &rule.path {
            context.push_str(&format!(", path: {}", p.as_str()));
        }
        return Err(ConfigError(format!("{at}: rule |id| is missing or empty{context}")));
    }
    if rule.regex.is_none() && rule.path.is_none() {
        return Err(ConfigError(format!("{at}: rule {}: both |regex| and |path| are empty, this rule will have no effect", rule.id)));
    }
    if let Some(r) = &rule.regex {
        let max = r.captures_len() as i64 - 1;
        if rule.secret_group > max {
            return Err(ConfigError(format!("{at}: rule {}: invalid regex secret group {}, max regex secret group {max}", rule.id, rule.secret_group)));
        }
    }
    Ok(())
}

impl Config {
    /// gitleaks' `Config.extend`: `base`'s rules join this file's; a rule this file redefines
    /// keeps the base's fields it leaves unset and gains its tags, keywords and allowlists.
    fn extend(&mut self, base: Config, disabled: &[String], base_name: &str) {
        for id in disabled {
            if !base.rules.iter().any(|r| &r.id == id) {
                self.warnings.push(format!("disabled rule {id:?} doesn't exist in the extended config ({base_name})"));
            }
        }
        for mut rule in base.rules {
            if disabled.contains(&rule.id) {
                continue;
            }
            match self.rules.iter_mut().find(|r| r.id == rule.id) {
                None => self.rules.push(rule),
                Some(current) => {
                    if !current.description.is_empty() {
                        rule.description = std::mem::take(&mut current.description);
                    }
                    if current.entropy != 0.0 {
                        rule.entropy = current.entropy;
                    }
                    if current.secret_group != 0 {
                        rule.secret_group = current.secret_group;
                    }
                    if current.regex.is_some() {
                        rule.regex = current.regex.take();
                    }
                    if current.path.is_some() {
                        rule.path = current.path.take();
                    }
                    rule.tags.append(&mut current.tags);
                    rule.keywords.append(&mut current.keywords);
                    rule.allowlists.append(&mut current.allowlists);
                    rule.at = std::mem::take(&mut current.at);
                    *current = rule;
                }
            }
        }
        self.allowlists.extend(base.allowlists);
        self.warnings.extend(base.warnings);
        self.rules.sort_by(|a, b| a.id.cmp(&b.id));
    }
}

// ---------------------------------------------------------------------------------------------
// Reading the TOML tree

struct Source<'a> {
    name: &'a str,
    text: &'a str,
}

impl Source<'_> {
    /// 1-based line and column of a byte offset.
    fn line_col(&self, offset: usize) -> (usize, usize) {
        let before = &self.text.as_bytes()[..offset.min(self.text.len())];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let col = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
        (line, col)
    }

    /// `file:line` of a span.
    fn at(&self, span: Option<Range<usize>>) -> String {
        match span {
            Some(s) => format!("{}:{}", self.name, self.line_col(s.start).0),
            None => self.name.to_string(),
        }
    }
}

/// The keys of one table, matched case-insensitively; what nobody takes is reported.
struct Fields<'a> {
    entries: Vec<(String, &'a Key, &'a Item)>,
    /// Where the table starts (its first key), for errors about the table.
    span: Option<Range<usize>>,
}

impl<'a> Fields<'a> {
    fn new(table: &'a dyn TableLike) -> Self {
        let entries: Vec<(String, &'a Key, &'a Item)> = table
            .iter()
            .filter_map(|(k, _)| table.get_key_value(k))
            .filter(|(_, item)| !item.is_none())
            .map(|(key, item)| (key.get().to_lowercase(), key, item))
            .collect();
        let span = entries.iter().filter_map(|(_, k, _)| k.span()).min_by_key(|s| s.start);
        Fields { entries, span }
    }

    fn take(&mut self, name: &str) -> Option<(&'a Key, &'a Item)> {
        let i = self.entries.iter().position(|(n, _, _)| n == name)?;
        let (_, key, item) = self.entries.remove(i);
        Some((key, item))
    }

    /// Keys left over: ignored, as viper ignores them, with a warning.
    fn leftovers(self, src: &Source<'_>, what: &str, warnings: &mut Vec<String>) {
        for (_, key, _) in self.entries {
            warnings.push(format!("{}: unknown key {:?} in {what} ignored", src.at(key.span()), key.get()));
        }
    }
}

/// Reads typed values out of [`Fields`], naming the key and line on error.
struct Values<'s, 'a> {
    src: &'s Source<'a>,
}

impl Values<'_, '_> {
    fn err(&self, key: &Key, context: &str, what: &str) -> ConfigError {
        ConfigError(format!("{}: {context}: {:?} must be {what}", self.src.at(key.span()), key.get()))
    }

    fn string(&self, field: Option<(&Key, &Item)>, context: &str) -> Result<String, ConfigError> {
        let Some((key, item)) = field else { return Ok(String::new()) };
        item.as_str().map(str::to_string).ok_or_else(|| self.err(key, context, "a string"))
    }

    /// A list of strings; a single string is a list of one (viper's weak typing).
    fn strings(&self, field: Option<(&Key, &Item)>, context: &str) -> Result<Vec<String>, ConfigError> {
        let Some((key, item)) = field else { return Ok(Vec::new()) };
        if let Some(s) = item.as_str() {
            return Ok(vec![s.to_string()]);
        }
        let array = item.as_array().ok_or_else(|| self.err(key, context, "a list of strings"))?;
        array.iter().map(|v| v.as_str().map(str::to_string).ok_or_else(|| self.err(key, context, "a list of strings"))).collect()
    }

    fn float(&self, field: Option<(&Key, &Item)>, context: &str) -> Result<f64, ConfigError> {
        let Some((key, item)) = field else { return Ok(0.0) };
        item.as_float().or_else(|| item.as_integer().map(|i| i as f64)).ok_or_else(|| self.err(key, context, "a number"))
    }

    fn int(&self, field: Option<(&Key, &Item)>, context: &str) -> Result<Option<i64>, ConfigError> {
        let Some((key, item)) = field else { return Ok(None) };
        let whole = item.as_float().filter(|f| f.fract() == 0.0 && f.abs() < 9e15).map(|f| f as i64);
        item.as_integer().or(whole).map(Some).ok_or_else(|| self.err(key, context, "an integer"))
    }

    fn bool(&self, field: Option<(&Key, &Item)>, context: &str) -> Result<bool, ConfigError> {
        let Some((key, item)) = field else { return Ok(false) };
        item.as_bool().ok_or_else(|| self.err(key, context, "true or false"))
    }

    fn regex(&self, field: Option<(&Key, &Item)>, context: &str) -> Result<Option<GoRegex>, ConfigError> {
        let Some((key, _)) = field else { return Ok(None) };
        let pattern = self.string(field, context)?;
        if pattern.is_empty() {
            return Ok(None);
        }
        GoRegex::new(&pattern).map(Some).map_err(|e| ConfigError(format!("{}: {context}: {}: {e}", self.src.at(key.span()), key.get())))
    }

    /// Tables: an array of tables, an array of inline tables, or one table (a list of one).
    fn tables<'i>(&self, field: Option<(&Key, &'i Item)>, context: &str) -> Result<Vec<&'i dyn TableLike>, ConfigError> {
        let Some((key, item)) = field else { return Ok(Vec::new()) };
        if let Some(aot) = item.as_array_of_tables() {
            return Ok(aot.iter().map(|t| t as &dyn TableLike).collect());
        }
        if let Some(t) = item.as_table_like() {
            return Ok(vec![t]);
        }
        let array = item.as_array().ok_or_else(|| self.err(key, context, "a list of tables"))?;
        array.iter().map(|v| v.as_inline_table().map(|t| t as &dyn TableLike).ok_or_else(|| self.err(key, context, "a list of tables"))).collect()
    }
}

struct Extend {
    path: String,
    use_default: bool,
    disabled: Vec<String>,
}

/// One file's content before any `[extend]`.
struct File {
    title: String,
    extend: Extend,
    rules: Vec<Rule>,
    allowlists: Vec<Arc<Allowlist>>,
    /// `[[allowlists]]` with `targetRules`: (rule IDs, allowlist, where).
    targeted: Vec<(Vec<String>, Arc<Allowlist>, String)>,
    warnings: Vec<String>,
}

fn read_file(src: &Source<'_>, root: &dyn TableLike) -> Result<File, ConfigError> {
    let v = Values { src };
    let mut warnings = Vec::new();
    let mut top = Fields::new(root);
    let title = v.string(top.take("title"), "title")?;
    let _ = v.string(top.take("description"), "description")?;
    // gitleaks only logs when the running version is older; there is no version to compare here.
    let _ = v.string(top.take("minversion"), "minVersion")?;

    let mut extend = Extend { path: String::new(), use_default: false, disabled: Vec::new() };
    if let Some((key, item)) = top.take("extend") {
        let table = item.as_table_like().ok_or_else(|| v.err(key, "extend", "a table"))?;
        let mut f = Fields::new(table);
        extend.path = v.string(f.take("path"), "extend")?;
        if let Some((k, _)) = f.take("url") {
            warnings.push(format!("{}: extend.url is not implemented by gitleaks and is ignored", src.at(k.span())));
        }
        extend.use_default = v.bool(f.take("usedefault"), "extend")?;
        extend.disabled = v.strings(f.take("disabledrules"), "extend")?;
        f.leftovers(src, "[extend]", &mut warnings);
    }

    let mut rules: Vec<Rule> = Vec::new();
    for (i, table) in v.tables(top.take("rules"), "rules")?.into_iter().enumerate() {
        let rule = read_rule(src, table, i, &mut warnings)?;
        match rules.iter_mut().find(|r| r.id == rule.id) {
            Some(earlier) => {
                warnings.push(format!("{}: rule {:?} is defined again and replaces the earlier one", rule.at, rule.id));
                *earlier = rule;
            }
            None => rules.push(rule),
        }
    }
    for rule in &rules {
        for req in &rule.required {
            if !rules.iter().any(|r| r.id == req.id) {
                return Err(ConfigError(format!("{}: rule {}: [[rules.required]] rule ID '{}' does not exist", rule.at, rule.id, req.id)));
            }
        }
    }

    let old = top.take("allowlist");
    let new = top.take("allowlists");
    if let (Some((key, _)), Some(_)) = (&old, &new) {
        return Err(ConfigError(format!("{}: [allowlist] is deprecated, it cannot be used alongside [[allowlists]]", src.at(key.span()))));
    }
    let mut allowlists = Vec::new();
    let mut targeted = Vec::new();
    for table in v.tables(old.or(new), "allowlists")? {
        let mut f = Fields::new(table);
        let at = src.at(f.span.clone());
        let targets = v.strings(f.take("targetrules"), "[[allowlists]]")?;
        let allowlist = Arc::new(read_allowlist(src, f, "[[allowlists]]", &mut warnings)?);
        if targets.is_empty() {
            allowlists.push(allowlist);
        } else {
            targeted.push((targets, allowlist, at));
        }
    }
    top.leftovers(src, "the top level", &mut warnings);
    Ok(File { title, extend, rules, allowlists, targeted, warnings })
}

fn read_rule(src: &Source<'_>, table: &dyn TableLike, index: usize, warnings: &mut Vec<String>) -> Result<Rule, ConfigError> {
    let v = Values { src };
    let mut f = Fields::new(table);
    let id_field = f.take("id");
    let id = v.string(id_field, "rule")?;
    let at = match (id_field, &f.span) {
        (Some((key, _)), _) => src.at(key.span()),
        (None, Some(span)) => src.at(Some(span.clone())),
        (None, None) => format!("{} (rule #{})", src.name, index + 1),
    };
    let ctx = if id.is_empty() { format!("rule #{}", index + 1) } else { format!("rule {id}") };
    let description = v.string(f.take("description"), &ctx)?;
    let path = v.regex(f.take("path"), &ctx)?;
    let regex = v.regex(f.take("regex"), &ctx)?;
    let secret_group = v.int(f.take("secretgroup"), &ctx)?.unwrap_or(0);
    let entropy = v.float(f.take("entropy"), &ctx)?;
    let keywords = v.strings(f.take("keywords"), &ctx)?.into_iter().map(|k| k.to_lowercase()).collect();
    let tags = v.strings(f.take("tags"), &ctx)?;
    let skip_report = v.bool(f.take("skipreport"), &ctx)?;

    let old = f.take("allowlist");
    let new = f.take("allowlists");
    if let (Some((key, _)), Some(_)) = (&old, &new) {
        return Err(ConfigError(format!("{}: {ctx}: [rules.allowlist] is deprecated, it cannot be used alongside [[rules.allowlist]]", src.at(key.span()))));
    }
    let mut allowlists = Vec::new();
    for t in v.tables(old.or(new), &ctx)? {
        let what = format!("{ctx}: [[rules.allowlists]]");
        allowlists.push(Arc::new(read_allowlist(src, Fields::new(t), &what, warnings)?));
    }

    let mut required = Vec::new();
    for t in v.tables(f.take("required"), &ctx)? {
        let mut rf = Fields::new(t);
        let what = format!("{ctx}: [[rules.required]]");
        let req_id = v.string(rf.take("id"), &what)?;
        if req_id.is_empty() {
            return Err(ConfigError(format!("{}: {what} rule ID is empty", src.at(rf.span.clone()))));
        }
        let within_lines = v.int(rf.take("withinlines"), &what)?;
        let within_columns = v.int(rf.take("withincolumns"), &what)?;
        rf.leftovers(src, &what, warnings);
        required.push(Required { id: req_id, within_lines, within_columns });
    }
    f.leftovers(src, &ctx, warnings);
    Ok(Rule { id, description, entropy, secret_group, regex, path, keywords, tags, allowlists, required, skip_report, at })
}

/// gitleaks' `parseAllowlist` and `Allowlist.Validate`.
fn read_allowlist(src: &Source<'_>, mut f: Fields<'_>, what: &str, warnings: &mut Vec<String>) -> Result<Allowlist, ConfigError> {
    let v = Values { src };
    let at = src.at(f.span.clone());
    let description = v.string(f.take("description"), what)?;
    let condition = v.string(f.take("condition"), what)?;
    let all = match condition.to_uppercase().as_str() {
        "AND" | "&&" => true,
        "" | "OR" | "||" => false,
        _ => return Err(ConfigError(format!("{at}: {what} unknown allowlist |condition| '{condition}' (expected 'and', 'or')"))),
    };
    let target = match v.string(f.take("regextarget"), what)?.as_str() {
        "" | "secret" => Target::Secret,
        "match" => Target::Match,
        "line" => Target::Line,
        other => return Err(ConfigError(format!("{at}: {what} unknown allowlist |regexTarget| '{other}' (expected 'match', 'line')"))),
    };
    let mut commits: Vec<String> = v.strings(f.take("commits"), what)?.iter().map(|c| c.trim().to_lowercase()).collect();
    commits.sort();
    commits.dedup();
    let compile = |field: Option<(&Key, &Item)>, name: &str| -> Result<Vec<GoRegex>, ConfigError> {
        let patterns = v.strings(field, what)?;
        patterns.iter().map(|p| GoRegex::new(p).map_err(|e| ConfigError(format!("{at}: {what} {name}: {e}")))).collect()
    };
    let paths = compile(f.take("paths"), "paths")?;
    let regexes = compile(f.take("regexes"), "regexes")?;
    let mut stopwords: Vec<String> = v.strings(f.take("stopwords"), what)?.iter().map(|w| w.to_lowercase()).collect();
    stopwords.sort();
    stopwords.dedup();
    f.leftovers(src, what, warnings);
    if commits.is_empty() && paths.is_empty() && regexes.is_empty() && stopwords.is_empty() {
        return Err(ConfigError(format!("{at}: {what} must contain at least one check for: commits, paths, regexes, or stopwords")));
    }
    let regex = if regexes.is_empty() {
        None
    } else {
        let joined = format!("(?:{})", regexes.iter().map(GoRegex::as_str).collect::<Vec<_>>().join("|"));
        Some(GoRegex::new(&joined).map_err(|e| ConfigError(format!("{at}: {what} regexes joined: {e}")))?)
    };
    let stopword_matcher =
        if stopwords.is_empty() { None } else { Some(AhoCorasick::new(&stopwords).map_err(|e| ConfigError(format!("{at}: {what} stopwords: {e}")))?) };
    Ok(Allowlist { description, all, commits, paths, target, regex, stopwords, stopword_matcher })
}
