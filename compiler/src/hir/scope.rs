//! What a name means inside one file: its own package first, then the names its `use`
//! declarations import, then `alias.name` for a whole imported package (`use std.regions`).

use std::collections::BTreeMap;

/// The names one file can see beyond its own package.
#[derive(Debug, Default, Clone)]
pub struct FileScope {
    pub package: String,
    /// Local name → (package, name), from `use p.x` and `use p.{x, y}`.
    pub imports: BTreeMap<String, (String, String)>,
    /// Alias → package, from `use p` (the alias is the last segment of `p`).
    pub aliases: BTreeMap<String, String>,
}

impl FileScope {
    /// The first candidate (package, name) for a dotted reference that `hit` knows, tried in
    /// order: its own package, an imported name, `alias.name`, then the reference as fully
    /// qualified (`std.data.pii`). Nothing is allocated for an unqualified name: names are
    /// looked up thousands of times a check.
    pub fn first<T>(
        &self,
        segments: &[&str],
        mut hit: impl FnMut(&str, &str) -> Option<T>,
    ) -> Option<T> {
        match segments {
            [name] => hit(&self.package, name).or_else(|| {
                let (p, n) = self.imports.get(*name)?;
                hit(p, n)
            }),
            [alias, ..] => {
                let (name, pkg) = segments.split_last()?;
                let aliased = match pkg {
                    [_] => self.aliases.get(*alias).and_then(|p| hit(p, name)),
                    _ => None,
                };
                aliased.or_else(|| hit(&pkg.join("."), name))
            }
            [] => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::FileScope;

    /// Every candidate `first` offers for `segments`, in the order it tries them.
    fn tried(scope: &FileScope, segments: &[&str]) -> Vec<String> {
        let mut seen = Vec::new();
        let none: Option<()> = scope.first(segments, |pkg, name| {
            seen.push(format!("{pkg}:{name}"));
            None
        });
        assert!(none.is_none());
        seen
    }

    #[test]
    fn candidates_come_in_the_checkers_order() {
        let scope = FileScope {
            package: "acme".into(),
            imports: [(
                "worker".to_string(),
                ("acme.base".to_string(), "helper".to_string()),
            )]
            .into(),
            aliases: [("regions".to_string(), "std.regions".to_string())].into(),
        };
        // Own package, then the import of that name.
        assert_eq!(
            tried(&scope, &["worker"]),
            ["acme:worker", "acme.base:helper"]
        );
        assert_eq!(tried(&scope, &["other"]), ["acme:other"]);
        // An alias, then the same words as a full path.
        assert_eq!(
            tried(&scope, &["regions", "eu"]),
            ["std.regions:eu", "regions:eu"]
        );
        assert_eq!(tried(&scope, &["std", "data", "pii"]), ["std.data:pii"]);
        assert!(tried(&scope, &[]).is_empty());
        // The first hit wins; later candidates are not tried.
        let hit = scope.first(&["worker"], |pkg, name| Some(format!("{pkg}:{name}")));
        assert_eq!(hit.as_deref(), Some("acme:worker"));
    }
}
