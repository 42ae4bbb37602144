//! `import.file`, `import.string`, `import.http` and `import.git`: the module text an import
//! names, read when the configuration is loaded. The import's arguments are evaluated then, with
//! `module_path` and the standard library in scope; an argument that needs another component's
//! exports cannot be known at that point and is an error that says so.
//!
//! Remote modules (HTTP, git) are fetched by the controller between lowering rounds (lowering itself does not
//! wait on the network): a lowering that meets an unfetched URL asks for it, and the next round
//! has its text. The controller's watcher re-reads imported files and fetches remote modules
//! again every `poll_frequency`/`pull_frequency`; a change lowers the graph again, a failed
//! fetch keeps the last text. Git modules use the `git` command.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use eval::{Scope, Value};
use syntax::ast::{Block, Stmt};
use syntax::{Diagnostic, Span};

use super::graph::Source;
use crate::component::args::types::{Dur, SecretText};
use crate::component::{Arguments, Reader, Registration};

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

/// An `import.git` checkout, as evaluated.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct GitModule {
    pub repository: String,
    pub revision: String,
    pub path: String,
    /// `pull_frequency`; `None` pulls once.
    pub poll: Option<Duration>,
    /// Where the clone lives: `<storage.path>/import.git/<hash of the repository>/repo`.
    pub dir: PathBuf,
}

/// A module that lives elsewhere and is fetched between lowering rounds.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Remote {
    Http(HttpModule),
    Git(GitModule),
}

/// What fetching remote modules returned: the files (name, text), or why there are none.
pub type Fetched = HashMap<Remote, Result<Vec<(String, String)>, String>>;

impl Remote {
    pub async fn fetch(&self) -> Result<Vec<(String, String)>, String> {
        match self {
            Remote::Http(h) => h.fetch().await.map(|text| vec![(h.url.clone(), text)]),
            Remote::Git(g) => g.fetch().await,
        }
    }

    /// How often to fetch again; `None` never.
    pub fn poll(&self) -> Option<Duration> {
        match self {
            Remote::Http(h) => Some(h.poll),
            Remote::Git(g) => g.poll,
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Remote::Http(h) => &h.url,
            Remote::Git(g) => &g.repository,
        }
    }
}

impl GitModule {
    /// Clones on first use, then fetches and checks out `revision`; when updating fails but a
    /// checkout exists, that checkout keeps serving. Uses the `git` command.
    async fn fetch(&self) -> Result<Vec<(String, String)>, String> {
        // Reaching the repository may fail for a while (the last checkout keeps serving); a
        // revision it does not have is a mistake in the configuration.
        let reached = self.sync().await;
        let cloned = self.dir.join(".git").exists();
        match reached {
            Ok(()) => {}
            Err(e) if cloned => tracing::warn!(repository = %self.repository, err = %e, "failed to update the git module; keeping the last checkout"),
            Err(e) => return Err(e),
        }
        self.checkout().await?;
        analyzer::load_path(&self.dir.join(&self.path)).map_err(|e| e.to_string())
    }

    /// Clones, or fetches into the existing clone.
    async fn sync(&self) -> Result<(), String> {
        if !self.dir.join(".git").exists() {
            if let Some(parent) = self.dir.parent() {
                std::fs::create_dir_all(parent).map_err(|e| format!("creating {}: {e}", parent.display()))?;
            }
            let _ = std::fs::remove_dir_all(&self.dir);
            git(None, &["clone", "--quiet", "--no-checkout", &self.repository, &self.dir.to_string_lossy()]).await?;
        } else {
            git(Some(&self.dir), &["fetch", "--quiet", "--tags", "--force", "origin"]).await?;
        }
        Ok(())
    }

    async fn checkout(&self) -> Result<(), String> {
        // A branch is taken from the remote; tags and commits as they are. HEAD is the remote's
        // default branch.
        let wanted = if self.revision.is_empty() || self.revision == "HEAD" { "origin/HEAD".to_string() } else { self.revision.clone() };
        let mut commit = None;
        for candidate in [format!("origin/{wanted}^{{commit}}"), format!("{wanted}^{{commit}}")] {
            if let Ok(sha) = git(Some(&self.dir), &["rev-parse", "--verify", "--quiet", &candidate]).await {
                commit = Some(sha.trim().to_string());
                break;
            }
        }
        let commit = commit.ok_or_else(|| format!("revision {:?} not found in {}", self.revision, self.repository))?;
        git(Some(&self.dir), &["checkout", "--quiet", "--force", "--detach", &commit]).await.map(|_| ())
    }
}

