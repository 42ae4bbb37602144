//! Prometheus service discovery configs → `discovery.*` blocks. Most kinds are a table of
//! fields in Alloy's declaration order, each with Prometheus' default (applied when the YAML
//! leaves it out) and Alloy's (a field equal to it is left out).

use crate::builder::{Block, Expr};
use crate::diag::{Diagnostics, Severity};
use crate::http;
use crate::values::parse_prom_duration;
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
    /// Only proxy, tls_config, follow_redirects and enable_http2 (auth is not supported).
    HttpNoAuth,
    /// A `tls_config` block only.
    Tls,
    /// `filters: [{name, values}]` → `filter { }` blocks.
    Filters,
}

/// (YAML key, Alloy name, kind, Prometheus default, Alloy default). A `!` Alloy default marks a
/// required attribute, printed even when empty.
type F = (&'static str, &'static str, K, &'static str, &'static str);

const HTTP: F = ("", "", K::Http, "", "");

fn table(kind: &str) -> Option<(&'static str, &'static [F])> {
    use K::*;
    Some(match kind {
        "consul" => (
            "discovery.consul",
            &[
                ("server", "server", Str, "localhost:8500", "localhost:8500"),
                ("token", "token", Str, "", ""),
                ("datacenter", "datacenter", Str, "", ""),
                ("namespace", "namespace", Str, "", ""),
                ("partition", "partition", Str, "", ""),
                ("tag_separator", "tag_separator", Str, ",", ","),
                ("scheme", "scheme", Str, "http", "http"),
                ("username", "username", Str, "", ""),
                ("password", "password", Str, "", ""),
                ("allow_stale", "allow_stale", Bool, "true", "true"),
                ("services", "services", Strs, "", ""),
                ("tags", "tags", Strs, "", ""),
                ("node_meta", "node_meta", Map, "", ""),
                ("refresh_interval", "refresh_interval", Dur, "30s", "30s"),
                HTTP,
            ],
        ),
        "digitalocean" => (
            "discovery.digitalocean",
            &[("refresh_interval", "refresh_interval", Dur, "1m", "1m"), ("port", "port", Int, "80", "80"), ("", "", HttpNoAuth, "", "")],
        ),
        "dns" => (
            "discovery.dns",
            &[
                ("names", "names", Strs, "", "!"),
                ("refresh_interval", "refresh_interval", Dur, "30s", "30s"),
                ("type", "type", Str, "SRV", "SRV"),
                ("port", "port", Int, "0", "0"),
            ],
        ),
        "docker" => (
            "discovery.docker",
            &[
                ("host", "host", Str, "", "!"),
                ("port", "port", Int, "80", "80"),
                ("host_networking_host", "host_networking_host", Str, "localhost", "localhost"),
                ("refresh_interval", "refresh_interval", Dur, "1m", "1m"),
                ("match_first_network", "match_first_network", Bool, "true", "true"),
                ("filters", "filter", Filters, "", ""),
                HTTP,
            ],
        ),
        "dockerswarm" => (
            "discovery.dockerswarm",
            &[
                ("host", "host", Str, "", "!"),
                ("role", "role", Str, "", "!"),
                ("port", "port", Int, "80", "80"),
                ("filters", "filter", Filters, "", ""),
                ("refresh_interval", "refresh_interval", Dur, "1m", "1m"),
                HTTP,
            ],
        ),
        "ec2" => (
            "discovery.ec2",
            &[
                ("endpoint", "endpoint", Str, "", ""),
                ("region", "region", Str, "", ""),
                ("access_key", "access_key", Str, "", ""),
                ("secret_key", "secret_key", Str, "", ""),
                ("profile", "profile", Str, "", ""),
                ("role_arn", "role_arn", Str, "", ""),
                ("refresh_interval", "refresh_interval", Dur, "1m", "1m"),
                ("port", "port", Int, "80", "80"),
                ("filters", "filter", Filters, "", ""),
                HTTP,
            ],
        ),
        "lightsail" => (
            "discovery.lightsail",
            &[
                ("endpoint", "endpoint", Str, "", ""),
                ("region", "region", Str, "", ""),
                ("access_key", "access_key", Str, "", ""),
                ("secret_key", "secret_key", Str, "", ""),
                ("profile", "profile", Str, "", ""),
                ("role_arn", "role_arn", Str, "", ""),
                ("refresh_interval", "refresh_interval", Dur, "1m", "1m"),
                ("port", "port", Int, "80", "80"),
                HTTP,
            ],
        ),
        "file" => ("discovery.file", &[("files", "files", Strs, "", "!"), ("refresh_interval", "refresh_interval", Dur, "5m", "5m")]),
        "gce" => (
            "discovery.gce",
            &[
                ("project", "project", Str, "", "!"),
                ("zone", "zone", Str, "", "!"),
                ("filter", "filter", Str, "", ""),
                ("refresh_interval", "refresh_interval", Dur, "1m", "1m"),
                ("port", "port", Int, "80", "80"),
                ("tag_separator", "tag_separator", Str, ",", ","),
            ],
        ),
        "http" => ("discovery.http", &[HTTP, ("refresh_interval", "refresh_interval", Dur, "1m", "1m"), ("url", "url", Str, "", "!")]),
        "ionos" => (
            "discovery.ionos",
            &[("datacenter_id", "datacenter_id", Str, "", "!"), HTTP, ("refresh_interval", "refresh_interval", Dur, "1m", "1m"), ("port", "port", Int, "80", "80")],
        ),
        "kuma" => (
            "discovery.kuma",
            &[
                ("server", "server", Str, "", "!"),
                ("refresh_interval", "refresh_interval", Dur, "30s", "30s"),
                ("fetch_timeout", "fetch_timeout", Dur, "2m", "2m"),
                HTTP,
            ],
        ),
        "linode" => (
            "discovery.linode",
            &[
                ("refresh_interval", "refresh_interval", Dur, "1m", "1m"),
                ("port", "port", Int, "80", "80"),
                ("tag_separator", "tag_separator", Str, ",", ","),
                ("region", "region", Str, "", ""),
                HTTP,
            ],
        ),
        "marathon" => (
            "discovery.marathon",
            &[
                ("servers", "servers", Strs, "", "!"),
                ("refresh_interval", "refresh_interval", Dur, "30s", "30s"),
                ("auth_token", "auth_token", Str, "", ""),
                ("auth_token_file", "auth_token_file", Str, "", ""),
                HTTP,
            ],
        ),
        "nerve" => (
            "discovery.nerve",
            &[("servers", "servers", Strs, "", "!"), ("paths", "paths", Strs, "", "!"), ("timeout", "timeout", Dur, "10s", "10s")],
        ),
        "serverset" => (
            "discovery.serverset",
            &[("servers", "servers", Strs, "", "!"), ("paths", "paths", Strs, "", "!"), ("timeout", "timeout", Dur, "10s", "10s")],
        ),
        "openstack" => (
            "discovery.openstack",
            &[
                ("identity_endpoint", "identity_endpoint", Str, "", ""),
                ("username", "username", Str, "", ""),
                ("userid", "userid", Str, "", ""),
                ("password", "password", Str, "", ""),
                ("project_name", "project_name", Str, "", ""),
                ("project_id", "project_id", Str, "", ""),
                ("domain_name", "domain_name", Str, "", ""),
                ("domain_id", "domain_id", Str, "", ""),
                ("application_credential_name", "application_credential_name", Str, "", ""),
                ("application_credential_id", "application_credential_id", Str, "", ""),
                ("application_credential_secret", "application_credential_secret", Str, "", ""),
                ("role", "role", Str, "", "!"),
                ("region", "region", Str, "", "!"),
                ("refresh_interval", "refresh_interval", Dur, "1m", "1m"),
                ("port", "port", Int, "80", "80"),
                ("all_tenants", "all_tenants", Bool, "false", "false"),
                ("tls_config", "tls_config", Tls, "", ""),
                ("availability", "availability", Str, "public", "public"),
            ],
        ),
        "ovhcloud" => (
            "discovery.ovhcloud",
            &[
                ("endpoint", "endpoint", Str, "ovh-eu", "ovh-eu"),
                ("application_key", "application_key", Str, "", "!"),
                ("application_secret", "application_secret", Str, "", "!"),
                ("consumer_key", "consumer_key", Str, "", "!"),
                ("refresh_interval", "refresh_interval", Dur, "1m", "1m"),
                ("service", "service", Str, "", "!"),
            ],
        ),
        "scaleway" => (
            "discovery.scaleway",
            &[
                ("project_id", "project_id", Str, "", "!"),
                ("role", "role", Str, "", "!"),
                ("api_url", "api_url", Str, "https://api.scaleway.com", "https://api.scaleway.com"),
                ("zone", "zone", Str, "fr-par-1", "fr-par-1"),
                ("access_key", "access_key", Str, "", "!"),
                ("secret_key", "secret_key", Str, "", ""),
                ("secret_key_file", "secret_key_file", Str, "", ""),
                ("name_filter", "name_filter", Str, "", ""),
                ("tags_filter", "tags_filter", Strs, "", ""),
                ("refresh_interval", "refresh_interval", Dur, "1m", "1m"),
                ("port", "port", Int, "80", "80"),
                ("", "", HttpNoAuth, "", ""),
            ],
        ),
        "triton" => (
            "discovery.triton",
            &[
                ("account", "account", Str, "", "!"),
                ("role", "role", Str, "container", "container"),
                ("dns_suffix", "dns_suffix", Str, "", "!"),
                ("endpoint", "endpoint", Str, "", "!"),
                ("groups", "groups", Strs, "", ""),
                ("port", "port", Int, "9163", "9163"),
                ("refresh_interval", "refresh_interval", Dur, "1m", "1m"),
                ("version", "version", Int, "1", "1"),
                ("tls_config", "tls_config", Tls, "", ""),
            ],
        ),
        _ => return None,
    })
}

