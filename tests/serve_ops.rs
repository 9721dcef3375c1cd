//! `intent serve` as a process, operated: the endpoint that changes state (`POST /v1/failure`)
//! is closed without a token, takes a bearer token from `--admin-token-file`, is open only with
//! `--admin-open`, and refuses failure times in the future; `--max-connections` caps the
//! connections served at once (the others wait to be accepted, nothing fails), and running out
//! of file descriptors backs off instead of failing every accept.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "serve/support.rs"]
mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;
use support::{request, Sidecar, TempDir, MESH};

const TOKEN: &str = "0123456789abcdef-test-token";
/// 2100-01-01 in ms since the epoch.
const YEAR_2100: &str = r#"{"agent":"refund_bot","at_ms":4102444800000}"#;
const NOW: &str = r#"{"agent":"refund_bot"}"#;

fn breaker_open(sidecar: &Sidecar) -> bool {
    let metrics = request(sidecar.addr, "GET", "/metrics", &[], "").body;
    metrics.contains(r#"intent_breaker_open{agent="refund_bot"} 1"#)
}

#[test]
fn without_a_token_failure_reports_are_refused() {
    let sidecar = Sidecar::start(&[MESH]);
    for _ in 0..3 {
        let a = request(sidecar.addr, "POST", "/v1/failure", &[], YEAR_2100);
        assert_eq!(a.status, 403, "{a:?}");
        assert!(a.json()["error"]
            .as_str()
            .unwrap()
            .contains("no admin token is configured"));
    }
    assert!(!breaker_open(&sidecar));
}

#[test]
fn the_admin_token_guards_failure_reports() {
    let dir = TempDir::new("admin-token");
    let file = dir.path().join("token");
    std::fs::write(&file, format!("{TOKEN}\n")).unwrap();
    let sidecar = Sidecar::start(&[MESH, "--admin-token-file", file.to_str().unwrap()]);
    let addr = sidecar.addr;

    let a = request(addr, "POST", "/v1/failure", &[], NOW);
    assert_eq!(a.status, 401, "{a:?}");
    assert_eq!(
        a.header("www-authenticate"),
        Some(r#"Bearer realm="intent""#)
    );
    let wrong = format!("Bearer {TOKEN}x");
    let a = request(
        addr,
        "POST",
        "/v1/failure",
        &[("authorization", &wrong)],
        NOW,
    );
    assert_eq!(a.status, 401, "{a:?}");
    assert_eq!(
        a.header("www-authenticate"),
        Some(r#"Bearer realm="intent", error="invalid_token""#)
    );
    assert!(!breaker_open(&sidecar));

    let right = format!("Bearer {TOKEN}");
    let auth = [("authorization", right.as_str())];
    // Failures in the future beyond the clock skew allowed are refused.
    let a = request(addr, "POST", "/v1/failure", &auth, YEAR_2100);
    assert_eq!(a.status, 400, "{a:?}");
    assert!(a.body.contains("in the future"), "{a:?}");
    assert!(!breaker_open(&sidecar));
    for _ in 0..3 {
        let a = request(addr, "POST", "/v1/failure", &auth, NOW);
        assert_eq!(a.status, 200, "{a:?}");
    }
    assert!(breaker_open(&sidecar));
}

#[test]
fn admin_open_lets_anyone_report_and_says_so() {
    let sidecar = Sidecar::start(&[MESH, "--admin-open"]);
    sidecar.wait_for_stderr("warning: admin endpoints are open");
    let a = request(sidecar.addr, "POST", "/v1/failure", &[], NOW);
    assert_eq!(a.status, 200, "{a:?}");
    let a = request(sidecar.addr, "POST", "/v1/failure", &[], YEAR_2100);
    assert_eq!(a.status, 400, "{a:?}");
}

#[test]
fn a_bad_token_file_stops_the_start() {
    let dir = TempDir::new("admin-bad");
    let short = dir.path().join("short");
    std::fs::write(&short, "abc\n").unwrap();
    for (file, says) in [
        (short.clone(), "the admin token has 3 bytes"),
        (
            dir.path().join("missing"),
            "cannot read the admin token file",
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_intent"))
            .args(["serve", MESH, "--addr", "127.0.0.1:0", "--admin-token-file"])
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{err}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_intent"))
        .args(["serve", MESH, "--admin-open", "--admin-token-file"])
        .arg(&short)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "--admin-open conflicts with a token"
    );
}

/// Sends a keep-alive request on `s` and reads its answer, leaving the connection open.
fn healthz_keep_alive(s: &mut TcpStream) {
    s.write_all(b"GET /healthz HTTP/1.1\r\nhost: t\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 256];
    let n = s.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
}

#[test]
fn connections_beyond_the_cap_wait_until_one_closes() {
    let sidecar = Sidecar::start(&[MESH, "--max-connections", "2", "--timeout-ms", "30000"]);
    let connect = || {
        let s = TcpStream::connect(sidecar.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s
    };
    let mut first = connect();
    let mut second = connect();
    healthz_keep_alive(&mut first);
    healthz_keep_alive(&mut second);
    // The third connects (the kernel queues it) but is not served while two are open.
    let mut third = connect();
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n")
        .unwrap();
    third
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut buf = [0u8; 256];
    let early = third.read(&mut buf);
    assert!(
        matches!(&early, Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)),
        "served beyond the cap: {early:?}"
    );
    // One closes: the third is accepted and answered.
    drop(first);
    third
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut raw = Vec::new();
    third.read_to_end(&mut raw).unwrap();
    let a = support::parse(&raw).unwrap();
    assert_eq!(a.status, 200, "{a:?}");
    healthz_keep_alive(&mut second);
    assert!(sidecar.stderr_lines("accept failed").is_empty());
}

/// `intent serve ARGS` with at most 48 open files (`ulimit -n`, then the binary as `$0`).
fn few_files(args: &str) -> Sidecar {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!(
            "ulimit -n 48 && exec \"$0\" serve {MESH} --addr 127.0.0.1:0 {args}"
        ))
        .arg(env!("CARGO_BIN_EXE_intent"));
    Sidecar::spawn(command)
}

/// Opens `n` connections and sends each a request; the answers' statuses, in order.
fn many(addr: std::net::SocketAddr, n: usize) -> Vec<u16> {
    let conns: Vec<TcpStream> = (0..n)
        .map(|_| {
            let mut s = TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            s.write_all(b"GET /healthz HTTP/1.1\r\nhost: t\r\nconnection: close\r\n\r\n")
                .unwrap();
            s
        })
        .collect();
    conns
        .into_iter()
        .map(|mut s| {
            let mut raw = Vec::new();
            match s.read_to_end(&mut raw) {
                Ok(_) => support::parse(&raw).map_or(0, |a| a.status),
                Err(_) => 0,
            }
        })
        .collect()
}

#[test]
fn under_the_cap_running_out_of_files_never_happens() {
    let sidecar = few_files("--max-connections 8");
    let statuses = many(sidecar.addr, 80);
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert!(sidecar.stderr_lines("accept failed").is_empty());
}

#[test]
fn out_of_files_accepts_back_off_and_recover() {
    let sidecar = few_files("--max-connections 1000");
    // More connections than files: accepts fail until clients give up theirs.
    let held: Vec<TcpStream> = (0..80)
        .map(|_| TcpStream::connect(sidecar.addr).unwrap())
        .collect();
    sidecar.wait_for_stderr("accept failed, backing off");
    std::thread::sleep(Duration::from_millis(500));
    drop(held);
    let back = sidecar.wait_for_stderr("accepting again after");
    // Reported once per run of failures (and once when it ends), not once per try.
    let tries: u64 = back
        .split("after ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(tries >= 2, "{back}");
    let runs = sidecar.stderr_lines("accepting again after").len();
    assert!(sidecar.stderr_lines("accept failed").len() <= runs + 1);
    assert_eq!(
        request(sidecar.addr, "GET", "/healthz", &[], "").status,
        200
    );
}
