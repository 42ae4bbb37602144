//! From a discovered target to what a scrape loop needs (upstream's `PopulateLabels`): the
//! defaults the scrape settings give `job`, `__scheme__`, `__metrics_path__`,
//! `__scrape_interval__`, `__scrape_timeout__` and `__param_*`, the URL, `instance`, and the
//! public labels every scraped sample carries.

use std::collections::BTreeMap;
use std::time::Duration;

use prom::labels::{Labels, LabelsBuilder};

use super::duration::{format_duration, parse_duration};

/// The settings that shape target labels.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TargetDefaults {
    pub job: String,
    pub interval: Duration,
    pub timeout: Duration,
    pub metrics_path: String,
    pub scheme: String,
    pub params: BTreeMap<String, Vec<String>>,
    pub scrape_native_histograms: bool,
    pub scrape_classic_histograms: bool,
    pub convert_classic_histograms_to_nhcb: bool,
}

/// One target, ready to scrape.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Target {
    /// Every label after population (`__` labels included): the target's identity.
    pub labels: Labels,
    /// The labels samples carry: the ones not starting with `__`.
    pub public: Labels,
    pub url: String,
    pub interval: Duration,
    pub timeout: Duration,
}

/// The populated target, or why it cannot be scraped.
pub fn populate(discovered: &BTreeMap<String, String>, d: &TargetDefaults) -> Result<Target, String> {
    let mut b = LabelsBuilder::with_capacity(discovered.len() + 8);
    for (k, v) in discovered {
        b.set(k.as_str(), v.as_str());
    }
    let bool_text = |v: bool| if v { "true" } else { "false" };
    let defaults = [
        ("job", d.job.clone()),
        ("__scrape_interval__", format_duration(d.interval)),
        ("__scrape_timeout__", format_duration(d.timeout)),
        ("__metrics_path__", d.metrics_path.clone()),
        ("__scheme__", d.scheme.clone()),
        ("__scrape_native_histograms__", bool_text(d.scrape_native_histograms).to_string()),
        ("__always_scrape_classic_histograms__", bool_text(d.scrape_classic_histograms).to_string()),
        ("__convert_classic_histograms_to_nhcb__", bool_text(d.convert_classic_histograms_to_nhcb).to_string()),
    ];
    for (name, value) in defaults {
        if b.get(name).is_none() {
            b.set(name, value);
        }
    }
    for (k, vs) in &d.params {
        let name = format!("__param_{k}");
        if b.get(&name).is_none() {
            if let Some(v) = vs.first() {
                b.set(name, v.as_str());
            }
        }
    }
    let address = b.get("__address__").unwrap_or_default().to_string();
    if address.is_empty() {
        return Err("no address".into());
    }
    if address.contains('/') {
        return Err(format!("{address:?} is not a valid hostname"));
    }
    let interval_text = b.get("__scrape_interval__").unwrap_or_default().to_string();
    let interval = parse_duration(&interval_text).map_err(|e| format!("error parsing scrape interval: {e}"))?;
    if interval.is_zero() {
        return Err("scrape interval cannot be 0".into());
    }
    let timeout_text = b.get("__scrape_timeout__").unwrap_or_default().to_string();
    let timeout = parse_duration(&timeout_text).map_err(|e| format!("error parsing scrape timeout: {e}"))?;
    if timeout.is_zero() {
        return Err("scrape timeout cannot be 0".into());
    }
    if timeout > interval {
        return Err(format!("scrape timeout cannot be greater than scrape interval ({timeout_text:?} > {interval_text:?})"));
    }
    b.retain(|n| !n.starts_with("__meta_"));
    if b.get("instance").is_none() {
        b.set("instance", address.as_str());
    }
    let labels = b.labels();
    let url = url_of(&labels, &d.params);
    let public = Labels::new(labels.iter().filter(|(n, _)| !n.starts_with("__")));
    Ok(Target { labels, public, url, interval, timeout })
}

/// `scheme://address/path?query`, the query being `params` overlaid by `__param_*` labels.
fn url_of(labels: &Labels, params: &BTreeMap<String, Vec<String>>) -> String {
    let mut query: BTreeMap<String, Vec<String>> = params.clone();
    for (n, v) in labels.iter() {
        if let Some(p) = n.strip_prefix("__param_") {
            match query.get_mut(p) {
                Some(vs) if !vs.is_empty() => vs[0] = v.to_string(),
                _ => {
                    query.insert(p.to_string(), vec![v.to_string()]);
                }
            }
        }
    }
    let scheme = labels.get("__scheme__").unwrap_or("http");
    let address = labels.get("__address__").unwrap_or_default();
    let path = labels.get("__metrics_path__").unwrap_or_default();
    let mut url = format!("{scheme}://{address}{path}");
    let pairs: Vec<String> = query.iter().flat_map(|(k, vs)| vs.iter().map(move |v| format!("{}={}", encode(k), encode(v)))).collect();
    if !pairs.is_empty() {
        url.push('?');
        url.push_str(&pairs.join("&"));
    }
    url
}

/// Query-string escaping as Go's `url.QueryEscape` does it.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> TargetDefaults {
        TargetDefaults {
            job: "prometheus.scrape.default".into(),
            interval: Duration::from_secs(60),
            timeout: Duration::from_secs(10),
            metrics_path: "/metrics".into(),
            scheme: "http".into(),
            params: BTreeMap::new(),
            scrape_native_histograms: false,
            scrape_classic_histograms: false,
            convert_classic_histograms_to_nhcb: false,
        }
    }

    fn target(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_fill_only_unset_labels_and_meta_labels_go() {
        let t = populate(&target(&[("__address__", "h:9100"), ("job", "mine"), ("__meta_x", "1"), ("env", "p")]), &defaults()).expect("valid");
        assert_eq!(t.url, "http://h:9100/metrics");
        assert_eq!(t.public.to_string(), r#"{env="p", instance="h:9100", job="mine"}"#);
        assert_eq!(t.labels.get("__scrape_interval__"), Some("1m"));
        assert_eq!(t.labels.get("__meta_x"), None);
    }

    #[test]
    fn per_target_interval_and_params() {
        let mut d = defaults();
        d.params.insert("module".into(), vec!["http_2xx".into(), "b".into()]);
        let t = populate(&target(&[("__address__", "h:1"), ("__param_module", "tcp"), ("__scrape_interval__", "15s"), ("__scrape_timeout__", "5s")]), &d)
            .expect("valid");
        assert_eq!(t.url, "http://h:1/metrics?module=tcp&module=b");
        assert_eq!((t.interval, t.timeout), (Duration::from_secs(15), Duration::from_secs(5)));
    }

    #[test]
    fn refusals() {
        assert_eq!(populate(&target(&[("a", "b")]), &defaults()), Err("no address".into()));
        assert_eq!(
            populate(&target(&[("__address__", "h:1"), ("__scrape_timeout__", "2m")]), &defaults()),
            Err(r#"scrape timeout cannot be greater than scrape interval ("2m" > "1m")"#.into())
        );
        assert_eq!(populate(&target(&[("__address__", "h:1"), ("__scrape_interval__", "0s")]), &defaults()), Err("scrape interval cannot be 0".into()));
        assert!(populate(&target(&[("__address__", "h:1/x")]), &defaults()).is_err());
    }
}
