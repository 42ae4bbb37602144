//! The protocol handlers.
//!
//! Notifications that change text are applied synchronously, in arrival order, to the
//! documents and the analysis. Requests take a [`Snapshot`] and run on the blocking pool; an
//! edit cancels queries on older snapshots, and such a request answers `ContentModified`.
//! Diagnostics are computed by one background task, woken by edits and coalescing bursts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use analyzer::ide::{Snapshot, TokenType};
use tokio::sync::Notify;
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

use crate::convert::{self, Encoding, Text};
use crate::formatting;
use crate::state::{self, State};

pub struct Server {
    client: Client,
    state: Arc<Mutex<State>>,
    encoding: Arc<Mutex<Encoding>>,
    wake: Arc<Notify>,
    /// Whether the client keeps a file's final newline outside the text (Neovim: 'eol' and
    /// 'fixeol'), so formatting must not add one to a text that lacks it.
    newline_outside_text: Arc<std::sync::atomic::AtomicBool>,
}

impl Server {
    pub fn new(client: Client, debounce: Duration, rules: analyzer::rules::SharedRules) -> Server {
        let state = Arc::new(Mutex::new(State { rules, ..State::default() }));
        let encoding = Arc::new(Mutex::new(Encoding::Utf16));
        let wake = Arc::new(Notify::new());
        tokio::spawn(diagnostics_task(client.clone(), state.clone(), encoding.clone(), wake.clone(), debounce));
        Server { client, state, encoding, wake, newline_outside_text: Default::default() }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves a usable state: each change is applied whole.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn encoding(&self) -> Encoding {
        *self.encoding.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs a query on a snapshot of the document's workspace, off the async threads.
    async fn query<T: Send + 'static>(&self, uri: &Uri, f: impl FnOnce(&Snapshot, &str, Encoding) -> Option<T> + Send + 'static) -> Result<Option<T>> {
        let path = convert::path_of(uri);
        let Some(snap) = self.state().snapshot_of(&path) else { return Ok(None) };
        let encoding = self.encoding();
        let job = tokio::task::spawn_blocking(move || snap.run(|s| f(s, &path, encoding)));
        match job.await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(analyzer::ide::Cancelled)) => Err(Error { code: ErrorCode::ContentModified, message: "the document changed".into(), data: None }),
            Err(e) => Err(Error { code: ErrorCode::InternalError, message: format!("the query failed: {e}").into(), data: None }),
        }
    }
}

/// The most completion items sent at once.
const MAX_COMPLETIONS: usize = 200;

/// Whether the characters of `typed` occur in `label` in order (the usual fuzzy match).
fn is_subsequence(typed: &str, label: &str) -> bool {
    let mut rest = label.chars();
    typed.chars().all(|c| rest.any(|l| l == c))
}

fn position_params(p: &TextDocumentPositionParams) -> (Uri, Position) {
    (p.text_document.uri.clone(), p.position)
}

pub fn capabilities(encoding: Encoding) -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(if encoding == Encoding::Utf8 { PositionEncodingKind::UTF8 } else { PositionEncodingKind::UTF16 }),
        text_document_sync: Some(TextDocumentSyncCapability::Options(TextDocumentSyncOptions {
            open_close: Some(true),
            change: Some(TextDocumentSyncKind::INCREMENTAL),
            ..Default::default()
        })),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        completion_provider: Some(CompletionOptions { trigger_characters: Some(vec![".".into(), "\"".into(), "[".into()]), ..Default::default() }),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Right(RenameOptions { prepare_provider: Some(true), work_done_progress_options: Default::default() })),
        document_symbol_provider: Some(OneOf::Left(true)),
        workspace_symbol_provider: Some(OneOf::Left(true)),
        folding_range_provider: Some(FoldingRangeProviderCapability::Simple(true)),
        semantic_tokens_provider: Some(SemanticTokensServerCapabilities::SemanticTokensOptions(SemanticTokensOptions {
            legend: SemanticTokensLegend {
                token_types: TokenType::ALL.iter().map(|t| SemanticTokenType::new(t.as_str())).collect(),
                token_modifiers: Vec::new(),
            },
            full: Some(SemanticTokensFullOptions::Bool(true)),
            range: None,
            ..Default::default()
        })),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
            ..Default::default()
        })),
        document_formatting_provider: Some(OneOf::Left(true)),
        document_range_formatting_provider: Some(OneOf::Left(true)),
        ..Default::default()
    }
}

