//! The command line and the editor see the same meshes: on a tree with a subdirectory and a
//! user copy of a standard module, `intent check DIR` and `intent lsp` (each file opened on its
//! own, the server reading the rest from disk) report the same diagnostics for every file. The
//! mesh's rule is `intent_compiler::mesh`; this test drives both programs, not the rule.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// (file relative to the tree, code, 1-based line) of each diagnostic.
type Seen = BTreeSet<(String, String, u64)>;

#[path = "common/lsp_frames.rs"]
mod lsp_frames;
use lsp_frames::{send, spawn_server};

/// A mesh `m/` with a file at its top, one in `m/sub/` that uses its capability, and a user
/// copy of `std.data` in `m/std/` that adds the data class both files use.
fn tree(root: &Path) -> Vec<&'static str> {
    let files = [
        (
            "m/main.intent",
            "use std.data.{widgets}\n\ncapability x.read\n\nagent a { provides x.read  clearance widgets  trust 0.9 }\n"
                .to_string(),
        ),
        (
            "m/sub/more.intent",
            "use std.data.{widgets}\n\nagent b { provides x.read  clearance widgets  trust 0.8 }\n"
                .to_string(),
        ),
        (
            "m/std/data.intent",
            format!(
                "{}\n/// Widgets.\ndata widgets : confidential\n",
                include_str!("../stdlib/std/data.intent")
            ),
        ),
    ];
    for (path, text) in &files {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    files.iter().map(|(p, _)| *p).collect()
}

fn cli(root: &Path) -> Seen {
    let out = Command::new(env!("CARGO_BIN_EXE_intent"))
        .args(["check", "m", "--format", "json"])
        .current_dir(root)
        .output()
        .unwrap();
    let diags: Value = serde_json::from_slice(&out.stdout).unwrap();
    diags
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["file"].as_str().unwrap().to_string(),
                d["code"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// The diagnostics `intent lsp` publishes for `file` when it is the only file opened.
fn editor(root: &Path, file: &str) -> Seen {
    let path: PathBuf = root.join(file);
    let uri = format!("file://{}", path.display());
    let (mut child, mut stdin, rx) = spawn_server();
    send(
        &mut stdin,
        &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}),
    );
    // A client waits for the answer to `initialize` before it says anything else; the server
    // publishes nothing to one that does not.
    while rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the server did not answer initialize")["id"]
        != 1
    {}
    send(
        &mut stdin,
        &json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}),
    );
    let text = std::fs::read_to_string(&path).unwrap();
    send(
        &mut stdin,
        &json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
            "textDocument": {"uri": uri, "languageId": "intent", "version": 1, "text": text}}}),
    );
    // The first diagnostics published for the file come after the whole mesh was loaded (the
    // open and the reading of the other files are one change). The wait only guards against a
    // silent server; it asserts nothing about time.
    let published = loop {
        let msg = rx
            .recv_timeout(Duration::from_secs(120))
            .expect("the server published no diagnostics");
        if msg["method"] == "textDocument/publishDiagnostics" && msg["params"]["uri"] == uri {
            break msg;
        }
    };
    send(
        &mut stdin,
        &json!({"jsonrpc": "2.0", "id": 2, "method": "shutdown", "params": null}),
    );
    send(&mut stdin, &json!({"jsonrpc": "2.0", "method": "exit"}));
    drop(stdin);
    child.wait().unwrap();
    published["params"]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                file.to_string(),
                d["code"].as_str().unwrap().to_string(),
                d["range"]["start"]["line"].as_u64().unwrap() + 1,
            )
        })
        .collect()
}

#[test]
fn the_cli_and_the_editor_see_the_same_meshes() {
    let root = std::env::temp_dir().join(format!("intent-mesh-agree-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let files = tree(&root);
    let cli = cli(&root);
    // The tree is one clean mesh: an agent never used is all `intent check m` finds.
    assert_eq!(
        cli.iter().map(|(_, c, _)| c.as_str()).collect::<Vec<_>>(),
        ["W0001", "W0001"],
        "{cli:?}"
    );
    for file in files {
        let expected: Seen = cli.iter().filter(|(f, _, _)| f == file).cloned().collect();
        assert_eq!(editor(&root, file), expected, "{file}");
    }
    let _ = std::fs::remove_dir_all(&root);
}
