//! Prometheus service discovery configs → `discovery.*` blocks. Most kinds are a table of
//! fields in Alloy's declaration order, each with Prometheus' default (the value when the YAML
//! leaves it out) and the Alloy component's (upstream writes a field only when its value differs
//! from that one). Mostly the two agree; where they do not, Prometheus' default is written out.

use super::{check_max_version, dur, unsupported};
use crate::builder::{Block, Expr};
use crate::diag::Diagnostics;
use crate::http::{self, HttpClient};
use crate::values::{go_duration, parse_prom_duration};
use crate::yaml::{self, Errors, Fields, Node};

#[derive(Clone, Copy)]
enum K {
    Str,
    Int,
    Bool,
    Dur,
    Strs,
    Map,
    /// The whole HTTP client, inlined.
    Http,
    /// The whole HTTP client, inlined, in a component without Alloy defaults (`discovery.http`
    /// has no `SetToDefault`, so upstream compares with zero values: `follow_redirects = true`
    /// and `enable_http2 = true` are written).
    HttpZeroDefaults,
    /// Only proxy, tls_config, follow_redirects and enable_http2 (auth is not supported).
    HttpNoAuth,
    /// digitalocean's client: proxy, follow_redirects and enable_http2 (auth and TLS are refused).
    HttpDigitalOcean,
    /// A `tls_config` block only.
    Tls,
    /// `filters: [{name, values}]` → `filter { }` blocks.
    Filters,
}

/// One field: its YAML key (also its Alloy name), kind, Prometheus' default and the Alloy
/// component's; a `required` field is printed even when it is empty.
#[derive(Clone, Copy)]
struct F {
    key: &'static str,
    kind: K,
    default: &'static str,
    alloy: &'static str,
    required: bool,
}

const fn opt(key: &'static str, kind: K, default: &'static str) -> F {
    F { key, kind, default, alloy: default, required: false }
}

/// A field whose Prometheus default (`prom`) is not the Alloy component's (`alloy`).
const fn differs(key: &'static str, kind: K, prom: &'static str, alloy: &'static str) -> F {
    F { key, kind, default: prom, alloy, required: false }
}

const fn req(key: &'static str, kind: K) -> F {
    F { key, kind, default: "", alloy: "", required: true }
}

const fn s(key: &'static str) -> F {
    opt(key, K::Str, "")
}

const fn strs(key: &'static str) -> F {
    opt(key, K::Strs, "")
}

const fn refresh(default: &'static str) -> F {
    opt("refresh_interval", K::Dur, default)
}

const fn inline(kind: K) -> F {
    opt("", kind, "")
}

const HTTP: F = inline(K::Http);
const PORT_80: F = opt("port", K::Int, "80");
const TAG_SEPARATOR: F = opt("tag_separator", K::Str, ",");
const FILTERS: F = opt("filters", K::Filters, "");
const TLS: F = opt("tls_config", K::Tls, "");

