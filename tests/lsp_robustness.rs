//! The language server survives anything: `intent lsp` is fed, over raw JSON-RPC on stdio,
//! binary and huge documents, positions past the end, requests for unknown files and a burst
//! of edits with requests in between (so requests meet checks that are running or cancelled).
//! Every request must get an answer (a result or an error, never silence), and the server must
//! exit after `exit`. Needs no Python, so it runs everywhere.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{json, Value};
use std::time::{Duration, Instant};

#[path = "common/lsp_frames.rs"]
mod lsp_frames;
use lsp_frames::{send, spawn_server};

#[test]
fn the_server_answers_every_request_whatever_it_is_sent() {
    let dir = std::env::temp_dir().join(format!("intent-lsp-robust-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("a.intent");
    let uri = format!("file://{}", file.display());
    let unknown = format!("file://{}", dir.join("nowhere.intent").display());
    let (mut child, mut stdin, rx) = spawn_server();

    let mut expected: Vec<i64> = Vec::new();
    let request = |expected: &mut Vec<i64>,
                   stdin: &mut std::process::ChildStdin,
                   method: &str,
                   params: Value| {
        let id = expected.len() as i64 + 1;
        send(
            stdin,
            &json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}),
        );
        expected.push(id);
    };
    request(
        &mut expected,
        &mut stdin,
        "initialize",
        json!({"capabilities": {}}),
    );
    send(
        &mut stdin,
        &json!({"jsonrpc": "2.0", "method": "initialized", "params": {}}),
    );

    // ~350 kB: 10,000 duplicate agents (so 20,000 diagnostics) and one 100 kB line of
    // non-ASCII text in a comment.
    let huge = format!(
        "{}// {}\n",
        "agent a { provides x }\n".repeat(10_000),
        "é".repeat(50_000)
    );
    let texts = [
        "\u{0}\u{1}\u{7f}\u{fffd} binary \u{0}".to_string(),
        "route { when => (((( \"unterminated".to_string(),
        "agent é😀 { provides ".to_string(),
        huge,
        "package p\ncapability x\nagent a { provides x }\n".to_string(),
    ];
    let positions = [
        json!({"line": 0, "character": 3}),
        json!({"line": 1_000_000, "character": 1_000_000}),
    ];
    for (version, text) in texts.iter().enumerate() {
        let notify = if version == 0 {
            "textDocument/didOpen"
        } else {
            "textDocument/didChange"
        };
        let params = if version == 0 {
            json!({"textDocument": {"uri": uri, "languageId": "intent", "version": 0, "text": text}})
        } else {
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]})
        };
        send(
            &mut stdin,
            &json!({"jsonrpc": "2.0", "method": notify, "params": params}),
        );
        // Requests right behind the edit meet a check that is running.
        for doc in [&uri, &unknown] {
            for pos in &positions {
                let at = json!({"textDocument": {"uri": doc}, "position": pos});
                request(&mut expected, &mut stdin, "textDocument/hover", at.clone());
                request(
                    &mut expected,
                    &mut stdin,
                    "textDocument/completion",
                    at.clone(),
                );
                request(
                    &mut expected,
                    &mut stdin,
                    "textDocument/definition",
                    at.clone(),
                );
                request(
                    &mut expected,
                    &mut stdin,
                    "textDocument/prepareRename",
                    at.clone(),
                );
                request(
                    &mut expected,
                    &mut stdin,
                    "textDocument/documentHighlight",
                    at.clone(),
                );
                let mut refs = at.clone();
                refs["context"] = json!({"includeDeclaration": true});
                request(&mut expected, &mut stdin, "textDocument/references", refs);
                let mut rename = at.clone();
                rename["newName"] = json!("b");
                request(&mut expected, &mut stdin, "textDocument/rename", rename);
            }
            let doc_only = json!({"textDocument": {"uri": doc}});
            request(
                &mut expected,
                &mut stdin,
                "textDocument/documentSymbol",
                doc_only.clone(),
            );
            request(
                &mut expected,
                &mut stdin,
                "textDocument/semanticTokens/full",
                doc_only.clone(),
            );
            request(
                &mut expected,
                &mut stdin,
                "textDocument/codeLens",
                doc_only.clone(),
            );
            let mut fmt = doc_only.clone();
            fmt["options"] = json!({"tabSize": 2, "insertSpaces": true});
            request(&mut expected, &mut stdin, "textDocument/formatting", fmt);
            let mut action = doc_only.clone();
            action["range"] = json!({"start": positions[0], "end": positions[1]});
            action["context"] = json!({"diagnostics": []});
            request(&mut expected, &mut stdin, "textDocument/codeAction", action);
        }
        request(
            &mut expected,
            &mut stdin,
            "workspace/symbol",
            json!({"query": ""}),
        );
    }

    let mut answered = std::collections::BTreeSet::new();
    let mut last_hover = None;
    let deadline = Instant::now() + Duration::from_secs(300);
    while answered.len() < expected.len() && Instant::now() < deadline {
        let Ok(msg) = rx.recv_timeout(Duration::from_secs(5)) else {
            continue;
        };
        if let Some(i) = msg.get("id").and_then(Value::as_i64) {
            assert!(
                msg.get("result").is_some() || msg.get("error").is_some(),
                "{msg}"
            );
            answered.insert(i);
            last_hover = Some(msg);
        }
    }
    let missing: Vec<_> = expected.iter().filter(|i| !answered.contains(*i)).collect();
    assert!(
        missing.is_empty(),
        "requests without an answer: {missing:?}"
    );
    assert!(last_hover.is_some());

    // After all that, a real question still gets a real answer.
    request(
        &mut expected,
        &mut stdin,
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 2, "character": 7}}),
    );
    let hover_id = *expected.last().unwrap();
    let answer = loop {
        let msg = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("an answer to the last hover");
        if msg.get("id").and_then(Value::as_i64) == Some(hover_id) {
            break msg;
        }
    };
    let value = answer["result"]["contents"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(value.contains("agent a"), "{answer}");

    request(&mut expected, &mut stdin, "shutdown", Value::Null);
    send(&mut stdin, &json!({"jsonrpc": "2.0", "method": "exit"}));
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the server did not exit after `exit`"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