/// Runs `git` and returns its standard output, or an error with its standard error.
async fn git(dir: Option<&Path>, args: &[&str]) -> Result<String, String> {
    let mut cmd = tokio::process::Command::new("git");
    if let Some(d) = dir {
        cmd.arg("-C").arg(d);
    }
    // Never stop to ask for credentials.
    cmd.args(args).env("GIT_TERMINAL_PROMPT", "0").stdin(std::process::Stdio::null());
    let out = cmd.output().await.map_err(|e| format!("running git: {e} (import.git needs the git command)"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!("git {}: {}", args.first().copied().unwrap_or(""), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

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

/// What reading an import gave: a module, or a module to fetch first.
pub(crate) enum Read {
    Module(Module),
    Fetch(Remote),
}

/// What an import brought in.
pub(crate) struct Module {
    pub sources: Vec<Arc<Source>>,
    /// `module_path` inside the module's declares.
    pub module_path: String,
    /// For `import.file`: the path read and what it held, for the watcher.
    pub watched: Option<Watched>,
    /// For `import.http` and `import.git`: the remote, for the watcher.
    pub remote: Option<Remote>,
}

/// An imported path and the files it held when read.
#[derive(Clone, Debug, PartialEq)]
pub struct Watched {
    pub path: PathBuf,
    pub files: Vec<(String, String)>,
    /// How often to look: `poll_frequency` with `detector = "poll"`; with the default
    /// `fsnotify`, at the controller's own pace (every second), standing in for file events.
    pub every: Option<Duration>,
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

/// Reads the module an import block names; `fetched` holds the remote modules fetched so far,
/// `storage` is `--storage.path` (git clones live below it).
pub(crate) fn read(b: &Block, src: &Source, module_path: &str, fetched: &Fetched, storage: &Path) -> Result<Read, Diagnostic> {
    let mut scope = Scope::new();
    scope.set("module_path", Value::string(module_path));
    let args = analyzer::args::evaluate_block(&b.name, b, &src.parsed.lines, &scope).map_err(|e| {
        let mut d = e.to_diagnostic(b.name_span).with_code("import");
        d.notes.push(LOAD_TIME_NOTE.into());
        d
    })?;
    fn typed<A: Arguments>(b: &Block, args: &Value) -> Result<A, Diagnostic> {
        crate::component::args::decode::<A>(&b.name, args).map_err(|errs| errs[0].to_diagnostic(b))
    }
    let label = b.label.as_ref().map(|l| l.value.to_string()).unwrap_or_default();
    match b.name.as_str() {
        "import.file" => {
            let FileArgs { filename, every } = typed(b, &args)?;
            let path = PathBuf::from(&filename);
            let files =
                analyzer::load_path(&path).map_err(|e| Diagnostic::error(span_of(b, "filename"), format!("failed to read file: {e}")).with_code("import"))?;
            let module_path = if path.is_dir() { filename.clone() } else { parent_dir(&path) };
            let sources = files.iter().map(|(p, t)| parsed(p.clone(), t.clone())).collect();
            Ok(Read::Module(Module { sources, module_path, watched: Some(Watched { path, files, every }), remote: None }))
        }
        "import.string" => {
            let StringArgs { content } = typed(b, &args)?;
            // The module is named after the import in reports.
            let sources = vec![parsed(format!("{}:import.string.{label}", src.path), content)];
            Ok(Read::Module(Module { sources, module_path: module_path.to_string(), watched: None, remote: None }))
        }
        "import.http" => {
            let a: HttpArgs = typed(b, &args)?;
            let mut headers: Vec<(String, String)> = a.headers.into_iter().collect();
            headers.extend(a.client.authorization.map(|v| ("Authorization".to_string(), v)));
            let request = HttpModule { url: a.url.clone(), method: a.method, headers, body: a.body, timeout: a.poll_timeout, poll: a.poll_frequency };
            // module_path is the URL without its last path element.
            let module_path = a.url.rsplit_once('/').map_or(a.url.as_str(), |(dir, _)| dir).to_string();
            from_remote(Remote::Http(request), fetched, module_path, span_of(b, "url"), "failed to fetch")
        }
        "import.git" => {
            let GitArgs { repository, revision, path, pull_frequency } = typed(b, &args)?;
            // Zero pulls once.
            let poll = Some(pull_frequency).filter(|d| !d.is_zero());
            use sha2::Digest as _;
            let key = format!("{:x}", sha2::Sha256::digest(repository.as_bytes()));
            let dir = storage.join("import.git").join(&key[..16]).join("repo");
            let target = dir.join(&path);
            let module_path = if path.is_empty() || target.is_dir() { target.display().to_string() } else { parent_dir(&target) };
            let request = GitModule { repository, revision, path, poll, dir };
            from_remote(Remote::Git(request), fetched, module_path, span_of(b, "repository"), "failed to get the module from git")
        }
        other => Err(Diagnostic::error(b.name_span, format!("{other} is not supported by this runtime yet")).with_code("unsupported")),
    }
}

/// The module a fetched remote holds, or a request to fetch it, or why it failed.
fn from_remote(remote: Remote, fetched: &Fetched, module_path: String, at: Span, failed: &str) -> Result<Read, Diagnostic> {
    match fetched.get(&remote) {
        None => Ok(Read::Fetch(remote)),
        Some(Err(e)) => Err(Diagnostic::error(at, format!("{failed} {}: {e}", remote.name())).with_code("import")),
        Some(Ok(files)) => {
            let sources = files.iter().map(|(p, t)| parsed(p.clone(), t.clone())).collect();
            Ok(Read::Module(Module { sources, module_path, watched: None, remote: Some(remote) }))
        }
    }
}

/// The directory of a file as `module_path` names it (`.` for a bare name).
pub(crate) fn parent_dir(path: &Path) -> String {
    path.parent().map(|d| d.display().to_string()).filter(|d| !d.is_empty()).unwrap_or_else(|| ".".into())
}

fn parsed(path: String, text: String) -> Arc<Source> {
    let parsed = Arc::new(syntax::parse_file(text.as_bytes()));
    Arc::new(Source { path, text, parsed })
}

/// `import.file`'s arguments.
#[derive(Default)]
struct FileArgs {
    filename: String,
    /// `poll_frequency` when `detector = "poll"`.
    every: Option<Duration>,
}

impl Arguments for FileArgs {
    fn decode(r: &mut Reader<'_>) -> Self {
        let poll = r.get::<String>("detector") == "poll";
        let frequency = r.get::<Dur>("poll_frequency").0;
        FileArgs { filename: r.get("filename"), every: poll.then_some(frequency) }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        let detector: String = r.get("detector");
        r.check(matches!(detector.as_str(), "fsnotify" | "poll"), &["detector"], format!("unknown detector {detector:?}, expected \"fsnotify\" or \"poll\""));
        r.check(self.every.is_none_or(|d| !d.is_zero()), &["poll_frequency"], "poll_frequency must be greater than 0");
    }
}

/// `import.string`'s arguments.
#[derive(Default)]
struct StringArgs {
    content: String,
}

impl Arguments for StringArgs {
    fn decode(r: &mut Reader<'_>) -> Self {
        StringArgs { content: r.get::<SecretText>("content").0 }
    }
}

/// A secret written inline or read from a file (trimmed), as the client block's
/// `X`/`X_file` pairs give it.
fn secret_or_file(r: &mut Reader<'_>, inline: &'static str, file: &'static str) -> Option<String> {
    let text = r.get::<SecretText>(inline).0;
    let path: String = r.get(file);
    if !text.is_empty() {
        return Some(text);
    }
    if path.is_empty() {
        return None;
    }
    match std::fs::read_to_string(&path) {
        Ok(t) => Some(t.trim().to_string()),
        Err(e) => {
            r.error(file, format!("reading {file} {path}: {e}"));
            None
        }
    }
}

/// `client { basic_auth { … } }`.
#[derive(Default)]
struct BasicAuthArgs(String);

impl Arguments for BasicAuthArgs {
    fn decode(r: &mut Reader<'_>) -> Self {
        let user: String = r.get("username");
        let pass = secret_or_file(r, "password", "password_file").unwrap_or_default();
        BasicAuthArgs(crate::basic_auth::header(&user, &pass))
    }
}

/// `client { authorization { … } }`.
#[derive(Default)]
struct AuthorizationArgs(String);

impl Arguments for AuthorizationArgs {
    fn decode(r: &mut Reader<'_>) -> Self {
        let kind = r.opt::<String>("type").filter(|t| !t.is_empty()).unwrap_or_else(|| "Bearer".into());
        let creds = secret_or_file(r, "credentials", "credentials_file").unwrap_or_default();
        AuthorizationArgs(format!("{kind} {creds}"))
    }
}

/// `import.http`'s `client` block: its credentials become an `Authorization` header; the
/// transport settings are not implemented (the module is fetched with the defaults).
#[derive(Default)]
struct HttpClientArgs {
    authorization: Option<String>,
}

impl Arguments for HttpClientArgs {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&[
            "oauth2",
            "tls_config",
            "proxy_url",
            "no_proxy",
            "proxy_from_environment",
            "proxy_connect_header",
            "http_headers",
            "enable_http2",
            "follow_redirects",
        ]);
        let bearer = secret_or_file(r, "bearer_token", "bearer_token_file").map(|t| format!("Bearer {t}"));
        let basic = r.block::<BasicAuthArgs>("basic_auth").map(|b| b.0);
        let authorization = r.block::<AuthorizationArgs>("authorization").map(|a| a.0);
        let given = [&bearer, &basic, &authorization].iter().filter(|x| x.is_some()).count();
        if given > 1 {
            r.error("", "at most one of bearer_token, bearer_token_file, basic_auth and authorization may be set");
        }
        HttpClientArgs { authorization: bearer.or(basic).or(authorization) }
    }
}

/// `import.http`'s arguments.
#[derive(Default)]
struct HttpArgs {
    url: String,
    method: String,
    headers: std::collections::BTreeMap<String, String>,
    body: Option<String>,
    poll_frequency: Duration,
    poll_timeout: Duration,
    client: HttpClientArgs,
}

impl Arguments for HttpArgs {
    fn decode(r: &mut Reader<'_>) -> Self {
        HttpArgs {
            url: r.get("url"),
            method: r.get("method"),
            headers: r.get("headers"),
            body: r.opt("body"),
            poll_frequency: r.get::<Dur>("poll_frequency").0,
            poll_timeout: r.get::<Dur>("poll_timeout").0,
            client: r.block_or_default("client"),
        }
    }
}

/// `import.git`'s arguments.
#[derive(Default)]
struct GitArgs {
    repository: String,
    revision: String,
    path: String,
    pull_frequency: Duration,
}

impl Arguments for GitArgs {
    fn decode(r: &mut Reader<'_>) -> Self {
        // git's own credential helpers and SSH configuration apply instead.
        r.unsupported(&["basic_auth", "ssh_key"]);
        GitArgs { repository: r.get("repository"), revision: r.get("revision"), path: r.get("path"), pull_frequency: r.get::<Dur>("pull_frequency").0 }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        r.check(
            !matches!(self.revision.as_str(), "FETCH_HEAD" | "ORIG_HEAD" | "MERGE_HEAD" | "CHERRY_PICK_HEAD"),
            &["revision"],
            format!("revision {:?} is not allowed: name a branch, tag or commit", self.revision),
        );
    }
}

/// The import blocks' argument rules, for `alloy validate` and the load (the controller
/// reads imports itself, so they have no build or apply).
pub const REGISTRATIONS: [Registration; 4] = [
    Registration::checked::<FileArgs>("import.file"),
    Registration::checked::<StringArgs>("import.string"),
    Registration::checked::<HttpArgs>("import.http"),
    Registration::checked::<GitArgs>("import.git"),
];
