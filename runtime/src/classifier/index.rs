//! The evidence index: every intent's description and examples as terms, and what a text
//! looks like against them (`Scores`): each intent's share, and how much of the text the mesh
//! knows at all. The calibration (`calibrate.rs`) turns these into probabilities.
//!
//! Scoring is BM25 with each intent as one document whose "term frequency" is the number of its
//! evidence texts (description and examples) that hold the term, so a word every example of an
//! intent uses counts more than one that a single example mentions. The score is divided by
//! its largest possible value for the text, which makes it a share in 0..1: how much of what the
//! text says (weighted by how rare each term is among intents) the intent's evidence covers.
//! A term the mesh has never seen weighs as much as the rarest known term, so off-topic words
//! pull the share down. A word that is not a term of the mesh but shares most of its trigrams
//! with one counts as that term, scaled by its similarity (typos).
//!
//! The text's *coverage* is the share of its words (common words weighted down) that are terms
//! of some intent's evidence: a text about the weather shares at most a common word or two with
//! a mesh about invoices, whatever intent it is closest to.
//!
//! Every function can leave one example out (`Exclude`): the calibration is fitted on how each
//! example scores against all the evidence *but itself* — leave-one-out — without rebuilding.

use super::text::{dice, trigrams, Analyzer, Stems};
use super::vectors::{self, Vector, DIMS};
use std::collections::HashMap;

/// BM25's term-frequency saturation and length normalisation.
const K1: f64 = 1.2;
const B: f64 = 0.75;
/// The least trigram similarity for a word to count as a misspelling of a known term.
const FUZZY: f64 = 0.6;
/// Words shorter than this are never read as misspellings.
const FUZZY_MIN_CHARS: usize = 4;
/// At most this many distinct terms of a text are scored (the first ones).
pub const MAX_TERMS: usize = 256;
/// A word the mesh does not know is compared with the evidence of this many of the text's
/// best candidates (docs/classifier.md, "Related words").
pub const RELATED_CANDIDATES: usize = 8;

/// The number of features of a text's best intent, bias included.
pub const FEATURES: usize = 5;

/// The frequency rank of a term's word in the compiled-in table ([`vectors::RANK_UNLISTED`]
/// when the table does not hold it: a rare word, a name, a misspelling).
fn rank(stem: &str) -> u32 {
    vectors::table().map_or(vectors::RANK_UNLISTED, |t| t.rank(stem))
}

/// The features of a text's best intent (see `docs/classifier.md`):
/// `[1, share, margin, coverage, ln(1 + length)]`.
pub type Features = [f64; FEATURES];

pub struct Index {
    pub(crate) analyzer: Analyzer,
    vocab: HashMap<String, u32>,
    /// Per term: its text.
    names: Vec<String>,
    /// Per term: its trigrams.
    grams: Vec<Vec<[char; 3]>>,
    /// Trigram → the terms holding it.
    by_gram: HashMap<[char; 3], Vec<u32>>,
    /// Per term: (intent, evidence texts of the intent holding it), by intent.
    postings: Vec<Vec<(u32, u32)>>,
    /// Per term: where its postings start in the numbering of all postings, term after term
    /// (one more entry: the number of postings); what [`Lnorm::tf`] is indexed by.
    starts: Vec<usize>,
    /// Per intent: its evidence texts (0: the intent cannot be classified).
    docs: Vec<u32>,
    /// The intents with evidence, and their evidence texts in all (BM25's collection size
    /// and average length, before one example is left out).
    classifiable: u32,
    total_docs: u64,
    /// Per intent: the terms of each example, for leaving one out.
    pub(crate) examples: Vec<Vec<Vec<u32>>>,
    /// Per intent: the sum of the word vectors of its evidence's content terms (one per term
    /// and evidence text), whose direction is what the intent is about.
    related: Vec<Vector>,
    /// How a cosine with an intent's direction counts as knowing a word.
    pub relate: Relate,
    /// Per term: the frequency rank of its word ([`vectors::Vectors::rank`]).
    ranks: Vec<u32>,
    /// How much a rarer content word weighs in the content coverage: a word of frequency rank
    /// `r` weighs `r^rarity` ([`calibrate::RARITY_EXPONENT`]; another value only to fit it).
    pub rarity: f64,
    /// Per intent: BM25's length normalisation `K1 · (1 − B + B · dl / avgdl)` with every
    /// evidence text in (a text scored without leaving one out).
    lnorm: Lnorm,
}

