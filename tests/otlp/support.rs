//! The OTLP receiver the tests of `--otlp` export to (`tests/otlp/receiver.py`, built on PyPI's
//! `opentelemetry-proto`), started as a process, with the spans it prints gathered as JSON; and
//! the trace the tests continue. Included by path by `tests/serve_otlp.rs` and
//! `tests/serve_nginx.rs`.

#![allow(dead_code)]

use serde_json::Value as Json;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The trace the tests continue, and the caller's span in it.
pub const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
pub const CALLER: &str = "00f067aa0ba902b7";

/// The Python module the receiver needs, and the PyPI package that has it.
pub const MODULE: &str = "opentelemetry.proto.collector.trace.v1.trace_service_pb2";
pub const PACKAGE: &str = "opentelemetry-proto";

/// The receiver, killed when dropped, and the spans it has printed so far.
pub struct Receiver {
    child: Child,
    pub port: u16,
    pub spans: Arc<Mutex<Vec<Json>>>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Receiver {
    pub fn start(python: &str) -> Receiver {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/otlp/receiver.py");
        let mut child = Command::new(python)
            .arg(script)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        let port = first
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {first:?}"))
            .parse()
            .unwrap();
        let spans = Arc::new(Mutex::new(Vec::new()));
        let sink = spans.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock()
                    .unwrap()
                    .push(serde_json::from_str(&line).unwrap());
            }
        });
        Receiver { child, port, spans }
    }

    /// Waits (up to 30 s) for the span whose span id is `id`.
    pub fn span(&self, id: &str) -> Json {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            if let Some(s) = self
                .spans
                .lock()
                .unwrap()
                .iter()
                .find(|s| s["span_id"] == id)
            {
                return s.clone();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("no span {id}: {:?}", self.spans.lock().unwrap());
    }
}

/// The `traceparent` of an answer, as (trace id, span id, flags).
pub fn named(a: &super::support::Answer) -> (String, String, String) {
    let tp = a
        .header("traceparent")
        .unwrap_or_else(|| panic!("no traceparent: {:?}", a.headers));
    let parts: Vec<&str> = tp.split('-').collect();
    assert_eq!(parts.len(), 4, "{tp}");
    assert_eq!(parts[0], "00", "{tp}");
    assert_eq!((parts[1].len(), parts[2].len()), (32, 16), "{tp}");
    (parts[1].into(), parts[2].into(), parts[3].into())
}
