//! The process logger behind the `logging` block: `tracing` events written to standard error
//! as logfmt or JSON lines (`ts`, `level`, `msg`, then fields), filtered by level. The block
//! can change level and format at any time (reloads); removing it restores the defaults.

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

use crate::component::{Arguments, ComponentError, Reader, Registration, Services};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Logfmt,
    Json,
}

/// The `logging` block's options. `Default` is the catalogue's defaults (a test compares
/// them), also what removing the block restores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogOptions {
    pub level: Level,
    pub format: Format,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions { level: Level::INFO, format: Format::Logfmt }
    }
}

impl Arguments for LogOptions {
    fn decode(r: &mut Reader<'_>) -> Self {
        // Sending the process's own logs to Loki components needs the loki family.
        #[cfg(feature = "loki")]
        let _: Vec<crate::loki::receiver::LogsReceiver> = r.get("write_to");
        #[cfg(not(feature = "loki"))]
        r.unsupported(&["write_to"]);
        let mut o = LogOptions::default();
        match r.get::<String>("level").as_str() {
            "info" => o.level = Level::INFO,
            "debug" => o.level = Level::DEBUG,
            "warn" => o.level = Level::WARN,
            "error" => o.level = Level::ERROR,
            other => r.error("level", format!("unrecognized log level {other:?}")),
        }
        match r.get::<String>("format").as_str() {
            "logfmt" => o.format = Format::Logfmt,
            "json" => o.format = Format::Json,
            other => r.error("format", format!("unrecognized log format {other:?}")),
        }
        // Upstream's default destination is standard error, the only one this runtime has.
        if let Some(d) = r.computed::<String>("destination").filter(|d| !d.is_empty() && d != "stderr") {
            r.error("destination", format!("log destination {d:?} is not supported by this runtime (only \"stderr\")"));
        }
        o
    }
}

pub const REGISTRATION: Registration = Registration::config::<LogOptions>("logging", apply_block);

/// Applies the block's options, or the defaults when the configuration has no `logging`
/// block (the logger is the process's, not the controller's).
fn apply_block(_: &Services, args: Option<&eval::Value>) -> Result<(), ComponentError> {
    apply(args.map(LogOptions::decode).transpose().map_err(ComponentError)?.unwrap_or_default());
    #[cfg(feature = "loki")]
    write_to::set(args);
    Ok(())
}

/// `write_to`: every log line also goes, as a Loki entry labelled `component="alloy"`, to
/// these receivers, without waiting (a line is left out for a receiver whose queue is full:
/// the logger must not block, nor feed back on itself).
#[cfg(feature = "loki")]
mod write_to {
    use std::sync::RwLock;
    use std::time::SystemTime;

    use loki::Entry;
    use prom::Labels;

    use crate::loki::receiver::LogsReceiver;

    static RECEIVERS: RwLock<Vec<LogsReceiver>> = RwLock::new(Vec::new());

    /// The block's `write_to`, or none without a block.
    pub fn set(args: Option<&eval::Value>) {
        let receivers = match args {
            Some(eval::Value::Object(o)) => o.get("write_to").and_then(|v| <Vec<LogsReceiver> as eval::Decode>::decode(v).ok()).unwrap_or_default(),
            _ => Vec::new(),
        };
        *RECEIVERS.write().unwrap_or_else(|e| e.into_inner()) = receivers;
    }

