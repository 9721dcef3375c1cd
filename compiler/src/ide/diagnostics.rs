//! Diagnostics for one file: every diagnostic of `intent check` on the file's mesh whose
//! primary range is in that file, with its code, help and related places.

use super::Snapshot;
use crate::diagnostics::Diagnostic;

/// A diagnostic to show in one file (its primary label is in that file).
pub type FileDiagnostic = Diagnostic;

impl Snapshot {
    /// The diagnostics whose primary range is in `path`.
    pub fn diagnostics(&self, path: &str) -> Vec<FileDiagnostic> {
        self.mesh_diagnostics(path)
            .iter()
            .filter(|d| d.primary.file == path)
            .cloned()
            .collect()
    }
}
