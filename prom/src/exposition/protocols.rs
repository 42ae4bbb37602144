//! Scrape protocol names (`scrape_protocols`, `scrape_fallback_protocol`): their validation,
//! the `Accept` header they produce, and choosing a parser from a response's `Content-Type`.

use super::Format;

/// A protocol a scrape can ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScrapeProtocol {
    PrometheusProto,
    PrometheusText0_0_4,
    PrometheusText1_0_0,
    OpenMetricsText0_0_1,
    OpenMetricsText1_0_0,
}

/// Alloy's default `scrape_protocols`, in preference order.
pub const DEFAULT_SCRAPE_PROTOCOLS: [ScrapeProtocol; 4] =
    [ScrapeProtocol::OpenMetricsText1_0_0, ScrapeProtocol::OpenMetricsText0_0_1, ScrapeProtocol::PrometheusText1_0_0, ScrapeProtocol::PrometheusText0_0_4];

impl ScrapeProtocol {
    /// Every protocol, sorted by name (the order error messages list them in).
    pub const ALL: [ScrapeProtocol; 5] = [
        ScrapeProtocol::OpenMetricsText0_0_1,
        ScrapeProtocol::OpenMetricsText1_0_0,
        ScrapeProtocol::PrometheusProto,
        ScrapeProtocol::PrometheusText0_0_4,
        ScrapeProtocol::PrometheusText1_0_0,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ScrapeProtocol::PrometheusProto => "PrometheusProto",
            ScrapeProtocol::PrometheusText0_0_4 => "PrometheusText0.0.4",
            ScrapeProtocol::PrometheusText1_0_0 => "PrometheusText1.0.0",
            ScrapeProtocol::OpenMetricsText0_0_1 => "OpenMetricsText0.0.1",
            ScrapeProtocol::OpenMetricsText1_0_0 => "OpenMetricsText1.0.0",
        }
    }

    /// The protocol of a name, exactly as written in configuration.
    pub fn parse(name: &str) -> Option<ScrapeProtocol> {
        ScrapeProtocol::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The media type the `Accept` header asks for.
    pub fn media_type(self) -> &'static str {
        match self {
            ScrapeProtocol::PrometheusProto => "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited",
            ScrapeProtocol::PrometheusText0_0_4 => "text/plain;version=0.0.4",
            ScrapeProtocol::PrometheusText1_0_0 => "text/plain;version=1.0.0",
            ScrapeProtocol::OpenMetricsText0_0_1 => "application/openmetrics-text;version=0.0.1",
            ScrapeProtocol::OpenMetricsText1_0_0 => "application/openmetrics-text;version=1.0.0",
        }
    }

    /// The parser for bodies of this protocol.
    pub fn format(self) -> Format {
        match self {
            ScrapeProtocol::PrometheusProto => Format::Protobuf,
            ScrapeProtocol::PrometheusText0_0_4 | ScrapeProtocol::PrometheusText1_0_0 => Format::PrometheusText,
            ScrapeProtocol::OpenMetricsText0_0_1 | ScrapeProtocol::OpenMetricsText1_0_0 => Format::OpenMetrics,
        }
    }

    fn unknown(name: &str) -> String {
        let supported: Vec<&str> = ScrapeProtocol::ALL.iter().map(|p| p.name()).collect();
        format!("unknown scrape protocol {name}, supported: [{}]", supported.join(" "))
    }
}

/// Checks a `scrape_protocols` list: each name known, none twice.
pub fn validate_scrape_protocols<S: AsRef<str>>(names: &[S]) -> Result<Vec<ScrapeProtocol>, String> {
    let mut out: Vec<ScrapeProtocol> = Vec::with_capacity(names.len());
    let mut seen: Vec<&str> = Vec::with_capacity(names.len());
    for name in names {
        let name = name.as_ref();
        if seen.contains(&name) {
            return Err(format!("duplicate scrape protocol {}: make sure the scrape protocols provided are unique", super::go_quote(name.as_bytes())));
        }
        let p = ScrapeProtocol::parse(name)
            .ok_or_else(|| format!("invalid scrape protocol {}: {}", super::go_quote(name.as_bytes()), ScrapeProtocol::unknown(name)))?;
        seen.push(name);
        out.push(p);
    }
    Ok(out)
}

