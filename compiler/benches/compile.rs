//! Compile speed against Cedar on the same policies: a benchmark, not a timed test.
//!
//! It generates one deterministic `.intent` mesh of about 10,000 lines (1,000 agents, 1,000
//! intents with their routes, 50 humans, 200 capabilities and 500 policy rules), asserts that
//! it checks without errors, and then measures, in one run:
//!
//! - `intent check`: `compile(.., Stage::Check)`, parsing, resolving, checking, lowering,
//!   analysing and hashing the plan; three of its phases are also timed alone through public
//!   functions (`syntax::parse`, `analysis::analyze`, `compile::plan_hash`) to show where the
//!   time goes, and the check without the analysis is `check` minus `analyze`;
//! - `intent build`: `compile(.., Stage::Build)`, which adds Cedar generation and validation;
//! - Cedar alone on the Cedar text that `build` generated (`plan.cedar`): parsing the policies
//!   and the schema, then validating the policies against the schema in strict mode.
//!
//! While the Cedar generator is a placeholder (`plan.cedar` empty), the Cedar rows of the real
//! path say so and the ratios are skipped. A second, clearly labelled "hand-written peer
//! encoding" writes equivalent Cedar for the same mesh itself (one `permit` per agent, one
//! policy per `forbid`/`permit` rule, and a matching schema) and times Cedar on that, so the
//! comparison can be made before the generator lands; its ratios are labelled as such.
//!
//! Runs take seconds, so there is no statistics framework: each measurement is repeated five
//! times and the median and the minimum are printed. `INTENT_BENCH_QUICK=1` generates a mesh
//! ten times smaller and runs each measurement once: a smoke test that the whole path works
//! (CI can afford it); its ratios are printed but not judged, fixed costs dominate them.
//!
//! ```text
//! cargo bench -p intent-compiler --bench compile                        # full mesh, 5 runs each
//! INTENT_BENCH_QUICK=1 cargo bench -p intent-compiler --bench compile   # 10x smaller, 1 run (CI)
//! INTENT_BENCH_DUMP=/tmp/bench.intent cargo bench ...                   # also write the source
//! ```
//!
//! The mesh is generated with a small xorshift generator from a fixed seed, so every run
//! (and every machine) compiles the same text.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use cedar_policy::{PolicySet, Schema, ValidationMode, Validator};
use intent_compiler::compile::plan_hash;
use intent_compiler::diagnostics::Severity;
use intent_compiler::{compile, render, syntax, Source, Stage};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::hint::black_box;
use std::str::FromStr;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// Sizes

/// How big a mesh to generate.
pub(crate) struct Size {
    domains: usize,
    actions_per_domain: usize,
    agents: usize,
    humans: usize,
    intents: usize,
    policies: usize,
    rules_per_policy: usize,
}

pub(crate) const FULL: Size = Size {
    domains: 20,
    actions_per_domain: 10,
    agents: 1_000,
    humans: 50,
    intents: 1_000,
    policies: 50,
    rules_per_policy: 10,
};

pub(crate) const QUICK: Size = Size {
    domains: 4,
    actions_per_domain: 5,
    agents: 100,
    humans: 5,
    intents: 100,
    policies: 5,
    rules_per_policy: 10,
};

// ---------------------------------------------------------------------------------------------
// Deterministic randomness

/// xorshift64*: plenty for picking names and numbers, and the same on every machine.
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

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// A number in `lo..=hi`.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

// ---------------------------------------------------------------------------------------------
// The mesh, as a model both encodings are written from