/// BM25's length normalisation of every intent for one average length (`avgdl`, by its bits),
/// and the saturated term frequency `n · (K1 + 1) / (n + lnorm)` of every posting with it. The
/// leave-one-out pass adds a posting's share for every intent holding each word of each
/// example, and working the frequency out there (a division waiting on another) was most of
/// its time. The same expression on the same numbers: the scores are the same to the bit.
#[derive(Default)]
struct Lnorm {
    avgdl: u64,
    per: Vec<f64>,
    tf: Vec<f64>,
}

impl Lnorm {
    fn of(docs: &[u32], postings: &[Vec<(u32, u32)>], avgdl: f64) -> Lnorm {
        let per: Vec<f64> = docs.iter().map(|d| lnorm(f64::from(*d), avgdl)).collect();
        let tf = postings
            .iter()
            .flatten()
            .map(|&(i, n)| {
                let n = f64::from(n);
                n * (K1 + 1.0) / (n + per.get(i as usize).copied().unwrap_or(K1))
            })
            .collect();
        Lnorm {
            avgdl: avgdl.to_bits(),
            per,
            tf,
        }
    }
}

/// BM25's length normalisation of an intent with `dl` evidence texts.
fn lnorm(dl: f64, avgdl: f64) -> f64 {
    K1 * (1.0 - B + B * dl / avgdl)
}

/// What scoring a text needs besides the index, kept between the texts of a leave-one-out
/// pass so that none allocates: the per-intent sums (all zero between texts), the intents
/// they reached, and the length normalisation for the average length without one example.
/// One scratch serves one index (its cached normalisation is that index's).
#[derive(Default)]
pub(crate) struct Scratch {
    acc: Vec<f64>,
    reached: Vec<u32>,
    /// The normalisations for the average lengths without one example: at most two (an
    /// example whose intent keeps other evidence, and one whose intent had only it).
    lnorms: Vec<Lnorm>,
    /// Work every term frequency out where it is added, without [`Lnorm::tf`]: the reference
    /// the property test holds the table to.
    #[cfg(test)]
    on_the_fly: bool,
    /// Every candidate reached, before the best are kept: reused, so a result holds only
    /// the best (thousands of examples each kept a buffer for every intent they reached).
    all: Vec<Candidate>,
}

#[cfg(test)]
impl Scratch {
    /// A scratch space that works every term frequency out where it is added.
    pub(crate) fn on_the_fly() -> Scratch {
        Scratch {
            on_the_fly: true,
            ..Scratch::default()
        }
    }
}

/// How related an unknown word must be to count: its cosine with the direction of the
/// intent nearest to it counts 0 at `low` or below, 1 at `high` or above, linearly between
/// (calibrate.rs fits the two on the development set).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Relate {
    pub low: f64,
    pub high: f64,
}

impl Default for Relate {
    fn default() -> Relate {
        Relate {
            low: super::calibrate::RELATE_LOW,
            high: super::calibrate::RELATE_HIGH,
        }
    }
}

impl Relate {
    /// How much a word with this cosine counts as known, 0..1.
    pub fn known(&self, cos: f64) -> f64 {
        if self.high <= self.low {
            return f64::from(u8::from(cos >= self.high));
        }
        ((cos - self.low) / (self.high - self.low)).clamp(0.0, 1.0)
    }
}

/// One example left out of the evidence: its intent and its (sorted) terms.
#[derive(Clone, Copy)]
pub struct Exclude<'a> {
    pub intent: u32,
    pub terms: &'a [u32],
}

