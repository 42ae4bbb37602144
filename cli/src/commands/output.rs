//! Writing to standard output and error. A reader that went away (`alloy fmt DIR | head`) ends
//! the output quietly, as Unix tools do, rather than a panic (`print!`) or a "Broken pipe" error.

use std::io::{ErrorKind, Write};

/// Standard output was closed by its reader: nothing more can be written, and it is no failure.
#[derive(Debug)]
pub struct StdoutClosed;

impl std::fmt::Display for StdoutClosed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("standard output was closed")
    }
}

impl std::error::Error for StdoutClosed {}

/// Writes all of `bytes` to standard output; [`StdoutClosed`] when the reader has gone away.
pub fn stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Err(StdoutClosed.into()),
        Err(e) => Err(anyhow::Error::new(e).context("writing to standard output")),
        Ok(()) => Ok(()),
    }
}

/// [`stdout`] where a closed output is the end of the work: the caller's exit status stands.
pub fn stdout_until_closed(bytes: &[u8]) -> anyhow::Result<()> {
    match stdout(bytes) {
        Err(e) if is_closed(&e) => Ok(()),
        r => r,
    }
}

/// Whether `err` is (or was caused by) writing into a closed pipe.
pub fn is_closed(err: &anyhow::Error) -> bool {
    err.chain().any(|e| e.is::<StdoutClosed>() || e.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == ErrorKind::BrokenPipe))
}

/// Writes `text` to standard error. Errors are ignored: there is nowhere left to report them
/// (`eprint!` would panic on a closed pipe).
pub fn stderr(text: &str) {
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}