const CLASSES: [&str; 3] = ["pii", "financial", "phi"];
const REGIONS: [&str; 8] = [
    "eu-west-1",
    "eu-central-1",
    "eu-north-1",
    "us-east-1",
    "us-west-2",
    "ap-southeast-1",
    "ap-northeast-1",
    "ca-central-1",
];
const EU_REGIONS: [&str; 3] = ["eu-west-1", "eu-central-1", "eu-north-1"];
const RESIDENCIES: [&str; 4] = ["EU", "CH", "UK", "DE"];
const CHANNELS: [&str; 3] = ["web", "api", "batch"];
const ROLES: [&str; 3] = ["analyst", "auditor", "customer"];
const VERBS: [&str; 12] = [
    "summarize",
    "review",
    "approve",
    "reconcile",
    "classify",
    "translate",
    "forecast",
    "audit",
    "extract",
    "verify",
    "archive",
    "escalate",
];
const NOUNS: [&str; 12] = [
    "invoices",
    "claims",
    "contracts",
    "tickets",
    "orders",
    "records",
    "payments",
    "reports",
    "shipments",
    "prescriptions",
    "statements",
    "refunds",
];
const ADJECTIVES: [&str; 8] = [
    "overdue", "pending", "flagged", "recent", "disputed", "large", "foreign", "monthly",
];
const PERIODS: [&str; 6] = [
    "last week",
    "this quarter",
    "yesterday",
    "the past month",
    "March",
    "this year",
];

struct Agent {
    name: String,
    /// Indices into `Mesh::caps`, distinct.
    provides: Vec<usize>,
    /// Indices into `CLASSES`, distinct.
    clearance: Vec<usize>,
    /// In hundredths: 0.83 is 83.
    trust: u32,
    region: &'static str,
    cost: u32,
}

struct Intent {
    name: String,
    verb: &'static str,
    noun: &'static str,
    requires: Vec<usize>,
    handles: Vec<usize>,
    examples: [String; 2],
    clarify_below: &'static str,
    escalate_below: &'static str,
    human: usize,
}

enum Rule {
    /// `forbid when data touches C and subject.residency == R and agent.region not in {..}`.
    Residency {
        class: usize,
        residency: &'static str,
        regions: Vec<&'static str>,
    },
    /// `forbid when agent.trust < T and data touches C`.
    LowTrust { below: u32, class: usize },
    /// `permit when agent.trust >= T and data touches C`.
    HighTrust { at_least: u32, class: usize },
    /// `escalate H when has amount and amount > N and data touches financial`.
    LargeAmount { human: usize, over: u32 },
    /// `require audit when channel == C [and subject.role == R]`.
    Audit {
        channel: &'static str,
        role: Option<&'static str>,
    },
}

pub(crate) struct Mesh {
    caps: Vec<String>,
    agents: Vec<Agent>,
    humans: usize,
    intents: Vec<Intent>,
    /// Each policy's rules.
    policies: Vec<Vec<Rule>>,
}

impl Mesh {
    fn rules(&self) -> usize {
        self.policies.iter().map(Vec::len).sum()
    }
}

fn distinct(rng: &mut Rng, n: usize, count: usize, first: Option<usize>) -> Vec<usize> {
    let mut out: Vec<usize> = first.into_iter().collect();
    while out.len() < count.min(n) {
        let x = rng.below(n);
        if !out.contains(&x) {
            out.push(x);
        }
    }
    out
}

