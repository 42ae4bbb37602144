//! The Alloy language server: diagnostics, formatting, hover, completion, navigation, rename,
//! symbols, folding, semantic tokens and code actions over the analyzer's incremental queries.
//!
//! [`run_stdio`] serves one client over standard input and output (`alloy lsp`).

mod convert;
mod formatting;
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
    Server::new(tokio::io::stdin(), tokio::io::stdout(), socket).serve(service).await;
}
