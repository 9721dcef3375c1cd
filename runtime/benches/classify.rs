//! How long the built-in classifier takes per text request, and its share of `decide`
//! (docs/classifier.md, "Cost"). For 10, 100 and 1,000 intents with 5 examples each (a
//! generated plan of pseudo-words, built in code: each intent has its own topic words, every
//! example mixes them with words common to all intents, each route is `when confidence < 0.5
//! => clarify` then `otherwise => dispatch` one agent) it fits the calibration once as the
//! compiler does (leave-one-out, timed once and printed) and measures with criterion:
//!
//! - `classify`: the built-in classifier alone on a text (`Builtin::rank`), over 200 texts
//!   written like the examples (topic and common words, a misspelling in one text in four, a
//!   word the mesh never saw in one in three: an English word, so that how related it is to
//!   the candidates is computed from the word vectors; each intent's topic holds two English
//!   words among its pseudo-words, so every intent has a direction);
//! - `decide_text`: `decide` on the same texts, classification included;
//! - `decide_intent`: `decide` on requests that name the intent and confidence instead;
//! - `tfidf_peer`: the classifier this one replaced (TF-IDF cosine against every example,
//!   words and trigrams, no calibration), reimplemented here as the peer figure.
//!
//! The classifier's share of `decide` is (`decide_text` − `decide_intent`) / `decide_text`.
//! Run with `cargo bench -p intent-runtime --bench classify`; `INTENT_BENCH_QUICK=1` runs 10
//! and 100 intents only.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use intent_runtime::classifier::text::Analyzer;
use intent_runtime::classifier::Builtin;
use intent_runtime::plan::{
    Action, Agent, Arm, Capability, ClassifierParams, CmpOp, Expr, Intent, Limits, Plan, Route,
    SourceLoc, Step, Target, Type, Value,
};
use intent_runtime::{Engine, Request};
use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// xorshift64*: the same texts on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ren", "tas", "vo", "qui", "zel", "bra", "dun", "fe", "gor", "hal", "jin",
    "kum", "lar", "mos", "nip", "ost", "pra", "rol", "sem", "tor", "ulv", "vex", "wim", "yar",
];

fn word(rng: &mut Rng) -> String {
    (0..3)
        .map(|_| SYLLABLES[rng.below(SYLLABLES.len())])
        .collect()
}

struct Mesh {
    intents: Vec<Intent>,
    texts: Vec<String>,
    names: Vec<String>,
}

fn route() -> Route {
    Route {
        arms: vec![
            Arm {
                when: Some(Expr::Cmp {
                    cmp: CmpOp::Lt,
                    lhs: Box::new(Expr::Confidence),
                    rhs: Box::new(Expr::Lit {
                        value: Value::Number(0.5),
                    }),
                }),
                action: Action::Clarify {
                    question: "which one?".into(),
                },
                src: 0,
            },
            Arm {
                when: None,
                action: Action::Dispatch {
                    step: Step {
                        name: "dispatch".into(),
                        target: Target::Agent(0),
                        fallbacks: vec![],
                        after: vec![],
                        needs: vec![0],
                        handles: vec![],
                        src: 0,
                    },
                },
                src: 0,
            },
        ],
    }
}

fn plan(intents: Vec<Intent>, classifier: ClassifierParams) -> Plan {
    Plan {
        format: intent_runtime::plan::FORMAT,
        plan_hash: String::new(),
        capabilities: vec![Capability {
            name: "work".into(),
            parent: None,
            group_only: false,
        }],
        data_classes: vec![],
        context: Type::Record { fields: vec![] },
        agents: vec![Agent {
            name: "worker".into(),
            provides: vec![0],
            cleared: vec![],
            trust: 0.9,
            cost: 0.0,
            region: String::new(),
            zone: String::new(),
            endpoint: None,
            protocol: None,
            backups: vec![],
            labels: Default::default(),
            src: 0,
        }],
        humans: vec![],
        intents,
        rules: vec![],
        reviews: vec![],
        limits: Limits::default(),
        classifier,
        cedar: Default::default(),
        source_map: vec![SourceLoc {
            file: "bench".into(),
            line: 1,
            col: 1,
        }],
    }
}