pub(crate) fn generate(size: &Size) -> Mesh {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let caps: Vec<String> = (0..size.domains)
        .flat_map(|d| (0..size.actions_per_domain).map(move |a| format!("domain_{d}.action_{a}")))
        .collect();
    // Agent `i` provides capability `i % caps` first, so every capability has providers.
    let agents: Vec<Agent> = (0..size.agents)
        .map(|i| {
            let n_caps = rng.pick(&[1, 1, 2, 2, 2, 3]);
            let n_classes = rng.pick(&[1, 1, 1, 2, 2, 3]);
            Agent {
                name: format!("a_{i:04}"),
                provides: distinct(&mut rng, caps.len(), n_caps, Some(i % caps.len())),
                clearance: distinct(&mut rng, CLASSES.len(), n_classes, None),
                trust: rng.range(10, 99) as u32,
                region: rng.pick(&REGIONS),
                cost: rng.range(1, 9) as u32,
            }
        })
        .collect();
    // Intent `j` is served by a "primary" agent providing capability `j % caps`: it requires
    // one or two of that agent's capabilities and handles some of its clearances, so every
    // capability is wanted (no agent is unused) and every `any` has a fitting provider.
    let per_cap = size.agents.div_ceil(caps.len());
    let intents: Vec<Intent> = (0..size.intents)
        .map(|j| {
            let mut primary = j % caps.len() + caps.len() * rng.below(per_cap);
            if primary >= agents.len() {
                primary = j % caps.len();
            }
            let a = &agents[primary];
            let n_req = if a.provides.len() > 1 && rng.chance(40) {
                2
            } else {
                1
            };
            let requires = a.provides[..n_req].to_vec();
            let n_handles = rng.range(1, a.clearance.len());
            let handles = a.clearance[..n_handles].to_vec();
            let verb = rng.pick(&VERBS);
            let noun = rng.pick(&NOUNS);
            let examples = [
                format!(
                    "please {verb} the {} {noun} from {}",
                    rng.pick(&ADJECTIVES),
                    rng.pick(&PERIODS)
                ),
                format!(
                    "can you {verb} {} {noun} for client {}",
                    rng.pick(&ADJECTIVES),
                    rng.range(100, 9999)
                ),
            ];
            Intent {
                name: format!("{verb}_{noun}_{j:04}"),
                verb,
                noun,
                requires,
                handles,
                examples,
                clarify_below: rng.pick(&["0.4", "0.5", "0.5", "0.6"]),
                escalate_below: rng.pick(&["0.7", "0.8", "0.8", "0.85"]),
                human: j % size.humans,
            }
        })
        .collect();
    let policies = (0..size.policies)
        .map(|p| {
            (0..size.rules_per_policy)
                .map(|k| match (p * size.rules_per_policy + k) % 5 {
                    0 => {
                        let mut regions = vec![EU_REGIONS[0], EU_REGIONS[1]];
                        if rng.chance(50) {
                            regions.push(EU_REGIONS[2]);
                        }
                        Rule::Residency {
                            class: rng.below(CLASSES.len()),
                            residency: rng.pick(&RESIDENCIES),
                            regions,
                        }
                    }
                    1 => Rule::LowTrust {
                        below: rng.range(15, 35) as u32,
                        class: rng.below(CLASSES.len()),
                    },
                    2 => Rule::HighTrust {
                        at_least: rng.range(95, 99) as u32,
                        class: rng.below(CLASSES.len()),
                    },
                    3 => Rule::LargeAmount {
                        human: rng.below(size.humans),
                        over: rng.range(5, 50) as u32 * 1_000,
                    },
                    _ => Rule::Audit {
                        channel: rng.pick(&CHANNELS),
                        role: rng.chance(50).then(|| rng.pick(&ROLES)),
                    },
                })
                .collect()
        })
        .collect();
    Mesh {
        caps,
        agents,
        humans: size.humans,
        intents,
        policies,
    }
}

// ---------------------------------------------------------------------------------------------
// The `.intent` text

