//! Every subcommand of `intent`, its output sent into a pipe whose reader is already gone
//! (`intent explain | head -1` once panicked with exit 101): each ends quietly, by SIGPIPE as
//! `cat` does, or carries on when it serves (`serve`, `lsp`). The reader is closed before the
//! program starts (a shell waits for a line on stdin, then `exec`s it), so every write fails.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
#[path = "serve/support.rs"]
mod support;

use common::{root, workdir};
use std::io::{BufRead, BufReader, Write as _};
use std::os::unix::process::ExitStatusExt as _;
use std::process::{Command, ExitStatus, Stdio};

/// Runs `intent ARGS` in `dir` with stdout and stderr into pipes already closed, `input` on
/// stdin; its exit status.
fn into_closed_pipe(dir: &std::path::Path, args: &[&str], input: &[u8]) -> ExitStatus {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("read _ignored; exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_intent"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    drop(child.stderr.take());
    let mut stdin = child.stdin.take().unwrap();
    // The line lets the shell go on; what follows is the program's own input.
    let _ = stdin.write_all(b"go\n");
    let _ = stdin.write_all(input);
    drop(stdin);
    child.wait().unwrap()
}

/// Quiet: no panic (exit 101) and no abort; SIGPIPE or an ordinary exit code.
fn quiet(status: ExitStatus) -> bool {
    status.code() != Some(101) && status.signal().is_none_or(|s| s == 13)
}

#[test]
fn every_command_ends_quietly_on_a_closed_pipe() {
    let dir = workdir(
        "pipe",
        &[(
            "messy.intent",
            "package demo\ncapability  invoices.read\nagent reader {provides invoices.read}\n",
        )],
    );
    let finance = root().join("examples/finance");
    let finance = finance.to_str().unwrap();
    let plan = dir.join("plan.json");
    let plan = plan.to_str().unwrap();
    let log = dir.join("decisions.jsonl");
    let log = log.to_str().unwrap();
    // A plan and a decision log for the commands that read them.
    let out = common::intent(&dir, &["build", finance, "-o", plan]);
    assert!(out.status.success(), "{}", common::text(&out.stderr));
    let eval = [
        "eval",
        finance,
        "--intent",
        "summarize_overdue_invoices",
        "--confidence",
        "0.95",
        "--context",
        "subject.residency=EU",
        "--context",
        "subject.role=analyst",
        "--context",
        "channel=web",
    ];
    let mut logged = eval.to_vec();
    logged.extend(["--log", log]);
    assert!(common::intent(&dir, &logged).status.success());
    let initialize =
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}"#;
    let lsp_input = format!("Content-Length: {}\r\n\r\n{initialize}", initialize.len());
    let mut explain = eval.to_vec();
    explain.push("--explain");
    let runs: Vec<(Vec<&str>, &[u8])> = vec![
        (vec!["check", "--format", "json", finance], b""),
        (vec!["check", "--format", "sarif", finance], b""),
        (vec!["check", finance], b""),
        (
            vec!["build", finance, "-o", plan, "--cedar-out", "cedar"],
            b"",
        ),
        (vec!["test", finance], b""),
        (vec!["test", "--format", "json", finance], b""),
        (eval.to_vec(), b""),
        (explain, b""),
        (vec!["diff", plan, finance], b""),
        (vec!["replay", log, "--plan", plan], b""),
        (vec!["fmt", "--diff", "messy.intent"], b""),
        (vec!["fmt", "--check", "messy.intent"], b""),
        (vec!["fmt", "--stdin"], b"package a\nagent   b {}\n"),
        (vec!["explain"], b""),
        (vec!["explain", "E0101"], b""),
        (vec!["graph", finance], b""),
        (vec!["classify", finance, "--report"], b""),
        (
            vec!["classify", finance, "--text", "which invoices are overdue?"],
            b"",
        ),
        (vec!["graph", "--format", "mermaid", finance], b""),
        (vec!["completions", "bash"], b""),
        (vec!["keys", "generate", "--out", "keys"], b""),
        (vec!["version"], b""),
        (vec!["--help"], b""),
        (vec!["lsp"], lsp_input.as_bytes()),
    ];
    let mut covered: Vec<&str> = Vec::new();
    let mut problems = Vec::new();
    for (args, input) in &runs {
        let status = into_closed_pipe(&dir, args, input);
        if !quiet(status) {
            problems.push(format!("intent {}: {status:?}", args.join(" ")));
        }
        covered.push(args[0]);
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // Every subcommand is in the list (serve and mcp, the same server, have their own test
    // below).
    let help = common::text(&common::intent(&root(), &["--help"]).stdout);
    for sub in help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|s| !matches!(*s, "help" | "serve" | "mcp"))
    {
        assert!(
            covered.contains(&sub),
            "no closed-pipe run of `intent {sub}`"
        );
    }
}

/// `intent serve --log -` (and `intent mcp --log -`, the same server) whose stdout reader is
/// gone goes on answering: the log stops, with a line on stderr, and the process neither
/// panics nor dies.
#[test]
fn serve_outlives_a_closed_log_pipe() {
    outlives_a_closed_log_pipe("serve");
}

#[test]
fn mcp_outlives_a_closed_log_pipe() {
    outlives_a_closed_log_pipe("mcp");
}

fn outlives_a_closed_log_pipe(command: &str) {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("read _ignored; exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_intent"))
        .args([
            command,
            support::MESH,
            "--log",
            "-",
            "--addr",
            "127.0.0.1:0",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"go\n").unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let addr = first
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("unexpected first line: {first}"))
        .parse()
        .unwrap();
    let body = r#"{"intent": "take_order", "confidence": 0.9, "channel": "web"}"#;
    for _ in 0..3 {
        let answer = support::request(addr, "POST", "/v1/decide", &[], body);
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    // The rest of stderr, read on a thread, so a missing line fails after 20 s, not never.
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    let start = std::time::Instant::now();
    let stopped = |seen: &[String]| {
        seen.iter()
            .any(|l| l.contains("cannot write the decision log"))
    };
    while !stopped(&seen.lock().unwrap()) && start.elapsed() < std::time::Duration::from_secs(20) {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(stopped(&seen.lock().unwrap()), "{:?}", seen.lock().unwrap());
    let answer = support::request(addr, "POST", "/v1/decide", &[], body);
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(child.try_wait().unwrap().is_none(), "the sidecar stopped");
    let _ = child.kill();
    let _ = child.wait();
    drop(stdin);
}
