//! `import.file`, `import.string` and `import.http` (spec §6.2): the module text an import
//! names, read when the configuration is loaded. The import's arguments are evaluated then, with
//! `module_path` and the standard library in scope; an argument that needs another component's
//! exports cannot be known at that point and is an error that says so.
//!
//! HTTP modules are fetched by the controller between lowering rounds (lowering itself does not
//! wait on the network): a lowering that meets an unfetched URL asks for it, and the next round
//! has its text. The controller's watcher re-reads imported files and re-fetches HTTP modules
//! every `poll_frequency`; a change lowers the graph again, a failed fetch keeps the last text.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use eval::{Scope, Value};
use syntax::ast::{Block, Stmt};
use syntax::{Diagnostic, Span};

use super::graph::Source;

/// An `import.http` request, as evaluated.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HttpModule {
    pub url: String,
    pub method: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    pub timeout: Duration,
    pub poll: Duration,
}

/// What the fetches of HTTP modules returned, by request: the text, or why there is none.
pub type Fetched = HashMap<HttpModule, Result<String, String>>;

impl HttpModule {
    pub async fn fetch(&self) -> Result<String, String> {
        let client = reqwest::Client::builder().timeout(self.timeout).build().map_err(|e| e.to_string())?;
        let method = reqwest::Method::from_bytes(self.method.as_bytes()).map_err(|_| format!("invalid method {:?}", self.method))?;
        let mut req = client.request(method, &self.url);
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        if let Some(b) = &self.body {
            req = req.body(b.clone());
        }
        let resp = req.send().await.map_err(|e| e.to_string())?;
        if !resp.status().is_success() {
            return Err(format!("unexpected status code {}", resp.status()));
        }
        resp.text().await.map_err(|e| e.to_string())
    }
}

/// What reading an import gave: a module, or a request to fetch first.
pub(crate) enum Read {
    Module(Module),
    Fetch(HttpModule),
}

/// What an import brought in.
pub(crate) struct Module {
    pub sources: Vec<Arc<Source>>,
    /// `module_path` inside the module's declares.
    pub module_path: String,
    /// For `import.file`: the path read and what it held, for the watcher.
    pub watched: Option<Watched>,
    /// For `import.http`: the request, for the watcher.
    pub http: Option<HttpModule>,
}

/// An imported path and the files it held when read.
#[derive(Clone, Debug, PartialEq)]
pub struct Watched {
    pub path: PathBuf,
    pub files: Vec<(String, String)>,
}

impl Watched {
    /// Whether the path now holds something else (or cannot be read any more).
    pub fn changed(&self) -> bool {
        analyzer::load_path(&self.path).map_or(true, |now| now != self.files)
    }
}

const LOAD_TIME_NOTE: &str =
    "this runtime reads imports when it loads the configuration, so their arguments may use constants, module_path and the standard library, but not other components";

fn span_of(b: &Block, attr: &str) -> Span {
    b.body
        .iter()
        .find_map(|s| match s {
            Stmt::Attribute(a) if a.name.name == attr => Some(a.value.span()),
            _ => None,
        })
        .unwrap_or(b.name_span)
}