/// The table-driven kinds: (kind, component, fields in Alloy's order).
const TABLE: &[(&str, &str, &[F])] = {
    use K::*;
    &[
        (
            "consul",
            "discovery.consul",
            &[
                opt("server", Str, "localhost:8500"),
                s("token"),
                s("datacenter"),
                s("namespace"),
                s("partition"),
                TAG_SEPARATOR,
                opt("scheme", Str, "http"),
                s("username"),
                s("password"),
                opt("allow_stale", Bool, "true"),
                strs("services"),
                strs("tags"),
                opt("node_meta", Map, ""),
                refresh("30s"),
                HTTP,
            ],
        ),
        ("digitalocean", "discovery.digitalocean", &[refresh("1m"), PORT_80, inline(HttpDigitalOcean)]),
        ("dns", "discovery.dns", &[req("names", Strs), refresh("30s"), opt("type", Str, "SRV"), opt("port", Int, "0")]),
        (
            "docker",
            "discovery.docker",
            &[req("host", Str), PORT_80, opt("host_networking_host", Str, "localhost"), refresh("1m"), opt("match_first_network", Bool, "true"), FILTERS, HTTP],
        ),
        ("dockerswarm", "discovery.dockerswarm", &[req("host", Str), req("role", Str), PORT_80, FILTERS, refresh("1m"), HTTP]),
        (
            "ec2",
            "discovery.ec2",
            &[s("endpoint"), s("region"), s("access_key"), s("secret_key"), s("profile"), s("role_arn"), refresh("1m"), PORT_80, FILTERS, HTTP],
        ),
        (
            "lightsail",
            "discovery.lightsail",
            &[s("endpoint"), s("region"), s("access_key"), s("secret_key"), s("profile"), s("role_arn"), refresh("1m"), PORT_80, HTTP],
        ),
        ("file", "discovery.file", &[req("files", Strs), refresh("5m")]),
        ("gce", "discovery.gce", &[req("project", Str), req("zone", Str), s("filter"), refresh("1m"), PORT_80, TAG_SEPARATOR]),
        // Prometheus refreshes every 60s; `discovery.http`'s zero default makes that explicit.
        ("http", "discovery.http", &[inline(HttpZeroDefaults), differs("refresh_interval", Dur, "1m", "0s"), req("url", Str)]),
        ("ionos", "discovery.ionos", &[req("datacenter_id", Str), HTTP, refresh("1m"), PORT_80]),
        // Prometheus' Kuma SD refreshes every 15s, Alloy's every 30s.
        ("kuma", "discovery.kuma", &[req("server", Str), differs("refresh_interval", Dur, "15s", "30s"), opt("fetch_timeout", Dur, "2m"), HTTP]),
        ("linode", "discovery.linode", &[refresh("1m"), PORT_80, TAG_SEPARATOR, s("region"), HTTP]),
        ("marathon", "discovery.marathon", &[req("servers", Strs), refresh("30s"), s("auth_token"), s("auth_token_file"), HTTP]),
        ("nerve", "discovery.nerve", &[req("servers", Strs), req("paths", Strs), opt("timeout", Dur, "10s")]),
        ("serverset", "discovery.serverset", &[req("servers", Strs), req("paths", Strs), opt("timeout", Dur, "10s")]),
        (
            "openstack",
            "discovery.openstack",
            &[
                s("identity_endpoint"),
                s("username"),
                s("userid"),
                s("password"),
                s("project_name"),
                s("project_id"),
                s("domain_name"),
                s("domain_id"),
                s("application_credential_name"),
                s("application_credential_id"),
                s("application_credential_secret"),
                req("role", Str),
                req("region", Str),
                refresh("1m"),
                PORT_80,
                opt("all_tenants", Bool, "false"),
                TLS,
                opt("availability", Str, "public"),
            ],
        ),
        (
            "ovhcloud",
            "discovery.ovhcloud",
            &[
                opt("endpoint", Str, "ovh-eu"),
                req("application_key", Str),
                req("application_secret", Str),
                req("consumer_key", Str),
                refresh("1m"),
                req("service", Str),
            ],
        ),
        (
            "scaleway",
            "discovery.scaleway",
            &[
                req("project_id", Str),
                req("role", Str),
                opt("api_url", Str, "https://api.scaleway.com"),
                opt("zone", Str, "fr-par-1"),
                req("access_key", Str),
                s("secret_key"),
                s("secret_key_file"),
                s("name_filter"),
                strs("tags_filter"),
                refresh("1m"),
                PORT_80,
                inline(HttpNoAuth),
            ],
        ),
        (
            "triton",
            "discovery.triton",
            &[
                req("account", Str),
                opt("role", Str, "container"),
                req("dns_suffix", Str),
                req("endpoint", Str),
                strs("groups"),
                opt("port", Int, "9163"),
                refresh("1m"),
                opt("version", Int, "1"),
                TLS,
            ],
        ),
    ]
};

fn table(kind: &str) -> Option<(&'static str, &'static [F])> {
    TABLE.iter().find(|(k, _, _)| *k == kind).map(|&(_, name, fields)| (name, fields))
}

/// The Prometheus SD kinds (the YAML keys without `_sd_configs`), sorted as Prometheus' loader
/// orders them. [`convert`] says which of them are converted.
pub const KINDS: &[&str] = &[
    "azure",
    "consul",
    "digitalocean",
    "dns",
    "docker",
    "dockerswarm",
    "ec2",
    "eureka",
    "file",
    "gce",
    "hetzner",
    "http",
    "ionos",
    "kubernetes",
    "kuma",
    "lightsail",
    "linode",
    "marathon",
    "nerve",
    "nomad",
    "openstack",
    "ovhcloud",
    "puppetdb",
    "scaleway",
    "serverset",
    "stackit",
    "triton",
    "uyuni",
    "vultr",
];

