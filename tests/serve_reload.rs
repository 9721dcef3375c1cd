//! `intent serve` as a process: the plan file is replaced while requests run — zero failed
//! requests, the new plan answers once swapped in; a broken plan (bad JSON, then an invalid
//! plan) is refused while the old one keeps answering; SIGTERM drains an in-flight request;
//! the decision log holds one `LogRecord` line per decision; a plan that cannot load stops the
//! start with the reason; a client that never finishes its headers is cut off. The watcher looks
//! at content: a symlink swapped to a file of the same size and time is reloaded, and new
//! content under the old `plan_hash` (a valid plan or not) is refused, shown by `/readyz`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "serve/support.rs"]
mod support;

use intent_compiler::{compile, Source, Stage};
use intent_runtime::LogRecord;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{request, try_request, Sidecar, TempDir, MESH};

/// The plan of the test mesh, with `edit` applied to its source, as JSON.
fn plan_json(edit: impl Fn(String) -> String) -> (String, String) {
    let src = edit(std::fs::read_to_string(MESH).unwrap());
    let c = compile(&[Source::new("mesh.intent", src)], Stage::Build);
    assert!(!c.has_errors());
    let plan = c.plan.unwrap();
    (serde_json::to_string(&plan).unwrap(), plan.plan_hash)
}

const ORDER: &str = r#"{"intent":"take_order","confidence":0.95,"channel":"web"}"#;

