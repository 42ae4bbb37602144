//! Prometheus conversions of the project's own fixtures (`fixtures/convert/prometheus/*.yaml`),
//! snapshotted with their diagnostics: among them every supported service discovery with its
//! defaults only (`sd_defaults`) and with other values (`sd_settings`). Every output converted
//! without Error or Critical diagnostics must parse, be formatted already, and pass the analyzer.

mod support;

#[test]
fn fixtures() {
    support::snapshot_fixtures("prometheus");
}

/// Truncated and mutated service discovery settings convert without panics.
#[test]
fn mutated_sd_settings_do_not_panic() {
    support::mutate_without_panics(&support::fixture("prometheus", "sd_settings.yaml"), "prometheus");
}

/// The checks of Prometheus' SD loaders that refuse the file are upstream's Criticals.
#[test]
fn sd_loader_checks_refuse_the_file() {
    let cases = [
        ("http_sd_configs: [{refresh_interval: 1m}]", "URL is missing"),
        ("http_sd_configs: [{url: ftp://x/targets}]", "URL scheme must be 'http' or 'https'"),
        ("http_sd_configs: [{url: 'http:///targets'}]", "host is missing in URL"),
        ("kubernetes_sd_configs: [{api_server: 'https://k8s'}]", "role missing (one of: pod, service, endpoints, endpointslice, node, ingress)"),
        ("dns_sd_configs: [{type: A}]", "DNS-SD config must contain at least one SRV record name"),
        ("dns_sd_configs: [{names: [x], type: A}]", "a port is required in DNS-SD configs for all record types except SRV"),
        ("dns_sd_configs: [{names: [x], type: TXT}]", "invalid DNS-SD records type TXT"),
        ("file_sd_configs: [{refresh_interval: 1m}]", "file service discovery config must contain at least one path name"),
    ];
    for (sd, expected) in cases {
        let input = format!("scrape_configs:\n  - job_name: a\n    {sd}\n");
        let c = convert::convert(input.as_bytes(), "prometheus", &[]);
        assert!(c.output.is_none(), "{sd}");
        assert_eq!(c.diagnostics.to_string(), format!("(Critical) failed to parse Prometheus config: {expected}"), "{sd}");
    }
}

/// The authentication combinations Prometheus' HTTP client validation refuses are upstream's
/// Criticals, wherever the client is (scrape config, SD, remote_write).
#[test]
fn conflicting_client_authentication_refuses_the_file() {
    let cases = [
        ("bearer_token: a\n    bearer_token_file: /b", "at most one of bearer_token & bearer_token_file must be configured"),
        ("bearer_token: a\n    basic_auth: {username: u}", "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured"),
        ("bearer_token: a\n    authorization: {credentials: c}", "authorization is not compatible with bearer_token & bearer_token_file"),
        ("authorization: {credentials: c, credentials_file: /f}", "at most one of authorization credentials & credentials_file must be configured"),
        ("authorization: {type: Basic, credentials: c}", "authorization type cannot be set to \"basic\", use \"basic_auth\" instead"),
        ("authorization: {credentials: c}\n    basic_auth: {username: u}", "at most one of basic_auth, oauth2 & authorization must be configured"),
        (
            "oauth2: {client_id: c, token_url: 'http://t'}\n    basic_auth: {username: u}",
            "at most one of basic_auth, oauth2 & authorization must be configured",
        ),
    ];
    for (client, expected) in cases {
        for input in [
            format!("scrape_configs:\n  - job_name: a\n    {client}\n"),
            format!("scrape_configs:\n  - job_name: a\n    consul_sd_configs:\n      - {}\n", client.replace("\n    ", "\n        ")),
            format!("remote_write:\n  - url: http://rw\n    {client}\n"),
        ] {
            let c = convert::convert(input.as_bytes(), "prometheus", &[]);
            assert!(c.output.is_none(), "{input}");
            assert_eq!(c.diagnostics.to_string(), format!("(Critical) failed to parse Prometheus config: {expected}"), "{input}");
        }
    }
}
