//! What a name means inside one file: its own package first, then the names its `use`
//! declarations import, then `alias.name` for a whole imported package (`use std.regions`).

use std::borrow::Cow;
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
    /// Candidate (package, name) pairs for a dotted reference, in the order they are tried
    /// (borrowed where they can be: names are looked up thousands of times a check).
    pub fn candidates<'s>(&'s self, segments: &[&'s str]) -> Vec<(Cow<'s, str>, Cow<'s, str>)> {
        let mut out = Vec::new();
        match segments {
            [name] => {
                out.push((Cow::Borrowed(self.package.as_str()), Cow::Borrowed(*name)));
                if let Some((p, n)) = self.imports.get(*name) {
                    out.push((Cow::Borrowed(p.as_str()), Cow::Borrowed(n.as_str())));
                }
            }
            [alias, name] => {
                if let Some(p) = self.aliases.get(*alias) {
                    out.push((Cow::Borrowed(p.as_str()), Cow::Borrowed(*name)));
                }
            }
            _ => {}
        }
        if segments.len() > 1 {
            // A fully qualified reference: `std.data.pii`.
            if let Some((name, pkg)) = segments.split_last() {
                out.push((Cow::Owned(pkg.join(".")), Cow::Borrowed(*name)));
            }
        }
        out
    }
}