/// A converted SD: its block and the diagnostics about it.
pub struct Sd {
    pub block: Block,
    pub diags: Diagnostics,
}

fn value(n: &Node, k: K, errs: &mut Errors) -> Expr {
    match k {
        K::Int => Expr::Int(yaml::int(n, "int", errs)),
        K::Bool => Expr::Bool(yaml::boolean(n, errs)),
        K::Dur => Expr::Str(go_duration(dur(n, errs))),
        K::Strs => Expr::strings(&yaml::strings(n, errs)),
        K::Map => Expr::string_map(&yaml::string_map(n, errs)),
        _ => Expr::Str(yaml::string(n, errs)),
    }
}

fn default_value(text: &str, k: K) -> Expr {
    match k {
        K::Int => Expr::Int(text.parse().unwrap_or(0)),
        K::Bool => Expr::Bool(text == "true"),
        K::Dur => Expr::Str(go_duration(parse_prom_duration(text).unwrap_or(0))),
        K::Strs => Expr::Array(Vec::new()),
        K::Map => Expr::Object(Vec::new()),
        _ => Expr::Str(text.to_string()),
    }
}

/// The inlined HTTP client keys as the SD kind takes them (`k` is one of the `Http*` kinds),
/// with upstream's validation of them, in its order.
fn write_http(b: &mut Block, k: K, c: &HttpClient, diags: &mut Diagnostics) {
    match k {
        K::Http => {
            check_max_version(c, diags);
            return http::write_all(b, c);
        }
        K::HttpZeroDefaults => {
            check_max_version(c, diags);
            http::write_auth(b, c);
            http::write_proxy(b, &c.proxy);
            b.opt_block(http::tls_block(&c.tls));
            b.opt_bool("follow_redirects", c.follow_redirects, false).opt_bool("enable_http2", c.enable_http2, false);
            return;
        }
        K::HttpDigitalOcean => {
            let what = "digitalocean_sd_configs";
            if c.basic_auth.is_some() {
                unsupported(diags, &format!("{what} basic_auth"));
            }
            // Prometheus' loader turns a bearer token (or its file) into `authorization`, so
            // upstream refuses it too, and its bearer token attributes are never written.
            if c.authorization.is_some() {
                unsupported(diags, &format!("{what} authorization"));
            }
            if c.oauth2.is_some() {
                unsupported(diags, &format!("{what} oauth2"));
            }
            if c.tls != http::Tls::default() {
                unsupported(diags, &format!("{what} tls_config"));
            }
            check_max_version(c, diags);
            http::write_proxy(b, &c.proxy);
        }
        _ => {
            // Upstream validates nothing of scaleway's client; we still name its http_headers.
            crate::prometheus::check_http_headers(c, diags);
            http::write_proxy(b, &c.proxy);
            b.opt_block(http::tls_block(&c.tls));
        }
    }
    b.opt_bool("follow_redirects", c.follow_redirects, true).opt_bool("enable_http2", c.enable_http2, true);
}

/// Converts one SD config of `kind` (the YAML key without `_sd_configs`); `None` when the kind
/// is not converted.
pub fn convert(kind: &str, node: &Node, label: &str, errs: &mut Errors) -> Option<Sd> {
    match kind {
        "azure" => return Some(azure(node, label, errs)),
        "kubernetes" => return Some(kubernetes(node, label, errs)),
        _ => {}
    }
    let (name, fields) = table(kind)?;
    let mut diags = Diagnostics::new();
    let mut f = Fields::new(node, "config.plain", errs);
    let mut b = Block::new(name, Some(label));
    for field in fields {
        match field.kind {
            k @ (K::Http | K::HttpZeroDefaults | K::HttpNoAuth | K::HttpDigitalOcean) => {
                let mut client = http::read_inline(&mut f, errs);
                if kind == "consul" {
                    consul_basic_auth(node, &mut client, errs);
                }
                write_http(&mut b, k, &client, &mut diags)
            }
            K::Tls => {
                if let Some(n) = f.get(field.key) {
                    b.opt_block(http::tls_block(&http::read_tls(n, errs)));
                }
            }
            K::Filters => {
                for item in f.get(field.key).map_or(&[][..], |n| yaml::seq(n, "[]Filter", errs)) {
                    let mut g = Fields::new(item, "config.Filter", errs);
                    let name = g.string("name", errs);
                    let values = g.get("values").map(|n| yaml::strings(n, errs)).unwrap_or_default();
                    g.finish(errs);
                    let mut fb = Block::new("filter", None);
                    fb.attr("name", Expr::Str(name)).attr("values", Expr::strings(&values));
                    b.block(fb);
                }
            }
            k => {
                let v = f.get(field.key).map(|n| value(n, k, errs)).unwrap_or_else(|| default_value(field.default, k));
                if field.required || v != default_value(field.alloy, k) {
                    b.attr(field.key, v);
                }
            }
        }
    }
    validate(kind, node, errs);
    // Prometheus keys Alloy has no field for.
    for k in ["path_prefix", "filter", "api_key", "api_url", "http_headers", "label_selector", "host_networking_host"] {
        f.ignore(k);
    }
    f.finish(errs);
    Some(Sd { block: b, diags })
}

