//! The `LanguageServer` implementation: each request converts its parameters, runs one IDE
//! query on a snapshot off the async threads, and converts the answer back.

use crate::convert::{self, path_of, uri_of};
use crate::files;
use intent_compiler::ide::{Host, Snapshot, TestStatus};
use intent_compiler::mesh;
use intent_compiler::syntax::ast::Span;
use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

/// The server: the IDE host behind a mutex, and the documents the client has open.
pub struct Backend {
    client: Client,
    host: Arc<Mutex<Host>>,
    /// Open documents: path → (URI, version).
    open: Arc<Mutex<BTreeMap<String, (Uri, i32)>>>,
    /// Whether the client lets the server ask to be told when `.intent` files change on disk
    /// (`workspace/didChangeWatchedFiles` with dynamic registration).
    can_watch: AtomicBool,
}

fn internal(message: &str) -> Error {
    Error {
        code: ErrorCode::InternalError,
        message: message.to_string().into(),
        data: None,
    }
}

impl Backend {
    pub fn new(client: Client) -> Backend {
        Backend {
            client,
            host: Arc::new(Mutex::new(Host::default())),
            open: Arc::new(Mutex::new(BTreeMap::new())),
            can_watch: AtomicBool::new(false),
        }
    }

    /// The paths of the open documents.
    fn open_paths(&self) -> Vec<String> {
        self.open
            .lock()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Runs `f` on a fresh snapshot on a blocking thread. A query cancelled by a newer edit
    /// answers "content modified"; a panic answers an internal error. Neither stops the server.
    async fn query<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Snapshot) -> T + Send + 'static,
    ) -> Result<T> {
        let snap = {
            let host = self
                .host
                .lock()
                .map_err(|_| internal("the database lock is poisoned"))?;
            host.snapshot()
        };
        let task = tokio::task::spawn_blocking(move || {
            salsa::Cancelled::catch(AssertUnwindSafe(|| f(&snap)))
        });
        match task.await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(_cancelled)) => Err(Error::new(ErrorCode::ContentModified)),
            Err(_panic) => Err(internal("the request failed inside the server; it goes on")),
        }
    }

    /// Applies a change to the host on a blocking thread (a setter waits for the snapshots it
    /// cancels to be dropped), then publishes fresh diagnostics for the open files.
    async fn update(&self, change: impl FnOnce(&mut Host) + Send + 'static) {
        let host = self.host.clone();
        let _ = tokio::task::spawn_blocking(move || {
            if let Ok(mut h) = host.lock() {
                let _ = std::panic::catch_unwind(AssertUnwindSafe(|| change(&mut h)));
            }
        })
        .await;
        self.publish().await;
    }

    async fn publish(&self) {
        let open: Vec<(String, Uri, i32)> = match self.open.lock() {
            Ok(o) => o
                .iter()
                .map(|(p, (u, v))| (p.clone(), u.clone(), *v))
                .collect(),
            Err(_) => return,
        };
        let paths: Vec<String> = open.iter().map(|(p, _, _)| p.clone()).collect();
        let result = self
            .query(move |s| {
                paths
                    .iter()
                    .map(|p| {
                        s.diagnostics(p)
                            .iter()
                            .map(|d| convert::diagnostic(s, d))
                            .collect::<Vec<_>>()
                    })
                    .collect::<Vec<_>>()
            })
            .await;
        // Cancelled: a newer edit publishes instead.
        let Ok(all) = result else { return };
        for ((_, uri, version), diags) in open.into_iter().zip(all) {
            self.client
                .publish_diagnostics(uri, diags, Some(version))
                .await;
        }
    }

    /// A position request's path and byte offset.
    fn at(p: &TextDocumentPositionParams) -> (String, Position) {
        (path_of(&p.text_document.uri), p.position)
    }
}

/// At most this many directories are read to load one mesh from disk (docs/language-decisions.md):
/// a file opened at the top of a large tree (a home directory) costs a bounded walk.
const MAX_MESH_DIRS: usize = 10_000;

