//! `local.file`: exports a file's `content` and re-reads it when it changes.
//!
//! Changes are found by polling: every `poll_frequency` with `detector = "poll"`, and every
//! 250 ms with the default `detector = "fsnotify"` (which upstream implements with file
//! system events; polling at a short interval gives the same observable behaviour without a
//! watcher dependency). A missing or unreadable file makes the component unhealthy and keeps
//! the last content; `is_secret` exports the content as a secret.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use eval::{Object, Value};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::component::args::{decode_checked, types::Dur};
use crate::component::{Arguments, BoxFuture, Component, ComponentError, Context, HealthState, Reader, Registration};

const NAME: &str = "local.file";
pub const REGISTRATION: Registration = Registration::component::<Args>(NAME, &["content"], build);

const FSNOTIFY_POLL: Duration = Duration::from_millis(250);

#[derive(Clone, Debug, Default, PartialEq)]
struct Args {
    filename: String,
    poll: bool,
    is_secret: bool,
    poll_frequency: Duration,
}

impl Arguments for Args {
    fn decode(r: &mut Reader<'_>) -> Self {
        let detector: String = r.get("detector");
        Args { filename: r.get("filename"), poll: detector == "poll", is_secret: r.get("is_secret"), poll_frequency: r.get::<Dur>("poll_frequency").0 }
    }

    fn validate(&self, r: &mut Reader<'_>) {
        let detector: String = r.get("detector");
        r.check(matches!(detector.as_str(), "poll" | "fsnotify"), &["detector"], format!("unknown detector {detector:?}, expected \"fsnotify\" or \"poll\""));
        r.check(!self.poll_frequency.is_zero(), &["poll_frequency"], "poll_frequency must be greater than 0");
    }
}

impl Args {
    fn interval(&self) -> Duration {
        if self.poll {
            self.poll_frequency
        } else {
            FSNOTIFY_POLL
        }
    }
}

struct LocalFile {
    ctx: Context,
    args: Mutex<Args>,
    /// Wakes the poll loop after an update.
    updated: Notify,
}

fn build(ctx: Context, args: Value) -> Result<Arc<dyn Component>, ComponentError> {
    let args: Args = decode_checked(NAME, &args)?;
    let c = LocalFile { ctx, args: Mutex::new(args), updated: Notify::new() };
    // Dependants need the content at load time: a file that cannot be read fails the build.
    c.read().map_err(|e| ComponentError(format!("failed to read file: {e}")))?;
    Ok(Arc::new(c))
}

impl LocalFile {
    fn args(&self) -> Args {
        self.args.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Reads the file and publishes its content when it changed.
    fn read(&self) -> std::io::Result<()> {
        let args = self.args();
        let bytes = std::fs::read(&args.filename)?;
        let mut exports = Object::ordered();
        exports.insert("content", Value::optional_secret(bytes, args.is_secret));
        // The node ignores exports equal to the current ones.
        self.ctx.set_exports(Value::object(exports));
        self.ctx.set_health(HealthState::Healthy, "read file");
        Ok(())
    }

    fn poll_once(&self) {
        if let Err(e) = self.read() {
            self.ctx.set_health(HealthState::Unhealthy, format!("failed to read file: {e}"));
        }
    }
}

impl Component for LocalFile {
    fn update(&self, args: Value) -> Result<(), ComponentError> {
        let new = decode_checked::<Args>(NAME, &args)?;
        *self.args.lock().unwrap_or_else(|e| e.into_inner()) = new;
        self.read().map_err(|e| ComponentError(format!("failed to read file: {e}")))?;
        self.updated.notify_one();
        Ok(())
    }

    fn run(self: Arc<Self>, shutdown: CancellationToken) -> BoxFuture<Result<(), ComponentError>> {
        Box::pin(async move {
            loop {
                let interval = self.args().interval();
                tokio::select! {
                    _ = shutdown.cancelled() => return Ok(()),
                    _ = self.updated.notified() => continue,
                    _ = tokio::time::sleep(interval) => {}
                }
                // File reads are small and rare; a blocking read on a runtime thread is fine.
                self.poll_once();
            }
        })
    }
}