/// A word of the classifier's vector table (a stem, which stems to itself).
fn english(rng: &mut Rng, analyzer: &Analyzer) -> String {
    let table = intent_runtime::classifier::vectors::table().expect("the vector table");
    loop {
        let stem = String::from_utf8_lossy(table.stem(rng.below(table.len()))).into_owned();
        if analyzer.terms(&stem) == [stem.clone()] {
            return stem;
        }
    }
}

fn mesh(intents: usize) -> Mesh {
    let mut rng = Rng(0x1234_5678_9abc_def1 ^ intents as u64);
    let analyzer = Analyzer::default();
    let common: Vec<String> = (0..300).map(|_| word(&mut rng)).collect();
    let topics: Vec<Vec<String>> = (0..intents)
        .map(|_| {
            (0..8)
                .map(|k| {
                    if k < 6 {
                        word(&mut rng)
                    } else {
                        english(&mut rng, &analyzer)
                    }
                })
                .collect()
        })
        .collect();
    let mut list = Vec::new();
    let mut names = Vec::new();
    for (i, topic) in topics.iter().enumerate() {
        let name = format!("intent_{i:04}");
        let mut examples = Vec::new();
        for _ in 0..5 {
            let mut words: Vec<&str> = (0..3).map(|_| topic[rng.below(8)].as_str()).collect();
            words.extend((0..3).map(|_| common[rng.below(common.len())].as_str()));
            examples.push(words.join(" "));
        }
        list.push(Intent {
            name: name.clone(),
            description: Some(format!("{} {}", topic[0], topic[1])),
            examples,
            requires: vec![0],
            handles: vec![],
            delegates: vec![],
            input: None,
            tool: None,
            output: None,
            route: route(),
            src: 0,
        });
        names.push(name);
    }
    let texts = (0..200)
        .map(|k| {
            let topic = &topics[rng.below(intents)];
            let mut words: Vec<String> = (0..3).map(|_| topic[rng.below(8)].clone()).collect();
            words.extend((0..3).map(|_| common[rng.below(common.len())].clone()));
            if k % 4 == 0 {
                // A misspelling: one letter dropped.
                let w = &mut words[0];
                w.remove(w.len() / 2);
            }
            if k % 3 == 0 {
                words.push(english(&mut rng, &analyzer));
            }
            words.join(" ")
        })
        .collect();
    Mesh {
        intents: list,
        texts,
        names,
    }
}

/// The classifier this one replaced: TF-IDF over words and trigrams, best cosine per intent.
struct TfIdf {
    vocab: HashMap<String, (u32, f32)>,
    examples: Vec<(u32, Vec<(u32, f32)>)>,
}

fn features(text: &str) -> HashMap<String, f32> {
    let mut m = HashMap::new();
    for w in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let w = w.to_lowercase();
        let padded: Vec<char> = format!("<{w}>").chars().collect();
        for tri in padded.windows(3) {
            *m.entry(tri.iter().collect::<String>()).or_insert(0.0) += 1.0;
        }
        *m.entry(format!("w:{w}")).or_insert(0.0) += 1.0;
    }
    m
}

fn vectorize(vocab: &HashMap<String, (u32, f32)>, c: &HashMap<String, f32>) -> Vec<(u32, f32)> {
    let mut v: Vec<(u32, f32)> = c
        .iter()
        .filter_map(|(f, tf)| vocab.get(f).map(|(i, idf)| (*i, tf * idf)))
        .collect();
    v.sort_unstable_by_key(|(i, _)| *i);
    let norm = v.iter().map(|(_, x)| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|(_, x)| *x /= norm);
    }
    v
}

