//! The VS Code grammar against its sample files (`editors/vscode/tests/*.intent`, scope
//! assertions checked by vscode-tmgrammar-test), so `cargo test` covers the editor support.
//! Needs Node: without `npx` on PATH the test says it is skipped, except under `CI=true`, where
//! it fails (`.ci/run` installs Node; `tests/common/tools.rs`). Without `node_modules` it runs
//! `npm ci` first (the lock file pins the tools).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common/tools.rs"]
mod tools;

use std::path::PathBuf;
use std::process::Command;

#[test]
fn vscode_grammar_passes_its_scope_assertions() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("editors/vscode");
    if !tools::runs("npx") || !tools::runs("npm") {
        tools::missing(
            "vscode_grammar_passes_its_scope_assertions",
            "`npx`/`npm`",
            "apt-get install nodejs npm",
        );
        return;
    }
    if !dir.join("node_modules/.bin/vscode-tmgrammar-test").exists() {
        let out = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "`npm ci` in editors/vscode failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = Command::new("npx")
        .args([
            "--no-install",
            "vscode-tmgrammar-test",
            "-g",
            "syntaxes/intent.tmLanguage.json",
            "tests/*.intent",
        ])
        .current_dir(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "grammar assertions failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Both sample files ran (a glob that matched nothing would also exit 0).
    assert_eq!(stdout.matches("run successfuly").count(), 2, "{stdout}");
}

/// The Neovim setup, headless: a `.intent` buffer gets the `intent` filetype, `//` comments and
/// a language-server client running the configured command. Skipped without `nvim`, except
/// under `CI=true`.
#[test]
fn neovim_setup_detects_the_filetype_and_starts_the_server() {
    if !tools::runs("nvim") {
        tools::missing(
            "neovim_setup_detects_the_filetype_and_starts_the_server",
            "`nvim`",
            "apt-get install neovim",
        );
        return;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("intent-nvim-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("mesh.intent");
    std::fs::write(&file, "agent a { trust 0.9 }\n").unwrap();
    // `sleep` stands in for `intent lsp`: the client exists while it waits for initialize.
    let probe = "lua local c = vim.lsp.get_client_by_id(1); io.stdout:write(vim.bo.filetype \
                 .. '|' .. vim.bo.commentstring .. '|' .. (c and (c.name .. '|' .. \
                 table.concat(c.config.cmd, ' ')) or 'no client') .. '\\n')";
    let out = Command::new("nvim")
        .args(["--headless", "-u", "NONE", "-i", "NONE"])
        .arg("--cmd")
        .arg(format!("set rtp+={}", root.join("editors/nvim").display()))
        .args(["--cmd", "filetype on"])
        .args([
            "-c",
            "lua require('intent').setup({ cmd = { 'sleep', '3' } })",
        ])
        .arg("-c")
        .arg(format!("edit {}", file.display()))
        .args(["-c", "sleep 200m", "-c", probe, "-c", "qa!"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("intent|// %s|intent|sleep 3"),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