/// A text's share against one intent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub intent: u32,
    /// 0..1: how much of what the text says (rare terms weighing more) the intent's evidence
    /// covers.
    pub share: f64,
}

/// A text against the whole evidence.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scores {
    /// Every intent the text shares a term with, best share first (ties by intent index).
    pub candidates: Vec<Candidate>,
    /// 0..1: the weighted share of the text's terms that some intent's evidence holds
    /// (misspellings counted by their similarity; common words weigh `text::GENERIC_WEIGHT`).
    pub coverage: f64,
    /// The text's weighted number of distinct terms (a common word counts 0.2).
    pub length: f64,
    /// 0..1: the share of the text's content words (its terms that are not common words or
    /// numbers) that some intent's evidence holds, misspellings counted by their similarity;
    /// [`Scores::coverage`] for a text without content words.
    pub content: f64,
}

impl Scores {
    /// The features of the best intent; `None` when the text shares no term with any intent.
    pub fn features(&self) -> Option<Features> {
        let first = self.candidates.first()?.share;
        let second = self.candidates.get(1).map_or(0.0, |c| c.share);
        Some([
            1.0,
            first,
            first - second,
            self.coverage,
            (1.0 + self.length).ln(),
        ])
    }
}

impl Index {
    /// Indexes each intent's description and examples; `intents` is in plan order.
    pub fn new<'e>(intents: impl IntoIterator<Item = (Option<&'e str>, &'e [String])>) -> Index {
        let analyzer = Analyzer::default();
        let mut vocab: HashMap<String, u32> = HashMap::new();
        let mut counts: Vec<HashMap<u32, u32>> = Vec::new();
        let mut docs = Vec::new();
        let mut examples = Vec::new();
        let mut related = Vec::new();
        let table = vectors::table();
        let id = |t: String, vocab: &mut HashMap<String, u32>| {
            let n = vocab.len() as u32;
            *vocab.entry(t).or_insert(n)
        };
        let mut stems = Stems::default();
        for (description, exs) in intents {
            let mut c: HashMap<u32, u32> = HashMap::new();
            let mut n = 0;
            let mut ex_terms = Vec::new();
            let mut sum = [0.0f32; DIMS];
            for (is_example, text) in description
                .map(|d| (false, d))
                .into_iter()
                .chain(exs.iter().map(|e| (true, e.as_str())))
            {
                let set = analyzer.term_set_with(text, &mut stems);
                if set.is_empty() {
                    continue;
                }
                n += 1;
                for t in &set {
                    if analyzer.weight(t) >= 1.0 {
                        if let Some((v, _)) = table.and_then(|tb| tb.get(t)) {
                            vectors::add(&mut sum, &v, 1.0);
                        }
                    }
                }
                let mut ids: Vec<u32> = set.into_iter().map(|t| id(t, &mut vocab)).collect();
                ids.sort_unstable();
                for t in &ids {
                    *c.entry(*t).or_insert(0) += 1;
                }
                if is_example {
                    ex_terms.push(ids);
                }
            }
            counts.push(c);
            related.push(sum);
            docs.push(n);
            examples.push(ex_terms);
        }
        let mut postings: Vec<Vec<(u32, u32)>> = vec![Vec::new(); vocab.len()];
        for (i, c) in counts.iter().enumerate() {
            for (t, n) in c {
                if let Some(p) = postings.get_mut(*t as usize) {
                    p.push((i as u32, *n));
                }
            }
        }
        postings.iter_mut().for_each(|p| p.sort_unstable());
        let starts: Vec<usize> = std::iter::once(0)
            .chain(postings.iter().scan(0, |at, p| {
                *at += p.len();
                Some(*at)
            }))
            .collect();
        let mut names = vec![String::new(); vocab.len()];
        for (term, i) in &vocab {
            if let Some(slot) = names.get_mut(*i as usize) {
                slot.clone_from(term);
            }
        }
        let mut by_gram: HashMap<[char; 3], Vec<u32>> = HashMap::new();
        let grams: Vec<Vec<[char; 3]>> = names.iter().map(|t| trigrams(t)).collect();
        for (i, g) in grams.iter().enumerate() {
            for tri in g {
                by_gram.entry(*tri).or_default().push(i as u32);
            }
        }
        let ranks = names.iter().map(|n| rank(n)).collect();
        let classifiable = docs.iter().filter(|d| **d > 0).count() as u32;
        let total_docs: u64 = docs.iter().map(|d| u64::from(*d)).sum();
        let lnorm = Lnorm::of(
            &docs,
            &postings,
            (total_docs as f64 / f64::from(classifiable.max(1))).max(1.0),
        );
        Index {
            analyzer,
            vocab,
            names,
            grams,
            by_gram,
            postings,
            starts,
            docs,
            classifiable,
            total_docs,
            examples,
            related,
            relate: Relate::default(),
            ranks,
            rarity: super::calibrate::RARITY_EXPONENT,
            lnorm,
        }
    }

    /// How much a content word of frequency rank `rank` says about a text's topic.
    fn weigh(&self, rank: u32) -> f64 {
        f64::from(rank.clamp(1, vectors::RANK_UNLISTED)).powf(self.rarity)
    }

    /// True when no intent has evidence.
    pub fn is_empty(&self) -> bool {
        self.docs.iter().all(|d| *d == 0)
    }

    /// The number of intents indexed (plan order).
    pub fn intents(&self) -> usize {
        self.docs.len()
    }

    /// The term ids of a text (unknown words as `None`, with their text), distinct, at most
    /// [`MAX_TERMS`].
    pub fn lookup(&self, text: &str) -> Vec<Result<u32, String>> {
        let mut seen: Vec<Result<u32, String>> = Vec::new();
        for t in self.analyzer.terms(text) {
            let r = self.vocab.get(&t).copied().ok_or(t);
            if !seen.contains(&r) {
                seen.push(r);
            }
            if seen.len() >= MAX_TERMS {
                break;
            }
        }
        seen
    }

    /// Evidence texts of intent `i` holding term `t`, with `ex` left out.
    fn held(&self, t: u32, i: u32, n: u32, ex: Option<Exclude>) -> u32 {
        match ex {
            Some(x) if x.intent == i && x.terms.binary_search(&t).is_ok() => n.saturating_sub(1),
            _ => n,
        }
    }

    /// How many intents' evidence holds term `t`, with `ex` left out (its document frequency).
    fn df(&self, t: u32, ex: Option<Exclude>) -> usize {
        let Some(p) = self.postings.get(t as usize) else {
            return 0;
        };
        // The left-out example's intent loses the term when that example was its only
        // evidence text holding it (a posting is sorted by intent, one entry per intent).
        let lost = ex.is_some_and(|x| {
            x.terms.binary_search(&t).is_ok()
                && p.binary_search_by_key(&x.intent, |(i, _)| *i)
                    .ok()
                    .and_then(|k| p.get(k))
                    .is_some_and(|(_, n)| *n <= 1)
        });
        p.len() - usize::from(lost)
    }

    /// The known term a word most likely misspells, with its similarity.
    fn fuzzy(&self, word: &str, ex: Option<Exclude>) -> Option<(u32, f64)> {
        if word.chars().count() < FUZZY_MIN_CHARS {
            return None;
        }
        let g = trigrams(word);
        // Trigrams shared with each known term: a counter per term (a word of the at most
        // 16 KiB of text read has fewer distinct trigrams than a `u16` holds), and the terms
        // touched, in first-touch order. Linear in the postings read, with no hashing.
        let mut shared = vec![0u16; self.names.len()];
        let mut touched: Vec<u32> = Vec::new();
        for tri in &g {
            for t in self.by_gram.get(tri).into_iter().flatten() {
                if let Some(n) = shared.get_mut(*t as usize) {
                    if *n == 0 {
                        touched.push(*t);
                    }
                    *n = n.saturating_add(1);
                }
            }
        }
        let mut best: Option<(u32, f64)> = None;
        for t in touched {
            let s = shared.get(t as usize).copied().unwrap_or(0);
            let len = self.grams.get(t as usize).map_or(0, Vec::len);
            // An upper bound first: Dice from the shared count alone.
            let bound = 2.0 * f64::from(s) / (g.len() + len) as f64;
            if bound < FUZZY || self.df(t, ex) == 0 {
                continue;
            }
            let sim = self.grams.get(t as usize).map_or(0.0, |tg| dice(&g, tg));
            let better = match best {
                None => true,
                Some((bt, bs)) => sim > bs || (sim == bs && t < bt),
            };
            if sim >= FUZZY && better {
                best = Some((t, sim));
            }
        }
        best
    }

    /// How far the content words the evidence does not hold count as known, and for which
    /// intent: each word by its lift (its cosine with an intent's direction, discounted by how
    /// generic the word is) through [`Index::relate`], against each of the best
    /// [`RELATED_CANDIDATES`] candidates (without the example left out). Returns the words'
    /// total (each at its best candidate), for the content coverage, and per candidate how many
    /// words' worth it relates to, for its share. Each word comes with its weight in the content
    /// coverage (its rarity), by which its relatedness counts there.
    fn related(
        &self,
        unknown: &[(&str, f64)],
        candidates: &[Candidate],
        ex: Option<Exclude>,
    ) -> (f64, Vec<(u32, f64)>) {
        let Some(table) = vectors::table() else {
            return (0.0, Vec::new());
        };
        let words: Vec<(Vector, f32, f64)> = unknown
            .iter()
            .filter_map(|(w, weight)| {
                let (v, generic) = table.get(w)?;
                Some((v, generic, *weight))
            })
            .collect();
        if words.is_empty() {
            return (0.0, Vec::new());
        }
        let directions: Vec<(u32, Vector, f32)> = candidates
            .iter()
            .take(RELATED_CANDIDATES)
            .filter_map(|c| {
                let mut d = *self.related.get(c.intent as usize)?;
                if let Some(x) = ex.filter(|x| x.intent == c.intent) {
                    for t in x.terms {
                        let name = self.names.get(*t as usize)?;
                        if self.analyzer.weight(name) >= 1.0 {
                            if let Some((v, _)) = table.get(name) {
                                vectors::add(&mut d, &v, -1.0);
                            }
                        }
                    }
                }
                let norm = vectors::dot(&d, &d).sqrt();
                (norm > 1e-6).then_some((c.intent, d, norm))
            })
            .collect();
        let mut per: Vec<(u32, f64)> = directions.iter().map(|(i, _, _)| (*i, 0.0)).collect();
        let mut total = 0.0;
        for (v, generic, weight) in &words {
            let mut best = 0.0f64;
            for ((_, d, n), slot) in directions.iter().zip(per.iter_mut()) {
                let cos = vectors::dot(v, d) / n;
                // How much nearer the intent than to random words.
                let lift = (cos - generic) / (1.0 - generic).max(1e-3);
                let k = self.relate.known(f64::from(lift));
                slot.1 += k;
                best = best.max(k);
            }
            total += best * weight;
        }
        (total, per)
    }

    /// A text against every intent (see [`Scores`]).
    pub fn candidates(&self, text: &str, ex: Option<Exclude>) -> Scores {
        let terms = self.lookup(text);
        self.score(&terms, ex)
    }

    /// As [`Index::candidates`], from looked-up terms.
    pub fn score(&self, terms: &[Result<u32, String>], ex: Option<Exclude>) -> Scores {
        self.score_in(terms, ex, usize::MAX, &mut Scratch::default())
    }

    /// As [`Index::score`], keeping only the best `keep` candidates (at least
    /// [`RELATED_CANDIDATES`]: the related words are weighed against those), with `scratch`
    /// reused from an earlier call and left ready for the next. The features, the coverages and
    /// the best `keep` candidates are [`Index::score`]'s. The leave-one-out fit reads only the
    /// best two of each example, and sorting a thousand candidates per example was most of
    /// its time.
    pub(crate) fn score_in(
        &self,
        terms: &[Result<u32, String>],
        ex: Option<Exclude>,
        keep: usize,
        scratch: &mut Scratch,
    ) -> Scores {
        if scratch.acc.len() != self.docs.len() {
            scratch.acc = vec![0.0; self.docs.len()];
        }
        scratch.reached.clear();
        let scores = self.score_acc(terms, ex, keep, scratch);
        for i in scratch.reached.drain(..) {
            if let Some(a) = scratch.acc.get_mut(i as usize) {
                *a = 0.0;
            }
        }
        scores
    }

    /// The body of [`Index::score_in`]: leaves in `scratch` the intents it reached.
    fn score_acc(
        &self,
        terms: &[Result<u32, String>],
        ex: Option<Exclude>,
        keep: usize,
        scratch: &mut Scratch,
    ) -> Scores {
        let keep = keep.max(RELATED_CANDIDATES);
        let docs_of = |i: u32| -> u32 {
            let d = self.docs.get(i as usize).copied().unwrap_or(0);
            match ex {
                Some(x) if x.intent == i => d.saturating_sub(1),
                _ => d,
            }
        };
        // The collection without the example left out: its intent loses one evidence text,
        // and stops being classifiable when that was its only one.
        let (mut classifiable, mut total_docs) = (self.classifiable, self.total_docs);
        if let Some(x) = ex {
            match self.docs.get(x.intent as usize).copied().unwrap_or(0) {
                0 => {}
                1 => (classifiable, total_docs) = (classifiable - 1, total_docs - 1),
                _ => total_docs -= 1,
            }
        }
        let classifiable = f64::from(classifiable.max(1));
        let total_docs = total_docs as f64;
        let avgdl = (total_docs / classifiable).max(1.0);
        let idf = |df: usize| (1.0 + (classifiable - df as f64 + 0.5) / (df as f64 + 0.5)).ln();
        let unknown_idf = idf(0);
        // Per intent: its BM25 sum, and the intents reached, in first-reach order.
        #[cfg(test)]
        let on_the_fly = scratch.on_the_fly;
        #[cfg(not(test))]
        let on_the_fly = false;
        let Scratch {
            acc,
            reached,
            lnorms: cached,
            all,
            ..
        } = scratch;
        // Per intent: its length normalisation, and per posting its term frequency (the
        // left-out example's intent, which has one evidence text fewer, is worked out where
        // it is met).
        let table: &Lnorm = if self.lnorm.avgdl == avgdl.to_bits() {
            &self.lnorm
        } else {
            let at = match cached
                .iter()
                .position(|c| c.avgdl == avgdl.to_bits() && c.per.len() == self.docs.len())
            {
                Some(at) => at,
                None => {
                    if cached.len() >= 2 {
                        cached.remove(0);
                    }
                    cached.push(Lnorm::of(&self.docs, &self.postings, avgdl));
                    cached.len() - 1
                }
            };
            &cached[at]
        };
        let lnorms: &[f64] = &table.per;
        let tfs: &[f64] = if on_the_fly { &[] } else { &table.tf };
        let excluded = ex.map(|x| (x.intent, lnorm(f64::from(docs_of(x.intent)), avgdl)));
        let mut norm = 0.0;
        let mut length = 0.0;
        let mut known = 0.0;
        let (mut content_len, mut content_known) = (0.0, 0.0);
        // The content words the evidence does not hold, to weigh by how related they are.
        let mut unknown: Vec<(&str, f64)> = Vec::new();
        for term in terms {
            let resolved = match term {
                Ok(t) if self.df(*t, ex) > 0 => Some((*t, 1.0)),
                Ok(t) => self
                    .names
                    .get(*t as usize)
                    .and_then(|name| self.fuzzy(name, ex)),
                // A common word is spelt as meant: it is never read as a misspelling
                // ("there" is not "where").
                Err(word) if self.analyzer.weight(word) < 1.0 => None,
                Err(word) => self.fuzzy(word, ex),
            };
            let g = match term {
                Ok(t) => self
                    .names
                    .get(*t as usize)
                    .map_or(1.0, |n| self.analyzer.weight(n)),
                Err(word) => self.analyzer.weight(word),
            };
            length += g;
            let content_word = g >= 1.0;
            // A content word weighs by how rare it is: "quantum" says more of what a text is
            // about than "explain" does.
            let weight = if content_word {
                self.weigh(match term {
                    Ok(t) => self.ranks.get(*t as usize).copied().unwrap_or(u32::MAX),
                    Err(word) => rank(word),
                })
            } else {
                0.0
            };
            content_len += weight;
            let Some((t, sim)) = resolved else {
                norm += g * unknown_idf;
                if content_word {
                    let word = match term {
                        Ok(t) => self.names.get(*t as usize).map_or("", String::as_str),
                        Err(word) => word.as_str(),
                    };
                    unknown.push((word, weight));
                }
                continue;
            };
            content_known += sim * weight;
            let sim = sim * g;
            known += sim;
            let w = idf(self.df(t, ex));
            norm += g * w;
            let posting = self.postings.get(t as usize).map_or(&[][..], Vec::as_slice);
            let start = self.starts.get(t as usize).copied();
            for (k, &(i, n)) in posting.iter().enumerate() {
                let (n, l) = match excluded {
                    Some((x, l)) if x == i => (self.held(t, i, n, ex), Some(l)),
                    _ => (n, None),
                };
                if n == 0 {
                    continue;
                }
                let tf = match (l, start.and_then(|s| tfs.get(s + k))) {
                    (None, Some(tf)) => *tf,
                    (l, _) => {
                        let l = l.unwrap_or_else(|| lnorms.get(i as usize).copied().unwrap_or(K1));
                        let n = f64::from(n);
                        n * (K1 + 1.0) / (n + l)
                    }
                };
                if let Some(a) = acc.get_mut(i as usize) {
                    if *a == 0.0 {
                        reached.push(i);
                    }
                    *a += sim * w * tf / (K1 + 1.0);
                }
            }
        }
        if norm <= 0.0 || length <= 0.0 {
            return Scores::default();
        }
        let share = |acc: &[f64], intent: u32| -> f64 {
            (acc.get(intent as usize).copied().unwrap_or(0.0) / norm).clamp(0.0, 1.0)
        };
        all.clear();
        all.extend(reached.iter().map(|intent| Candidate {
            intent: *intent,
            share: share(acc, *intent),
        }));
        // A total order (ties by intent), so the unstable sort is deterministic.
        let order = |a: &Candidate, b: &Candidate| {
            b.share.total_cmp(&a.share).then(a.intent.cmp(&b.intent))
        };
        // The best `keep` by the same total order: the first `keep` of the full sort.
        if all.len() > keep {
            all.select_nth_unstable_by(keep - 1, order);
            all.truncate(keep);
        }
        let mut candidates = all.clone();
        candidates.sort_unstable_by(order);
        // A related word counts for an intent as a match of the rarest weight (that of a word
        // the mesh does not know), scaled by how related it is.
        let (related, per) = self.related(&unknown, &candidates, ex);
        content_known += related;
        if per.iter().any(|(_, k)| *k > 0.0) {
            for (i, k) in &per {
                let tf = (K1 + 1.0) / (1.0 + lnorm(f64::from(docs_of(*i)), avgdl));
                if let Some(a) = acc.get_mut(*i as usize) {
                    *a += k * unknown_idf * tf / (K1 + 1.0);
                }
            }
            for c in &mut candidates {
                c.share = share(acc, c.intent);
            }
            candidates.sort_unstable_by(order);
        }
        let coverage = (known / length).clamp(0.0, 1.0);
        Scores {
            candidates,
            coverage,
            length,
            content: if content_len > 0.0 {
                (content_known / content_len).clamp(0.0, 1.0)
            } else {
                coverage
            },
        }
    }
}