/// Checks `scrape_fallback_protocol` (empty means none).
pub fn validate_fallback_protocol(name: &str) -> Result<Option<ScrapeProtocol>, String> {
    if name.is_empty() {
        return Ok(None);
    }
    ScrapeProtocol::parse(name)
        .map(Some)
        .ok_or_else(|| format!("invalid scrape_fallback_protocol {}: {}", super::go_quote(name.as_bytes()), ScrapeProtocol::unknown(name)))
}

/// The `Accept` header for `protocols` in preference order: weights from `q=0.6` down by 0.1,
/// the 1.0.0 text formats with `;escaping=<scheme>`, and `*/*` last.
pub fn accept_header(protocols: &[ScrapeProtocol], escaping_scheme: &str) -> String {
    let mut out = String::new();
    let mut weight: i64 = ScrapeProtocol::ALL.len() as i64 + 1;
    for p in protocols {
        out.push_str(p.media_type());
        if matches!(p, ScrapeProtocol::PrometheusText1_0_0 | ScrapeProtocol::OpenMetricsText1_0_0) {
            out.push_str(";escaping=");
            out.push_str(escaping_scheme);
        }
        out.push_str(&format!(";q=0.{},", weight.max(0)));
        weight -= 1;
    }
    out.push_str(&format!("*/*;q=0.{}", weight.max(0)));
    out
}

/// The parser for a response: by its `Content-Type`, else the fallback protocol's. The error
/// texts are the scrape failures of spec §2.3.
pub fn select_format(content_type: &str, fallback: Option<ScrapeProtocol>) -> Result<Format, String> {
    if let Some(f) = Format::from_content_type(content_type) {
        return Ok(f);
    }
    match fallback {
        Some(p) => Ok(p.format()),
        None if content_type.trim().is_empty() => {
            Err("non-compliant scrape target sending blank Content-Type and no fallback_scrape_protocol specified for target".into())
        }
        None => {
            Err(format!("received unsupported Content-Type {} and no fallback_scrape_protocol specified for target", super::go_quote(content_type.as_bytes())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_accept_header() {
        assert_eq!(
            accept_header(&DEFAULT_SCRAPE_PROTOCOLS, "underscores"),
            "application/openmetrics-text;version=1.0.0;escaping=underscores;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,\
             text/plain;version=1.0.0;escaping=underscores;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
        );
        let all = [ScrapeProtocol::PrometheusProto, ScrapeProtocol::PrometheusText0_0_4];
        assert_eq!(
            accept_header(&all, "allow-utf-8"),
            "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,text/plain;version=0.0.4;q=0.5,*/*;q=0.4"
        );
    }

    #[test]
    fn validation_messages() {
        assert_eq!(
            validate_scrape_protocols(&["PrometheusProto", "OpenMetricsText1.0.0"]),
            Ok(vec![ScrapeProtocol::PrometheusProto, ScrapeProtocol::OpenMetricsText1_0_0])
        );
        assert_eq!(
            validate_scrape_protocols(&["PrometheusProto", "PrometheusProto"]),
            Err(r#"duplicate scrape protocol "PrometheusProto": make sure the scrape protocols provided are unique"#.into())
        );
        assert_eq!(
            validate_scrape_protocols(&["Nope"]),
            Err(r#"invalid scrape protocol "Nope": unknown scrape protocol Nope, supported: [OpenMetricsText0.0.1 OpenMetricsText1.0.0 PrometheusProto PrometheusText0.0.4 PrometheusText1.0.0]"#.into())
        );
        assert_eq!(validate_fallback_protocol(""), Ok(None));
        assert!(validate_fallback_protocol("x").is_err_and(|e| e.starts_with(r#"invalid scrape_fallback_protocol "x": unknown scrape protocol x"#)));
    }

    #[test]
    fn format_selection() {
        assert_eq!(select_format("text/plain; version=0.0.4; charset=utf-8", None), Ok(Format::PrometheusText));
        assert_eq!(select_format("application/openmetrics-text; version=1.0.0", None), Ok(Format::OpenMetrics));
        assert_eq!(select_format("application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited", None), Ok(Format::Protobuf));
        assert_eq!(Format::from_content_type("application/vnd.google.protobuf; proto=other.Message"), None);
        assert_eq!(select_format("", Some(ScrapeProtocol::PrometheusText0_0_4)), Ok(Format::PrometheusText));
        assert_eq!(
            select_format("", None),
            Err("non-compliant scrape target sending blank Content-Type and no fallback_scrape_protocol specified for target".into())
        );
        assert_eq!(
            select_format("text/html", None),
            Err(r#"received unsupported Content-Type "text/html" and no fallback_scrape_protocol specified for target"#.into())
        );
    }
}
