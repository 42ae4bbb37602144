//! `otelcol.exporter.file`: writes telemetry to a file. `format = "json"` writes each
//! request as one OTLP/JSON line; `proto` (and any `zstd`-compressed data) writes each as a
//! 4-byte big-endian length followed by the message, as upstream does. Writes are buffered
//! and flushed every `flush_interval` and on shutdown; `rotation` rolls the file by size.

mod rotate;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use eval::Value;
use tokio_util::sync::CancellationToken;

use crate::component::args::{decode_checked, types::Dur};
use crate::component::{Arguments, BoxFuture, Component, ComponentError, Context, Reader, Registration};
use crate::otelcol::consumer::{ConsumeError, ConsumeFuture, Consumer, ConsumerHandle};
use crate::otelcol::pdata::{Payload, Signal};
use crate::otelcol::{log, SignalCounters};
use rotate::{Output, Rotation};

const NAME: &str = "otelcol.exporter.file";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["input"], build);

#[derive(Default)]
struct RotationArgs(Rotation);

impl Arguments for RotationArgs {
    fn decode(r: &mut Reader<'_>) -> Self {
        // Backup names use UTC; local time is not implemented.
        r.unsupported(&["localtime"]);
        let mb: i64 = r.get("max_megabytes");
        let backups: i64 = r.get("max_backups");
        let days: i64 = r.get("max_days");
        r.check(mb >= 0 && backups >= 0 && days >= 0, &["max_megabytes"], "rotation limits must not be negative");
        RotationArgs(Rotation { max_bytes: (mb.max(0) as u64) << 20, max_backups: backups.max(0) as usize, max_days: days.max(0) as u64 })
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Format {
    #[default]
    Json,
    Proto,
}

/// The component's arguments.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Args {
    path: PathBuf,
    append: bool,
    zstd: bool,
    flush_interval: Duration,
    format: Format,
    rotation: Option<Rotation>,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        r.unsupported(&["debug_metrics", "encoding", "compression_params", "group_by"]);
        let path: String = r.get("path");
        let format = match r.get::<String>("format").as_str() {
            "json" => Format::Json,
            "proto" => Format::Proto,
            other => {
                r.error("format", format!("format type is not supported: {}", syntax::quote::go_quote(other)));
                Format::Json
            }
        };
        let zstd = match r.get::<String>("compression").as_str() {
            "" => false,
            "zstd" => true,
            other => {
                r.error("compression", format!("compression is not supported: {}", syntax::quote::go_quote(other)));
                false
            }
        };
        let flush_interval: Dur = r.get("flush_interval");
        let args = Args {
            path: PathBuf::from(&path),
            append: r.get("append"),
            zstd,
            flush_interval: flush_interval.0,
            format,
            rotation: r.block::<RotationArgs>("rotation").map(|x| x.0),
        };
        r.check(!path.is_empty(), &["path"], "path must be non-empty");
        r.check(flush_interval.0 > Duration::ZERO, &["flush_interval"], "flush_interval must be larger than zero");
        r.check(!(args.append && args.zstd), &["append", "compression"], "append and compression enabled at the same time is not supported");
        r.check(!(args.append && args.rotation.is_some()), &["append", "rotation"], "append and rotation enabled at the same time is not supported");
        args
    }
}

/// One request as the file holds it.
fn encode(p: &Payload, format: Format, zstd: bool) -> Result<Vec<u8>, String> {
    let message = match format {
        Format::Proto => p.bytes().to_vec(),
        Format::Json => {
            let json = match p.signal() {
                Signal::Traces => serde_json::to_vec(&p.decode_traces().map_err(|e| e.to_string())?),
                Signal::Metrics => serde_json::to_vec(&p.decode_metrics().map_err(|e| e.to_string())?),
                Signal::Logs => serde_json::to_vec(&p.decode_logs().map_err(|e| e.to_string())?),
            };
            json.map_err(|e| e.to_string())?
        }
    };
    if format == Format::Json && !zstd {
        let mut line = message;
        line.push(b'\n');
        return Ok(line);
    }
    let message = if zstd { zstd::encode_all(&message[..], 0).map_err(|e| e.to_string())? } else { message };
    let len = u32::try_from(message.len()).map_err(|_| "message larger than 4 GiB".to_string())?;
    let mut out = Vec::with_capacity(4 + message.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&message);
    Ok(out)
}