/// The Prometheus SD keys, sorted as Prometheus' loader orders them, with whether we convert
/// them.
pub const KNOWN: &[(&str, bool)] = &[
    ("azure", true),
    ("consul", true),
    ("digitalocean", true),
    ("dns", true),
    ("docker", true),
    ("dockerswarm", true),
    ("ec2", true),
    ("eureka", false),
    ("file", true),
    ("gce", true),
    ("hetzner", false),
    ("http", true),
    ("ionos", true),
    ("kubernetes", true),
    ("kuma", true),
    ("lightsail", true),
    ("linode", true),
    ("marathon", true),
    ("nerve", true),
    ("nomad", false),
    ("openstack", true),
    ("ovhcloud", true),
    ("puppetdb", false),
    ("scaleway", true),
    ("serverset", true),
    ("stackit", false),
    ("triton", true),
    ("uyuni", false),
    ("vultr", false),
];

/// A converted SD: its block, or `None` with the diagnostics when the kind is not converted.
pub struct Sd {
    pub block: Option<Block>,
    pub diags: Diagnostics,
}

fn unsupported(diags: &mut Diagnostics, what: &str) {
    diags.add(Severity::Error, format!("The converter does not support converting the provided {what} config."));
}

fn value(n: &Node, k: K, errs: &mut Errors) -> Expr {
    match k {
        K::Str => Expr::Str(yaml::string(n, errs)),
        K::Int => Expr::Int(yaml::int(n, "int", errs)),
        K::Bool => Expr::Bool(yaml::boolean(n, errs)),
        K::Dur => {
            let text = yaml::string(n, errs);
            match parse_prom_duration(&text) {
                Some(v) => Expr::Str(crate::values::go_duration(v)),
                None => {
                    errs.hard(format!("not a valid duration string: {text:?}"));
                    Expr::Str(String::new())
                }
            }
        }
        K::Strs => Expr::strings(&yaml::strings(n, errs)),
        K::Map => Expr::string_map(&yaml::string_map(n, errs)),
        _ => Expr::Str(String::new()),
    }
}

