//! Per `test` block: whether it passes, for a code lens above it. The tests run on the mesh's
//! plan (`testing::run`); with errors in the mesh there is no plan and no test runs.

use super::Snapshot;
use crate::db::{analyze, SourceSet};
use crate::syntax::ast::{ItemKind, Span};
use crate::testing::TestOutcome;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum TestStatus {
    Passed,
    /// The expectations that did not hold.
    Failed(Vec<String>),
    /// Why it did not run (errors in the mesh).
    NotRun(String),
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TestLens {
    pub name: String,
    /// The `test` item.
    pub span: Span,
    pub status: TestStatus,
}

/// The outcomes of the mesh's tests (none when it has errors). Not compared (`no_eq`): a
/// decision holds floating-point numbers, and whatever reads this re-runs with `analyze` anyway.
#[salsa::tracked(returns(ref), no_eq)]
fn test_outcomes(db: &dyn salsa::Database, set: SourceSet) -> Vec<TestOutcome> {
    let analysis = analyze(db, set);
    match &analysis.plan {
        Some(plan) => crate::testing::run(plan, &analysis.tests),
        None => Vec::new(),
    }
}

impl Snapshot {
    /// One lens per `test` block of `path`.
    pub fn test_lenses(&self, path: &str) -> Vec<TestLens> {
        let (Some(file), Some(set)) = (self.file(path), self.mesh(path)) else {
            return Vec::new();
        };
        let tests: Vec<(String, Span)> = crate::db::parse_file(&self.db, file)
            .tree
            .items
            .iter()
            .filter_map(|i| match &i.kind {
                ItemKind::Test(t) => Some((t.name.0.clone(), i.span)),
                _ => None,
            })
            .collect();
        if tests.is_empty() {
            return Vec::new();
        }
        let analysis = analyze(&self.db, set);
        let outcomes = test_outcomes(&self.db, set);
        tests
            .into_iter()
            .map(|(name, span)| {
                let status = match analysis.plan {
                    None => TestStatus::NotRun("the mesh has errors".into()),
                    Some(_) => match outcomes
                        .iter()
                        .find(|o| o.name == name && o.location.starts_with(&format!("{path}:")))
                    {
                        Some(o) if o.passed() => TestStatus::Passed,
                        Some(o) => TestStatus::Failed(o.failures.clone()),
                        None => TestStatus::NotRun("this test was not compiled".into()),
                    },
                };
                TestLens { name, span, status }
            })
            .collect()
    }
}
