//! Word vectors: how related a word the mesh has never seen is to an intent's evidence.
//!
//! A lexical classifier knows only the words of the mesh's descriptions and examples: "could
//! this cough be pneumonia" shares no word with a healthcare mesh, and "explain quantum
//! entanglement" shares one. The vectors say that "cough" and "pneumonia" are near the words
//! of `suggest_diagnosis` and that "quantum" is near none of them, which is what tells the two
//! texts apart (docs/classifier.md, "Related words").
//!
//! The table is built offline by `tools/vectors/build.py` from GloVe 6B (100 dimensions; Public
//! Domain Dedication and License) and compiled into the binary: 25,656 Snowball stems (and 842
//! stems of common words, for their rank only) of the
//! 40,000 most frequent English words (common words left out), 97 dimensions each after the
//! main directions that mostly encode word frequency are removed, one signed byte per
//! dimension, with how generic each stem is and its frequency rank (how much a word says
//! about a text's topic: [`Vectors::rank`]). Nothing is downloaded, and the same build gives
//! the same numbers everywhere.

use std::sync::OnceLock;

/// The dimensions of a vector.
pub const DIMS: usize = 97;

/// A unit vector (up to the rounding of its bytes).
pub type Vector = [f32; DIMS];

static DATA: &[u8] = include_bytes!("../../data/vectors.bin");
const MAGIC: &[u8] = b"INTENT-VECTORS 3\n";
/// Bytes per stem: its vector, then its genericity, then its frequency rank (u16).
const ROW: usize = DIMS + 3;

/// The rank of a word the table does not hold (so not among the 40,000 most frequent words):
/// the table's words are ranked 1 to this.
pub const RANK_UNLISTED: u32 = 40_000;

/// The table: stems in byte order and their vectors.
pub struct Vectors {
    /// The whole table's bytes.
    data: &'static [u8],
    /// Per stem: its offset and length in `data`.
    stems: Vec<(u32, u8)>,
    /// `stems.len() * ROW` signed bytes.
    bytes: &'static [u8],
}

/// The built-in table (parsed on first use); `None` if the compiled-in data is malformed,
/// which a unit test rules out, and then no word is related to anything.
pub fn table() -> Option<&'static Vectors> {
    static TABLE: OnceLock<Option<Vectors>> = OnceLock::new();
    TABLE.get_or_init(|| Vectors::parse(DATA)).as_ref()
}

impl Vectors {
    fn parse(data: &'static [u8]) -> Option<Vectors> {
        let rest = data.strip_prefix(MAGIC)?;
        let (head, mut rest) = rest.split_at_checked(8)?;
        let count = u32::from_le_bytes(head.get(..4)?.try_into().ok()?) as usize;
        let dims = u32::from_le_bytes(head.get(4..)?.try_into().ok()?) as usize;
        if dims != DIMS {
            return None;
        }
        let mut stems = Vec::with_capacity(count);
        let mut at = data.len() - rest.len();
        for _ in 0..count {
            let end = rest.iter().position(|b| *b == b'\n')?;
            stems.push((u32::try_from(at).ok()?, u8::try_from(end).ok()?));
            at += end + 1;
            rest = rest.get(end + 1..)?;
        }
        if rest.len() != count * ROW {
            return None;
        }
        Some(Vectors {
            data,
            stems,
            bytes: rest,
        })
    }

    /// The number of stems.
    pub fn len(&self) -> usize {
        self.stems.len()
    }

    /// True when the table holds no stem.
    pub fn is_empty(&self) -> bool {
        self.stems.is_empty()
    }