fn default_value(text: &str, k: K) -> Expr {
    match k {
        K::Int => Expr::Int(text.parse().unwrap_or(0)),
        K::Bool => Expr::Bool(text == "true"),
        K::Dur => Expr::Str(crate::values::go_duration(parse_prom_duration(text).unwrap_or(0))),
        K::Strs => Expr::Array(Vec::new()),
        K::Map => Expr::Object(Vec::new()),
        _ => Expr::Str(text.to_string()),
    }
}

/// Converts one SD config of `kind` (the YAML key without `_sd_configs`).
pub fn convert(kind: &str, node: &Node, label: &str, errs: &mut Errors) -> Sd {
    let mut diags = Diagnostics::new();
    match kind {
        "azure" => return azure(node, label, errs),
        "kubernetes" => return kubernetes(node, label, errs),
        _ => {}
    }
    let Some((name, fields)) = table(kind) else {
        diags.add(Severity::Error, format!("The converter does not support converting the provided {kind} service discovery."));
        return Sd { block: None, diags };
    };
    let mut f = Fields::new(node, "config.plain", errs);
    let mut b = Block::new(name, Some(label));
    for &(key, alloy, k, prom_default, alloy_default) in fields {
        match k {
            K::Http | K::HttpNoAuth => {
                let c = http::read_inline(&mut f, errs);
                if !c.tls.max_version.is_empty() {
                    unsupported(&mut diags, "HTTP Client max_version");
                }
                if matches!(k, K::Http) {
                    http::write_all(&mut b, &c);
                } else {
                    if kind == "digitalocean" {
                        let what = "digitalocean_sd_configs";
                        if c.basic_auth.is_some() {
                            unsupported(&mut diags, &format!("{what} basic_auth"));
                        }
                        if c.authorization.as_ref().is_some_and(|a| a.credentials_file.is_empty() && a.credentials.is_empty()) {
                            unsupported(&mut diags, &format!("{what} authorization"));
                        }
                        if c.oauth2.is_some() {
                            unsupported(&mut diags, &format!("{what} oauth2"));
                        }
                        if c.tls != http::Tls::default() {
                            unsupported(&mut diags, &format!("{what} tls_config"));
                        }
                        if let Some(a) = &c.authorization {
                            b.opt_str("bearer_token", &a.credentials, "").opt_str("bearer_token_file", &a.credentials_file, "");
                        }
                        http::write_proxy(&mut b, &c.proxy);
                    } else {
                        http::write_proxy(&mut b, &c.proxy);
                        b.opt_block(http::tls_block(&c.tls));
                    }
                    b.opt_bool("follow_redirects", c.follow_redirects, true).opt_bool("enable_http2", c.enable_http2, true);
                }
            }
            K::Tls => {
                if let Some(n) = f.get(key) {
                    let t = http::read_tls(n, errs);
                    b.opt_block(http::tls_block(&t));
                }
            }
            K::Filters => {
                if let Some(n) = f.get(key) {
                    for item in yaml::seq(n, "[]Filter", errs) {
                        let mut g = Fields::new(item, "config.Filter", errs);
                        let name = g.get("name").map(|n| yaml::string(n, errs)).unwrap_or_default();
                        let values = g.get("values").map(|n| yaml::strings(n, errs)).unwrap_or_default();
                        g.finish(errs);
                        let mut fb = Block::new(alloy, None);
                        fb.attr("name", Expr::Str(name)).attr("values", Expr::strings(&values));
                        b.block(fb);
                    }
                }
            }
            _ => {
                let v = match f.get(key) {
                    Some(n) => value(n, k, errs),
                    None => default_value(prom_default, k),
                };
                if alloy_default == "!" || v != default_value(alloy_default, k) {
                    b.attr(alloy, v);
                }
            }
        }
    }
    // Prometheus keys Alloy has no field for.
    for k in ["path_prefix", "filter", "api_key", "api_url", "http_headers", "label_selector", "host_networking_host"] {
        f.ignore(k);
    }
    f.finish(errs);
    Sd { block: Some(b), diags }
}

