//! Names to ids (intents, agents, data classes) for the hot path of a decision: a request names
//! its intent and often its caller, so every decision looks one or two names up.
//!
//! A `HashMap<String, u32>` kept its keys as strings of their own: with thousands of intents the
//! lookup read a cold bucket and then a cold key on the heap, before `decide` read the intent's
//! shared name (another cold line) to put it in the decision. Here a bucket holds the very
//! shared name the engine hands out (`Arc<str>`), so comparing the key reads the line that
//! cloning the name touches next. Keys are hashed with foldhash (hashbrown's default, seeded
//! per process), not SipHash.

use hashbrown::{DefaultHashBuilder, HashTable};
use std::hash::BuildHasher;
use std::sync::Arc;

/// Distinct names and their ids (their positions in the list they were built from).
#[derive(Default)]
pub(crate) struct Names {
    table: HashTable<(Arc<str>, u32)>,
    state: DefaultHashBuilder,
}

impl Names {
    /// The table of `names`, each with its index as id. A repeated name keeps its first id
    /// (a validated plan has none).
    pub fn new(names: &[Arc<str>]) -> Names {
        let state = DefaultHashBuilder::default();
        let mut table: HashTable<(Arc<str>, u32)> = HashTable::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            let hash = state.hash_one(&**name);
            if table.find(hash, |(n, _)| n == name).is_none() {
                table.insert_unique(hash, (name.clone(), i as u32), |(n, _)| {
                    state.hash_one(&**n)
                });
            }
        }
        Names { table, state }
    }

    /// The id of `name`.
    pub fn get(&self, name: &str) -> Option<u32> {
        let hash = self.state.hash_one(name);
        self.table
            .find(hash, |(n, _)| &**n == name)
            .map(|(_, id)| *id)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    proptest! {
        /// The table answers as a map of the names to their first positions.
        #[test]
        fn answers_as_a_map(
            names in proptest::collection::vec("[a-c]{0,3}", 0..40),
            asked in proptest::collection::vec("[a-c]{0,3}", 0..20),
        ) {
            let shared: Vec<Arc<str>> = names.iter().map(|n| Arc::from(n.as_str())).collect();
            let table = Names::new(&shared);
            let mut map = HashMap::new();
            for (i, n) in names.iter().enumerate() {
                map.entry(n.clone()).or_insert(i as u32);
            }
            for q in asked.iter().chain(&names) {
                prop_assert_eq!(table.get(q), map.get(q).copied());
                prop_assert_eq!(table.contains(q), map.contains_key(q));
            }
        }
    }
}
