//! `intent mcp` between real MCP clients and real MCP servers, all made by others: the
//! official Python SDK's client (`tests/mcp/client.py`, both its 2026-07-28 stateless mode and
//! the older handshake) calls tools through the gateway, which forwards them to servers written
//! with the same SDK's MCPServer (`tests/mcp/upstream.py`). Bearer tokens come from PyJWT.
//!
//! The mesh is `examples/support-mcp`, with its servers' ports replaced by free ones. Shown:
//! allowed calls return the server's result; a refund over the limit is refused with the rule's
//! reason; bad arguments are refused before any decision; an escalated call waits for the named
//! person, is approved through the API by that person only, then passes once; the review
//! redacts the `pii` field; lineage from delegation tokens hides and denies the tools an intent
//! does not delegate; the primary server killed: calls fail over to the backup, the breaker
//! opens and closes after its cooldown; a server advertising a changed definition of a tool is
//! refused for that tool. Every call is in the decision log with its tool.
//!
//! Python comes from `INTENT_TEST_PYTHON` (`.ci/run` makes a venv with `mcp` and PyJWT); without
//! it the tests say so and pass, except under `CI=true`, where they fail.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "otlp/support.rs"]
mod otlp;
#[path = "serve/support.rs"]
mod support;
#[path = "common/tools.rs"]
mod tools;

use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{request, Sidecar, TempDir};

const EXAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/examples/support-mcp/support.intent"
);
const CLIENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/mcp/client.py");
const UPSTREAM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/mcp/upstream.py");
const ISS: &str = "https://idp.test.invalid";
const AUD: &str = "intent-mcp";