fn azure(node: &Node, label: &str, errs: &mut Errors) -> Sd {
    let mut diags = Diagnostics::new();
    let mut f = Fields::new(node, "azure.plain", errs);
    let get = |f: &mut Fields, k: &str, errs: &mut Errors| f.get(k).map(|n| yaml::string(n, errs)).unwrap_or_default();
    let environment = get(&mut f, "environment", errs);
    let port = f.get("port").map(|n| yaml::int(n, "int", errs)).unwrap_or(80);
    let subscription = get(&mut f, "subscription_id", errs);
    let tenant = get(&mut f, "tenant_id", errs);
    let client_id = get(&mut f, "client_id", errs);
    let client_secret = get(&mut f, "client_secret", errs);
    let method = f.get("authentication_method").map(|n| yaml::string(n, errs)).unwrap_or_else(|| "OAuth".into());
    let refresh = f.get("refresh_interval").map(|n| value(n, K::Dur, errs)).unwrap_or_else(|| default_value("5m", K::Dur));
    let resource_group = get(&mut f, "resource_group", errs);
    let c = http::read_inline(&mut f, errs);
    f.finish(errs);
    if !matches!(method.as_str(), "OAuth" | "ManagedIdentity" | "SDK" | "WorkloadIdentity") {
        errs.hard(format!(
            "unknown authentication_method {method:?}. Supported methods are \"OAuth\", \"ManagedIdentity\", \"SDK\" or \"WorkloadIdentity\""
        ));
    }
    if !c.tls.max_version.is_empty() {
        unsupported(&mut diags, "HTTP Client max_version");
    }
    let mut b = Block::new("discovery.azure", Some(label));
    let environment = if environment.is_empty() { "AzurePublicCloud".to_string() } else { environment };
    b.opt_str("environment", &environment, "AzurePublicCloud");
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
    if refresh != default_value("5m", K::Dur) {
        b.attr("refresh_interval", refresh);
    }
    b.opt_str("resource_group", &resource_group, "");
    http::write_proxy(&mut b, &c.proxy);
    b.opt_bool("follow_redirects", c.follow_redirects, true).opt_bool("enable_http2", c.enable_http2, true);
    b.opt_block(http::tls_block(&c.tls));
    Sd { block: Some(b), diags }
}