impl TfIdf {
    fn new(examples: &[(u32, String)]) -> TfIdf {
        let docs: Vec<(u32, HashMap<String, f32>)> =
            examples.iter().map(|(i, t)| (*i, features(t))).collect();
        let mut df: HashMap<&str, f32> = HashMap::new();
        for (_, c) in &docs {
            for f in c.keys() {
                *df.entry(f.as_str()).or_insert(0.0) += 1.0;
            }
        }
        let n = docs.len() as f32;
        let vocab: HashMap<String, (u32, f32)> = df
            .iter()
            .enumerate()
            .map(|(i, (f, d))| {
                (
                    f.to_string(),
                    (i as u32, ((1.0 + n) / (1.0 + d)).ln() + 1.0),
                )
            })
            .collect();
        let examples = docs
            .iter()
            .map(|(i, c)| (*i, vectorize(&vocab, c)))
            .collect();
        TfIdf { vocab, examples }
    }

    fn rank(&self, text: &str) -> Vec<(u32, f32)> {
        let q = vectorize(&self.vocab, &features(text));
        let mut best: HashMap<u32, f32> = HashMap::new();
        for (intent, v) in &self.examples {
            let (mut i, mut j, mut s) = (0, 0, 0.0);
            while let (Some((ia, xa)), Some((ib, xb))) = (q.get(i), v.get(j)) {
                match ia.cmp(ib) {
                    std::cmp::Ordering::Less => i += 1,
                    std::cmp::Ordering::Greater => j += 1,
                    std::cmp::Ordering::Equal => {
                        s += xa * xb;
                        i += 1;
                        j += 1;
                    }
                }
            }
            let e = best.entry(*intent).or_insert(0.0);
            *e = e.max(s);
        }
        let mut out: Vec<(u32, f32)> = best.into_iter().collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }
}

fn bench(c: &mut Criterion) {
    let sizes: &[usize] = if std::env::var_os("INTENT_BENCH_QUICK").is_some() {
        &[10, 100]
    } else {
        &[10, 100, 1_000]
    };
    let mut group = c.benchmark_group("classifier");
    group.measurement_time(Duration::from_secs(3));
    group.warm_up_time(Duration::from_secs(1));
    for &n in sizes {
        let m = mesh(n);
        let start = Instant::now();
        let fitted = Builtin::fit(&m.intents);
        let took = start.elapsed();
        println!(
            "{n} intents: leave-one-out fit {:.1} ms; calibration {fitted:?}",
            took.as_secs_f64() * 1e3,
        );
        let plan = plan(
            m.intents.clone(),
            ClassifierParams {
                weights: fitted.weights.to_vec(),
                coverage: Some(fitted.reference),
                floor: None,
            },
        );
        let peer = TfIdf::new(
            &plan
                .intents
                .iter()
                .enumerate()
                .flat_map(|(i, it)| it.examples.iter().map(move |e| (i as u32, e.clone())))
                .collect::<Vec<_>>(),
        );
        let engine = Engine::from_plan(plan).unwrap();
        let classifier = engine.builtin_classifier();
        let text_reqs: Vec<Request> = m
            .texts
            .iter()
            .map(|t| Request {
                text: Some(t.clone()),
                ..Request::default()
            })
            .collect();
        let intent_reqs: Vec<Request> = (0..m.texts.len())
            .map(|k| Request {
                intent: Some(m.names[k % m.names.len()].clone()),
                confidence: Some(0.9),
                ..Request::default()
            })
            .collect();
        let mut k = 0;
        group.bench_function(BenchmarkId::new("classify", n), |b| {
            b.iter(|| {
                k = (k + 1) % m.texts.len();
                black_box(classifier.rank(black_box(&m.texts[k])))
            })
        });
        group.bench_function(BenchmarkId::new("decide_text", n), |b| {
            b.iter(|| {
                k = (k + 1) % text_reqs.len();
                black_box(engine.decide_at(black_box(&text_reqs[k]), 0))
            })
        });
        group.bench_function(BenchmarkId::new("decide_intent", n), |b| {
            b.iter(|| {
                k = (k + 1) % intent_reqs.len();
                black_box(engine.decide_at(black_box(&intent_reqs[k]), 0))
            })
        });
        group.bench_function(BenchmarkId::new("tfidf_peer", n), |b| {
            b.iter(|| {
                k = (k + 1) % m.texts.len();
                black_box(peer.rank(black_box(&m.texts[k])))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
