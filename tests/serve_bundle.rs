//! Signed plan bundles end to end, with a real nginx serving the bundle file (ETags and 304s
//! are nginx's own): `intent build --bundle` signs, `intent serve --bundle-url` picks up a new
//! bundle (one 200, then 304s in nginx's access log), refuses a badly signed or unsigned one
//! while the old plan keeps serving (and does not download it again), and a sidecar started
//! while nginx is down serves the last good bundle from its cache file. A second test checks
//! the signatures against OpenSSL's Ed25519 (`openssl pkeyutl -rawin`) both ways.
//!
//! Without nginx or openssl the tests skip, saying so, except under `CI=true` where they
//! fail (`.ci/run` installs both).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "serve/support.rs"]
mod support;
#[path = "common/tools.rs"]
mod tools;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};
use support::{request, Sidecar, TempDir, MESH};

const KEY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/serve/bundle-key.pem");
const PUBLIC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/serve/bundle-key.pub.pem"
);
const STRANGER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/serve/bundle-stranger.pem"
);

/// A system tool, or `None` (the test skips) — except under `CI=true`, where it must be there.
fn tool(name: &str, test: &str) -> Option<PathBuf> {
    tools::require_binary(
        test,
        name,
        &["/usr/sbin", "/usr/local/sbin"],
        &format!("apt-get install {name}"),
    )
}

/// `intent build` of `mesh` (a directory) into `out`, with a bundle signed by `key`; the plan's
/// hash.
fn build(mesh: &Path, out: &Path, key: &str) -> String {
    let plan = out.with_extension("plan.json");
    let o = Command::new(env!("CARGO_BIN_EXE_intent"))
        .arg("build")
        .arg(mesh)
        .arg("-o")
        .arg(&plan)
        .arg("--bundle")
        .arg(out)
        .args(["--bundle-key", key])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(plan).unwrap()).unwrap();
    plan["plan_hash"].as_str().unwrap().to_string()
}

/// The test mesh with its rate limit changed, so each version has its own plan hash.
fn mesh_version(dir: &Path, rate: u32) -> PathBuf {
    let d = dir.join(format!("mesh{rate}"));
    std::fs::create_dir_all(&d).unwrap();
    let text = std::fs::read_to_string(MESH).unwrap().replace(
        "rate reporter 2 per 1m",
        &format!("rate reporter {rate} per 1m"),
    );
    std::fs::write(d.join("mesh.intent"), text).unwrap();
    d
}

/// Puts `bytes` where nginx serves the bundle: written beside it, given its own modification
/// time (nginx's ETag is the time in seconds and the size), then renamed over it.
fn publish(root: &Path, bytes: &[u8], version: u64) {
    let tmp = root.join("bundle.json.tmp");
    std::fs::write(&tmp, bytes).unwrap();
    let when = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + version * 10);
    std::fs::File::options()
        .write(true)
        .open(&tmp)
        .unwrap()
        .set_modified(when)
        .unwrap();
    std::fs::rename(&tmp, root.join("bundle.json")).unwrap();
}