fn join_caps(mesh: &Mesh, ids: &[usize]) -> String {
    ids.iter()
        .map(|c| mesh.caps[*c].as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn join_classes(ids: &[usize]) -> String {
    ids.iter()
        .map(|c| CLASSES[*c])
        .collect::<Vec<_>>()
        .join(", ")
}

fn trust(hundredths: u32) -> String {
    format!("0.{hundredths:02}")
}

pub(crate) fn intent_source(mesh: &Mesh) -> String {
    let mut s = String::with_capacity(1 << 20);
    let w = &mut s;
    writeln!(w, "/// A generated mesh for the compile-speed benchmark.").unwrap();
    writeln!(w, "package bench").unwrap();
    writeln!(w).unwrap();
    writeln!(w, "use std.data.{{pii, financial, phi}}").unwrap();
    writeln!(w).unwrap();
    for c in &mesh.caps {
        writeln!(w, "capability {c}").unwrap();
    }
    writeln!(w).unwrap();
    writeln!(w, "context {{").unwrap();
    writeln!(
        w,
        "  subject: {{ residency: string, role: \"analyst\" | \"auditor\" | \"customer\" }}"
    )
    .unwrap();
    writeln!(w, "  channel: \"web\" | \"api\" | \"batch\"").unwrap();
    writeln!(w, "  amount?: number").unwrap();
    writeln!(w, "}}").unwrap();
    writeln!(w).unwrap();
    for a in &mesh.agents {
        writeln!(
            w,
            "agent {} {{ provides {}  clearance {}  trust {}  region \"{}\"  cost {} }}",
            a.name,
            join_caps(mesh, &a.provides),
            join_classes(&a.clearance),
            trust(a.trust),
            a.region,
            a.cost
        )
        .unwrap();
    }
    writeln!(w).unwrap();
    for h in 0..mesh.humans {
        writeln!(
            w,
            "human h_{h:02} {{ channel \"slack:#oncall-{h:02}\"  sla {}h }}",
            1 + h % 8
        )
        .unwrap();
    }
    writeln!(w).unwrap();
    for it in &mesh.intents {
        writeln!(w, "intent {} {{", it.name).unwrap();
        writeln!(
            w,
            "  description \"{} {} for the requester\"  requires {}  handles {}",
            it.verb,
            it.noun,
            join_caps(mesh, &it.requires),
            join_classes(&it.handles)
        )
        .unwrap();
        writeln!(
            w,
            "  examples [\"{}\", \"{}\"]",
            it.examples[0], it.examples[1]
        )
        .unwrap();
        writeln!(w, "}}").unwrap();
        writeln!(w, "route {} {{", it.name).unwrap();
        writeln!(
            w,
            "  when confidence < {} => clarify \"Which {} do you mean, and from when?\"",
            it.clarify_below, it.noun
        )
        .unwrap();
        writeln!(
            w,
            "  when confidence < {} => escalate h_{:02} because \"unsure what was asked\"",
            it.escalate_below, it.human
        )
        .unwrap();
        match it.requires.as_slice() {
            [one] => writeln!(w, "  otherwise => dispatch any {}", mesh.caps[*one]).unwrap(),
            [first, then] => writeln!(
                w,
                "  otherwise => plan {{ fetch: any {}  act: any {} after fetch }}",
                mesh.caps[*first], mesh.caps[*then]
            )
            .unwrap(),
            _ => unreachable!("intents require one or two capabilities"),
        }
        writeln!(w, "}}").unwrap();
    }
    for (p, rules) in mesh.policies.iter().enumerate() {
        writeln!(w).unwrap();
        writeln!(w, "policy rules_{p:02} {{").unwrap();
        for (k, r) in rules.iter().enumerate() {
            match r {
                Rule::Residency {
                    class,
                    residency,
                    regions,
                } => writeln!(
                    w,
                    "  forbid when data touches {} and subject.residency == \"{residency}\" and agent.region not in {{{}}} because \"residency rule {p}.{k}: {residency} data stays home\"",
                    CLASSES[*class],
                    regions
                        .iter()
                        .map(|r| format!("\"{r}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Rule::LowTrust { below, class } => writeln!(
                    w,
                    "  forbid when agent.trust < {} and data touches {} because \"trust floor {p}.{k}\"",
                    trust(*below),
                    CLASSES[*class]
                ),
                Rule::HighTrust { at_least, class } => writeln!(
                    w,
                    "  permit when agent.trust >= {} and data touches {}",
                    trust(*at_least),
                    CLASSES[*class]
                ),
                Rule::LargeAmount { human, over } => writeln!(
                    w,
                    "  escalate h_{human:02} when has amount and amount > {over} and data touches financial"
                ),
                Rule::Audit { channel, role } => match role {
                    Some(role) => writeln!(
                        w,
                        "  require audit when channel == \"{channel}\" and subject.role == \"{role}\""
                    ),
                    None => writeln!(w, "  require audit when channel == \"{channel}\""),
                },
            }
            .unwrap();
        }
        writeln!(w, "}}").unwrap();
    }
    s
}

// ---------------------------------------------------------------------------------------------
// The hand-written peer encoding in Cedar

/// The same mesh written directly in Cedar, the way a Cedar user would: agents are `Agent`
/// entities with their clearance, capabilities are actions grouped by domain, and the request
/// context carries the data classes handled (`data`) and the same closed upwards (`touches`,
/// so that `data touches pii` is a `contains`). One `permit` per agent (its capabilities, when
/// it is cleared for the data) and one policy per `forbid`/`permit` rule; `escalate` and
/// `require audit` are not authorization and have no Cedar form.
struct Peer {
    schema: String,
    policies: String,
    count: usize,
}

fn peer_encoding(mesh: &Mesh) -> Peer {
    let mut schema = String::new();
    let w = &mut schema;
    writeln!(w, "entity DataClass in [DataClass];").unwrap();
    writeln!(w, "entity Request;").unwrap();
    writeln!(
        w,
        "entity Agent = {{ trust: decimal, region: String, cost: Long, cleared: Set<DataClass> }};"
    )
    .unwrap();
    writeln!(
        w,
        "type Ctx = {{ data: Set<DataClass>, touches: Set<DataClass>, \
         subject: {{ residency: String, role: String }}, channel: String, \
         amount?: Long, confidence: decimal }};"
    )
    .unwrap();
    let mut domains: Vec<&str> = mesh
        .caps
        .iter()
        .filter_map(|c| c.split_once('.').map(|(d, _)| d))
        .collect();
    domains.dedup();
    for d in &domains {
        writeln!(w, "action \"{d}\";").unwrap();
    }
    for c in &mesh.caps {
        let domain = c.split_once('.').map_or(c.as_str(), |(d, _)| d);
        writeln!(
            w,
            "action \"{c}\" in [\"{domain}\"] appliesTo {{ principal: [Agent], resource: [Request], context: Ctx }};"
        )
        .unwrap();
    }

    let mut policies = String::with_capacity(1 << 20);
    let w = &mut policies;
    let mut count = 0;
    for a in &mesh.agents {
        let actions = a
            .provides
            .iter()
            .map(|c| format!("Action::\"{}\"", mesh.caps[*c]))
            .collect::<Vec<_>>()
            .join(", ");
        writeln!(
            w,
            "@id(\"{name}\")\npermit(principal == Agent::\"{name}\", action in [{actions}], resource)\n  when {{ principal.cleared.containsAll(context.data) }};",
            name = a.name
        )
        .unwrap();
        count += 1;
    }
    for (p, rules) in mesh.policies.iter().enumerate() {
        for (k, r) in rules.iter().enumerate() {
            let id = format!("rules_{p:02}#{k}");
            let body = match r {
                Rule::Residency {
                    class,
                    residency,
                    regions,
                } => format!(
                    "forbid(principal, action, resource)\n  when {{ context.touches.contains(DataClass::\"{}\") && context.subject.residency == \"{residency}\" && !([{}].contains(principal.region)) }};",
                    CLASSES[*class],
                    regions
                        .iter()
                        .map(|r| format!("\"{r}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Rule::LowTrust { below, class } => format!(
                    "forbid(principal, action, resource)\n  when {{ principal.trust.lessThan(decimal(\"{}\")) && context.touches.contains(DataClass::\"{}\") }};",
                    trust(*below),
                    CLASSES[*class]
                ),
                Rule::HighTrust { at_least, class } => format!(
                    "permit(principal, action, resource)\n  when {{ principal.trust.greaterThanOrEqual(decimal(\"{}\")) && context.touches.contains(DataClass::\"{}\") }};",
                    trust(*at_least),
                    CLASSES[*class]
                ),
                Rule::LargeAmount { .. } | Rule::Audit { .. } => continue,
            };
            writeln!(w, "@id(\"{id}\")\n{body}").unwrap();
            count += 1;
        }
    }
    Peer {
        schema,
        policies,
        count,
    }
}

// ---------------------------------------------------------------------------------------------
// Measuring

#[derive(Clone, Copy)]
struct Stats {
    median: Duration,
    min: Duration,
}

/// Runs `f` `runs` times; the median and minimum wall time, and the last result.
fn measure<T>(runs: usize, mut f: impl FnMut() -> T) -> (Stats, T) {
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let out = black_box(f());
        times.push(start.elapsed());
        last = Some(out);
    }
    times.sort();
    let stats = Stats {
        median: times[times.len() / 2],
        min: times[0],
    };
    (stats, last.expect("at least one run"))
}

fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

fn row(label: &str, s: Stats) {
    println!("{label:<30} {:>10} {:>10}", ms(s.median), ms(s.min));
}

/// Our median over theirs; the goal is judged on the full mesh only (fixed costs dominate a
/// small one).
fn ratio(label: &str, ours: Stats, theirs: Stats, goal: f64, quick: bool) {
    let r = ours.median.as_secs_f64() / theirs.median.as_secs_f64();
    let verdict = match (quick, r < goal) {
        (true, _) => "judged on the full mesh only",
        (false, true) => "ok",
        (false, false) => "MISSED",
    };
    println!("{label:<30} {r:>9.2}x   (goal < {goal:.2}x: {verdict})");
}

/// Thousands separators, as in `10,214`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Times Cedar on a schema and policies: (parse, validate, policy count).
fn time_cedar(runs: usize, schema: &str, policies: &str) -> (Stats, Stats, usize) {
    let (parse, (pset, schema)) = measure(runs, || {
        let pset = PolicySet::from_str(policies).expect("Cedar parses the policies");
        let (schema, warnings) =
            Schema::from_cedarschema_str(schema).expect("Cedar parses the schema");
        warnings.for_each(drop);
        (pset, schema)
    });
    // `Validator::new` takes the schema by value: clone it outside the timed region.
    let mut schemas: Vec<Schema> = (0..runs).map(|_| schema.clone()).collect();
    let (validate, result) = measure(runs, || {
        Validator::new(schemas.pop().expect("one schema per run"))
            .validate(&pset, ValidationMode::Strict)
    });
    if !result.validation_passed() {
        for e in result.validation_errors().take(10) {
            eprintln!("cedar: {e}");
        }
        eprintln!("Cedar rejected the policies");
        std::process::exit(1);
    }
    (parse, validate, pset.policies().count())
}

fn main() {
    let quick = std::env::var("INTENT_BENCH_QUICK").is_ok_and(|v| v == "1");
    let (size, runs) = if quick { (&QUICK, 1) } else { (&FULL, 5) };

    let mesh = generate(size);
    let text = intent_source(&mesh);
    if let Ok(path) = std::env::var("INTENT_BENCH_DUMP") {
        std::fs::write(&path, &text).expect("write INTENT_BENCH_DUMP");
        eprintln!("wrote the generated mesh to {path}");
    }
    let lines = text.lines().count();
    let sources = [Source::new("bench.intent", text)];

    // The mesh must be clean: a benchmark of error paths would measure the wrong thing.
    let checked = compile(&sources, Stage::Check);
    if checked.has_errors() {
        let errors: Vec<_> = checked
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .take(10)
            .cloned()
            .collect();
        eprintln!("{}", render::human(&errors, &checked.sources, false));
        eprintln!("the generated mesh has errors");
        std::process::exit(1);
    }
    let mut warnings: BTreeMap<String, usize> = BTreeMap::new();
    for d in &checked.diagnostics {
        if d.severity == Severity::Warning {
            *warnings.entry(d.code.as_str().to_string()).or_default() += 1;
        }
    }
    let checked_plan = checked.plan;

    let (check, _) = measure(runs, || compile(&sources, Stage::Check));
    // Two phases of `check`, timed alone through public functions: where the time goes.
    let (parse, _) = measure(runs, || syntax::parse(&sources[0].text));
    let (hash, _) = measure(runs, || plan_hash(checked_plan.as_ref().expect("a plan")));
    // The decision-space analysis runs inside `check`, after lowering; timed alone on the
    // lowered plan, and subtracted from `check` to give the check without it (issue #4's goal:
    // the analysis costs less than the rest of the check).
    let (analysis, _) = measure(runs, || {
        intent_compiler::analysis::analyze(checked_plan.as_ref().expect("a plan"))
    });
    let without = Stats {
        median: check.median.saturating_sub(analysis.median),
        min: check.min.saturating_sub(analysis.min),
    };
    let (build, built) = measure(runs, || compile(&sources, Stage::Build));
    assert!(
        !built.has_errors(),
        "`build` found errors the check did not"
    );
    let built_plan = built.plan.expect("a plan without errors");
    let (generate, _) = measure(runs, || intent_compiler::cedar::generate(&built_plan));
    let (validate, _) = measure(runs, || {
        intent_compiler::cedar::validate(&built_plan, &built_plan.cedar)
    });
    let cedar = built_plan.cedar.clone();
    let real = (!cedar.policies.trim().is_empty())
        .then(|| time_cedar(runs, &cedar.schema, &cedar.policies));
    let peer = peer_encoding(&mesh);
    let (peer_parse, peer_validate, peer_count) = time_cedar(runs, &peer.schema, &peer.policies);
    assert_eq!(peer_count, peer.count, "the peer encoding lost policies");

    let policies = match &real {
        Some((_, _, n)) => thousands(*n),
        None => "0 (placeholder generator)".to_string(),
    };
    println!();
    println!(
        "mesh: {} lines, {} agents, {} intents, {} rules -> {policies} Cedar policies{}",
        thousands(lines),
        thousands(mesh.agents.len()),
        thousands(mesh.intents.len()),
        thousands(mesh.rules()),
        if quick {
            "  [INTENT_BENCH_QUICK: 1 run each]"
        } else {
            ""
        }
    );
    let total: usize = warnings.values().sum();
    let by_code: Vec<String> = warnings.iter().map(|(c, n)| format!("{c} x{n}")).collect();
    println!(
        "check: 0 errors, {total} warnings{}; plan_hash {}",
        if by_code.is_empty() {
            String::new()
        } else {
            format!(" ({})", by_code.join(", "))
        },
        checked_plan
            .as_ref()
            .map_or("-", |p| p.plan_hash.get(..16).unwrap_or_default())
    );
    println!("{:<30} {:>10} {:>10}", "", "median", "min");
    row("intent check", check);
    row("  of which parse", parse);
    row("  of which analysis", analysis);
    row("check without analysis", without);
    row("intent build", build);
    row("  of which plan_hash", hash);
    row("  of which cedar generate", generate);
    row("  of which cedar validate", validate);
    ratio("analysis / check without it", analysis, without, 1.0, quick);
    match real {
        Some((parse, validate, _)) => {
            let both = Stats {
                median: parse.median + validate.median,
                min: parse.min + validate.min,
            };
            row("cedar parse", parse);
            row("cedar validate", validate);
            row("cedar parse+validate", both);
            ratio("check / (parse+validate)", check, both, 0.10, quick);
            ratio("build / (parse+validate)", build, both, 1.25, quick);
        }
        None => println!("cedar part empty: merge the cedar branch"),
    }
    println!();
    println!(
        "hand-written peer encoding: {} Cedar policies ({} agent permits + {} forbid/permit rules), written by this bench",
        thousands(peer.count),
        thousands(mesh.agents.len()),
        thousands(peer.count - mesh.agents.len()),
    );
    let peer_both = Stats {
        median: peer_parse.median + peer_validate.median,
        min: peer_parse.min + peer_validate.min,
    };
    row("peer cedar parse", peer_parse);
    row("peer cedar validate", peer_validate);
    row("peer cedar parse+validate", peer_both);
    ratio(
        "check / peer (parse+validate)",
        check,
        peer_both,
        0.10,
        quick,
    );
    ratio(
        "build / peer (parse+validate)",
        build,
        peer_both,
        1.25,
        quick,
    );
}
