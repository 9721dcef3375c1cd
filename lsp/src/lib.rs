//! The Intent language server (`intent lsp`): a thin protocol layer over the compiler's salsa
//! database. Not built yet — the editor issue builds it on tower-lsp-server; this crate exists
//! so the workspace has its final shape. It holds no language logic and never will: hover,
//! goto, completion and the rest belong to the compiler's protocol-free IDE layer.
