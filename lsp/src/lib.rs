//! The Alloy language server: diagnostics, formatting, hover, completion, navigation, rename,
//! symbols, folding, semantic tokens and code actions over the analyzer's incremental queries.
//!
//! [`run_stdio`] serves one client over standard input and output (`alloy lsp`).

mod convert;
mod formatting;
mod framing;
mod server;
mod settings;
mod state;

use std::time::Duration;

use tower_lsp_server::{LspService, Server};

/// How long diagnostics wait for a burst of edits to settle.
pub const DEFAULT_DEBOUNCE: Duration = Duration::from_millis(10);

/// Serves the protocol over stdio until the client exits. `rules` are the components'
/// argument rules the binary runs (`alloy run`'s registry), checked as the user types.
pub async fn run_stdio(debounce: Duration, rules: analyzer::rules::SharedRules) {
    let (service, socket) = LspService::new(move |client| server::Server::new(client, debounce, rules.clone()));
    // The client's bytes pass through `framing`, which answers malformed messages itself:
    // tower-lsp-server would stop serving at the first one.
    let (server_in, client_side) = tokio::io::duplex(64 * 1024);
    let (server_out, server_side) = tokio::io::duplex(64 * 1024);
    let (out_tx, out_rx) = tokio::sync::mpsc::channel(64);
    let writer = tokio::spawn(framing::write_client(tokio::io::stdout(), out_rx));
    tokio::spawn(framing::forward_client(tokio::io::stdin(), client_side, out_tx.clone()));
    let server_output = tokio::spawn(framing::forward_server(server_side, out_tx));
    Server::new(server_in, server_out, socket).serve(service).await;
    // Everything the server wrote reaches the client before the process exits.
    let _ = server_output.await;
    let _ = writer.await;
}
