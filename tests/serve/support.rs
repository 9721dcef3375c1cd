//! Helpers for the tests that run `intent serve` as a process: start it on a free port and
//! read its address from its first line, a tiny HTTP/1.1 client over std (no client crate),
//! and a temporary directory removed at the end.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const MESH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/serve/mesh.intent");

/// A running `intent serve`, killed when dropped.
pub struct Sidecar {
    pub child: Child,
    pub addr: SocketAddr,
    /// Everything it wrote to stderr after its first line.
    pub stderr: Arc<Mutex<Vec<String>>>,
}

impl Sidecar {
    /// Starts `intent serve ARGS --addr 127.0.0.1:0` and waits until it listens.
    pub fn start(args: &[&str]) -> Sidecar {
        let mut command = Command::new(env!("CARGO_BIN_EXE_intent"));
        command
            .arg("serve")
            .args(args)
            .args(["--addr", "127.0.0.1:0"]);
        Sidecar::spawn(command)
    }

    /// Starts `command` (which runs `intent serve`) and waits until it listens.
    pub fn spawn(mut command: Command) -> Sidecar {
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        // The address is on the "listening on http://..." (or https://) line; other lines may come first
        // (the Redis store's watch reports "up" on its own task), so they are kept, not parsed.
        let mut before = Vec::new();
        let addr = loop {
            let Some(Ok(line)) = lines.next() else {
                panic!("intent serve ended before listening: {before:?}");
            };
            let rest = line.split("listening on ").nth(1);
            if let Some(rest) = rest.and_then(|r| {
                r.strip_prefix("http://")
                    .or_else(|| r.strip_prefix("https://"))
            }) {
                break rest.split_whitespace().next().unwrap().parse().unwrap();
            }
            before.push(line);
            assert!(
                before.len() < 50,
                "intent serve does not say where it listens: {before:?}"
            );
        };
        let stderr = Arc::new(Mutex::new(before));
        let sink = stderr.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Sidecar {
            child,
            addr,
            stderr,
        }
    }

    /// Waits (up to 20 s) until stderr has `n` lines containing `text`; the last of them.
    pub fn wait_for_stderr_count(&self, text: &str, n: usize) -> String {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            let lines = self.stderr.lock().unwrap();
            let found: Vec<&String> = lines.iter().filter(|l| l.contains(text)).collect();
            if found.len() >= n {
                return found[n - 1].clone();
            }
            drop(lines);
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "no {n} `{text}` on stderr: {:?}",
            self.stderr.lock().unwrap()
        );
    }

    /// The stderr lines so far that contain `text`.
    pub fn stderr_lines(&self, text: &str) -> Vec<String> {
        let lines = self.stderr.lock().unwrap();
        lines.iter().filter(|l| l.contains(text)).cloned().collect()
    }

    /// Waits (up to 20 s) until stderr has a line containing `text`.
    pub fn wait_for_stderr(&self, text: &str) -> String {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if let Some(l) = self
                .stderr
                .lock()
                .unwrap()
                .iter()
                .find(|l| l.contains(text))
            {
                return l.clone();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("no `{text}` on stderr: {:?}", self.stderr.lock().unwrap());
    }
}

impl Drop for Sidecar {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// One request on a fresh connection; `Err` when the connection fails.
pub fn try_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<Answer> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(20)))?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nhost: test\r\nconnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    // The sidecar reads POST bodies as JSON only (415 otherwise).
    if method == "POST"
        && !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
    {
        req.push_str("content-type: application/json\r\n");
    }
    req.push_str(&format!("content-length: {}\r\n\r\n{body}", body.len()));
    s.write_all(req.as_bytes())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    parse(&raw)
}

pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    try_request(addr, method, path, headers, body).unwrap()
}

/// Parses a whole HTTP/1.1 answer (read to the end of the connection).
pub fn parse(raw: &[u8]) -> std::io::Result<Answer> {
    let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_string());
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(|| bad("no head"))?;
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("no status"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_string()
    };
    Ok(Answer {
        status,
        headers,
        body,
    })
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// A directory under the system temp dir, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("intent-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