impl LanguageServer for Server {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let utf8 = params.capabilities.general.as_ref().and_then(|g| g.position_encodings.as_ref()).is_some_and(|e| e.contains(&PositionEncodingKind::UTF8));
        let encoding = if utf8 { Encoding::Utf8 } else { Encoding::Utf16 };
        *self.encoding.lock().unwrap_or_else(|e| e.into_inner()) = encoding;
        let neovim = params.client_info.as_ref().is_some_and(|c| c.name.eq_ignore_ascii_case("neovim"));
        self.newline_outside_text.store(neovim, std::sync::atomic::Ordering::Relaxed);
        if let Some(options) = &params.initialization_options {
            let problems = {
                let mut st = self.state();
                let mut settings = st.settings;
                let problems = settings.apply(options);
                st.settings = settings;
                problems
            };
            self.report_settings(problems).await;
        }
        Ok(InitializeResult {
            capabilities: capabilities(encoding),
            server_info: Some(ServerInfo { name: "alloy".into(), version: Some(env!("CARGO_PKG_VERSION").into()) }),
            ..Default::default()
        })
    }

    async fn shutdown(&self) -> Result<()> {
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let d = params.text_document;
        self.state().open(convert::path_of(&d.uri), d.text, d.version);
        self.wake.notify_one();
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let path = convert::path_of(&params.text_document.uri);
        let encoding = self.encoding();
        {
            let mut st = self.state();
            let Some(doc) = st.docs.get_mut(&path) else { return };
            for change in params.content_changes {
                convert::apply_change(&mut doc.text, change, encoding);
            }
            doc.version = params.text_document.version;
            st.changed(&path);
        }
        self.wake.notify_one();
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        let (cleared, problems) = {
            let mut st = self.state();
            let mut settings = st.settings;
            let problems = settings.apply(&params.settings);
            if settings == st.settings {
                (Vec::new(), problems)
            } else {
                (st.reconfigure(settings), problems)
            }
        };
        self.report_settings(problems).await;
        for path in cleared {
            if let Some(uri) = convert::uri_of(&path) {
                self.client.publish_diagnostics(uri, Vec::new(), None).await;
            }
        }
        self.wake.notify_one();
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let cleared = self.state().close(&convert::path_of(&params.text_document.uri));
        for path in cleared {
            if let Some(uri) = convert::uri_of(&path) {
                self.client.publish_diagnostics(uri, Vec::new(), None).await;
            }
        }
        self.wake.notify_one();
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let (uri, pos) = position_params(&params.text_document_position_params);
        self.query(&uri, move |s, path, enc| {
            let t = Text::of(s, path, enc)?;
            let h = s.hover(path, t.offset(pos))?;
            Some(Hover { contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value: h.markdown }), range: Some(t.range(h.span)) })
        })
        .await
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        let (uri, pos) = position_params(&params.text_document_position);
        self.query(&uri, move |s, path, enc| {
            let t = Text::of(s, path, enc)?;
            let mut items = s.completions(path, t.offset(pos));
            // Long lists (references in a large workspace) are filtered by what is typed and
            // cut; the client asks again as the user types.
            let is_incomplete = items.len() > MAX_COMPLETIONS;
            if is_incomplete {
                let typed = items.first().and_then(|c| t.text.get(c.replace.range())).unwrap_or("").to_lowercase();
                items.retain(|c| is_subsequence(&typed, &c.label.to_lowercase()));
                items.truncate(MAX_COMPLETIONS);
            }
            let items: Vec<CompletionItem> = items.into_iter().map(|c| convert::completion(&t, c)).collect();
            Some(CompletionResponse::List(CompletionList { is_incomplete, items }))
        })
        .await
    }

    async fn goto_definition(&self, params: GotoDefinitionParams) -> Result<Option<GotoDefinitionResponse>> {
        let (uri, pos) = position_params(&params.text_document_position_params);
        self.query(&uri, move |s, path, enc| {
            let t = Text::of(s, path, enc)?;
            let loc = s.definition(path, t.offset(pos))?;
            convert::location(s, &loc, enc).map(GotoDefinitionResponse::Scalar)
        })
        .await
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        let (uri, pos) = position_params(&params.text_document_position);
        let include = params.context.include_declaration;
        self.query(&uri, move |s, path, enc| {
            let t = Text::of(s, path, enc)?;
            Some(s.references(path, t.offset(pos), include).iter().filter_map(|l| convert::location(s, l, enc)).collect())
        })
        .await
    }

    async fn prepare_rename(&self, params: TextDocumentPositionParams) -> Result<Option<PrepareRenameResponse>> {
        let (uri, pos) = position_params(&params);
        let result = self
            .query(&uri, move |s, path, enc| {
                let t = Text::of(s, path, enc)?;
                Some(
                    s.prepare_rename(path, t.offset(pos))
                        .map(|(span, label)| PrepareRenameResponse::RangeWithPlaceholder { range: t.range(span), placeholder: label }),
                )
            })
            .await?;
        match result {
            None => Ok(None),
            Some(Ok(r)) => Ok(Some(r)),
            Some(Err(e)) => Err(Error { code: ErrorCode::InvalidParams, message: e.to_string().into(), data: None }),
        }
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        let (uri, pos) = position_params(&params.text_document_position);
        let new_name = params.new_name;
        let result = self
            .query(&uri, move |s, path, enc| {
                let t = Text::of(s, path, enc)?;
                Some(s.rename(path, t.offset(pos), &new_name).map(|files| {
                    let mut changes = HashMap::new();
                    for (file, edits) in files {
                        if let (Some(ft), Some(u)) = (Text::of(s, &file, enc), convert::uri_of(&file)) {
                            changes.insert(u, convert::edits(&ft, &edits));
                        }
                    }
                    WorkspaceEdit { changes: Some(changes), ..Default::default() }
                }))
            })
            .await?;
        match result {
            None => Ok(None),
            Some(Ok(edit)) => Ok(Some(edit)),
            Some(Err(e)) => Err(Error { code: ErrorCode::InvalidParams, message: e.to_string().into(), data: None }),
        }
    }

    async fn document_symbol(&self, params: DocumentSymbolParams) -> Result<Option<DocumentSymbolResponse>> {
        self.query(&params.text_document.uri, move |s, path, enc| {
            let t = Text::of(s, path, enc)?;
            Some(DocumentSymbolResponse::Nested(s.document_symbols(path).into_iter().map(|x| convert::document_symbol(&t, x)).collect()))
        })
        .await
    }

    async fn symbol(&self, params: WorkspaceSymbolParams) -> Result<Option<WorkspaceSymbolResponse>> {
        let snaps: Vec<Snapshot> = self.state().workspaces.values().map(|w| w.analysis.snapshot()).collect();
        let encoding = self.encoding();
        let query = params.query;
        let job = tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            for snap in &snaps {
                let found = snap.run(|s| {
                    s.workspace_symbols(&query)
                        .into_iter()
                        .filter_map(|(loc, sym)| {
                            #[allow(deprecated)] // `deprecated` is a required field of the protocol's struct
                            Some(SymbolInformation {
                                name: sym.name,
                                kind: convert::symbol_kind(sym.kind),
                                tags: None,
                                deprecated: None,
                                location: convert::location(s, &loc, encoding)?,
                                container_name: None,
                            })
                        })
                        .collect::<Vec<_>>()
                });
                out.extend(found.unwrap_or_default());
            }
            out
        });
        let found = job.await.map_err(|e| Error { code: ErrorCode::InternalError, message: e.to_string().into(), data: None })?;
        Ok(Some(WorkspaceSymbolResponse::Flat(found)))
    }

    async fn folding_range(&self, params: FoldingRangeParams) -> Result<Option<Vec<FoldingRange>>> {
        self.query(&params.text_document.uri, |s, path, _| {
            Some(
                s.folding_ranges(path)
                    .into_iter()
                    .map(|f| FoldingRange {
                        start_line: f.start_line - 1,
                        end_line: f.end_line - 1,
                        kind: Some(if f.kind == analyzer::ide::FoldKind::Comment { FoldingRangeKind::Comment } else { FoldingRangeKind::Region }),
                        ..Default::default()
                    })
                    .collect(),
            )
        })
        .await
    }

    async fn semantic_tokens_full(&self, params: SemanticTokensParams) -> Result<Option<SemanticTokensResult>> {
        self.query(&params.text_document.uri, |s, path, enc| {
            let t = Text::of(s, path, enc)?;
            let data = convert::semantic_tokens(&t, &s.semantic_tokens(path));
            Some(SemanticTokensResult::Tokens(SemanticTokens { result_id: None, data }))
        })
        .await
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let uri = params.text_document.uri.clone();
        let range = params.range;
        self.query(&params.text_document.uri, move |s, path, enc| {
            let t = Text::of(s, path, enc)?;
            let actions = s.code_actions(path, t.span(range));
            Some(
                actions
                    .into_iter()
                    .map(|a| {
                        let changes = HashMap::from([(uri.clone(), convert::edits(&t, &a.edits))]);
                        CodeActionOrCommand::CodeAction(CodeAction {
                            title: a.title,
                            kind: Some(CodeActionKind::QUICKFIX),
                            diagnostics: Some(vec![convert::diagnostic(s, path, &t, &a.fixes)]),
                            edit: Some(WorkspaceEdit { changes: Some(changes), ..Default::default() }),
                            is_preferred: Some(a.preferred),
                            ..Default::default()
                        })
                    })
                    .collect(),
            )
        })
        .await
    }

    async fn formatting(&self, params: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        self.format(&params.text_document.uri, None).await
    }

    async fn range_formatting(&self, params: DocumentRangeFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        let r = params.range;
        self.format(&params.text_document.uri, Some((r.start.line, r.end.line))).await
    }
}

