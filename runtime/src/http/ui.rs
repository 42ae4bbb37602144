//! A small server-rendered UI: the component list with health at `/`, and a page per
//! component at `/component/{id}` with its arguments, exports, debug info and, for custom
//! components and `foreach`, the components of its modules. Upstream ships a single-page
//! app; this one needs no JavaScript and reads the same data as the web API.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::api::ComponentJson;
use crate::controller::{ComponentInfo, Controller};

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

fn page(title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{} · Alloy</title><style>\
         body{{font-family:system-ui,sans-serif;margin:2em;color:#222}}table{{border-collapse:collapse}}\
         td,th{{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:left}}\
         .healthy{{color:#1a7f37}}.unhealthy{{color:#cf222e}}.unknown,.exited{{color:#9a6700}}\
         pre{{background:#f6f8fa;padding:1em;overflow:auto}}</style></head>\n<body>\n{}\n</body></html>\n",
        esc(title),
        body
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

fn table(list: &[ComponentInfo]) -> String {
    let mut rows = String::new();
    for i in list {
        // A generated component shows what the user wrote it as (`alloy otel`'s collector IDs).
        let origin = i.origin.as_deref().map(|o| format!(" <span class=\"origin\">({})</span>", esc(o))).unwrap_or_default();
        rows.push_str(&format!(
            "<tr><td><a href=\"/component/{}\">{}</a>{origin}</td><td class=\"{}\">{}</td><td>{}</td></tr>\n",
            esc(&global_id(&i.module_id, &i.local_id)),
            esc(&i.local_id),
            i.health.state.as_str(),
            i.health.state.as_str(),
            esc(&i.health.message)
        ));
    }
    format!("<table><tr><th>component</th><th>health</th><th>message</th></tr>\n{rows}</table>")
}

pub async fn index(State(c): State<Controller>) -> Response {
    let list = c.components();
    let state = if c.is_ready() { "ready" } else { "not ready" };
    page("Components", &format!("<h1>Components</h1>\n<p>Alloy is {state}; {} components.</p>\n{}", list.len(), table(&list)))
}

pub async fn component(State(c): State<Controller>, Path(id): Path<String>) -> Response {
    let Some(info) = c.component(&id) else {
        return super::text(StatusCode::NOT_FOUND, "404 page not found\n");
    };
    let json = serde_json::to_value(ComponentJson::from_info(&info)).unwrap_or_default();
    let section = |name: &str, key: &str| match json.get(key) {
        Some(v) if v.as_array().is_some_and(|a| !a.is_empty()) => {
            format!("<h2>{name}</h2>\n<pre>{}</pre>\n", esc(&serde_json::to_string_pretty(v).unwrap_or_default()))
        }
        _ => String::new(),
    };
    // References are local IDs of the same module.
    let links = |ids: &[String]| {
        ids.iter().map(|x| format!("<a href=\"/component/{}\">{}</a>", esc(&global_id(&info.module_id, x)), esc(x))).collect::<Vec<_>>().join(", ")
    };
    let mut body = format!(
        "<p><a href=\"/\">← components</a></p>\n<h1>{}</h1>\n<p>health: <span class=\"{}\">{}</span> — {}</p>\n",
        esc(&id),
        info.health.state.as_str(),
        info.health.state.as_str(),
        esc(&info.health.message)
    );
    if !info.references_to.is_empty() {
        body.push_str(&format!("<p>references: {}</p>\n", links(&info.references_to)));
    }
    if !info.referenced_by.is_empty() {
        body.push_str(&format!("<p>referenced by: {}</p>\n", links(&info.referenced_by)));
    }
    body.push_str(&section("Arguments", "arguments"));
    body.push_str(&section("Exports", "exports"));
    body.push_str(&section("Debug info", "debugInfo"));
    // A custom component runs one module; a foreach one per child.
    let mut modules: Vec<(String, Vec<ComponentInfo>)> = c.module_components(&id).map(|l| vec![(id.clone(), l)]).unwrap_or_default();
    modules.extend(c.child_modules(&id).into_iter().filter_map(|m| c.module_components(&m).map(|l| (m, l))));
    for (module, list) in modules {
        body.push_str(&format!("<h2>Module {}</h2>\n{}\n", esc(&module), table(&list)));
    }
    page(&id, &body)
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn escapes_markup() {
        assert_eq!(esc("<a href=\"x\">&'</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
    }
}
