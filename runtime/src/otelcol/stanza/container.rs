//! `container`: parses Kubernetes container log lines — Docker's JSON (`{"log", "stream",
//! "time"}`), CRI-O's and containerd's `TIME STREAM LOGTAG MESSAGE` — detected per line unless
//! `format` says which. The message becomes the body, the stream `log.iostream`, the time the
//! entry's timestamp (the `time` attribute removed, as upstream's default feature gate has
//! it); CRI partial lines (`logtag` `P`) are joined up to their full line (`F`) per file. With
//! `add_metadata_from_filepath` (default), the pod's namespace, name, uid, container name and
//! restart count come from `log.file.path` (`/var/log/pods/NS_POD_UID/CONTAINER/N.log`) into
//! the resource.

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Instant;

use loki::process::time::parse_layout;

use super::config::Conf;
use super::entry::{Entry, Field, Val};
use super::parsers::from_json;
use super::recombine::Recombine;
use super::severity::SeverityParser;
use super::{Apply, Operator, Rejected};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Docker,
    Crio,
    Containerd,
}

const CRIO: &str = r"^(?P<time>[^ Z]+) (?P<stream>stdout|stderr) (?P<logtag>[^ ]*) ?(?P<log>.*)$";
const CONTAINERD: &str = r"^(?P<time>[^ ^Z]+Z) (?P<stream>stdout|stderr) (?P<logtag>[^ ]*) ?(?P<log>.*)$";
const LOG_PATH: &str =
    r"^.*(/|\\)(?P<namespace>[^_]+)_(?P<pod_name>[^_]+)_(?P<uid>[a-f0-9\-]+)(/|\\)(?P<container_name>[^\._]+)(/|\\)(?P<restart_count>\d+)\.log$";

/// The path's named groups and the resource attributes they become.
const K8S: [(&str, &str); 5] = [
    ("namespace", "k8s.namespace.name"),
    ("pod_name", "k8s.pod.name"),
    ("uid", "k8s.pod.uid"),
    ("container_name", "k8s.container.name"),
    ("restart_count", "k8s.container.restart_count"),
];

/// The fixed patterns, compiled once.
struct Patterns {
    crio: regex::Regex,
    containerd: regex::Regex,
    log_path: regex::Regex,
}

fn patterns() -> Option<&'static Patterns> {
    static P: OnceLock<Option<Patterns>> = OnceLock::new();
    P.get_or_init(|| {
        Some(Patterns { crio: regex::Regex::new(CRIO).ok()?, containerd: regex::Regex::new(CONTAINERD).ok()?, log_path: regex::Regex::new(LOG_PATH).ok()? })
    })
    .as_ref()
}

struct Container {
    parse_from: Field,
    format: Option<Format>,
    add_metadata: bool,
    severity: Option<SeverityParser>,
    partials: Recombine,
}

pub fn build(c: &mut Conf<'_>) -> Box<dyn Operator> {
    c.not_yet(&["parse_to", "timestamp", "trace", "scope_name", "body"]);
    let parse_from = c.field_or("parse_from", Field::body());
    let format = match c.string("format").as_deref() {
        None | Some("") => None,
        Some("docker") => Some(Format::Docker),
        Some("crio") => Some(Format::Crio),
        Some("containerd") => Some(Format::Containerd),
        Some(other) => {
            c.error("format", format!("invalid format {other:?}: expected \"docker\", \"crio\" or \"containerd\""));
            None
        }
    };
    let add_metadata = c.bool_or("add_metadata_from_filepath", true);
    let max_log_size = c.byte_size_or("max_log_size", 0);
    let severity = c.nested("severity", SeverityParser::read);
    Box::new(Container { parse_from, format, add_metadata, severity, partials: Recombine::cri_partials(max_log_size) })
}

fn detect(text: &str, p: &Patterns) -> Option<Format> {
    if text.starts_with('{') {
        Some(Format::Docker)
    } else if p.crio.is_match(text) {
        Some(Format::Crio)
    } else if p.containerd.is_match(text) {
        Some(Format::Containerd)
    } else {
        None
    }
}

impl Container {
    /// Parses `e` in place; whether it is a CRI line (to be joined with its partials).
    fn parse(&self, e: &mut Entry) -> Result<bool, String> {
        let p = patterns().ok_or("container patterns unavailable")?;
        let text = match self.parse_from.get(e) {
            Some(Val::Str(s)) => s.clone(),
            Some(_) => return Err(format!("{} cannot be parsed as container logs: not a string", self.parse_from)),
            None => return Err("entry cannot be parsed as container logs".into()),
        };
        let format = match self.format {
            Some(f) => f,
            None => detect(&text, p).ok_or_else(|| format!("failed to detect a valid container log format: {text:?}"))?,
        };
        let parsed: BTreeMap<String, Val> = match format {
            Format::Docker => match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(serde_json::Value::Object(o)) => o.into_iter().map(|(k, v)| (k, from_json(v, false))).collect(),
                Ok(_) => return Err("failed to process the docker log: not a JSON object".into()),
                Err(err) => return Err(format!("failed to process the docker log: {err}")),
            },
            Format::Crio | Format::Containerd => {
                let re = if format == Format::Crio { &p.crio } else { &p.containerd };
                let caps = re.captures(&text).ok_or("regex pattern does not match")?;
                re.capture_names().enumerate().filter_map(|(i, n)| Some((n?.to_string(), Val::str(caps.get(i).map_or("", |m| m.as_str()))))).collect()
            }
        };
        e.attributes.extend(parsed);
        let layout = match format {
            Format::Crio => "2006-01-02T15:04:05.999999999Z07:00",
            Format::Docker | Format::Containerd => "2006-01-02T15:04:05.999Z",
        };
        let time = e.attributes.remove("time").and_then(|v| v.to_text()).ok_or("failed to parse time: no time field")?;
        e.timestamp = parse_layout(layout, &time, Some(0)).map_err(|err| format!("failed to parse time: {err}"))?;
        let log = e.attributes.remove("log").ok_or("move: field log does not exist")?;
        e.body = log;
        let stream = e.attributes.remove("stream").ok_or("move: field stream does not exist")?;
        e.attributes.insert("log.iostream".into(), stream);
        if self.add_metadata {
            let path = e.attributes.get("log.file.path").and_then(Val::as_str).ok_or("log.file.path is not set (include_file_path = true provides it)")?;
            let caps = p.log_path.captures(path).ok_or("failed to detect a valid log path")?;
            for (group, key) in K8S {
                let value = caps.name(group).map_or("", |m| m.as_str());
                e.resource.insert(key.to_string(), Val::str(value));
            }
        }
        if let Some(s) = &self.severity {
            s.apply(e)?;
        }
        Ok(format != Format::Docker)
    }
}

impl Operator for Container {
    fn process(&mut self, mut e: Entry, out: &mut Vec<Entry>) -> Result<(), Rejected> {
        match self.parse(&mut e) {
            Ok(true) => self.partials.process(e, out),
            Ok(false) => {
                out.push(e);
                Ok(())
            }
            Err(why) => Err(Rejected::new(e, why)),
        }
    }

    fn flush(&mut self, now: Instant, all: bool, out: &mut Vec<Entry>) {
        self.partials.flush(now, all, out);
    }
}