impl Server {
    /// Tells the user about settings that were not understood.
    async fn report_settings(&self, problems: Vec<String>) {
        if !problems.is_empty() {
            self.client.show_message(MessageType::WARNING, format!("alloy: ignored settings: {}", problems.join("; "))).await;
        }
    }

    /// The formatter's output as line edits (none when the document does not parse).
    async fn format(&self, uri: &Uri, lines: Option<(u32, u32)>) -> Result<Option<Vec<TextEdit>>> {
        let newline_outside = self.newline_outside_text.load(std::sync::atomic::Ordering::Relaxed);
        self.query(uri, move |s, path, enc| {
            let t = Text::of(s, path, enc)?;
            let formatted = formatting::final_newline(t.text, s.formatted(path)?, newline_outside);
            Some(
                formatting::line_edits(t.text, t.lines, &formatted, lines)
                    .into_iter()
                    .map(|(span, new_text)| TextEdit { range: t.range(span), new_text })
                    .collect(),
            )
        })
        .await
    }
}

/// Publishes diagnostics after edits: waits for a wake-up, lets a burst of edits settle for
/// `debounce`, then publishes every file whose diagnostics changed or that was edited.
async fn diagnostics_task(client: Client, state: Arc<Mutex<State>>, encoding: Arc<Mutex<Encoding>>, wake: Arc<Notify>, debounce: Duration) {
    loop {
        wake.notified().await;
        if !debounce.is_zero() {
            tokio::time::sleep(debounce).await;
        }
        let enc = *encoding.lock().unwrap_or_else(|e| e.into_inner());
        let dirs: Vec<_> = state.lock().unwrap_or_else(|e| e.into_inner()).workspaces.keys().cloned().collect();
        for dir in dirs {
            // A snapshot lives only while its diagnostics are computed: an edit waits for
            // older snapshots to be dropped.
            let job = {
                let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
                let versions: HashMap<String, i32> = st.docs.iter().map(|(p, d)| (p.clone(), d.version)).collect();
                st.workspaces.get_mut(&dir).map(|ws| {
                    // Modules read for `import.file` are read again once per burst of edits,
                    // not on every keystroke.
                    ws.analysis.reload_imports();
                    (ws.analysis.snapshot(), std::mem::take(&mut ws.dirty), ws.published.clone(), versions)
                })
            };
            let Some((snap, dirty, published, versions)) = job else { continue };
            let computed = tokio::task::spawn_blocking(move || {
                snap.run(|s| {
                    let mut out = Vec::new();
                    for path in s.files() {
                        let Some(diags) = s.diagnostics(&path) else { continue };
                        let fp = state::fingerprint(&diags);
                        if !dirty.contains(&path) && published.get(&path) == Some(&fp) {
                            continue;
                        }
                        let (Some(t), Some(uri)) = (Text::of(s, &path, enc), convert::uri_of(&path)) else { continue };
                        let lsp_diags: Vec<Diagnostic> = diags.iter().map(|d| convert::diagnostic(s, &path, &t, d)).collect();
                        out.push((path.clone(), uri, fp, lsp_diags, versions.get(&path).copied()));
                    }
                    out
                })
                .map_err(|_| dirty)
            })
            .await;
            match computed {
                Ok(Ok(files)) => {
                    for (path, uri, fp, diags, version) in files {
                        client.publish_diagnostics(uri, diags, version).await;
                        let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
                        if let Some(ws) = st.workspaces.get_mut(&dir) {
                            ws.published.insert(path, fp);
                        }
                    }
                }
                // Cancelled by a newer edit, which woke this task again: keep what was dirty.
                Ok(Err(dirty)) => {
                    let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
                    if let Some(ws) = st.workspaces.get_mut(&dir) {
                        ws.dirty.extend(dirty);
                    }
                }
                Err(e) => client.log_message(MessageType::ERROR, format!("diagnostics failed: {e}")).await,
            }
        }
    }
}
