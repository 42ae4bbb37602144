//! The web UI, served from the binary: the component list (`/`), a page per component
//! (`/component/{id}`), the pipeline graph of the root or of a module (`/graph[/{module}]`)
//! and a live-debugging console (`/debug/{id}`), all under `--server.http.ui-path-prefix`.
//!
//! The list and component pages are rendered here and read without JavaScript; the small
//! scripts in `assets/` add search and filters, the reload button, the graph (layout and
//! data-flow rates from `/api/v0/web/graph`) and the live-debugging stream. Every link is
//! relative to the page's `<base href="{prefix}/">`, so the UI works behind a reverse proxy.

mod alloy_text;

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;

use super::api::ComponentJson;
use crate::controller::{ComponentInfo, Controller};

/// `--server.http.ui-path-prefix` without its trailing slash: "" for the root.
#[derive(Clone, Debug, Default)]
pub struct Prefix(pub Arc<str>);

impl Prefix {
    /// Normalises a flag value: a leading slash, no trailing one (`/` → "").
    pub fn new(flag: &str) -> Self {
        let trimmed = flag.trim_matches('/');
        Prefix(if trimmed.is_empty() { "".into() } else { format!("/{trimmed}").into() })
    }
}

/// Escapes text for HTML element content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Which navigation entry a page belongs to.
#[derive(PartialEq, Eq, Clone, Copy)]
enum Nav {
    Components,
    Graph,
    Other,
}

/// A whole page: header with navigation and the reload button, then `body`; `script` is
/// one of `assets/`.
fn page(prefix: &Prefix, title: &str, nav: Nav, body: &str, script: &str) -> Response {
    let link = |to: &str, label: &str, this: Nav| {
        let class = if nav == this { " class=\"active\"" } else { "" };
        format!("<a href=\"{to}\"{class}>{label}</a>")
    };
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <base href=\"{base}/\"><title>{title} · Alloy</title>\
         <link rel=\"stylesheet\" href=\"assets/style.css\"></head>\n<body>\n\
         <header><a class=\"brand\" href=\"./\">Alloy</a><nav>{list}{graph}</nav>\
         <form id=\"reload-form\" method=\"post\" action=\"-/reload\"><button id=\"reload\" type=\"submit\">Reload configuration</button></form>\
         </header>\n<div id=\"reload-result\" role=\"status\" hidden></div>\n<main>\n{body}\n</main>\n\
         <script src=\"assets/app.js\"></script>{script}\n</body></html>\n",
        base = esc(&prefix.0),
        title = esc(title),
        list = link("./", "Components", Nav::Components),
        graph = link("graph", "Graph", Nav::Graph),
        script = if script.is_empty() { String::new() } else { format!("<script src=\"assets/{script}\"></script>") },
    );
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

/// The global ID of a component of module `module` (`MODULE/LOCAL` inside a module).
fn global_id(module: &str, local: &str) -> String {
    if module.is_empty() {
        local.to_string()
    } else {
        format!("{module}/{local}")
    }
}