/// The open file and how requests are written to it.
struct Target {
    args: Args,
    output: Output,
}

impl Target {
    fn open(args: Args) -> Result<Target, ComponentError> {
        let output =
            Output::open(&args.path, args.append, args.rotation.clone()).map_err(|e| ComponentError(format!("opening {}: {e}", args.path.display())))?;
        Ok(Target { args, output })
    }
}

struct Writer {
    target: Mutex<Target>,
    failed: SignalCounters,
    sent: SignalCounters,
}

impl Consumer for Writer {
    fn consume(&self, data: Payload) -> ConsumeFuture<'_> {
        Box::pin(async move {
            let (signal, n) = (data.signal(), data.items());
            let mut target = self.target.lock().unwrap_or_else(|e| e.into_inner());
            let bytes = encode(&data, target.args.format, target.args.zstd).map_err(|e| {
                self.failed.add(signal, n);
                ConsumeError::Permanent(e)
            })?;
            target.output.write(&bytes).map_err(|e| {
                self.failed.add(signal, n);
                ConsumeError::Unavailable(format!("writing the file: {e}"))
            })?;
            self.sent.add(signal, n);
            Ok(())
        })
    }
}

pub struct FileExporter {
    ctx: Context,
    writer: Arc<Writer>,
}

pub fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    let e: Arc<dyn Component> = FileExporter::new(ctx, &args)?;
    Ok(e)
}

impl FileExporter {
    pub fn new(ctx: Context, args: &Value) -> Result<Arc<FileExporter>, ComponentError> {
        let target = Target::open(decode_checked(NAME, args)?)?;
        let labels = [("exporter", ctx.id())];
        let writer = Arc::new(Writer {
            target: Mutex::new(target),
            failed: SignalCounters::new(&ctx, "otelcol_exporter_send_failed", "Items that could not be written", &labels),
            sent: SignalCounters::new(&ctx, "otelcol_exporter_sent", "Items written", &labels),
        });
        crate::otelcol::consumer::publish_input(&ctx, ConsumerHandle::new(ctx.id(), writer.clone()).tapped(&ctx));
        Ok(Arc::new(FileExporter { ctx, writer }))
    }

    pub fn input(&self) -> ConsumerHandle {
        ConsumerHandle::new(self.ctx.id(), self.writer.clone()).tapped(&self.ctx)
    }

    fn flush_interval(&self) -> Duration {
        self.writer.target.lock().unwrap_or_else(|e| e.into_inner()).args.flush_interval
    }

    fn flush(&self) {
        if let Err(e) = self.writer.target.lock().unwrap_or_else(|e| e.into_inner()).output.flush() {
            log(self.ctx.id(), tracing::Level::WARN, &format!("flushing the file: {e}"));
        }
    }
}

impl Component for FileExporter {
    /// New settings: what was buffered goes to the old file, then the file is opened again.
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let args: Args = decode_checked(NAME, &args)?;
        let mut target = self.writer.target.lock().unwrap_or_else(|e| e.into_inner());
        if target.args == args {
            return Ok(());
        }
        let _ = target.output.flush();
        *target = Target::open(args)?;
        Ok(())
    }

    fn run(self: Arc<Self>, shutdown: CancellationToken) -> BoxFuture<Result<(), ComponentError>> {
        Box::pin(async move {
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(self.flush_interval()) => self.flush(),
                }
            }
            self.flush();
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests;
