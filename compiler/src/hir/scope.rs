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