fn terminate(sidecar: &mut Sidecar) {
    let ok = Command::new("kill")
        .args(["-TERM", &sidecar.child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let status = sidecar.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_plan_replaced_under_load_fails_no_request_and_a_broken_one_is_refused() {
    let dir = TempDir::new("reload");
    let plan_path = dir.path().join("plan.json");
    let log_path = dir.path().join("decisions.jsonl");
    let (a, hash_a) = plan_json(|s| s);
    // Plan B escalates what plan A dispatches.
    let (b, hash_b) = plan_json(|s| s.replace("confidence < 0.8 ", "confidence < 0.97 "));
    assert_ne!(hash_a, hash_b);
    std::fs::write(&plan_path, &a).unwrap();
    let mut sidecar = Sidecar::start(&[
        "--plan",
        plan_path.to_str().unwrap(),
        "--reload-ms",
        "20",
        "--log",
        log_path.to_str().unwrap(),
    ]);
    let addr = sidecar.addr;

    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (stop, seen, failures) = (stop.clone(), seen.clone(), failures.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match try_request(addr, "POST", "/v1/decide", &[], ORDER) {
                        Ok(a) if a.status == 200 => {
                            let j = a.json();
                            seen.lock().unwrap().push((
                                j["plan_hash"].as_str().unwrap().to_string(),
                                j["outcome"].as_str().unwrap().to_string(),
                            ));
                        }
                        Ok(a) => failures.lock().unwrap().push(format!("{a:?}")),
                        Err(e) => failures.lock().unwrap().push(e.to_string()),
                    }
                }
            })
        })
        .collect();

    std::thread::sleep(Duration::from_millis(300));
    std::fs::write(&plan_path, &b).unwrap();
    sidecar.wait_for_stderr(&format!("reloaded the plan: {hash_a} -> {hash_b}"));
    std::thread::sleep(Duration::from_millis(200));

    // Not JSON: refused.
    std::fs::write(&plan_path, "{ not a plan").unwrap();
    let line = sidecar.wait_for_stderr("refused the changed plan");
    assert!(line.contains(&format!("still serving {hash_b}")), "{line}");
    assert!(line.contains("is not a routing plan"), "{line}");
    std::thread::sleep(Duration::from_millis(100));
    // JSON of a plan that does not validate (agents gone that routes name): refused.
    let mut broken: serde_json::Value = serde_json::from_str(&a).unwrap();
    broken["agents"] = serde_json::json!([]);
    broken["plan_hash"] = serde_json::json!("sha256:broken");
    std::fs::write(&plan_path, broken.to_string()).unwrap();
    let line = sidecar.wait_for_stderr("invalid plan");
    assert!(line.contains(&format!("still serving {hash_b}")), "{line}");
    std::thread::sleep(Duration::from_millis(200));

    stop.store(true, Ordering::Relaxed);
    workers.into_iter().for_each(|w| w.join().unwrap());
    let failures = failures.lock().unwrap();
    assert!(
        failures.is_empty(),
        "{} failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(3)]
    );
    let seen = seen.lock().unwrap();
    let on = |h: &str, o: &str| seen.iter().filter(|(x, y)| x == h && y == o).count();
    assert!(on(&hash_a, "dispatch") > 0, "plan A never answered");
    assert!(on(&hash_b, "escalate") > 0, "plan B never answered");
    assert_eq!(
        on(&hash_a, "dispatch") + on(&hash_b, "escalate"),
        seen.len(),
        "an answer matched neither plan"
    );
    // The last answers, after the refused plans, are still plan B's.
    assert_eq!(seen.last().unwrap().0, hash_b);
    let ready = request(addr, "GET", "/readyz", &[], "").json();
    assert_eq!(ready["plan_hash"], hash_b.as_str());
    let metrics = request(addr, "GET", "/metrics", &[], "").body;
    assert!(
        metrics.contains(r#"intent_plan_reloads_total{result="swapped"} 1"#),
        "{metrics}"
    );
    // At least the two broken plans; a write caught half done is refused too (then reloaded).
    let refused: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix(r#"intent_plan_reloads_total{result="refused"} "#))
        .unwrap()
        .parse()
        .unwrap();
    assert!(refused >= 2, "{metrics}");
    assert!(
        metrics.contains(&format!(r#"intent_plan{{plan_hash="{hash_b}"}} 1"#)),
        "{metrics}"
    );

    // SIGTERM: the log is flushed; one line per decision, in the replay format.
    let decided = seen.len();
    drop(seen);
    terminate(&mut sidecar);
    let log = std::fs::read_to_string(&log_path).unwrap();
    let records: Vec<LogRecord> = log
        .lines()
        .map(|l| LogRecord::from_line(l).unwrap())
        .collect();
    assert_eq!(records.len(), decided);
    assert!(records
        .iter()
        .all(|r| r.request.intent.as_deref() == Some("take_order")
            && (r.plan_hash == hash_a || r.plan_hash == hash_b)));
}

#[test]
fn sigterm_lets_an_in_flight_request_finish() {
    let mut sidecar = Sidecar::start(&[MESH]);
    let mut s = TcpStream::connect(sidecar.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let (head, tail) = ORDER.split_at(20);
    write!(
        s,
        "POST /v1/decide HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{head}",
        ORDER.len()
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    Command::new("kill")
        .args(["-TERM", &sidecar.child.id().to_string()])
        .status()
        .unwrap();
    sidecar.wait_for_stderr("shutting down");
    std::thread::sleep(Duration::from_millis(100));
    // No new connections once draining.
    assert!(try_request(sidecar.addr, "GET", "/healthz", &[], "").is_err());
    s.write_all(tail.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let a = support::parse(&raw).unwrap();
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(a.json()["outcome"], "dispatch");
    let status = sidecar.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_plan_that_cannot_load_stops_the_start_with_the_reason() {
    let dir = TempDir::new("badstart");
    let missing = dir.path().join("missing.json");
    let out = Command::new(env!("CARGO_BIN_EXE_intent"))
        .args(["serve", "--plan", missing.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error: cannot read "), "{err}");

    let broken = dir.path().join("broken.intent");
    std::fs::write(&broken, "agent a { provides nothing.here }\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_intent"))
        .args(["serve", broken.to_str().unwrap(), "--addr", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error: the sources have errors:"), "{err}");
    assert!(err.contains("unknown capability `nothing.here`"), "{err}");
}

#[test]
fn headers_that_never_end_are_cut_off() {
    let sidecar = Sidecar::start(&[MESH, "--timeout-ms", "300"]);
    let mut s = TcpStream::connect(sidecar.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(b"POST /v1/decide HTTP/1.1\r\nhost: t\r\n")
        .unwrap();
    let start = std::time::Instant::now();
    let mut raw = Vec::new();
    // The server closes the connection (possibly after a 408) instead of waiting for ever.
    let _ = s.read_to_end(&mut raw);
    assert!(start.elapsed() < Duration::from_secs(10));
    assert!(!String::from_utf8_lossy(&raw).contains(" 200 "));
}

/// Replaces the file at `path` with `text` in one rename, so no poll sees it half written.
fn replace(path: &std::path::Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// Writes `text` padded with spaces to `len` bytes, then sets the file's modification time.
fn write_padded(path: &std::path::Path, text: &str, len: usize, modified: std::time::SystemTime) {
    assert!(text.len() <= len);
    std::fs::write(path, format!("{text}{}", " ".repeat(len - text.len()))).unwrap();
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(modified).unwrap();
}

#[cfg(unix)]
#[test]
fn a_symlink_swapped_to_a_file_of_the_same_size_and_time_is_reloaded() {
    let dir = TempDir::new("reload-symlink");
    let (a, hash_a) = plan_json(|s| s);
    let (b, hash_b) = plan_json(|s| s.replace("confidence < 0.8 ", "confidence < 0.97 "));
    let len = a.len().max(b.len()) + 8;
    let when = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    write_padded(&dir.path().join("a.json"), &a, len, when);
    write_padded(&dir.path().join("b.json"), &b, len, when);
    let link = dir.path().join("plan.json");
    std::os::unix::fs::symlink("a.json", &link).unwrap();
    let sidecar = Sidecar::start(&["--plan", link.to_str().unwrap(), "--reload-ms", "20"]);
    let ready = request(sidecar.addr, "GET", "/readyz", &[], "").json();
    assert_eq!(ready["plan_hash"], hash_a.as_str());
    // Swap the link in one rename, as a deployment tool does.
    let next = dir.path().join("plan.json.next");
    std::os::unix::fs::symlink("b.json", &next).unwrap();
    std::fs::rename(&next, &link).unwrap();
    sidecar.wait_for_stderr(&format!("reloaded the plan: {hash_a} -> {hash_b}"));
    let d = request(sidecar.addr, "POST", "/v1/decide", &[], ORDER).json();
    assert_eq!(
        (d["plan_hash"].as_str(), d["outcome"].as_str()),
        (Some(hash_b.as_str()), Some("escalate"))
    );
}

#[test]
fn new_content_under_the_old_hash_is_refused_and_the_old_plan_serves() {
    let dir = TempDir::new("reload-hash");
    let plan_path = dir.path().join("plan.json");
    let (a, hash_a) = plan_json(|s| s);
    let (b, hash_b) = plan_json(|s| s.replace("confidence < 0.8 ", "confidence < 0.97 "));
    std::fs::write(&plan_path, &a).unwrap();
    let sidecar = Sidecar::start(&["--plan", plan_path.to_str().unwrap(), "--reload-ms", "20"]);
    let addr = sidecar.addr;

    // Plan B's content under plan A's hash: not "unchanged", refused.
    let mut forged: serde_json::Value = serde_json::from_str(&b).unwrap();
    forged["plan_hash"] = serde_json::json!(hash_a);
    replace(&plan_path, &forged.to_string());
    let line = sidecar.wait_for_stderr_count("refused the changed plan", 1);
    assert!(line.contains(&format!("still serving {hash_a}")), "{line}");
    assert!(
        line.contains("is not the hash of the plan's content"),
        "{line}"
    );
    let ready = request(addr, "GET", "/readyz", &[], "").json();
    assert_eq!(ready["plan_hash"], hash_a.as_str());
    assert!(
        ready["reload_refused"]
            .as_str()
            .unwrap()
            .contains("is not the hash"),
        "{ready}"
    );
    let d = request(addr, "POST", "/v1/decide", &[], ORDER).json();
    assert_eq!(
        (d["plan_hash"].as_str(), d["outcome"].as_str()),
        (Some(hash_a.as_str()), Some("dispatch"))
    );

    // An invalid plan under the old hash: refused too, never served.
    let mut broken: serde_json::Value = serde_json::from_str(&a).unwrap();
    broken["agents"] = serde_json::json!([]);
    replace(&plan_path, &broken.to_string());
    let line = sidecar.wait_for_stderr_count("refused the changed plan", 2);
    assert!(line.contains(&format!("still serving {hash_a}")), "{line}");

    // The real plan B: swapped in, and /readyz no longer reports a refusal.
    replace(&plan_path, &b);
    sidecar.wait_for_stderr(&format!("reloaded the plan: {hash_a} -> {hash_b}"));
    let ready = request(addr, "GET", "/readyz", &[], "").json();
    assert_eq!(ready["plan_hash"], hash_b.as_str());
    assert!(ready.get("reload_refused").is_none(), "{ready}");
    let metrics = request(addr, "GET", "/metrics", &[], "").body;
    assert!(
        metrics.contains(r#"intent_plan_reloads_total{result="swapped"} 1"#),
        "{metrics}"
    );
}