/// The `.intent` files of the mesh of `path` ([`mesh::root_of`]), read from disk (IO stays
/// here), with a warning when the walk stopped at its bound. Each real file once: a link to a
/// file already taken would declare everything twice. Unreadable files are left out.
fn mesh_files(path: &str) -> (Vec<(String, String)>, Option<String>) {
    let root = mesh::root_of(path, |d| files::holds_intent_files(Path::new(d)));
    if root.is_empty() {
        return (Vec::new(), None);
    }
    let Ok(walk) = files::walk(Path::new(&root), MAX_MESH_DIRS) else {
        return (Vec::new(), None);
    };
    let warning = walk.truncated.then(|| {
        format!("{root} has more than {MAX_MESH_DIRS} directories: only the .intent files of the first {MAX_MESH_DIRS} are part of the mesh")
    });
    let mut seen: std::collections::HashSet<std::path::PathBuf> =
        Path::new(path).canonicalize().into_iter().collect();
    let texts = walk
        .files
        .into_iter()
        .filter(|p| p.canonicalize().map_or(true, |real| seen.insert(real)))
        .filter_map(|p| {
            let text = std::fs::read_to_string(&p).ok()?;
            Some((p.to_string_lossy().into_owned(), text))
        })
        .collect();
    (texts, warning)
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let watch = params
            .capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|d| d.dynamic_registration)
            .unwrap_or(false);
        self.can_watch.store(watch, Ordering::Relaxed);
        Ok(InitializeResult {
            server_info: Some(ServerInfo {
                name: "intent-lsp".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            capabilities: ServerCapabilities {
                text_document_sync: Some(TextDocumentSyncCapability::Kind(
                    TextDocumentSyncKind::FULL,
                )),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                definition_provider: Some(OneOf::Left(true)),
                references_provider: Some(OneOf::Left(true)),
                document_highlight_provider: Some(OneOf::Left(true)),
                rename_provider: Some(OneOf::Right(RenameOptions {
                    prepare_provider: Some(true),
                    work_done_progress_options: Default::default(),
                })),
                completion_provider: Some(CompletionOptions {
                    trigger_characters: Some(vec![".".into(), " ".into()]),
                    ..Default::default()
                }),
                document_symbol_provider: Some(OneOf::Left(true)),
                workspace_symbol_provider: Some(OneOf::Left(true)),
                document_formatting_provider: Some(OneOf::Left(true)),
                code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
                code_lens_provider: Some(CodeLensOptions {
                    resolve_provider: Some(false),
                }),
                semantic_tokens_provider: Some(
                    SemanticTokensServerCapabilities::SemanticTokensOptions(
                        SemanticTokensOptions {
                            legend: SemanticTokensLegend {
                                token_types: convert::TOKEN_TYPES.to_vec(),
                                token_modifiers: Vec::new(),
                            },
                            full: Some(SemanticTokensFullOptions::Bool(true)),
                            range: None,
                            ..Default::default()
                        },
                    ),
                ),
                ..Default::default()
            },
            ..Default::default()
        })
    }

    /// Asks the client to report `.intent` files created, changed and deleted on disk, so a
    /// file added to a mesh (by a `git pull`, another tool, a new file saved) counts at once,
    /// not only once it is opened.
    async fn initialized(&self, _: InitializedParams) {
        if !self.can_watch.load(Ordering::Relaxed) {
            return;
        }
        let options = DidChangeWatchedFilesRegistrationOptions {
            watchers: vec![FileSystemWatcher {
                glob_pattern: GlobPattern::String("**/*.intent".into()),
                kind: None,
            }],
        };
        let Ok(options) = serde_json::to_value(options) else {
            return;
        };
        let registration = Registration {
            id: "intent-files".into(),
            method: "workspace/didChangeWatchedFiles".into(),
            register_options: Some(options),
        };
        if let Err(e) = self.client.register_capability(vec![registration]).await {
            let w = format!(
                "cannot watch .intent files ({e}): a new file joins its mesh once it is opened"
            );
            self.client.log_message(MessageType::WARNING, w).await;
        }
    }

    async fn shutdown(&self) -> Result<()> {
        Ok(())
    }

    /// `.intent` files changed on disk. An open document's buffer wins over its file; any other
    /// file the host holds is re-read or forgotten, and a created file joins when its mesh (as
    /// the disk has it now) is one the host holds or contains one: that mesh is read again.
    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        let open = self.open_paths();
        let mut created = Vec::new();
        let mut changed = Vec::new();
        let mut deleted = Vec::new();
        for event in params.changes {
            let path = path_of(&event.uri);
            if !path.ends_with(".intent") || open.contains(&path) {
                continue;
            }
            match event.typ {
                FileChangeType::CREATED => created.push(path),
                FileChangeType::CHANGED => changed.push(path),
                FileChangeType::DELETED => deleted.push(path),
                _ => {}
            }
        }
        let roots: Vec<String> = match self.host.lock() {
            Ok(h) => h.roots().map(str::to_string).collect(),
            Err(_) => return,
        };
        let mut joining: Vec<(String, String)> = Vec::new();
        for path in created {
            let root = mesh::root_of(&path, |d| files::holds_intent_files(Path::new(d)));
            let held = roots
                .iter()
                .any(|r| Path::new(r.as_str()).starts_with(Path::new(&root)));
            if root.is_empty() || !held {
                continue;
            }
            let (others, warning) = mesh_files(&path);
            if let Some(w) = warning {
                self.client.log_message(MessageType::WARNING, w).await;
            }
            joining.extend(others);
            joining.extend(std::fs::read_to_string(&path).ok().map(|t| (path, t)));
        }
        let changed: Vec<(String, String)> = changed
            .into_iter()
            .filter_map(|p| std::fs::read_to_string(&p).ok().map(|t| (p, t)))
            .collect();
        self.update(move |h| {
            // A changed file the host does not hold stays out, as it was.
            let changed = changed.into_iter().filter(|(p, _)| h.has_file(p));
            let files: Vec<(String, String)> = joining
                .into_iter()
                .chain(changed)
                .filter(|(p, _)| !open.contains(p) && !deleted.contains(p))
                .collect();
            h.set_files(files);
            for p in &deleted {
                h.remove_file(p);
            }
        })
        .await;
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let doc = params.text_document;
        let path = path_of(&doc.uri);
        if let Ok(mut open) = self.open.lock() {
            open.insert(path.clone(), (doc.uri.clone(), doc.version));
        }
        let (others, warning) = mesh_files(&path);
        if let Some(w) = warning {
            self.client.log_message(MessageType::WARNING, w).await;
        }
        self.update(move |h| {
            // Open buffers override the disk.
            let others: Vec<(String, String)> = others
                .into_iter()
                .filter(|(p, _)| *p != path && !h.has_file(p))
                .collect();
            h.set_files(others.into_iter().chain([(path, doc.text)]));
        })
        .await;
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let path = path_of(&params.text_document.uri);
        if let Ok(mut open) = self.open.lock() {
            open.insert(
                path.clone(),
                (
                    params.text_document.uri.clone(),
                    params.text_document.version,
                ),
            );
        }
        // Full sync: the last change holds the whole text.
        let Some(change) = params.content_changes.into_iter().last() else {
            return;
        };
        self.update(move |h| h.set_file(&path, change.text)).await;
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        let path = path_of(&uri);
        if let Ok(mut open) = self.open.lock() {
            open.remove(&path);
        }
        // Back to what is on disk (or gone, for an unsaved buffer).
        let on_disk = std::fs::read_to_string(&path).ok();
        self.update(move |h| match on_disk {
            Some(text) => h.set_file(&path, text),
            None => h.remove_file(&path),
        })
        .await;
        self.client.publish_diagnostics(uri, Vec::new(), None).await;
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let (path, pos) = Self::at(&params.text_document_position_params);
        self.query(move |s| {
            let offset = convert::offset(s, &path, pos)?;
            let h = s.hover(&path, offset)?;
            Some(Hover {
                contents: HoverContents::Markup(MarkupContent {
                    kind: MarkupKind::Markdown,
                    value: h.markdown,
                }),
                range: Some(convert::range(s, &path, h.range.span)),
            })
        })
        .await
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        let (path, pos) = Self::at(&params.text_document_position_params);
        self.query(move |s| {
            let offset = convert::offset(s, &path, pos)?;
            let target = s.goto_definition(&path, offset)?;
            convert::location(s, &target).map(GotoDefinitionResponse::Scalar)
        })
        .await
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        let (path, pos) = Self::at(&params.text_document_position);
        let decl = params.context.include_declaration;
        self.query(move |s| {
            let offset = convert::offset(s, &path, pos)?;
            Some(
                s.references(&path, offset, decl)
                    .iter()
                    .filter_map(|r| convert::location(s, r))
                    .collect(),
            )
        })
        .await
    }

    async fn document_highlight(
        &self,
        params: DocumentHighlightParams,
    ) -> Result<Option<Vec<DocumentHighlight>>> {
        let (path, pos) = Self::at(&params.text_document_position_params);
        self.query(move |s| {
            let offset = convert::offset(s, &path, pos)?;
            Some(
                s.highlights(&path, offset)
                    .iter()
                    .map(|h| convert::highlight(s, &path, h))
                    .collect(),
            )
        })
        .await
    }

    async fn prepare_rename(
        &self,
        params: TextDocumentPositionParams,
    ) -> Result<Option<PrepareRenameResponse>> {
        let (path, pos) = Self::at(&params);
        let answer = self
            .query(move |s| {
                let offset = convert::offset(s, &path, pos).unwrap_or(0);
                s.prepare_rename(&path, offset)
                    .map(|r| convert::range(s, &path, r.span))
            })
            .await?;
        match answer {
            Ok(range) => Ok(Some(PrepareRenameResponse::Range(range))),
            Err(e) => Err(Error::invalid_params(e.0)),
        }
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        let (path, pos) = Self::at(&params.text_document_position);
        let new_name = params.new_name;
        let answer = self
            .query(move |s| {
                let offset = convert::offset(s, &path, pos).unwrap_or(0);
                s.rename(&path, offset, &new_name)
                    .map(|edits| workspace_edit(s, &edits))
            })
            .await?;
        match answer {
            Ok(edit) => Ok(Some(edit)),
            Err(e) => Err(Error::invalid_params(e.0)),
        }
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        let (path, pos) = Self::at(&params.text_document_position);
        self.query(move |s| {
            let offset = convert::offset(s, &path, pos)?;
            let items = s
                .completions(&path, offset)
                .into_iter()
                .map(|c| CompletionItem {
                    label: c.label,
                    kind: Some(completion_kind(c.kind)),
                    detail: c.detail,
                    ..Default::default()
                })
                .collect();
            Some(CompletionResponse::Array(items))
        })
        .await
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        let path = path_of(&params.text_document.uri);
        self.query(move |s| {
            let syms = s.document_symbols(&path);
            Some(DocumentSymbolResponse::Nested(
                syms.iter().map(|x| document_symbol(s, x)).collect(),
            ))
        })
        .await
    }

    async fn symbol(
        &self,
        params: WorkspaceSymbolParams,
    ) -> Result<Option<WorkspaceSymbolResponse>> {
        self.query(move |s| {
            let found = s
                .workspace_symbols(&params.query)
                .iter()
                .filter_map(|x| {
                    Some(WorkspaceSymbol {
                        name: x.name.clone(),
                        kind: symbol_kind(x.kind),
                        tags: None,
                        container_name: None,
                        location: OneOf::Left(convert::location(s, &x.focus)?),
                        data: None,
                    })
                })
                .collect();
            Some(WorkspaceSymbolResponse::Nested(found))
        })
        .await
    }

    async fn semantic_tokens_full(
        &self,
        params: SemanticTokensParams,
    ) -> Result<Option<SemanticTokensResult>> {
        let path = path_of(&params.text_document.uri);
        self.query(move |s| {
            s.text(&path)?;
            Some(SemanticTokensResult::Tokens(SemanticTokens {
                result_id: None,
                data: convert::semantic_tokens(s, &path),
            }))
        })
        .await
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let path = path_of(&params.text_document.uri);
        let range = params.range;
        self.query(move |s| {
            let start = convert::offset(s, &path, range.start)?;
            let end = convert::offset(s, &path, range.end)?;
            let actions = s
                .code_actions(&path, Span { start, end })
                .into_iter()
                .map(|a| {
                    CodeActionOrCommand::CodeAction(CodeAction {
                        title: a.title,
                        kind: Some(CodeActionKind::QUICKFIX),
                        edit: Some(workspace_edit(s, &a.edits)),
                        ..Default::default()
                    })
                })
                .collect();
            Some(actions)
        })
        .await
    }

    async fn code_lens(&self, params: CodeLensParams) -> Result<Option<Vec<CodeLens>>> {
        let path = path_of(&params.text_document.uri);
        self.query(move |s| {
            let lenses = s
                .test_lenses(&path)
                .into_iter()
                .map(|l| {
                    let title = match &l.status {
                        TestStatus::Passed => "✓ test passes".to_string(),
                        TestStatus::Failed(why) => {
                            format!("✗ test fails: {}", why.first().map_or("", String::as_str))
                        }
                        TestStatus::NotRun(why) => format!("test not run: {why}"),
                    };
                    let start = convert::range(s, &path, l.span).start;
                    CodeLens {
                        range: Range { start, end: start },
                        command: Some(Command {
                            title,
                            command: String::new(),
                            arguments: None,
                        }),
                        data: None,
                    }
                })
                .collect();
            Some(lenses)
        })
        .await
    }

    async fn formatting(&self, params: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        let path = path_of(&params.text_document.uri);
        let answer = self
            .query(move |s| {
                let text = s.text(&path)?;
                Some((
                    crate::format::format(text),
                    convert::range(s, &path, Span::new(0, text.len())),
                ))
            })
            .await?;
        match answer {
            None => Ok(None),
            Some((Ok(new_text), range)) => Ok(Some(vec![TextEdit { range, new_text }])),
            Some((Err(message), _)) => Err(Error::invalid_params(message)),
        }
    }
}