fn python(test: &str) -> Option<String> {
    tools::require_python_module(test, "mcp, jwt, cryptography", "mcp pyjwt cryptography")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An upstream MCP server, killed when dropped.
struct Upstream(Child);

impl Upstream {
    /// An upstream on `port`, which this test holds (a restart on the port it had); panics
    /// with the server's log when it cannot bind it.
    fn start(py: &str, port: u16, name: &str, variant: &str) -> Upstream {
        Upstream::spawn(py, port, name, variant)
            .unwrap_or_else(|log| panic!("{name} did not start on port {port}:\n{log}"))
    }

    /// An upstream on a port picked free, written back to `port`. A port is only free when
    /// it is picked: another test can bind it before Python has started, and then a
    /// connection to it reaches that test's server. So the server's own word is waited for,
    /// and when it could not bind, another port is picked.
    fn start_free(py: &str, port: &mut u16, name: &str, variant: &str) -> Upstream {
        let mut log = String::new();
        for _ in 0..5 {
            match Upstream::spawn(py, *port, name, variant) {
                Ok(upstream) => return upstream,
                Err(said) => log = said,
            }
            *port = free_port();
        }
        panic!("{name} could not bind a port in five attempts:\n{log}")
    }

    /// Starts the server and waits until uvicorn says it is listening (it binds first), or
    /// until it exits (its log is the error).
    fn spawn(py: &str, port: u16, name: &str, variant: &str) -> Result<Upstream, String> {
        use std::io::BufRead;
        let mut child = Command::new(py)
            .args([UPSTREAM, &port.to_string(), name, variant])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let upstream = Upstream(child);
        let (tx, rx) = std::sync::mpsc::channel();
        // Reads the log to its end, so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                let _ = tx.send(line);
            }
        });
        let mut log = String::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) if line.contains("Uvicorn running on") => return Ok(upstream),
                Ok(line) => log += &format!("{line}\n"),
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return Err(log),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    panic!("{name} did not start in 30 s:\n{log}")
                }
            }
        }
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The example mesh with its servers on `ports` (billing, billing_standby, orders), in `dir`.
fn mesh(dir: &Path, ports: [u16; 3]) -> String {
    let text = std::fs::read_to_string(EXAMPLE)
        .unwrap()
        .replace("127.0.0.1:9101", &format!("127.0.0.1:{}", ports[0]))
        .replace("127.0.0.1:9102", &format!("127.0.0.1:{}", ports[1]))
        .replace("127.0.0.1:9103", &format!("127.0.0.1:{}", ports[2]));
    let path = dir.join("support.intent");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// Bearer tokens from PyJWT for `subs`, with their key set in `dir/jwks.json`.
fn tokens(py: &str, dir: &Path, subs: &[&str]) -> HashMap<String, String> {
    let out = Command::new(py)
        .args([CLIENT, "keys", dir.to_str().unwrap(), ISS, AUD])
        .args(subs)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The gateway on the mesh in `dir`, verifying bearer tokens, minting delegation tokens.
fn gateway(dir: &Path, mesh: &str) -> Sidecar {
    gateway_with(dir, mesh, &[])
}

/// [`gateway`] with more options.
fn gateway_with(dir: &Path, mesh: &str, extra: &[&str]) -> Sidecar {
    let key = dir.join("keys");
    std::fs::create_dir_all(&key).unwrap();
    let keygen = Command::new(env!("CARGO_BIN_EXE_intent"))
        .args(["keys", "generate", "--out", key.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(keygen.status.success());
    let jwks = dir.join("jwks.json");
    let log = dir.join("decisions.log");
    let mut c = Command::new(env!("CARGO_BIN_EXE_intent"));
    c.args(["mcp", mesh, "--addr", "127.0.0.1:0", "--reload-ms", "0"])
        .args([
            "--jwks",
            jwks.to_str().unwrap(),
            "--jwt-issuer",
            ISS,
            "--jwt-audience",
            AUD,
        ])
        .args([
            "--signing-key",
            key.join("delegation.key.pem").to_str().unwrap(),
        ])
        .args([
            "--external-caller",
            "support_bot",
            "--external-caller",
            "intern_bot",
            "--external-caller",
            "triage_bot",
        ])
        .args([
            "--log",
            log.to_str().unwrap(),
            "--upstream-timeout-ms",
            "5000",
        ])
        .args(["--tools-refresh-ms", "0"])
        .args(extra);
    Sidecar::spawn(c)
}

/// Runs `commands` through the Python SDK's client as the holder of `token`.
fn client(py: &str, gw: &Sidecar, token: &str, commands: &[Value]) -> Vec<Value> {
    let url = format!("http://{}/mcp", gw.addr);
    let mut child = Command::new(py)
        .args([CLIENT, &url, token])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for c in commands {
        writeln!(stdin, "{c}").unwrap();
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "client.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answers: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(answers.len(), commands.len(), "{answers:?}");
    answers
}

fn call(tool: &str, args: Value) -> Value {
    json!({ "call": tool, "args": args })
}

fn text(a: &Value) -> &str {
    a["text"].as_str().unwrap_or_default()
}

/// The log lines written so far.
fn log(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("decisions.log"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A delegation token for `intent`'s dispatch, minted by the gateway for a call from `token`'s
/// holder through its `/v1/decide`.
fn delegation(gw: &Sidecar, token: &str, intent: &str, context: Value) -> String {
    let mut body = json!({ "intent": intent, "confidence": 1 });
    body.as_object_mut()
        .unwrap()
        .extend(context.as_object().unwrap().clone());
    let auth = format!("Bearer {token}");
    let a = request(
        gw.addr,
        "POST",
        "/v1/decide",
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        &body.to_string(),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    a.json()["tokens"][0]["token"].as_str().unwrap().to_string()
}

#[test]
fn tool_calls_are_decided_by_the_mesh_and_forwarded_to_real_mcp_servers() {
    let Some(py) = python("tool_calls_are_decided_by_the_mesh_and_forwarded_to_real_mcp_servers")
    else {
        return;
    };
    let dir = TempDir::new("mcp-calls");
    let mut ports = [free_port(), free_port(), free_port()];
    let _billing = Upstream::start_free(&py, &mut ports[0], "billing", "normal");
    let _orders = Upstream::start_free(&py, &mut ports[2], "orders", "normal");
    let t = tokens(
        &py,
        dir.path(),
        &["support_bot", "intern_bot", "orders", "billing", "stranger"],
    );
    let gw = gateway(dir.path(), &mesh(dir.path(), ports));

    let a = client(
        &py,
        &gw,
        &t["support_bot"],
        &[
            json!({ "list": true }),
            call("refund_order", json!({ "order_id": "A-1", "amount": 20 })),
            json!({ "call": "refund_order", "args": { "order_id": "A-2", "amount": 30 }, "mode": "legacy" }),
            call("refund_order", json!({ "order_id": "A-1", "amount": 5000 })),
            call("refund_order", json!({ "order_id": 7, "amout": 3 })),
            call("lookup_order", json!({ "order_id": "A-1" })),
            call("unbound_tool", json!({})),
        ],
    );
    // The tools the mesh binds, with the mesh's schemas; the server's third tool is not offered.
    assert_eq!(a[0]["tools"], json!(["lookup_order", "refund_order"]));
    assert_eq!(
        a[0]["schemas"]["refund_order"]["required"],
        json!(["amount", "order_id"])
    );
    // Allowed: the server's own result, in both protocol modes.
    assert_eq!(a[1]["is_error"], false, "{}", a[1]);
    assert_eq!(a[1]["structured"]["server"], "billing");
    assert_eq!(a[1]["structured"]["refunded"], 20.0);
    assert_eq!(a[2]["structured"]["order_id"], "A-2", "{}", a[2]);
    // A policy refuses the argument, with the rule's reason.
    assert_eq!(a[3]["is_error"], true);
    assert_eq!(
        text(&a[3]),
        "denied: refunds over 1000 are made by finance, not by agents"
    );
    // Arguments that do not fit the intent's input never reach a decision.
    assert!(
        text(&a[4]).contains("argument `order_id` must be a string"),
        "{}",
        a[4]
    );
    assert!(
        text(&a[4]).contains("argument `amount` is missing"),
        "{}",
        a[4]
    );
    assert!(
        text(&a[4]).contains("argument `amout` is not one of this tool's"),
        "{}",
        a[4]
    );
    // The review removes the field the output marks `pii`, and withholds text it cannot redact.
    assert_eq!(a[5]["is_error"], false, "{}", a[5]);
    assert_eq!(a[5]["structured"]["status"], "shipped");
    assert!(a[5]["structured"].get("email").is_none(), "{}", a[5]);
    assert!(!text(&a[5]).contains("ada@example.com"), "{}", a[5]);
    // A tool the mesh does not bind is unknown to the gateway.
    assert!(
        a[6]["exception"]
            .as_str()
            .unwrap_or_default()
            .contains("unknown tool"),
        "{}",
        a[6]
    );

    // Lineage: `orders`, serving lookup_order, may raise refund_order (lookup_order delegates it)
    // and sees only that tool; `billing`, serving refund_order, may raise nothing.
    let orders_token = delegation(
        &gw,
        &t["support_bot"],
        "lookup_order",
        json!({ "order_id": "A-1" }),
    );
    let as_orders = json!({ "delegation": orders_token });
    let mut list = as_orders.clone();
    list["list"] = json!(true);
    let mut refund = as_orders.clone();
    refund["call"] = json!("refund_order");
    refund["args"] = json!({ "order_id": "A-1", "amount": 10 });
    let mut again = as_orders.clone();
    again["call"] = json!("lookup_order");
    again["args"] = json!({ "order_id": "A-1" });
    let a = client(&py, &gw, &t["orders"], &[list, refund, again]);
    assert_eq!(a[0]["tools"], json!(["refund_order"]), "{}", a[0]);
    assert_eq!(a[1]["structured"]["server"], "billing", "{}", a[1]);
    assert_eq!(
        text(&a[2]),
        "denied: intent drift: lookup_order does not delegate lookup_order"
    );

    let billing_token = delegation(
        &gw,
        &t["support_bot"],
        "refund_order",
        json!({ "order_id": "A-1", "amount": 10 }),
    );
    let mut drift = json!({ "delegation": billing_token, "call": "lookup_order" });
    drift["args"] = json!({ "order_id": "A-1" });
    let mut list = json!({ "delegation": billing_token, "list": true });
    list["delegation"] = json!(billing_token);
    let a = client(&py, &gw, &t["billing"], &[list, drift]);
    assert_eq!(a[0]["tools"], json!([]), "{}", a[0]);
    assert_eq!(
        text(&a[1]),
        "denied: intent drift: refund_order does not delegate lookup_order"
    );

    // A caller without the right the route asks for (`caller provides support.refunds`) is
    // refused, and is not offered the tool.
    let a = client(
        &py,
        &gw,
        &t["intern_bot"],
        &[
            json!({ "list": true }),
            call("refund_order", json!({ "order_id": "A-1", "amount": 10 })),
        ],
    );
    assert_eq!(a[0]["tools"], json!(["lookup_order"]), "{}", a[0]);
    assert_eq!(
        text(&a[1]),
        "denied: only support agents may ask for refunds"
    );

    // Who is not an agent of the plan is refused before the MCP server reads the request.
    let a = client(&py, &gw, &t["stranger"], &[json!({ "list": true })]);
    assert!(a[0]["exception"].is_string(), "{}", a[0]);

    // Every call is in the decision log with its method and tool.
    let lines = log(dir.path());
    let refused = lines
        .iter()
        .find(|l| l["request"]["context"]["amount"] == 5000)
        .unwrap();
    assert_eq!(refused["outcome"], "deny");
    assert_eq!(
        refused["mcp"],
        json!({ "method": "tools/call", "tool": "refund_order" })
    );
    assert_eq!(refused["request"]["caller"]["agent"], "support_bot");
    let metrics = request(gw.addr, "GET", "/metrics", &[], "").body;
    assert!(
        metrics.contains(r#"intent_mcp_calls_total{tool="refund_order",outcome="deny"} 2"#),
        "{metrics}"
    );
}

#[test]
fn the_typescript_sdk_client_calls_through_the_gateway() {
    let test = "the_typescript_sdk_client_calls_through_the_gateway";
    let Some(py) = python(test) else {
        return;
    };
    let ts = Path::new(CLIENT).with_file_name("ts");
    if !tools::runs("node") || !ts.join("node_modules/@modelcontextprotocol/sdk").is_dir() {
        tools::missing(
            test,
            "node with @modelcontextprotocol/sdk",
            "cd tests/mcp/ts && npm ci",
        );
        return;
    }
    let dir = TempDir::new("mcp-ts");
    let mut ports = [free_port(), free_port(), free_port()];
    let _billing = Upstream::start_free(&py, &mut ports[0], "billing", "normal");
    let t = tokens(&py, dir.path(), &["support_bot"]);
    let gw = gateway(dir.path(), &mesh(dir.path(), ports));
    let out = Command::new("node")
        .arg(ts.join("client.mjs"))
        .args([&format!("http://{}/mcp", gw.addr), &t["support_bot"]])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(a[0]["tools"], json!(["lookup_order", "refund_order"]));
    assert_eq!(a[1]["structured"]["server"], "billing", "{}", a[1]);
    assert_eq!(
        text(&a[2]),
        "denied: refunds over 1000 are made by finance, not by agents"
    );
}

#[test]
fn a_tool_limited_per_caller_gives_each_caller_its_retry_time() {
    let Some(py) = python("a_tool_limited_per_caller_gives_each_caller_its_retry_time") else {
        return;
    };
    let dir = TempDir::new("mcp-limits");
    let mut ports = [free_port(), free_port(), free_port()];
    let _billing = Upstream::start_free(&py, &mut ports[0], "billing", "normal");
    let t = tokens(&py, dir.path(), &["support_bot", "triage_bot"]);
    let path = mesh(dir.path(), ports);
    let mut source = std::fs::read_to_string(&path).unwrap();
    source.push_str("\nlimits { rate intent refund_order 2 per 1m per caller }\n");
    std::fs::write(&path, source).unwrap();
    let gw = gateway(dir.path(), &path);
    let small = |id: &str| call("refund_order", json!({ "order_id": id, "amount": 10 }));

    let a = client(
        &py,
        &gw,
        &t["support_bot"],
        &[small("L-1"), small("L-2"), small("L-3")],
    );
    assert_eq!(a[0]["is_error"], false, "{}", a[0]);
    assert_eq!(a[1]["is_error"], false, "{}", a[1]);
    assert_eq!(a[2]["is_error"], true, "{}", a[2]);
    assert!(
        text(&a[2]).starts_with(
            "too many calls: the rate limit of intent refund_order for `support_bot` is reached; retry after "
        ),
        "{}",
        a[2]
    );
    let wait = a[2]["meta"]["intent/decision"]["retry_after_ms"]
        .as_u64()
        .unwrap();
    assert!(wait > 50_000 && wait <= 60_000, "{wait}");
    // Another caller has a count of its own.
    let a = client(&py, &gw, &t["triage_bot"], &[small("L-4")]);
    assert_eq!(a[0]["structured"]["server"], "billing", "{}", a[0]);
}

#[test]
fn an_escalated_call_waits_for_its_person_and_passes_once() {
    let Some(py) = python("an_escalated_call_waits_for_its_person_and_passes_once") else {
        return;
    };
    let dir = TempDir::new("mcp-approvals");
    let mut ports = [free_port(), free_port(), free_port()];
    let _billing = Upstream::start_free(&py, &mut ports[0], "billing", "normal");
    let t = tokens(
        &py,
        dir.path(),
        &["support_bot", "billing_lead", "intern_bot"],
    );
    let gw = gateway(dir.path(), &mesh(dir.path(), ports));
    let big = call("refund_order", json!({ "order_id": "A-9", "amount": 300 }));

    let a = client(&py, &gw, &t["support_bot"], &[big.clone(), big.clone()]);
    assert!(
        text(&a[0]).contains("needs the approval of `billing_lead`"),
        "{}",
        a[0]
    );
    let id = a[0]["meta"]["intent/decision"]["decision_id"]
        .as_str()
        .unwrap()
        .to_string();
    // The same call again is the same held call.
    assert_eq!(a[1]["meta"]["intent/decision"]["decision_id"], id.as_str());

    let lead = format!("Bearer {}", t["billing_lead"]);
    let listed = request(
        gw.addr,
        "GET",
        "/v1/approvals",
        &[("authorization", &lead)],
        "",
    );
    assert_eq!(listed.status, 200, "{}", listed.body);
    let pending = &listed.json()["pending"];
    assert_eq!(pending[0]["id"], id.as_str());
    assert_eq!(pending[0]["tool"], "refund_order");
    assert_eq!(pending[0]["caller"], "support_bot");
    assert_eq!(pending[0]["steps"], json!(["dispatch=billing"]));

    // Not the named person: an agent is no person, and nobody else may answer.
    let intern = format!("Bearer {}", t["intern_bot"]);
    let path = format!("/v1/approvals/{id}");
    let json_ct = ("content-type", "application/json");
    let r = request(
        gw.addr,
        "POST",
        &path,
        &[("authorization", &intern), json_ct],
        r#"{"approve":true}"#,
    );
    assert_eq!(r.status, 403, "{}", r.body);
    let r = request(gw.addr, "POST", &path, &[json_ct], r#"{"approve":true}"#);
    assert_eq!(r.status, 401, "{}", r.body);
    // Still held: the call does not pass.
    let a = client(&py, &gw, &t["support_bot"], std::slice::from_ref(&big));
    assert_eq!(a[0]["is_error"], true);

    let r = request(
        gw.addr,
        "POST",
        &path,
        &[("authorization", &lead), json_ct],
        r#"{"approve":true}"#,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["decided_by"], "billing_lead");

    // Other arguments are another request; the approved call passes once, then waits again.
    let changed = call("refund_order", json!({ "order_id": "A-9", "amount": 301 }));
    let a = client(&py, &gw, &t["support_bot"], &[changed, big.clone(), big]);
    assert!(text(&a[0]).contains("needs the approval"), "{}", a[0]);
    assert_eq!(a[1]["is_error"], false, "{}", a[1]);
    assert_eq!(a[1]["structured"]["refunded"], 300.0);
    assert!(text(&a[2]).contains("needs the approval"), "{}", a[2]);
    let approved = log(dir.path())
        .into_iter()
        .filter(|l| l["mcp"]["approved"] == id.as_str())
        .count();
    assert_eq!(approved, 1);
}

#[test]
fn failover_breakers_and_changed_tool_definitions() {
    let Some(py) = python("failover_breakers_and_changed_tool_definitions") else {
        return;
    };
    let dir = TempDir::new("mcp-failover");
    let mut ports = [free_port(), free_port(), free_port()];
    let primary = Upstream::start_free(&py, &mut ports[0], "billing", "normal");
    let _standby = Upstream::start_free(&py, &mut ports[1], "billing_standby", "normal");

    let t = tokens(&py, dir.path(), &["support_bot"]);
    let gw = gateway(dir.path(), &mesh(dir.path(), ports));
    let small = |id: &str| call("refund_order", json!({ "order_id": id, "amount": 10 }));

    let a = client(&py, &gw, &t["support_bot"], &[small("B-1")]);
    assert_eq!(a[0]["structured"]["server"], "billing", "{}", a[0]);
    drop(primary);
    // The primary is gone: each undelivered attempt is its failure; the breaker (2 failures)
    // opens and the same call goes to the backup.
    let a = client(&py, &gw, &t["support_bot"], &[small("B-2"), small("B-3")]);
    assert_eq!(a[0]["structured"]["server"], "billing_standby", "{}", a[0]);
    assert_eq!(a[1]["structured"]["server"], "billing_standby", "{}", a[1]);
    let metrics = request(gw.addr, "GET", "/metrics", &[], "").body;
    assert!(
        metrics.contains(r#"intent_breaker_open{agent="billing"} 1"#),
        "{metrics}"
    );
    // Back, and the cooldown (2 s) over: the primary serves again.
    let primary = Upstream::start(&py, ports[0], "billing", "normal");
    std::thread::sleep(Duration::from_millis(2_200));
    let a = client(&py, &gw, &t["support_bot"], &[small("B-4")]);
    assert_eq!(a[0]["structured"]["server"], "billing", "{}", a[0]);
    let failed = log(dir.path())
        .iter()
        .filter(|l| l["request"]["context"]["order_id"] == "B-2")
        .map(|l| l["steps"][0].as_str().unwrap_or_default().to_string())
        .collect::<Vec<_>>();
    assert_eq!(
        failed,
        [
            "dispatch=billing",
            "dispatch=billing",
            "dispatch=billing_standby"
        ]
    );

    // The primary comes back advertising refund_order with `amount` as a string: a changed
    // definition of a pinned tool, refused for that tool, without opening the breaker.
    drop(primary);
    let _changed = Upstream::start(&py, ports[0], "billing", "changed");
    let a = client(&py, &gw, &t["support_bot"], &[small("B-5")]);
    assert_eq!(a[0]["is_error"], true, "{}", a[0]);
    assert!(
        text(&a[0]).contains("advertises `refund_order` differently from the mesh: `amount` is string, the mesh says number"),
        "{}",
        a[0]
    );
    let metrics = request(gw.addr, "GET", "/metrics", &[], "").body;
    assert!(
        metrics.contains(r#"intent_mcp_calls_total{tool="refund_order",outcome="pin_refused"} 1"#),
        "{metrics}"
    );
}

#[test]
fn each_decision_of_a_tool_call_is_a_span_under_the_clients_trace() {
    let test = "each_decision_of_a_tool_call_is_a_span_under_the_clients_trace";
    let Some(py) = python(test) else {
        return;
    };
    let Some(otlp_py) = tools::require_python_module(test, otlp::MODULE, otlp::PACKAGE) else {
        return;
    };
    let rx = otlp::Receiver::start(&otlp_py);
    let dir = TempDir::new("mcp-otlp");
    let mut ports = [free_port(), free_port(), free_port()];
    let _billing = Upstream::start_free(&py, &mut ports[0], "billing", "normal");
    let t = tokens(&py, dir.path(), &["support_bot"]);
    let collector = format!("http://127.0.0.1:{}", rx.port);
    let gw = gateway_with(
        dir.path(),
        &mesh(dir.path(), ports),
        &["--otlp", &collector],
    );
    let parent = format!("00-{}-{}-01", otlp::TRACE, otlp::CALLER);
    let mut cmd = call("refund_order", json!({ "order_id": "O-1", "amount": 10 }));
    cmd["headers"] = json!({ "traceparent": parent });
    let a = client(&py, &gw, &t["support_bot"], &[cmd]);
    assert_eq!(a[0]["structured"]["server"], "billing", "{}", a[0]);
    let start = Instant::now();
    let span = loop {
        let found = rx
            .spans
            .lock()
            .unwrap()
            .iter()
            .find(|s| s["attributes"]["intent.endpoint"] == "mcp")
            .cloned();
        if let Some(s) = found {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no span of the call"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(span["trace_id"], otlp::TRACE, "{span}");
    assert_eq!(span["parent_span_id"], otlp::CALLER, "{span}");
    assert_eq!(
        span["attributes"]["intent.intent"], "refund_order",
        "{span}"
    );
    assert_eq!(span["attributes"]["intent.outcome"], "dispatch", "{span}");
    assert_eq!(span["attributes"]["gen_ai.agent.name"], "billing", "{span}");
}

/// The same race as `serve_nginx`'s (a port picked free, bound by another test first): the
/// first port is held here, so the upstream must move to another and say where.
#[test]
fn an_upstream_whose_port_was_taken_moves_to_another() {
    let Some(py) = python("an_upstream_whose_port_was_taken_moves_to_another") else {
        return;
    };
    let held = TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = held.local_addr().unwrap().port();
    let mut port = taken;
    let mut upstream = Upstream::start_free(&py, &mut port, "billing", "normal");
    assert_ne!(port, taken);
    assert!(
        upstream.0.try_wait().unwrap().is_none(),
        "the upstream exited"
    );
    let answer = request(
        format!("127.0.0.1:{port}").parse::<SocketAddr>().unwrap(),
        "GET",
        "/mcp",
        &[],
        "",
    );
    // Python's MCP server answers (a GET without an event-stream `accept` is refused by it).
    assert!(answer.status >= 400 && answer.status < 500, "{answer:?}");
}