/// A path segment list (IDs hold `/` between modules) with each segment percent-encoded.
fn href_path(id: &str) -> String {
    id.split('/').map(percent_encode).collect::<Vec<_>>().join("/")
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn health_badge(state: &str) -> String {
    format!("<span class=\"badge {state}\">{state}</span>")
}

/// The component table of a module; rows carry what the list page's filters read.
fn table(list: &[ComponentInfo]) -> String {
    let mut rows = String::new();
    for i in list {
        // A generated component shows what the user wrote it as (`alloy otel`'s collector IDs).
        let origin = i.origin.as_deref().map(|o| format!(" <span class=\"origin\">({})</span>", esc(o))).unwrap_or_default();
        let id = global_id(&i.module_id, &i.local_id);
        let state = i.health.state.as_str();
        rows.push_str(&format!(
            "<tr class=\"component\" data-id=\"{id_attr}\" data-health=\"{state}\"><td><a href=\"component/{href}\">{local}</a>{origin}</td>\
             <td>{name}</td><td>{badge}</td><td class=\"message\">{message}</td></tr>\n",
            id_attr = esc(&id),
            href = esc(&href_path(&id)),
            local = esc(&i.local_id),
            name = esc(&i.name),
            badge = health_badge(state),
            message = esc(&i.health.message)
        ));
    }
    format!("<table class=\"components\"><thead><tr><th>component</th><th>type</th><th>health</th><th>message</th></tr></thead><tbody>\n{rows}</tbody></table>")
}

fn filters(list: &[ComponentInfo]) -> String {
    let count = |s: &str| list.iter().filter(|i| i.health.state.as_str() == s).count();
    let options: String = ["healthy", "unhealthy", "unknown", "exited"].iter().map(|s| format!("<option value=\"{s}\">{s} ({})</option>", count(s))).collect();
    format!(
        "<div class=\"filters\"><input id=\"search\" type=\"search\" placeholder=\"Search components\" aria-label=\"Search components\">\
         <select id=\"health-filter\" aria-label=\"Health\"><option value=\"\">any health ({})</option>{options}</select></div>",
        list.len()
    )
}

pub async fn index(State(c): State<Controller>, Extension(prefix): Extension<Prefix>) -> Response {
    let mut list = c.components();
    list.sort_by(|a, b| a.local_id.cmp(&b.local_id));
    let state = if c.is_ready() { "ready" } else { "not ready" };
    let body = format!(
        "<h1>Components</h1>\n<p>Alloy is {state}; {} components. <a href=\"graph\">Show the graph</a></p>\n{}\n{}",
        list.len(),
        filters(&list),
        table(&list)
    );
    page(&prefix, "Components", Nav::Components, &body, "")
}

/// A section of Alloy text, or nothing when the body is empty.
fn alloy_section(title: &str, id: &str, json: &serde_json::Value, key: &str) -> String {
    match json.get(key).and_then(|v| v.as_array()) {
        Some(stmts) if !stmts.is_empty() => {
            format!("<section><h2>{title}</h2>\n<pre class=\"alloy\" id=\"{id}\">{}</pre></section>\n", esc(&alloy_text::body(stmts, 0)))
        }
        _ => String::new(),
    }
}

fn history(info: &ComponentInfo) -> String {
    if info.health_history.is_empty() {
        return String::new();
    }
    let rows: String = info
        .health_history
        .iter()
        .rev()
        .map(|h| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&crate::services::logging::rfc3339_nanos(h.updated)),
                health_badge(h.state.as_str()),
                esc(&h.message)
            )
        })
        .collect();
    format!("<section><h2>Health history</h2>\n<table id=\"health-history\"><thead><tr><th>since</th><th>health</th><th>message</th></tr></thead><tbody>{rows}</tbody></table></section>\n")
}

pub async fn component(State(c): State<Controller>, Extension(prefix): Extension<Prefix>, Path(id): Path<String>) -> Response {
    let Some(info) = c.component(&id) else {
        return super::text(StatusCode::NOT_FOUND, "404 page not found\n");
    };
    let json = serde_json::to_value(ComponentJson::from_info(&info)).unwrap_or_default();
    // References are local IDs of the same module.
    let links = |ids: &[String]| {
        ids.iter().map(|x| format!("<a href=\"component/{}\">{}</a>", esc(&href_path(&global_id(&info.module_id, x))), esc(x))).collect::<Vec<_>>().join(", ")
    };
    let state = info.health.state.as_str();
    let module_graph = if info.module_id.is_empty() { "graph".to_string() } else { format!("graph/{}", href_path(&info.module_id)) };
    let mut body = format!(
        "<p class=\"crumbs\"><a href=\"./\">components</a> · <a href=\"{graph}\">graph</a></p>\n<h1>{id}</h1>\n<p class=\"kind\">{name}{origin}</p>\n\
         <p id=\"health\">{badge} <span class=\"message\">{message}</span></p>\n",
        graph = esc(&module_graph),
        id = esc(&id),
        name = esc(&info.name),
        origin = info.origin.as_deref().map(|o| format!(" — written as {}", esc(o))).unwrap_or_default(),
        badge = health_badge(state),
        message = esc(&info.health.message),
    );
    if json.get("liveDebuggingEnabled").and_then(serde_json::Value::as_bool) == Some(true) {
        body.push_str(&format!("<p><a id=\"live-debugging\" href=\"debug/{}\">Live debugging</a></p>\n", esc(&href_path(&id))));
    }
    if !info.references_to.is_empty() {
        body.push_str(&format!("<p id=\"references\">references: {}</p>\n", links(&info.references_to)));
    }
    if !info.referenced_by.is_empty() {
        body.push_str(&format!("<p id=\"referenced-by\">referenced by: {}</p>\n", links(&info.referenced_by)));
    }
    body.push_str(&alloy_section("Arguments", "arguments", &json, "arguments"));
    body.push_str(&alloy_section("Exports", "exports", &json, "exports"));
    body.push_str(&alloy_section("Debug info", "debug-info", &json, "debugInfo"));
    body.push_str(&history(&info));
    // A custom component or import runs one module; a foreach one per child.
    for module in &info.created_module_ids {
        let Some(mut list) = c.module_components(module) else { continue };
        list.sort_by(|a, b| a.local_id.cmp(&b.local_id));
        body.push_str(&format!(
            "<section class=\"module\"><h2>Module {m} <a class=\"module-graph\" href=\"graph/{href}\">graph</a></h2>\n{table}</section>\n",
            m = esc(module),
            href = esc(&href_path(module)),
            table = table(&list)
        ));
    }
    page(&prefix, &id, Nav::Other, &body, "")
}