/// The checks of Prometheus' SD loaders that refuse the whole file (upstream's Critical),
/// for the settings that are most often left out or mistyped.
fn validate(kind: &str, node: &Node, errs: &mut Errors) {
    let text = |k: &str| node.get(k).and_then(Node::scalar).unwrap_or_default().to_string();
    let list_empty = |k: &str| node.get(k).is_none_or(|n| !matches!(&n.kind, yaml::Kind::Seq(items) if !items.is_empty()));
    match kind {
        "http" => {
            let url = text("url");
            if url.is_empty() {
                return errs.hard("URL is missing");
            }
            let Some((scheme, rest)) = url.split_once("://") else {
                return errs.hard("URL scheme must be 'http' or 'https'");
            };
            if scheme != "http" && scheme != "https" {
                return errs.hard("URL scheme must be 'http' or 'https'");
            }
            if rest.split(['/', '?', '#']).next().unwrap_or_default().is_empty() {
                errs.hard("host is missing in URL");
            }
        }
        "dns" => {
            if list_empty("names") {
                return errs.hard("DNS-SD config must contain at least one SRV record name");
            }
            let ty = node.get("type").and_then(Node::scalar).unwrap_or("SRV");
            let port = node.get("port").and_then(Node::scalar).and_then(|p| p.parse::<i64>().ok()).unwrap_or(0);
            match ty.to_uppercase().as_str() {
                "SRV" => {}
                "A" | "AAAA" | "MX" | "NS" if port == 0 => errs.hard("a port is required in DNS-SD configs for all record types except SRV"),
                "A" | "AAAA" | "MX" | "NS" => {}
                _ => errs.hard(format!("invalid DNS-SD records type {ty}")),
            }
        }
        "file" if list_empty("files") => errs.hard("file service discovery config must contain at least one path name"),
        _ => {}
    }
}

/// Prometheus' consul loader turns `username`/`password` into the client's basic auth.
fn consul_basic_auth(node: &Node, client: &mut HttpClient, errs: &mut Errors) {
    let text = |k: &str| node.get(k).filter(|n| !n.is_null()).and_then(Node::scalar).unwrap_or_default().to_string();
    let (username, password) = (text("username"), text("password"));
    if username.is_empty() && password.is_empty() {
        return;
    }
    if client.basic_auth.is_some() {
        errs.hard("at most one of consul SD configuration username and password and basic auth can be configured");
        return;
    }
    client.basic_auth = Some(http::BasicAuth { username, password, password_file: String::new() });
}

const REFRESH_AZURE: i64 = 5 * 60 * 1_000_000_000;

