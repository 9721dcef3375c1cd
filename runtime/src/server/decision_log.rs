//! The decision log writer: one `LogRecord` line per decision (crate::log, the format
//! `intent replay` reads), to a file (appended) or stdout. Requests hand the request and its
//! decision to a bounded queue; one task formats and writes the lines through a buffer and
//! flushes whenever the queue runs dry, so the hot path neither formats nor writes. A full
//! queue makes requests wait rather than lose records: the log is an audit trail.

use super::LogTarget;
use crate::decision::Decision;
use crate::log::{LogRecord, McpCall};
use crate::request::Request;
use tokio::io::{AsyncWrite, AsyncWriteExt, BufWriter};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// Queued records at most before requests wait for the writer.
const QUEUE: usize = 16 * 1024;

pub(crate) struct DecisionLog {
    tx: mpsc::Sender<(Request, Decision, Option<McpCall>)>,
    close: watch::Sender<bool>,
}

impl DecisionLog {
    pub(crate) async fn send(&self, req: Request, d: Decision, mcp: Option<McpCall>) {
        // The writer only ends after `close`: a send error means the server is stopping.
        let _ = self.tx.send((req, d, mcp)).await;
    }

    /// Tells the writer to write what is queued, flush and end.
    pub(crate) fn close(&self) {
        let _ = self.close.send(true);
    }
}

/// Opens the log and starts its writer; `None` without a log.
pub(crate) async fn start(
    target: &LogTarget,
) -> Result<(Option<DecisionLog>, Option<JoinHandle<()>>), String> {
    let out: Box<dyn AsyncWrite + Send + Unpin> = match target {
        LogTarget::None => return Ok((None, None)),
        LogTarget::Stdout => Box::new(tokio::io::stdout()),
        LogTarget::File(path) => Box::new(
            tokio::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .await
                .map_err(|e| format!("cannot open the decision log {}: {e}", path.display()))?,
        ),
    };
    let (tx, rx) = mpsc::channel(QUEUE);
    let (close, closed) = watch::channel(false);
    let writer = tokio::spawn(write_lines(rx, closed, BufWriter::new(out)));
    Ok((Some(DecisionLog { tx, close }), Some(writer)))
}

async fn write_lines(
    mut rx: mpsc::Receiver<(Request, Decision, Option<McpCall>)>,
    mut closed: watch::Receiver<bool>,
    mut out: BufWriter<Box<dyn AsyncWrite + Send + Unpin>>,
) {
    let mut line = Vec::new();
    loop {
        let next = tokio::select! {
            next = rx.recv() => next,
            _ = closed.changed() => None,
        };
        let Some(first) = next else {
            break;
        };
        let mut item = Some(first);
        while let Some((req, d, mcp)) = item.take() {
            line.clear();
            record(req, &d, mcp).write_line(&mut line);
            line.push(b'\n');
            if out.write_all(&line).await.is_err() {
                eprintln!("intent serve: cannot write the decision log; it stops here");
                return;
            }
            item = rx.try_recv().ok();
        }
        // A flush that fails (a reader gone from `--log -`) ends the log as a failed write does.
        if out.flush().await.is_err() {
            eprintln!("intent serve: cannot write the decision log; it stops here");
            return;
        }
    }
    // Closing: write what is still queued.
    while let Ok((req, d, mcp)) = rx.try_recv() {
        line.clear();
        record(req, &d, mcp).write_line(&mut line);
        line.push(b'\n');
        let _ = out.write_all(&line).await;
    }
    let _ = out.flush().await;
}

fn record(req: Request, d: &Decision, mcp: Option<McpCall>) -> LogRecord {
    let mut r = LogRecord::new(req, d);
    r.mcp = mcp;
    r
}