    /// The `i`-th stem in byte order (empty past the end).
    pub fn stem(&self, i: usize) -> &'static [u8] {
        self.stems.get(i).map_or(&[], |e| self.text(e))
    }

    /// The bytes of a stem's entry.
    fn text(&self, (at, len): &(u32, u8)) -> &'static [u8] {
        let at = *at as usize;
        self.data.get(at..at + usize::from(*len)).unwrap_or(&[])
    }

    /// The row of a stem, if the table has it.
    fn row(&self, stem: &str) -> Option<&'static [u8]> {
        let i = self
            .stems
            .binary_search_by(|e| self.text(e).cmp(stem.as_bytes()))
            .ok()?;
        self.bytes.get(i * ROW..(i + 1) * ROW)
    }

    /// The frequency rank of a stem's most frequent word (1 for the most frequent word of the
    /// table; [`RANK_UNLISTED`] for a stem the table does not hold).
    pub fn rank(&self, stem: &str) -> u32 {
        self.row(stem)
            .and_then(|r| r.get(DIMS + 1..))
            .and_then(|b| b.try_into().ok())
            .map_or(RANK_UNLISTED, |b: [u8; 2]| u32::from(u16::from_le_bytes(b)))
    }

    /// The vector of a stem (a classifier term) and how generic the stem is (0..1: its
    /// cosine with random bags of words, at their 90th percentile), if the table has it. The
    /// stems of common words are in the table for their rank only (a genericity below 0), and
    /// have no vector.
    pub fn get(&self, stem: &str) -> Option<(Vector, f32)> {
        let raw = self.row(stem)?.get(..DIMS + 1)?;
        let (raw, generic) = raw.split_at(DIMS);
        if generic.first().is_some_and(|g| (*g as i8) < 0) {
            return None;
        }
        let mut v = [0.0f32; DIMS];
        for (slot, b) in v.iter_mut().zip(raw) {
            *slot = f32::from(*b as i8) / 127.0;
        }
        let generic = generic.first().map_or(0.0, |b| f32::from(*b as i8) / 127.0);
        Some((v, generic))
    }
}

/// `a · b`.
pub fn dot(a: &Vector, b: &Vector) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `a += sign · b`.
pub fn add(a: &mut Vector, b: &Vector, sign: f32) {
    a.iter_mut().zip(b).for_each(|(x, y)| *x += sign * y);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compiled_in_table_parses_and_finds_stems() {
        let t = table().expect("the table parses");
        assert_eq!(t.len(), 25_656 + 842);
        // Sorted, so binary search finds every stem.
        for i in 1..t.len() {
            assert!(t.stem(i - 1) < t.stem(i), "stems out of order at {i}");
        }
        for stem in ["invoic", "patient", "pneumonia", "cough", "shipment"] {
            let (v, _) = t.get(stem).unwrap_or_else(|| panic!("{stem}"));
            let norm = dot(&v, &v).sqrt();
            assert!((norm - 1.0).abs() < 0.02, "{stem}: |v| = {norm}");
        }
        // Common words are not in it; nor is what is not a word.
        for absent in ["the", "what", "", "#", "zzzzqx"] {
            assert!(t.get(absent).is_none(), "{absent}");
        }
        // Common words are ranked (the most frequent of all first); what is not a word is not.
        assert_eq!(t.rank("the"), 1);
        for absent in ["", "#", "zzzzqx"] {
            assert_eq!(t.rank(absent), RANK_UNLISTED, "{absent}");
        }
        // Ranks follow how often words are written: "plan" is far more common than "invoice".
        assert!(t.rank("plan") < t.rank("weather"));
        assert!(t.rank("weather") < t.rank("pneumonia"));
        assert!(t.rank("pneumonia") < t.rank("invoic"));
        assert!((1..RANK_UNLISTED).contains(&t.rank("invoic")));
        // The stem of "billing" is that of a common word ("bill"): ranked, without a vector.
        assert!(t.get("bill").is_none());
        assert!(t.rank("bill") < t.rank("weather"));
    }

    #[test]
    fn related_words_are_nearer_than_unrelated_ones() {
        let t = table().expect("the table parses");
        let v = |s: &str| t.get(s).unwrap_or_else(|| panic!("{s}")).0;
        assert!(dot(&v("cough"), &v("pneumonia")) > dot(&v("cough"), &v("invoic")));
        assert!(dot(&v("invoic"), &v("payment")) > dot(&v("invoic"), &v("quantum")));
    }

    #[test]
    fn malformed_data_gives_no_table() {
        assert!(Vectors::parse(b"nope").is_none());
        assert!(Vectors::parse(b"INTENT-VECTORS 2\n").is_none());
        let mut short = MAGIC.to_vec();
        short.extend(1u32.to_le_bytes());
        short.extend((DIMS as u32).to_le_bytes());
        short.extend(b"a\n");
        let short: &'static [u8] = short.leak();
        assert!(Vectors::parse(short).is_none(), "vector bytes missing");
    }
}
