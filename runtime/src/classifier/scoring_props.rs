//! Property: the leave-one-out pass's shortcuts change no score. `Index::score_in`, with its
//! scratch space reused from text to text and only the best candidates kept, gives exactly
//! (bit for bit) the scores of a fresh `Index::score`, cut to the same candidates.

use super::index::{Exclude, Index, Scratch, RELATED_CANDIDATES};
use proptest::prelude::*;

/// Words the meshes and texts are made of: words of the vector table, common words, typos,
/// numbers, and a word no table holds.
const WORDS: &[&str] = &[
    "refund", "money", "order", "parcel", "track", "delivery", "invoice", "late", "overdue",
    "payment", "doctor", "cough", "fever", "the", "my", "is", "where", "please", "recieve",
    "invoce", "12345", "zqxv", "weather", "poem", "bank", "account", "password", "reset",
];

/// A text's terms as `Index::lookup` gives them, and the example left out (its intent and
/// terms), if any.
type Case = (Vec<Result<u32, String>>, Option<(u32, Vec<u32>)>);

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(WORDS), 1..7).prop_map(|w| w.join(" "))
}

/// Intents: an optional description and up to four examples each.
fn mesh() -> impl Strategy<Value = Vec<(Option<String>, Vec<String>)>> {
    prop::collection::vec(
        (
            prop::option::of(text()),
            prop::collection::vec(text(), 0..5),
        ),
        1..14,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn reused_scratch_and_kept_candidates_change_no_score(
        intents in mesh(),
        texts in prop::collection::vec(text(), 1..6),
        keep in 0usize..20,
    ) {
        let index = Index::new(intents.iter().map(|(d, e)| (d.as_deref(), e.as_slice())));
        let mut scratch = Scratch::default();
        // Every example left out, then free texts, in one scratch space.
        let mut cases: Vec<Case> = Vec::new();
        for (i, exs) in index.examples.iter().enumerate() {
            for terms in exs {
                let looked = terms.iter().map(|t| Ok(*t)).collect();
                cases.push((looked, Some((i as u32, terms.clone()))));
            }
        }
        for t in &texts {
            cases.push((index.lookup(t), None));
        }
        for (terms, ex) in &cases {
            let ex = ex.as_ref().map(|(intent, terms)| Exclude { intent: *intent, terms });
            let fast = index.score_in(terms, ex, keep, &mut scratch);
            // The reference works every term frequency out where it is added (no table).
            let reference = &mut Scratch::on_the_fly();
            let mut full = index.score_in(terms, ex, usize::MAX, reference);
            full.candidates.truncate(keep.max(RELATED_CANDIDATES));
            prop_assert_eq!(fast, full);
        }
    }
}