struct Nginx(Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// nginx serving `root` as static files, logging each request's status and `If-None-Match`.
fn start_nginx(bin: &Path, dir: &Path, root: &Path) -> (Nginx, SocketAddr) {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let d = dir.display();
    let conf = format!(
        r#"daemon off;
master_process off;
error_log {d}/error.log info;
pid {d}/nginx.pid;
events {{ worker_connections 64; }}
http {{
  log_format bundle escape=none '$status $request_method $uri inm=$http_if_none_match etag=$sent_http_etag';
  access_log {d}/access.log bundle;
  client_body_temp_path {d}/body;
  proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi;
  scgi_temp_path {d}/scgi;
  server {{
    listen 127.0.0.1:{port};
    root {root};
  }}
}}
"#,
        root = root.display()
    );
    let conf_path = dir.join("nginx.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let child = Command::new(bin)
        .arg("-p")
        .arg(dir)
        .arg("-e")
        .arg(dir.join("error.log"))
        .arg("-c")
        .arg(&conf_path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let nginx = Nginx(child);
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let start = Instant::now();
    while TcpStream::connect(addr).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "nginx did not start: {}",
            std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    (nginx, addr)
}

/// nginx's access log: (status, If-None-Match sent, ETag answered) per request of the bundle.
fn access_log(dir: &Path) -> Vec<(u16, String, String)> {
    std::fs::read_to_string(dir.join("access.log"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("/bundle.json"))
        .map(|l| {
            let status = l.split_whitespace().next().unwrap().parse().unwrap();
            let field = |name: &str| {
                l.split(name)
                    .nth(1)
                    .and_then(|r| r.split_whitespace().next())
                    .unwrap_or("")
                    .to_string()
            };
            (status, field("inm="), field("etag="))
        })
        .collect()
}

/// Waits (up to 20 s) until `check` holds of the access log.
fn wait_log(dir: &Path, what: &str, check: impl Fn(&[(u16, String, String)]) -> bool) {
    let start = Instant::now();
    while !check(&access_log(dir)) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{what}: {:?}",
            access_log(dir)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn readyz(addr: SocketAddr) -> serde_json::Value {
    let a = request(addr, "GET", "/readyz", &[], "");
    assert_eq!(a.status, 200, "{a:?}");
    a.json()
}

/// A request the test mesh dispatches: the sidecar still decides.
fn decides(addr: SocketAddr) {
    let a = request(
        addr,
        "POST",
        "/v1/decide",
        &[],
        r#"{"intent": "take_order", "confidence": 0.95, "channel": "web"}"#,
    );
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(a.json()["outcome"], "dispatch", "{a:?}");
}

/// A bundle's JSON with one field changed (`None`: removed).
fn with_field(bundle: &[u8], field: &str, value: Option<serde_json::Value>) -> Vec<u8> {
    let mut b: serde_json::Value = serde_json::from_slice(bundle).unwrap();
    match value {
        Some(v) => b[field] = v,
        None => {
            b.as_object_mut().unwrap().remove(field);
        }
    }
    b.to_string().into_bytes()
}

#[test]
fn nginx_serves_bundles_the_sidecar_checks_and_caches() {
    let test = "nginx_serves_bundles_the_sidecar_checks_and_caches";
    let Some(nginx_bin) = tool("nginx", test) else {
        return;
    };
    let dir = TempDir::new("bundle");
    let root = dir.path().join("www");
    std::fs::create_dir_all(&root).unwrap();
    let bundles = dir.path().join("bundles");
    std::fs::create_dir_all(&bundles).unwrap();
    let hash_a = build(&mesh_version(dir.path(), 2), &bundles.join("a.json"), KEY);
    let hash_b = build(&mesh_version(dir.path(), 3), &bundles.join("b.json"), KEY);
    let hash_c = build(&mesh_version(dir.path(), 4), &bundles.join("c.json"), KEY);
    build(
        &mesh_version(dir.path(), 5),
        &bundles.join("d.json"),
        STRANGER,
    );
    assert!(hash_a != hash_b && hash_b != hash_c);
    let read = |name: &str| std::fs::read(bundles.join(name)).unwrap();

    publish(&root, &read("a.json"), 1);
    let (nginx, front) = start_nginx(&nginx_bin, dir.path(), &root);
    let url = format!("http://{front}/bundle.json");
    let cache = dir.path().join("cache.json");
    let sidecar = Sidecar::start(&[
        "--bundle-url",
        &url,
        "--bundle-key",
        PUBLIC,
        "--bundle-cache",
        cache.to_str().unwrap(),
        "--bundle-poll-ms",
        "50",
    ]);
    let r = readyz(sidecar.addr);
    assert_eq!(r["plan_hash"], hash_a.as_str(), "{r}");
    assert_eq!(r["bundle"]["source"], "server", "{r}");
    assert_eq!(r["bundle"]["plan_hash"], hash_a.as_str(), "{r}");
    let etag_a = r["bundle"]["etag"].as_str().unwrap().to_string();
    decides(sidecar.addr);

    // A new signed bundle: fetched once (200, sent with the old ETag), then 304s.
    publish(&root, &read("b.json"), 2);
    sidecar.wait_for_stderr(&format!("reloaded the plan: {hash_a} -> {hash_b}"));
    let b_fetches = |log: &[(u16, String, String)]| {
        let got = log
            .iter()
            .position(|(s, inm, _)| *s == 200 && *inm == etag_a);
        got.map(|i| log[i + 1..].iter().filter(|(s, _, _)| *s == 304).count())
    };
    wait_log(dir.path(), "304s after the new bundle", |log| {
        b_fetches(log).is_some_and(|n| n >= 3)
    });
    let log = access_log(dir.path());
    let i = log
        .iter()
        .position(|(s, inm, _)| *s == 200 && *inm == etag_a)
        .unwrap();
    let etag_b = log[i].2.clone();
    assert_ne!(etag_a, etag_b);
    assert!(
        log[i + 1..]
            .iter()
            .all(|(s, inm, _)| *s == 304 && *inm == etag_b),
        "after the new bundle, only 304s for its ETag: {log:?}"
    );
    // Before it: the first 200 and 304s for bundle A.
    assert_eq!(log[0].0, 200, "{log:?}");
    assert!(log[1..i].iter().all(|(s, _, _)| *s == 304), "{log:?}");
    let r = readyz(sidecar.addr);
    assert_eq!(r["plan_hash"], hash_b.as_str(), "{r}");
    assert_eq!(r["bundle"]["etag"], etag_b.as_str(), "{r}");
    assert!(r["bundle"]["last_success_ms"].as_u64().is_some(), "{r}");
    assert!(r["bundle"]["last_error"].is_null(), "{r}");
    // The cache holds the bundle now serving, byte for byte.
    let start = Instant::now();
    while std::fs::read(&cache).unwrap_or_default() != read("b.json") {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "cache not written"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    // Refused, each in turn, while B keeps serving: plan C under B's signature, C unsigned, and
    // a bundle signed by another key.
    let c = read("c.json");
    let b_signature: serde_json::Value = serde_json::from_slice(&read("b.json")).unwrap();
    let bad = [
        (
            with_field(&c, "signature", Some(b_signature["signature"].clone())),
            "bad signature",
        ),
        (
            with_field(&c, "signature", None),
            "the bundle is not signed",
        ),
        (read("d.json"), "is not signed by the trusted key"),
    ];
    for (n, (bytes, why)) in bad.iter().enumerate() {
        publish(&root, bytes, 3 + n as u64);
        let line = sidecar.wait_for_stderr_count("refused the bundle", n + 1);
        assert!(line.contains(why), "{line}");
        assert!(line.contains(&format!("still serving {hash_b}")), "{line}");
        let r = readyz(sidecar.addr);
        assert_eq!(r["plan_hash"], hash_b.as_str(), "{r}");
        assert!(
            r["bundle"]["last_error"].as_str().unwrap().contains(why),
            "{r}"
        );
        decides(sidecar.addr);
    }
    // The refused bundle is not downloaded again: its ETag gets 304s.
    let refused_etag = access_log(dir.path()).last().unwrap().2.clone();
    wait_log(dir.path(), "304s for the refused bundle", |log| {
        log.iter()
            .filter(|(s, inm, _)| *s == 304 && *inm == refused_etag)
            .count()
            >= 3
    });
    let log = access_log(dir.path());
    assert_eq!(
        log.iter().filter(|(s, _, _)| *s == 200).count(),
        2 + bad.len(),
        "one 200 per published bundle: {log:?}"
    );
    let metrics = request(sidecar.addr, "GET", "/metrics", &[], "").body;
    assert!(
        metrics.contains(r#"intent_bundle_fetches_total{result="refused"} 3"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"intent_bundle_fetches_total{result="swapped"} 1"#),
        "{metrics}"
    );
    let info =
        format!(r#"intent_bundle{{plan_hash="{hash_b}",etag={etag_b:?},source="server"}} 1"#);
    assert!(metrics.contains(&info), "{info} in {metrics}");
    assert!(
        metrics.contains("intent_bundle_last_error_timestamp_seconds "),
        "{metrics}"
    );

    // The bundle server goes down: the running sidecar keeps serving B and says why it cannot
    // fetch; a sidecar started now serves B from its copy of the cache.
    drop(nginx);
    sidecar.wait_for_stderr("cannot fetch");
    assert_eq!(readyz(sidecar.addr)["plan_hash"], hash_b.as_str());
    decides(sidecar.addr);
    let cache2 = dir.path().join("cache2.json");
    std::fs::copy(&cache, &cache2).unwrap();
    let cold = Sidecar::start(&[
        "--bundle-url",
        &url,
        "--bundle-key",
        PUBLIC,
        "--bundle-cache",
        cache2.to_str().unwrap(),
    ]);
    let r = readyz(cold.addr);
    assert_eq!(r["plan_hash"], hash_b.as_str(), "{r}");
    assert_eq!(r["bundle"]["source"], "cache", "{r}");
    assert!(
        r["bundle"]["last_error"]
            .as_str()
            .unwrap()
            .contains("cannot fetch"),
        "{r}"
    );
    decides(cold.addr);
    cold.wait_for_stderr("serving the cached bundle");

    // With neither a server nor a good cache there is nothing to serve: it says why and exits.
    std::fs::write(
        &cache2,
        with_field(&read("b.json"), "plan", Some(serde_json::json!("e30="))),
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_intent"))
        .args(["serve", "--addr", "127.0.0.1:0", "--bundle-url", &url])
        .args(["--bundle-key", PUBLIC, "--bundle-timeout-ms", "2000"])
        .arg("--bundle-cache")
        .arg(&cache2)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert!(err.contains("no plan to serve: cannot fetch"), "{err}");
    assert!(err.contains("refused the cached bundle"), "{err}");
    assert!(err.contains("bad signature"), "{err}");
}

/// Runs `openssl ARGS`, which must succeed; its stdout.
fn openssl(bin: &Path, args: &[&str]) -> String {
    let o = Command::new(bin).args(args).output().unwrap();
    assert!(
        o.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn bundle_signatures_are_openssls_ed25519_both_ways() {
    let Some(bin) = tool(
        "openssl",
        "bundle_signatures_are_openssls_ed25519_both_ways",
    ) else {
        return;
    };
    let dir = TempDir::new("bundle-openssl");
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    // A key pair made by OpenSSL, read by `intent build`.
    openssl(
        &bin,
        &["genpkey", "-algorithm", "ed25519", "-out", &p("key.pem")],
    );
    openssl(
        &bin,
        &[
            "pkey",
            "-in",
            &p("key.pem"),
            "-pubout",
            "-out",
            &p("pub.pem"),
        ],
    );
    let hash = build(
        &mesh_version(dir.path(), 2),
        Path::new(&p("bundle.json")),
        &p("key.pem"),
    );
    let bundle = std::fs::read(p("bundle.json")).unwrap();
    let envelope: serde_json::Value = serde_json::from_slice(&bundle).unwrap();

    // What is signed: the prefix, then the plan file's bytes.
    let mut message = b"intent-bundle/1\n".to_vec();
    message.extend(std::fs::read(p("bundle.plan.json")).unwrap());
    std::fs::write(p("message"), &message).unwrap();

    // OpenSSL verifies our signature.
    std::fs::write(p("ours.b64"), envelope["signature"].as_str().unwrap()).unwrap();
    openssl(
        &bin,
        &[
            "base64",
            "-d",
            "-A",
            "-in",
            &p("ours.b64"),
            "-out",
            &p("ours.sig"),
        ],
    );
    let said = openssl(
        &bin,
        &[
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            &p("pub.pem"),
            "-rawin",
            "-in",
            &p("message"),
            "-sigfile",
            &p("ours.sig"),
        ],
    );
    assert!(said.contains("Signature Verified Successfully"), "{said}");

    // We verify OpenSSL's signature, made without our code.
    openssl(
        &bin,
        &[
            "pkeyutl",
            "-sign",
            "-inkey",
            &p("key.pem"),
            "-rawin",
            "-in",
            &p("message"),
            "-out",
            &p("theirs.sig"),
        ],
    );
    let theirs = openssl(&bin, &["base64", "-A", "-in", &p("theirs.sig")]);
    let signed_by_openssl =
        with_field(&bundle, "signature", Some(theirs.trim().to_string().into()));
    let key =
        intent_runtime::bundle::verifying_key(&std::fs::read_to_string(p("pub.pem")).unwrap())
            .unwrap();
    let max = intent_runtime::bundle::DEFAULT_MAX_BUNDLE;
    let v = intent_runtime::bundle::verify(&signed_by_openssl, &key, max).unwrap();
    assert_eq!(v.plan_hash, hash);
    assert_eq!(v.plan.plan_hash, hash);
    // And the same signature over another message is refused.
    message.extend(b" ");
    std::fs::write(p("message"), &message).unwrap();
    let o = Command::new(&bin)
        .args([
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            &p("pub.pem"),
            "-rawin",
        ])
        .args(["-in", &p("message"), "-sigfile", &p("theirs.sig")])
        .output()
        .unwrap();
    assert!(!o.status.success());
}
