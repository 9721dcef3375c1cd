//! The generated mesh shared by the compile and language-server benchmarks: a deterministic
//! model of agents, intents, humans, capabilities and policy rules (`generate`), and its
//! `.intent` source (`intent_source`). The compile benchmark also writes it as Cedar.

use std::fmt::Write as _;

// ---------------------------------------------------------------------------------------------
// Sizes

/// How big a mesh to generate.
pub struct Size {
    pub domains: usize,
    pub actions_per_domain: usize,
    pub agents: usize,
    pub humans: usize,
    pub intents: usize,
    pub policies: usize,
    pub rules_per_policy: usize,
}

pub const FULL: Size = Size {
    domains: 20,
    actions_per_domain: 10,
    agents: 1_000,
    humans: 50,
    intents: 1_000,
    policies: 50,
    rules_per_policy: 10,
};

pub const QUICK: Size = Size {
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
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

// ---------------------------------------------------------------------------------------------
// The mesh, as a model both encodings are written from

pub const CLASSES: [&str; 3] = ["pii", "financial", "phi"];
pub const REGIONS: [&str; 8] = [
    "eu-west-1",
    "eu-central-1",
    "eu-north-1",
    "us-east-1",
    "us-west-2",
    "ap-southeast-1",
    "ap-northeast-1",
    "ca-central-1",
];
pub const EU_REGIONS: [&str; 3] = ["eu-west-1", "eu-central-1", "eu-north-1"];
pub const RESIDENCIES: [&str; 4] = ["EU", "CH", "UK", "DE"];
pub const CHANNELS: [&str; 3] = ["web", "api", "batch"];
pub const ROLES: [&str; 3] = ["analyst", "auditor", "customer"];
pub const VERBS: [&str; 12] = [
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
pub const NOUNS: [&str; 12] = [
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
pub const ADJECTIVES: [&str; 8] = [
    "overdue", "pending", "flagged", "recent", "disputed", "large", "foreign", "monthly",
];
pub const PERIODS: [&str; 6] = [
    "last week",
    "this quarter",
    "yesterday",
    "the past month",
    "March",
    "this year",
];

pub struct Agent {
    pub name: String,
    /// Indices into `Mesh::caps`, distinct.
    pub provides: Vec<usize>,
    /// Indices into `CLASSES`, distinct.
    pub clearance: Vec<usize>,
    /// In hundredths: 0.83 is 83.
    pub trust: u32,
    pub region: &'static str,
    pub cost: u32,
}

pub struct Intent {
    pub name: String,
    pub verb: &'static str,
    pub noun: &'static str,
    pub requires: Vec<usize>,
    pub handles: Vec<usize>,
    pub examples: [String; 2],
    pub clarify_below: &'static str,
    pub escalate_below: &'static str,
    pub human: usize,
}

pub enum Rule {
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

pub struct Mesh {
    pub caps: Vec<String>,
    pub agents: Vec<Agent>,
    pub humans: usize,
    pub intents: Vec<Intent>,
    /// Each policy's rules.
    pub policies: Vec<Vec<Rule>>,
}

impl Mesh {
    pub fn rules(&self) -> usize {
        self.policies.iter().map(Vec::len).sum()
    }
}

pub fn distinct(rng: &mut Rng, n: usize, count: usize, first: Option<usize>) -> Vec<usize> {
    let mut out: Vec<usize> = first.into_iter().collect();
    while out.len() < count.min(n) {
        let x = rng.below(n);
        if !out.contains(&x) {
            out.push(x);
        }
    }
    out
}

pub fn generate(size: &Size) -> Mesh {
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

pub fn join_caps(mesh: &Mesh, ids: &[usize]) -> String {
    ids.iter()
        .map(|c| mesh.caps[*c].as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn join_classes(ids: &[usize]) -> String {
    ids.iter()
        .map(|c| CLASSES[*c])
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn trust(hundredths: u32) -> String {
    format!("0.{hundredths:02}")
}

/// What each file starts with when the generated source is split into files of one package
/// (the language-server bench, the route-reuse test).
pub const SPLIT_HEADER: &str = "package bench\nuse std.data.{pii, financial, phi}\n\n";

/// The lines of the generated source after its header (`package` and `use`): its items, to
/// be split into files that each start with [`SPLIT_HEADER`].
pub fn item_lines(text: &str) -> Vec<&str> {
    text.lines()
        .skip_while(|l| !l.starts_with("use "))
        .skip(1)
        .collect()
}

pub fn intent_source(mesh: &Mesh) -> String {
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