fn workspace_edit(s: &Snapshot, edits: &[intent_compiler::ide::TextEdit]) -> WorkspaceEdit {
    let mut changes: std::collections::HashMap<Uri, Vec<TextEdit>> = Default::default();
    for e in edits {
        if let Some(uri) = uri_of(&e.range.file) {
            changes.entry(uri).or_default().push(TextEdit {
                range: convert::range(s, &e.range.file, e.range.span),
                new_text: e.new_text.clone(),
            });
        }
    }
    WorkspaceEdit {
        changes: Some(changes),
        ..Default::default()
    }
}

fn completion_kind(k: intent_compiler::ide::CompletionKind) -> CompletionItemKind {
    use intent_compiler::ide::CompletionKind as K;
    match k {
        K::Keyword => CompletionItemKind::KEYWORD,
        K::Capability => CompletionItemKind::MODULE,
        K::DataClass => CompletionItemKind::ENUM_MEMBER,
        K::Agent => CompletionItemKind::CLASS,
        K::Human => CompletionItemKind::STRUCT,
        K::Intent => CompletionItemKind::FUNCTION,
        K::Const => CompletionItemKind::CONSTANT,
        K::Field => CompletionItemKind::FIELD,
    }
}

fn symbol_kind(k: intent_compiler::ide::DefKind) -> SymbolKind {
    use intent_compiler::ide::DefKind as K;
    use intent_compiler::syntax::ast::DeclKeyword as D;
    match k {
        K::Package => SymbolKind::PACKAGE,
        K::Capability => SymbolKind::MODULE,
        K::Decl(D::Data) => SymbolKind::ENUM_MEMBER,
        K::Decl(D::Const) => SymbolKind::CONSTANT,
        K::ContextField => SymbolKind::FIELD,
        K::Decl(D::Agent) => SymbolKind::CLASS,
        K::Decl(D::Human) => SymbolKind::STRUCT,
        K::Decl(D::Intent) => SymbolKind::FUNCTION,
        K::Decl(D::Route) => SymbolKind::METHOD,
        K::Decl(D::Policy) => SymbolKind::INTERFACE,
        K::Review => SymbolKind::EVENT,
        K::Limits => SymbolKind::OBJECT,
        K::Test => SymbolKind::METHOD,
        K::Step => SymbolKind::EVENT,
    }
}

#[allow(deprecated)] // `DocumentSymbol::deprecated` must be named to build the struct.
fn document_symbol(s: &Snapshot, x: &intent_compiler::ide::Symbol) -> DocumentSymbol {
    DocumentSymbol {
        name: x.name.clone(),
        detail: None,
        kind: symbol_kind(x.kind),
        tags: None,
        deprecated: None,
        range: convert::range(s, &x.full.file, x.full.span),
        selection_range: convert::range(s, &x.focus.file, x.focus.span),
        children: Some(x.children.iter().map(|c| document_symbol(s, c)).collect()),
    }
}
