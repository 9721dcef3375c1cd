//! A decision's trace: the entries of what it looked at, and the plan's source locations
//! those entries name.
//!
//! An entry names where its arm, rule or step is written by source id, not by its own shared
//! string. With thousands of rules every such string lives on a cold cache line, and sharing
//! it meant writing its reference count on every decision: one cache miss per entry. A trace
//! instead shares the plan's whole table of locations (`Sources`), once per decision, and the
//! text is read only when someone reads the trace.

use crate::decision::{TraceEntry, TraceKind, TraceWhat};
use crate::plan::SrcId;
use serde::ser::SerializeSeq;
use serde::{Serialize, Serializer};
use std::sync::Arc;

/// `file:line:col` of each source id of a plan, shared by every decision of one engine.
#[derive(Clone, Default)]
pub struct Sources(Arc<[Arc<str>]>);

impl Sources {
    pub fn new(locations: impl IntoIterator<Item = Arc<str>>) -> Sources {
        Sources(locations.into_iter().collect())
    }

    /// `src` when the table has it: what a trace entry of an arm, rule or step at `src` holds.
    pub(crate) fn id(&self, src: SrcId) -> Option<SrcId> {
        ((src as usize) < self.0.len()).then_some(src)
    }

    /// The location of source id `src`; `None` past the table's end.
    pub fn get(&self, src: SrcId) -> Option<&str> {
        self.0.get(src as usize).map(|s| &**s)
    }
}

impl PartialEq for Sources {
    fn eq(&self, other: &Sources) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0 == other.0
    }
}

impl std::fmt::Debug for Sources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sources({} locations)", self.0.len())
    }
}

/// The entries of a trace, in the order they were looked at (a `Vec` through `Deref`), with
/// the locations they name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trace {
    entries: Vec<TraceEntry>,
    sources: Sources,
}

impl Trace {
    /// An empty trace whose entries name locations of `sources`.
    pub fn new(sources: Sources) -> Trace {
        Trace {
            entries: Vec::new(),
            sources,
        }
    }

    /// `file:line:col` of the arm, rule or step `entry` looked at, when it has one.
    pub fn at(&self, entry: &TraceEntry) -> Option<&str> {
        entry.at.and_then(|src| self.sources.get(src))
    }

    /// The locations the entries name.
    pub fn sources(&self) -> &Sources {
        &self.sources
    }
}

/// Entries that name no location (`at` is `None`), or that are only compared.
impl From<Vec<TraceEntry>> for Trace {
    fn from(entries: Vec<TraceEntry>) -> Trace {
        Trace {
            entries,
            sources: Sources::default(),
        }
    }
}

impl std::ops::Deref for Trace {
    type Target = Vec<TraceEntry>;
    fn deref(&self) -> &Vec<TraceEntry> {
        &self.entries
    }
}

impl std::ops::DerefMut for Trace {
    fn deref_mut(&mut self) -> &mut Vec<TraceEntry> {
        &mut self.entries
    }
}

impl<'a> IntoIterator for &'a Trace {
    type Item = &'a TraceEntry;
    type IntoIter = std::slice::Iter<'a, TraceEntry>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter()
    }
}

/// One entry as JSON: its location written out.
#[derive(Serialize)]
struct EntryJson<'a> {
    kind: TraceKind,
    what: &'a TraceWhat,
    matched: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    at: Option<&'a str>,
}

impl Serialize for Trace {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.entries.len()))?;
        for e in &self.entries {
            seq.serialize_element(&EntryJson {
                kind: e.kind,
                what: &e.what,
                matched: e.matched,
                detail: e.detail.as_deref(),
                at: self.at(e),
            })?;
        }
        seq.end()
    }
}