    /// Sends a formatted line (its newline dropped).
    pub fn forward(line: &str) {
        let receivers = RECEIVERS.read().unwrap_or_else(|e| e.into_inner());
        if receivers.is_empty() {
            return;
        }
        let entry = Entry::new(Labels::new([("component", "alloy")]), Entry::nanos_of(SystemTime::now()), line.trim_end_matches('\n'));
        for r in receivers.iter() {
            r.try_send(vec![entry.clone()]);
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::loki::receiver::channel;

        #[test]
        fn lines_go_to_the_receivers_as_entries_labelled_alloy() {
            let (tx, mut rx) = channel("loki.echo.logs", 1);
            let mut o = eval::Object::new();
            o.insert("write_to", eval::Value::array(vec![tx.to_value()]));
            set(Some(&eval::Value::object(o)));
            forward("level=info msg=hello\n");
            forward("level=info msg=\"queue full: left out\"\n");
            set(None);
            forward("level=info msg=\"no receivers\"\n");
            let got = rx.try_recv().expect("one entry");
            assert_eq!((got[0].line.as_str(), got[0].labels.get("component")), ("level=info msg=hello", Some("alloy")));
            assert!(rx.try_recv().is_err(), "a full queue drops the line instead of blocking, and no receivers send nothing");
        }
    }
}

impl LogOptions {
    /// From the evaluated block; its problems as one text.
    pub fn decode(v: &eval::Value) -> Result<LogOptions, String> {
        crate::component::args::decode_checked("logging", v).map_err(|e| e.0)
    }
}

static LEVEL: AtomicU8 = AtomicU8::new(2);
static FORMAT: AtomicU8 = AtomicU8::new(0);

fn level_rank(l: &Level) -> u8 {
    match *l {
        Level::ERROR => 0,
        Level::WARN => 1,
        Level::INFO => 2,
        Level::DEBUG => 3,
        Level::TRACE => 4,
    }
}

/// Applies the options to every later log line.
pub fn apply(o: LogOptions) {
    LEVEL.store(level_rank(&o.level), Ordering::Relaxed);
    FORMAT.store(if o.format == Format::Json { 1 } else { 0 }, Ordering::Relaxed);
}

/// Installs the logger as the global `tracing` subscriber (no-op if one is installed).
pub fn init() {
    let subscriber = tracing_subscriber::registry().with(AlloyLayer);
    let _ = tracing::subscriber::set_global_default(subscriber);
}

struct AlloyLayer;

impl<S: Subscriber> Layer<S> for AlloyLayer {
    fn enabled(&self, metadata: &tracing::Metadata<'_>, _: Context<'_, S>) -> bool {
        // Only the runtime's and the binary's own events: libraries (salsa, hyper, …) log
        // internals that are not the user's business.
        let ours = metadata.target().starts_with("runtime") || metadata.target().starts_with("alloy");
        ours && level_rank(metadata.level()) <= LEVEL.load(Ordering::Relaxed)
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let level = match *event.metadata().level() {
            Level::ERROR => "error",
            Level::WARN => "warn",
            Level::INFO => "info",
            _ => "debug",
        };
        let line = format_line(FORMAT.load(Ordering::Relaxed) == 1, &rfc3339_nanos(SystemTime::now()), level, &fields.message, &fields.pairs);
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
        #[cfg(feature = "loki")]
        write_to::forward(&line);
    }
}

#[derive(Default)]
struct Fields {
    message: String,
    pairs: Vec<(String, String)>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_string();
        } else {
            self.pairs.push((field.name().to_string(), value.to_string()));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.record_str(field, &format!("{value:?}"));
    }
}

/// One log line (with its newline).
fn format_line(json: bool, ts: &str, level: &str, msg: &str, pairs: &[(String, String)]) -> String {
    let mut out = String::new();
    let all = [("ts", ts), ("level", level), ("msg", msg)].into_iter().chain(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    if json {
        out.push('{');
        for (i, (k, v)) in all.enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{}:{}", serde_json::Value::from(k), serde_json::Value::from(v));
        }
        out.push('}');
    } else {
        for (i, (k, v)) in all.enumerate() {
            if i > 0 {
                out.push(' ');
            }
            let needs_quotes = v.is_empty() || v.chars().any(|c| c == ' ' || c == '"' || c == '=' || c.is_control());
            if needs_quotes {
                let _ = write!(out, "{k}={v:?}");
            } else {
                let _ = write!(out, "{k}={v}");
            }
        }
    }
    out.push('\n');
    out
}

/// UTC RFC 3339 with nanoseconds, trailing zeros trimmed (Go's RFC3339Nano).
pub(crate) fn rfc3339_nanos(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = crate::civil_date::civil_from_days(days);
    let mut s = format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}", rem / 3600, (rem / 60) % 60, rem % 60);
    let nanos = d.subsec_nanos();
    if nanos > 0 {
        let frac = format!("{nanos:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push('Z');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_rfc3339_nano_utc() {
        let t = UNIX_EPOCH + Duration::new(1_763_721_000, 120_000_000);
        assert_eq!(rfc3339_nanos(t), "2025-11-21T10:30:00.12Z");
        assert_eq!(rfc3339_nanos(UNIX_EPOCH + Duration::from_secs(951_782_400)), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn logfmt_and_json_lines() {
        let pairs = vec![("node_id".to_string(), "local.file.a".to_string())];
        assert_eq!(format_line(false, "T", "info", "config reloaded", &pairs), "ts=T level=info msg=\"config reloaded\" node_id=local.file.a\n");
        assert_eq!(format_line(true, "T", "warn", "x", &[]), "{\"ts\":\"T\",\"level\":\"warn\",\"msg\":\"x\"}\n");
    }

    #[test]
    fn block_options_are_checked() {
        let v = crate::component::args::evaluated("logging {\n  level = \"debug\"\n  format = \"json\"\n}\n").unwrap();
        assert_eq!(LogOptions::decode(&v).unwrap(), LogOptions { level: Level::DEBUG, format: Format::Json });
        let v = crate::component::args::evaluated("logging {\n  level = \"loud\"\n}\n").unwrap();
        assert_eq!(LogOptions::decode(&v).unwrap_err(), "level: unrecognized log level \"loud\"");
    }

    #[test]
    fn default_options_are_the_catalogue_defaults() {
        assert_eq!(crate::component::args::defaults::<LogOptions>("logging").unwrap(), LogOptions::default());
    }
}
