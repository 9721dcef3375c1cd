//! A fleet: three `intent serve` processes sharing their limits and breakers through a real
//! `redis-server` (started here on a free loopback port, no persistence). Requests spread over
//! the replicas under concurrent load get exactly the limit across the fleet within the window,
//! and more again once it slides; escalations to a person are counted the same way; failures
//! reported to replica 1 open the breaker on replicas 2 and 3, and it closes after the
//! cooldown; Redis stopped mid-run gives the declared behaviour (a throttle naming the cause,
//! or a fourth replica's local share with `--state-fallback local`) and no 5xx; Redis started
//! again is used again without restarting the sidecars.
//!
//! Skips, saying so, without a `redis-server` binary, except under `CI=true`, where that fails
//! (.ci/run installs the Debian package).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "serve/support.rs"]
mod support;
#[path = "common/tools.rs"]
mod tools;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{request, try_request, Sidecar, TempDir};

const FLEET: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/serve/fleet.intent");
/// The quoter's limit and window in the mesh, and the cashier's.
const QUOTES: usize = 30;
const WINDOW: Duration = Duration::from_secs(2);
const ESCALATIONS: usize = 5;

const QUOTE: &str = r#"{"intent":"get_quote","confidence":0.95,"channel":"web"}"#;
const UNSURE: &str = r#"{"intent":"get_quote","confidence":0.6,"channel":"web"}"#;
const PAY: &str = r#"{"intent":"send_payment","confidence":0.95,"channel":"api"}"#;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `redis-server` on 127.0.0.1 without persistence, killed when dropped.
struct Redis {
    child: Child,
}