fn kubernetes(node: &Node, label: &str, errs: &mut Errors) -> Sd {
    let mut diags = Diagnostics::new();
    let mut f = Fields::new(node, "kubernetes.plain", errs);
    let api_server = f.get("api_server").map(|n| yaml::string(n, errs)).unwrap_or_default();
    let role = f.get("role").map(|n| yaml::string(n, errs)).unwrap_or_default();
    let kubeconfig = f.get("kubeconfig_file").map(|n| yaml::string(n, errs)).unwrap_or_default();
    let c = http::read_inline(&mut f, errs);
    if !c.tls.max_version.is_empty() {
        unsupported(&mut diags, "HTTP Client max_version");
    }
    let mut b = Block::new("discovery.kubernetes", Some(label));
    b.opt_str("api_server", &api_server, "").attr("role", Expr::Str(role)).opt_str("kubeconfig_file", &kubeconfig, "");
    http::write_all(&mut b, &c);
    if let Some(n) = f.get("namespaces") {
        let mut g = Fields::new(n, "kubernetes.NamespaceDiscovery", errs);
        let own = g.get("own_namespace").map(|n| yaml::boolean(n, errs)).unwrap_or(false);
        let names = g.get("names").map(|n| yaml::strings(n, errs)).unwrap_or_default();
        g.finish(errs);
        let mut nb = Block::new("namespaces", None);
        nb.opt_bool("own_namespace", own, false).opt_strings("names", &names);
        b.opt_block(nb);
    }
    if let Some(n) = f.get("selectors") {
        for item in yaml::seq(n, "[]kubernetes.SelectorConfig", errs) {
            let mut g = Fields::new(item, "kubernetes.SelectorConfig", errs);
            let role = g.get("role").map(|n| yaml::string(n, errs)).unwrap_or_default();
            let l = g.get("label").map(|n| yaml::string(n, errs)).unwrap_or_default();
            let fl = g.get("field").map(|n| yaml::string(n, errs)).unwrap_or_default();
            g.finish(errs);
            let mut sb = Block::new("selectors", None);
            sb.attr("role", Expr::Str(role)).opt_str("label", &l, "").opt_str("field", &fl, "");
            b.block(sb);
        }
    }
    if let Some(n) = f.get("attach_metadata") {
        let mut g = Fields::new(n, "kubernetes.AttachMetadataConfig", errs);
        let node_md = g.get("node").map(|n| yaml::boolean(n, errs)).unwrap_or(false);
        let ns_md = g.get("namespace").map(|n| yaml::boolean(n, errs)).unwrap_or(false);
        g.finish(errs);
        let mut ab = Block::new("attach_metadata", None);
        ab.opt_bool("node", node_md, false).opt_bool("namespace", ns_md, false);
        b.opt_block(ab);
    }
    f.finish(errs);
    Sd { block: Some(b), diags }
}