/// The graph of the root module.
pub async fn graph(Extension(prefix): Extension<Prefix>) -> Response {
    graph_page(&prefix, "")
}

/// The graph of a module (a custom component's or a foreach child's).
pub async fn module_graph(State(c): State<Controller>, Extension(prefix): Extension<Prefix>, Path(module): Path<String>) -> Response {
    if c.module_components(&module).is_none() {
        return super::text(StatusCode::NOT_FOUND, "404 page not found\n");
    }
    graph_page(&prefix, &module)
}

fn graph_page(prefix: &Prefix, module: &str) -> Response {
    let title = if module.is_empty() { "Graph".to_string() } else { format!("Graph of {module}") };
    let owner = if module.is_empty() { String::new() } else { format!(" <a href=\"component/{}\">{}</a>", esc(&href_path(module)), esc(module)) };
    let body = format!(
        "<h1>{title}{owner}</h1>\n\
         <div class=\"graph-controls\"><label>rate window <input id=\"window\" type=\"range\" min=\"1\" max=\"60\" value=\"5\"> <output id=\"window-value\">5 s</output></label>\
         <span id=\"graph-status\"></span></div>\n\
         <div id=\"graph-view\" data-module=\"{module}\"><noscript>The graph needs JavaScript; the <a href=\"./\">component list</a> does not.</noscript></div>\n\
         <p class=\"legend\">Edges carry the signal named on them and the items per second the sending component passed on in the last window.\
          Click a component to open it.</p>",
        title = esc(&title),
        module = esc(module),
    );
    page(prefix, &title, Nav::Graph, &body, "graph.js")
}

/// The live-debugging console of one component.
pub async fn debug(State(c): State<Controller>, Extension(prefix): Extension<Prefix>, Path(id): Path<String>) -> Response {
    if c.component(&id).is_none() {
        return super::text(StatusCode::NOT_FOUND, "404 page not found\n");
    }
    let signals: String = ["otel_trace", "otel_metric", "otel_log", "prometheus_metric", "loki_log", "target"]
        .iter()
        .map(|t| format!("<label><input type=\"checkbox\" class=\"signal\" value=\"{t}\" checked> {t}</label>"))
        .collect();
    let body = format!(
        "<p class=\"crumbs\"><a href=\"./\">components</a> · <a href=\"component/{href}\">{id}</a></p>\n<h1>Live debugging: {id}</h1>\n\
         <div class=\"debug-controls\"><button id=\"pause\" type=\"button\">Pause</button><button id=\"clear\" type=\"button\">Clear</button>\
         <label>sampling <input id=\"sample\" type=\"range\" min=\"0\" max=\"100\" value=\"100\"> <output id=\"sample-value\">100 %</output></label>\
         <span class=\"signals\">{signals}</span><span id=\"debug-status\"></span></div>\n\
         <div id=\"debug-view\" data-component=\"{id}\"><noscript>Live debugging needs JavaScript.</noscript><div id=\"records\"></div></div>",
        href = esc(&href_path(&id)),
        id = esc(&id),
    );
    page(&prefix, &format!("Live debugging {id}"), Nav::Other, &body, "debug.js")
}

/// Files of `assets/`, compiled into the binary.
pub async fn asset(Path(file): Path<String>) -> Response {
    let (body, content_type) = match file.as_str() {
        "style.css" => (include_str!("assets/style.css"), "text/css; charset=utf-8"),
        "app.js" => (include_str!("assets/app.js"), "text/javascript; charset=utf-8"),
        "graph.js" => (include_str!("assets/graph.js"), "text/javascript; charset=utf-8"),
        "debug.js" => (include_str!("assets/debug.js"), "text/javascript; charset=utf-8"),
        _ => return super::text(StatusCode::NOT_FOUND, "404 page not found\n"),
    };
    (StatusCode::OK, [(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-cache")], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(esc("<a href=\"x\">&'</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
    }

    #[test]
    fn prefixes_are_normalised() {
        assert_eq!(&*Prefix::new("/").0, "");
        assert_eq!(&*Prefix::new("").0, "");
        assert_eq!(&*Prefix::new("/alloy/").0, "/alloy");
        assert_eq!(&*Prefix::new("a/b").0, "/a/b");
    }

    #[test]
    fn ids_are_percent_encoded_per_segment() {
        assert_eq!(href_path("foreach.x/foreach_a 1/local.file.a"), "foreach.x/foreach_a%201/local.file.a");
    }
}