impl Redis {
    fn start(binary: &PathBuf, port: u16, dir: &std::path::Path) -> Redis {
        let child = Command::new(binary)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ])
            .arg("--dir")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while !pong(port) {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Redis { child }
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether a Redis answers PING on `port`.
fn pong(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
    let mut buf = [0u8; 7];
    s.write_all(b"PING\r\n").is_ok() && s.read_exact(&mut buf).is_ok() && buf == *b"+PONG\r\n"
}

/// The admin token every replica is started with (`--admin-token-file`).
const ADMIN_TOKEN: &str = "fleet-test-admin-token-0123456789";

/// Reports a failure of `agent` to one replica, with the admin token. The one place that knows
/// how `/v1/failure` is called.
fn report_failure(addr: SocketAddr, agent: &str) -> support::Answer {
    let bearer = format!("Bearer {ADMIN_TOKEN}");
    request(
        addr,
        "POST",
        "/v1/failure",
        &[
            ("content-type", "application/json"),
            ("authorization", &bearer),
        ],
        &format!(r#"{{"agent":"{agent}"}}"#),
    )
}

/// Waits until every sidecar's `/readyz` says the state store is `up`.
fn wait_for_store(fleet: &[&Sidecar], up: bool) {
    let start = Instant::now();
    for s in fleet {
        loop {
            let ready = request(s.addr, "GET", "/readyz", &[], "").json();
            if ready["state"]["up"] == up {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the state store never became up={up}: {ready}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The outcomes of `n` requests `body`, sent by 3 threads per replica, spread over `fleet`
/// round robin; panics on any answer that is not a 200.
fn burst(fleet: &[SocketAddr], body: &'static str, n: usize) -> Vec<serde_json::Value> {
    let threads = fleet.len() * 3;
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let addr = fleet[t % fleet.len()];
            let count = n / threads + usize::from(t < n % threads);
            std::thread::spawn(move || {
                (0..count)
                    .map(|_| {
                        let a = try_request(addr, "POST", "/v1/decide", &[], body).unwrap();
                        assert_eq!(a.status, 200, "{a:?}");
                        a.json()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect()
}

fn count(answers: &[serde_json::Value], outcome: &str) -> usize {
    answers.iter().filter(|a| a["outcome"] == outcome).count()
}

fn agent(answer: &serde_json::Value) -> String {
    answer["steps"][0]["agent"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

#[test]
fn a_fleet_shares_exact_limits_and_breakers_through_redis_and_survives_its_outage() {
    let Some(binary) = tools::require_binary(
        "a_fleet_shares_exact_limits_and_breakers_through_redis_and_survives_its_outage",
        "redis-server",
        &["/usr/bin", "/usr/local/bin", "/usr/sbin"],
        "apt-get install redis-server",
    ) else {
        return;
    };
    let dir = TempDir::new("fleet");
    let port = free_port();
    let redis = Redis::start(&binary, port, dir.path());
    let url = format!("redis://127.0.0.1:{port}/0");
    // A prefix of its own, so a Redis shared with another run counts nothing twice.
    let prefix = format!("fleet-test-{}:", std::process::id());
    // /v1/failure changes state, so every replica asks for the admin token.
    let token = dir.path().join("admin-token");
    std::fs::write(&token, ADMIN_TOKEN).unwrap();
    let token = token.to_str().unwrap().to_string();
    let replica = |extra: &[&str]| {
        let mut args = vec![FLEET, "--reload-ms", "0", "--state", &url];
        args.extend(["--state-prefix", &prefix, "--admin-token-file", &token]);
        args.extend(extra);
        Sidecar::start(&args)
    };
    let (one, two, three) = (replica(&[]), replica(&[]), replica(&[]));
    wait_for_store(&[&one, &two, &three], true);
    let fleet = [one.addr, two.addr, three.addr];

    // Exactly the limit across the fleet within the window, whichever replica is asked.
    let start = Instant::now();
    let answers = burst(&fleet, QUOTE, 3 * QUOTES);
    let took = start.elapsed();
    assert!(
        took < WINDOW,
        "the burst took {took:?}, longer than the window"
    );
    assert_eq!(count(&answers, "dispatch"), QUOTES, "{answers:?}");
    assert_eq!(count(&answers, "throttle"), 2 * QUOTES);
    let throttled = answers.iter().find(|a| a["outcome"] == "throttle").unwrap();
    assert!(
        throttled["retry_after_ms"].as_u64().unwrap() > 0,
        "{throttled}"
    );
    // Once the window has slid past the burst, the fleet allows the limit again, and no more.
    std::thread::sleep(WINDOW + Duration::from_millis(200));
    let answers = burst(&fleet, QUOTE, QUOTES + 15);
    assert_eq!(count(&answers, "dispatch"), QUOTES, "{answers:?}");
    assert_eq!(count(&answers, "throttle"), 15);

    // Escalations count against the person the same way.
    let answers = burst(&fleet, UNSURE, 3 * ESCALATIONS);
    assert_eq!(count(&answers, "escalate"), ESCALATIONS, "{answers:?}");
    assert_eq!(count(&answers, "throttle"), 2 * ESCALATIONS);

    // Failures reported to replica 1 open the breaker on replicas 2 and 3.
    let first = request(two.addr, "POST", "/v1/decide", &[], PAY).json();
    assert_eq!(agent(&first), "payer", "{first}");
    for _ in 0..3 {
        let a = report_failure(one.addr, "payer");
        assert_eq!(a.status, 200, "{a:?}");
    }
    let opened = Instant::now();
    for addr in [two.addr, three.addr] {
        let d = request(addr, "POST", "/v1/decide", &[], PAY).json();
        assert_eq!(agent(&d), "spare_payer", "{d}");
        let metrics = request(addr, "GET", "/metrics", &[], "").body;
        assert!(
            metrics.contains(r#"intent_breaker_open{agent="payer"} 1"#),
            "{metrics}"
        );
    }
    // The breaker closes after its cooldown (3 s), for every replica.
    std::thread::sleep(Duration::from_secs(3).saturating_sub(opened.elapsed()) + WINDOW / 4);
    for addr in fleet {
        let d = request(addr, "POST", "/v1/decide", &[], PAY).json();
        assert_eq!(agent(&d), "payer", "{d}");
    }

    // A fourth replica that falls back to its share (30 / 3) of each limit while Redis is down.
    let four = replica(&["--state-fallback", "local", "--replicas", "3"]);
    wait_for_store(&[&four], true);

    // Redis stops: the three fail closed, naming the cause; nothing answers 5xx.
    redis.stop();
    std::thread::sleep(WINDOW);
    let answers = burst(&fleet, QUOTE, 30);
    assert_eq!(count(&answers, "throttle"), 30, "{answers:?}");
    let reason = answers[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("the state store is unavailable"),
        "{reason}"
    );
    wait_for_store(&[&one, &two, &three, &four], false);
    let ready = request(one.addr, "GET", "/readyz", &[], "");
    assert_eq!(ready.status, 200);
    let metrics = request(two.addr, "GET", "/metrics", &[], "").body;
    assert!(
        metrics.contains(r#"intent_state_up{backend="redis"} 0"#),
        "{metrics}"
    );
    // The fallback replica allows its share, then throttles.
    let answers = burst(&[four.addr], QUOTE, 20);
    assert_eq!(count(&answers, "dispatch"), QUOTES / 3, "{answers:?}");
    assert_eq!(count(&answers, "throttle"), 20 - QUOTES / 3);

    // Redis starts again on the same port: picked up without restarting anyone.
    let redis = Redis::start(&binary, port, dir.path());
    wait_for_store(&[&one, &two, &three, &four], true);
    let answers = burst(&fleet, QUOTE, 9);
    assert_eq!(count(&answers, "dispatch"), 9, "{answers:?}");
    drop(redis);
}
