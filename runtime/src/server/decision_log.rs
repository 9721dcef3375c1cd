//! The decision log writer: one `LogRecord` line per decision (crate::log, the format
//! `intent replay` reads), to a file (appended) or stdout. Requests hand the request and its
//! decision to a bounded queue; one thread of its own formats and writes the lines, so the hot
//! path neither formats nor writes. The writer works in batches: it takes everything queued,
//! writes it with one system call, then waits `BATCH_WINDOW` before it looks again, so under
//! load a request only queues its record (no thread is woken, nothing is written per request)
//! and a line reaches the file at most about a window after its decision. A full queue makes
//! requests wait rather than lose records: the log is an audit trail.

use super::LogTarget;
use crate::decision::Decision;
use crate::log::{LogRecord, McpCall};
use crate::request::Request;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Queued records at most before requests wait for the writer.
const QUEUE: usize = 16 * 1024;

/// How long the writer waits after a batch before it takes the next: records queued meanwhile
/// go out together.
const BATCH_WINDOW: Duration = Duration::from_millis(2);

/// The size at which a batch is written even while records keep coming.
const BATCH_BYTES: usize = 256 * 1024;

/// What the queue carries: a decision's record, or the word to stop. Nearly every entry is a
/// record, so records are not boxed (that would be an allocation per decision).
#[allow(clippy::large_enum_variant)]
enum Entry {
    Record(Request, Decision, Option<McpCall>),
    Close,
}

pub(crate) struct DecisionLog {
    tx: mpsc::Sender<Entry>,
    closing: Arc<AtomicBool>,
}

impl DecisionLog {
    pub(crate) async fn send(&self, req: Request, d: Decision, mcp: Option<McpCall>) {
        // The writer only ends after `close`: a send error means the server is stopping. A
        // free slot takes the record at once; only a full queue waits, in a boxed future, so
        // the request's own future does not carry (and move) the waiting one's kilobyte.
        match self.tx.try_send(Entry::Record(req, d, mcp)) {
            Err(mpsc::error::TrySendError::Full(entry)) => {
                let _ = Box::pin(self.tx.send(entry)).await;
            }
            Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    /// Tells the writer to write what is queued, flush and end: at once when it is waiting for
    /// records, after the batch it is writing otherwise.
    pub(crate) fn close(&self) {
        self.closing.store(true, Ordering::Release);
        // Wakes a writer waiting on an empty queue; a full queue means it is busy and will see
        // the flag after this batch.
        let _ = self.tx.try_send(Entry::Close);
    }
}

/// Opens the log and starts its writer; `None` without a log.
pub(crate) async fn start(
    target: &LogTarget,
) -> Result<(Option<DecisionLog>, Option<JoinHandle<()>>), String> {
    let out: Box<dyn Write + Send> = match target {
        LogTarget::None => return Ok((None, None)),
        LogTarget::Stdout => Box::new(std::io::stdout()),
        LogTarget::File(path) => Box::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| format!("cannot open the decision log {}: {e}", path.display()))?,
        ),
    };
    let (tx, rx) = mpsc::channel(QUEUE);
    let closing = Arc::new(AtomicBool::new(false));
    let flag = closing.clone();
    let writer = tokio::task::spawn_blocking(move || write_lines(rx, &flag, out));
    Ok((Some(DecisionLog { tx, closing }), Some(writer)))
}

/// The writer's loop, on a thread of its own (`spawn_blocking`): waits for a record, writes
/// the batch queued with it, and rests a window before the next.
fn write_lines(
    mut rx: mpsc::Receiver<Entry>,
    closing: &AtomicBool,
    mut out: Box<dyn Write + Send>,
) {
    let mut batch = Vec::with_capacity(BATCH_BYTES);
    while let Some(first) = rx.blocking_recv() {
        let mut entry = Some(first);
        while let Some(e) = entry.take() {
            line(e, &mut batch);
            // A batch that grows past its size is written before more is taken.
            if batch.len() >= BATCH_BYTES && write(&mut out, &mut batch).is_err() {
                return;
            }
            entry = rx.try_recv().ok();
        }
        if write(&mut out, &mut batch).is_err() {
            return;
        }
        if closing.load(Ordering::Acquire) {
            break;
        }
        std::thread::sleep(BATCH_WINDOW);
    }
    // Closing: write what is still queued.
    rx.close();
    while let Ok(e) = rx.try_recv() {
        line(e, &mut batch);
    }
    let _ = write(&mut out, &mut batch);
}

/// Writes and empties the batch. A write that fails (a reader gone from `--log -`, a full
/// disk) ends the log, and says so once.
fn write(out: &mut Box<dyn Write + Send>, batch: &mut Vec<u8>) -> Result<(), ()> {
    let written = out.write_all(batch).and_then(|()| out.flush());
    batch.clear();
    written.map_err(|_| eprintln!("intent serve: cannot write the decision log; it stops here"))
}

/// Appends a record as one line (nothing for `Close`).
fn line(entry: Entry, out: &mut Vec<u8>) {
    let Entry::Record(req, d, mcp) = entry else {
        return;
    };
    LogRecord::write_decision(&req, &d, mcp.as_ref(), out);
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::decision::{DecisionId, Outcome};

    fn decision(seq: u64) -> Decision {
        Decision {
            outcome: Outcome::Deny,
            intent: None,
            confidence: None,
            classifier: None,
            none_of_these: None,
            steps: vec![],
            human: None,
            deadline_ms: None,
            question: None,
            reason: Some("test".into()),
            retry_after_ms: None,
            obligations: vec![],
            trace: crate::Trace::default(),
            plan_hash: "h".into(),
            decision_id: DecisionId { at_ms: 1, seq },
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_record_is_written_once_in_order_and_close_ends_the_writer() {
        let dir = std::env::temp_dir().join(format!("intent-log-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("decisions.jsonl");
        let _ = std::fs::remove_file(&path);
        let (log, writer) = start(&LogTarget::File(path.clone())).await.unwrap();
        let (log, writer) = (log.unwrap(), writer.unwrap());
        // More than a queue's worth, so requests wait for the writer at times.
        let n = QUEUE as u64 + 5_000;
        for seq in 0..n {
            log.send(Request::default(), decision(seq), None).await;
            if seq % 4_000 == 0 {
                // Now and then the writer is idle (waiting on an empty queue) when one comes.
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        // The writer has written everything and waits on an empty queue when it is closed.
        tokio::time::sleep(Duration::from_millis(100)).await;
        log.close();
        // Close ends a writer that waits: this returns, it does not hang.
        tokio::time::timeout(Duration::from_secs(10), writer)
            .await
            .unwrap()
            .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let ids: Vec<String> = text
            .lines()
            .map(|l| LogRecord::from_line(l).unwrap().decision_id)
            .collect();
        let want: Vec<String> = (0..n).map(|s| format!("1-{s}")).collect();
        assert_eq!(ids, want);
        assert!(text.lines().all(|l| l.contains(Outcome::Deny.as_str())));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
