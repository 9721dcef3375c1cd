//! The Intent language server (`intent lsp`): the Language Server Protocol over stdio, as a
//! thin layer over the compiler's protocol-free IDE module (`intent_compiler::ide`). This crate
//! holds no language logic: it converts positions (LSP columns are UTF-16 code units; the IDE
//! layer speaks byte offsets), URIs and result types, owns the IO (reading the other files of
//! an opened file's mesh), and schedules the work.
//!
//! **Why tower-lsp-server 0.23.** tower-lsp 0.20 (2023) is unmaintained and its server does not
//! exit after the `exit` notification while the client keeps stdin open (upstream issue #399),
//! so test clients such as pytest-lsp hang at teardown. tower-lsp-server is its maintained
//! fork, exits properly, and needs no `async_trait`. 0.24's release candidates switch type
//! crates again, so the version is pinned to 0.23.
//!
//! **Concurrency.** The salsa database lives in an `ide::Host` behind a `std::sync::Mutex`.
//! A request takes a snapshot (a clone of the database) under the lock, drops the guard, and
//! runs on a blocking thread; no guard is ever held across an `.await`. An edit updates the
//! inputs with setters (never new inputs for a known file); salsa then cancels the queries
//! still running on older snapshots, which unwind with `salsa::Cancelled`: the request is
//! answered with "content modified" (-32801) and the server goes on. A panic anywhere in a
//! request is caught the same way and answered with an internal error: the server never dies
//! of its input.
//!
//! **Meshes.** What a mesh is comes from `intent_compiler::mesh`, as for `intent check`: opening
//! a file loads the `.intent` files below its mesh's directory from disk ([`files`], the walk
//! the command line uses too).

mod convert;
pub mod files;
mod format;
mod server;

pub use server::Backend;

use tower_lsp_server::{LspService, Server};

/// Stack reserved for each server thread.
const STACK_SIZE: usize = 512 << 20;

/// Serves LSP on stdin/stdout until the client sends `exit` (or closes stdin).
pub fn run_stdio() -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        // Queries run on these threads (blocking pool included). The lexer's stack use grows
        // with the length of a comment of non-ASCII text (a 500 kB line overflows 8 MiB in a
        // debug build): a large reserve keeps such files from killing the server. Only the
        // pages touched are committed.
        .thread_stack_size(STACK_SIZE)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let (service, socket) = LspService::new(Backend::new);
        Server::new(tokio::io::stdin(), tokio::io::stdout(), socket)
            .serve(service)
            .await;
    });
    Ok(())
}