fn azure(node: &Node, label: &str, errs: &mut Errors) -> Sd {
    let mut diags = Diagnostics::new();
    let mut f = Fields::new(node, "azure.plain", errs);
    let environment = f.string("environment", errs);
    let port = f.get("port").map(|n| yaml::int(n, "int", errs)).unwrap_or(80);
    let subscription = f.string("subscription_id", errs);
    let tenant = f.string("tenant_id", errs);
    let client_id = f.string("client_id", errs);
    let client_secret = f.string("client_secret", errs);
    let method = f.string_or("authentication_method", "OAuth", errs);
    let refresh = f.get("refresh_interval").map(|n| dur(n, errs)).unwrap_or(REFRESH_AZURE);
    let resource_group = f.string("resource_group", errs);
    let c = http::read_inline(&mut f, errs);
    f.finish(errs);
    if !matches!(method.as_str(), "OAuth" | "ManagedIdentity" | "SDK" | "WorkloadIdentity") {
        errs.hard(format!("unknown authentication_method {method:?}. Supported methods are \"OAuth\", \"ManagedIdentity\", \"SDK\" or \"WorkloadIdentity\""));
    }
    check_max_version(&c, &mut diags);
    let mut b = Block::new("discovery.azure", Some(label));
    if !environment.is_empty() {
        b.opt_str("environment", &environment, "AzurePublicCloud");
    }
    b.opt_int("port", port, 80).opt_str("subscription_id", &subscription, "");
    match method.as_str() {
        "ManagedIdentity" => {
            let mut m = Block::new("managed_identity", None);
            m.attr("client_id", Expr::Str(client_id));
            b.block(m);
        }
        "SDK" => {
            let mut m = Block::new("sdk_auth", None);
            m.opt_str("tenant_id", &tenant, "");
            b.block(m);
        }
        "WorkloadIdentity" => {
            b.block(Block::new("workload_identity", None));
        }
        _ => {
            let mut m = Block::new("oauth", None);
            m.attr("client_id", Expr::Str(client_id)).attr("tenant_id", Expr::Str(tenant)).attr("client_secret", Expr::Str(client_secret));
            b.block(m);
        }
    }
    b.opt_duration("refresh_interval", refresh, REFRESH_AZURE);
    b.opt_str("resource_group", &resource_group, "");
    http::write_proxy(&mut b, &c.proxy);
    b.opt_bool("follow_redirects", c.follow_redirects, true).opt_bool("enable_http2", c.enable_http2, true);
    b.opt_block(http::tls_block(&c.tls));
    Sd { block: b, diags }
}

fn kubernetes(node: &Node, label: &str, errs: &mut Errors) -> Sd {
    let mut diags = Diagnostics::new();
    let mut f = Fields::new(node, "kubernetes.plain", errs);
    let api_server = f.string("api_server", errs);
    let role = f.string("role", errs);
    if role.is_empty() {
        errs.hard("role missing (one of: pod, service, endpoints, endpointslice, node, ingress)");
    }
    let kubeconfig = f.string("kubeconfig_file", errs);
    let c = http::read_inline(&mut f, errs);
    check_max_version(&c, &mut diags);
    let mut b = Block::new("discovery.kubernetes", Some(label));
    b.opt_str("api_server", &api_server, "").attr("role", Expr::Str(role)).opt_str("kubeconfig_file", &kubeconfig, "");
    http::write_all(&mut b, &c);
    if let Some(n) = f.get("namespaces") {
        let mut g = Fields::new(n, "kubernetes.NamespaceDiscovery", errs);
        let own = g.boolean("own_namespace", false, errs);
        let names = g.get("names").map(|n| yaml::strings(n, errs)).unwrap_or_default();
        g.finish(errs);
        let mut nb = Block::new("namespaces", None);
        nb.opt_bool("own_namespace", own, false).opt_strings("names", &names);
        b.opt_block(nb);
    }
    if let Some(n) = f.get("selectors") {
        for item in yaml::seq(n, "[]kubernetes.SelectorConfig", errs) {
            let mut g = Fields::new(item, "kubernetes.SelectorConfig", errs);
            let role = g.string("role", errs);
            let l = g.string("label", errs);
            let fl = g.string("field", errs);
            g.finish(errs);
            let mut sb = Block::new("selectors", None);
            sb.attr("role", Expr::Str(role)).opt_str("label", &l, "").opt_str("field", &fl, "");
            b.block(sb);
        }
    }
    if let Some(n) = f.get("attach_metadata") {
        let mut g = Fields::new(n, "kubernetes.AttachMetadataConfig", errs);
        let node_md = g.boolean("node", false, errs);
        let ns_md = g.boolean("namespace", false, errs);
        g.finish(errs);
        let mut ab = Block::new("attach_metadata", None);
        ab.opt_bool("node", node_md, false).opt_bool("namespace", ns_md, false);
        b.opt_block(ab);
    }
    f.finish(errs);
    Sd { block: b, diags }
}