/// Reads the module an import block names; `fetched` holds the HTTP modules fetched so far.
pub(crate) fn read(b: &Block, src: &Source, module_path: &str, fetched: &Fetched) -> Result<Read, Diagnostic> {
    let mut scope = Scope::new();
    scope.set("module_path", Value::string(module_path));
    let args = super::args::evaluate_block(&b.name, b, &src.parsed.lines, &scope).map_err(|e| {
        let mut d = e.to_diagnostic(b.name_span).with_code("import");
        d.notes.push(LOAD_TIME_NOTE.into());
        d
    })?;
    let arg = |name: &str| -> Option<String> {
        match args.as_object()?.get(name)? {
            Value::String(s) => Some(s.to_string_lossy().into_owned()),
            Value::Secret(s) => Some(s.expose().to_string_lossy().into_owned()),
            Value::OptionalSecret(s) => Some(s.expose().to_string_lossy().into_owned()),
            _ => None,
        }
    };
    let label = b.label.as_ref().map(|l| l.value.to_string()).unwrap_or_default();
    match b.name.as_str() {
        "import.file" => {
            let Some(filename) = arg("filename") else {
                return Err(Diagnostic::error(b.name_span, "missing required attribute \"filename\"").with_code("import"));
            };
            let path = PathBuf::from(&filename);
            let files = analyzer::load_path(&path).map_err(|e| Diagnostic::error(span_of(b, "filename"), format!("failed to read file: {e}")).with_code("import"))?;
            let module_path = if path.is_dir() { filename.clone() } else { parent_dir(&path) };
            let sources = files.iter().map(|(p, t)| parsed(p.clone(), t.clone())).collect();
            Ok(Read::Module(Module { sources, module_path, watched: Some(Watched { path, files }), http: None }))
        }
        "import.string" => {
            let Some(content) = arg("content") else {
                return Err(Diagnostic::error(b.name_span, "missing required attribute \"content\"").with_code("import"));
            };
            // The module is named after the import in reports.
            let sources = vec![parsed(format!("{}:import.string.{label}", src.path), content)];
            Ok(Read::Module(Module { sources, module_path: module_path.to_string(), watched: None, http: None }))
        }
        "import.http" => {
            let Some(url) = arg("url") else {
                return Err(Diagnostic::error(b.name_span, "missing required attribute \"url\"").with_code("import"));
            };
            let obj = args.as_object().map(|o| o.into_owned()).unwrap_or_default();
            let duration = |name: &str, default: Duration| match obj.get(name) {
                Some(Value::String(s)) => eval::decode::Duration::parse(&s.to_string_lossy()).ok().and_then(|d| d.to_std()).unwrap_or(default),
                _ => default,
            };
            let mut headers: Vec<(String, String)> = match obj.get("headers").and_then(|h| h.as_object().map(|o| o.into_owned())) {
                Some(h) => h.iter().map(|(k, v)| (k.to_string(), text_of(v))).collect(),
                None => Vec::new(),
            };
            headers.extend(client_headers(obj.get("client")).map_err(|m| Diagnostic::error(b.name_span, m).with_code("import"))?);
            let request = HttpModule {
                url: url.clone(),
                method: arg("method").filter(|m| !m.is_empty()).unwrap_or_else(|| "GET".into()),
                headers,
                body: arg("body"),
                timeout: duration("poll_timeout", Duration::from_secs(10)),
                poll: duration("poll_frequency", Duration::from_secs(60)),
            };
            match fetched.get(&request) {
                None => Ok(Read::Fetch(request)),
                Some(Err(e)) => Err(Diagnostic::error(span_of(b, "url"), format!("failed to fetch {url}: {e}")).with_code("import")),
                Some(Ok(text)) => {
                    // module_path is the URL without its last path element.
                    let module_path = url.rsplit_once('/').map_or(url.as_str(), |(dir, _)| dir).to_string();
                    Ok(Read::Module(Module { sources: vec![parsed(url.clone(), text.clone())], module_path, watched: None, http: Some(request.clone()) }))
                }
            }
        }
        other => Err(Diagnostic::error(b.name_span, format!("{other} is not supported by this runtime yet")).with_code("unsupported")),
    }
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string_lossy().into_owned(),
        Value::Secret(s) => s.expose().to_string_lossy().into_owned(),
        Value::OptionalSecret(s) => s.expose().to_string_lossy().into_owned(),
        other => format!("{other:?}"),
    }
}

/// The `client` block's credentials as headers: `basic_auth` and `authorization`. Other
/// client settings are refused rather than ignored.
fn client_headers(client: Option<&Value>) -> Result<Vec<(String, String)>, String> {
    use base64::Engine as _;
    let Some(client) = client.and_then(|c| c.as_object().map(|o| o.into_owned())) else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for (name, v) in client.iter() {
        let Some(block) = v.as_object() else { continue };
        let get = |k: &str| block.get(k).map(text_of).filter(|s| !s.is_empty());
        match name.as_str() {
            "basic_auth" => {
                let user = get("username").unwrap_or_default();
                let pass = get("password").or_else(|| get("password_file").and_then(|f| std::fs::read_to_string(f).ok()).map(|p| p.trim().to_string())).unwrap_or_default();
                let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
                out.push(("Authorization".to_string(), format!("Basic {token}")));
            }
            "authorization" => {
                let kind = get("type").unwrap_or_else(|| "Bearer".into());
                let creds = get("credentials").or_else(|| get("credentials_file").and_then(|f| std::fs::read_to_string(f).ok()).map(|c| c.trim().to_string())).unwrap_or_default();
                out.push(("Authorization".to_string(), format!("{kind} {creds}")));
            }
            other if block.is_empty() => {
                let _ = other;
            }
            other => return Err(format!("client.{other} is not supported for import.http by this runtime (basic_auth and authorization are)")),
        }
    }
    Ok(out)
}

fn parent_dir(path: &Path) -> String {
    path.parent().map(|d| d.display().to_string()).filter(|d| !d.is_empty()).unwrap_or_else(|| ".".into())
}

fn parsed(path: String, text: String) -> Arc<Source> {
    let parsed = Arc::new(syntax::parse_file(text.as_bytes()));
    Arc::new(Source { path, text, parsed })
}
