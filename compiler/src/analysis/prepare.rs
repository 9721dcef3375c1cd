//! Rules split once, before any site is looked at, into what each site must evaluate: the
//! parts that read only the agent (decided per class of agents alike in what they read), only
//! the step's data, the rest of the site, only the request, and the rest.

use super::lower::Site;
use super::region::Region;
use super::Space;
use intent_runtime::plan::{Agent, AgentId, Expr, Plan, RuleKind};
use std::collections::HashMap;

/// What an expression reads: the agent, the rest of the site (data, intent), the request.
#[derive(Default, Clone, Copy)]
pub(super) struct Reads {
    agent: bool,
    site: bool,
    /// Reads the intent (a part of the site beyond the data).
    pub(super) intent: bool,
    request: bool,
    /// Reads the request's caller (a part of the request that may be any agent).
    pub(super) caller: bool,
}

pub(super) fn reads(e: &Expr) -> Reads {
    let mut r = Reads::default();
    walk(e, &mut r);
    r
}

fn walk(e: &Expr, r: &mut Reads) {
    match e {
        Expr::Lit { .. } => {}
        Expr::AgentTrust
        | Expr::AgentCost
        | Expr::AgentRegion
        | Expr::AgentZone
        | Expr::AgentName
        | Expr::AgentLabel { .. }
        | Expr::AgentProvides { .. } => r.agent = true,
        Expr::IntentIs { .. } => {
            r.site = true;
            r.intent = true;
        }
        Expr::DataTouches { .. } => r.site = true,
        Expr::Confidence
        | Expr::Depth
        | Expr::Field { .. }
        | Expr::Has { .. }
        | Expr::ResponseConfidence
        | Expr::ResponseDataTouches { .. } => r.request = true,
        Expr::CallerName
        | Expr::CallerTrust
        | Expr::CallerRegion
        | Expr::CallerZone
        | Expr::CallerLabel { .. }
        | Expr::CallerProvides { .. }
        | Expr::HasCaller => {
            r.request = true;
            r.caller = true;
        }
        Expr::Not { e } => walk(e, r),
        Expr::And { all } => all.iter().for_each(|x| walk(x, r)),
        Expr::Or { any } => any.iter().for_each(|x| walk(x, r)),
        Expr::Cmp { lhs, rhs, .. } => {
            walk(lhs, r);
            walk(rhs, r);
        }
        Expr::In { item, set, .. } => {
            walk(item, r);
            walk(set, r);
        }
    }
}

fn conjuncts<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    match e {
        Expr::And { all } => all.iter().for_each(|x| conjuncts(x, out)),
        other => out.push(other),
    }
}

/// A rule split once into what each site must evaluate: the parts that read only the agent
/// (evaluated per agent up front), the parts that read the rest of the site (evaluated per
/// site, cheaply), the parts that read only the request (lowered once) and the rest (lowered
/// per site). With thousands of sites and hundreds of rules, this keeps the analysis linear.
pub struct Prepared<'p> {
    /// Parts that read only the step's data (`data touches C`): evaluated once per distinct
    /// set of data classes.
    data_parts: Vec<&'p Expr>,
    pub(super) site_parts: Vec<&'p Expr>,
    pub(super) request: Region,
    pub(super) mixed: Vec<&'p Expr>,
    /// A forbid's `unless`, when it reads only the request: where it fails.
    pub(super) unless_fails: Option<Region>,
}

/// Every rule prepared, and per agent the rules (not `require audit`) whose agent-only parts
/// may hold for it.
pub struct Rules<'p> {
    pub(super) rules: Vec<Prepared<'p>>,
    /// Per rule, its agent-only parts.
    agent_checks: Vec<Vec<&'p Expr>>,
    classes: Classes,
    /// Per agent, as a set of rule indexes; worked out when a site first asks, since an
    /// analysis after an edit looks at the sites of a few agents only.
    by_agent: Vec<Option<Bits>>,
    /// The forbids, the permits and the escalation rules, as sets of rule indexes.
    kinds: [Bits; 3],
    /// Per distinct set of data classes, whether each rule's data parts may hold.
    by_data: HashMap<Vec<u32>, Bits>,
    none: Bits,
}

impl Rules<'_> {
    /// The rules whose agent and data parts may hold for agent `g` at a step handling `data`,
    /// in order: forbids and permits (forbids alone where the agent is `cleared`), then
    /// escalation rules. Sets of rule indexes met word by word: a site looks only at the rules
    /// that may apply there, not at every rule of its agent.
    pub(super) fn at(
        &mut self,
        space: &Space<'_>,
        g: AgentId,
        data: &[u32],
        cleared: bool,
    ) -> [Vec<usize>; 2] {
        let none = Bits::default();
        let ok = self.data_ok(space, data).clone();
        self.agent_ok(space, g);
        let mine = self
            .by_agent
            .get(g as usize)
            .and_then(Option::as_ref)
            .unwrap_or(&none);
        let [forbids, permits, escalates] = &self.kinds;
        let both = ok.and(mine);
        let first = if cleared {
            both.and(forbids)
        } else {
            both.and(&forbids.or(permits))
        };
        [first.indexes(), both.and(escalates).indexes()]
    }

    /// Works out, once, the rules whose agent-only parts may hold for agent `g`: for each set
    /// of attributes rules read, those that hold for `g`'s class, decided for the first agent
    /// of the class when one of its agents is first asked about. A fault (or an unexpected
    /// type) keeps a rule in play: only a sure "false" drops it.
    fn agent_ok(&mut self, space: &Space<'_>, g: AgentId) {
        let plan = space.plan;
        let Some(slot @ None) = self.by_agent.get_mut(g as usize) else {
            return;
        };
        let mut bits = Bits::new(self.rules.len());
        for set in &mut self.classes.sets {
            let Some(&c) = set.class_of.get(g as usize) else {
                continue;
            };
            if set.holds.is_empty() {
                set.holds = vec![None; set.firsts.len()];
            }
            let Some(known) = set.holds.get_mut(c) else {
                continue;
            };
            let holds = known.get_or_insert_with(|| {
                let at = Site {
                    intent: u32::MAX,
                    agent: set.firsts.get(c).and_then(|a| plan.agents.get(*a)),
                    data: &[],
                };
                let mut holds = Bits::new(bits.len());
                for &k in &set.rules {
                    let parts = self.agent_checks.get(k).map_or(&[][..], Vec::as_slice);
                    if parts.iter().all(|p| space.at_site(p, at) != Some(false)) {
                        holds.set(k);
                    }
                }
                holds
            });
            bits = bits.or(holds);
        }
        *slot = Some(bits);
    }

    /// The rules whose data-only parts may hold for a step handling `data`.
    fn data_ok(&mut self, space: &Space<'_>, data: &[u32]) -> &Bits {
        let rules = &self.rules;
        if !self.by_data.contains_key(data) {
            let at = Site {
                intent: u32::MAX,
                agent: None,
                data,
            };
            let mut bits = Bits::new(rules.len());
            for (k, p) in rules.iter().enumerate() {
                if p.data_parts
                    .iter()
                    .all(|e| space.at_site(e, at) != Some(false))
                {
                    bits.set(k);
                }
            }
            self.by_data.insert(data.to_vec(), bits);
        }
        self.by_data.get(data).unwrap_or(&self.none)
    }
}

pub fn prepare<'p>(space: &mut Space<'p>) -> Rules<'p> {
    let plan: &'p Plan = space.plan;
    let none = Site {
        intent: u32::MAX,
        agent: None,
        data: &[],
    };
    let mut kinds: [Bits; 3] = std::array::from_fn(|_| Bits::new(plan.rules.len()));
    for (k, rule) in plan.rules.iter().enumerate() {
        let [forbids, permits, escalates] = &mut kinds;
        match rule.kind {
            RuleKind::Forbid => forbids.set(k),
            RuleKind::Permit => permits.set(k),
            RuleKind::Escalate => escalates.set(k),
            RuleKind::RequireAudit => {}
        }
    }
    let mut classes = Classes::default();
    let mut agent_checks = Vec::with_capacity(plan.rules.len());
    let rules = plan
        .rules
        .iter()
        .map(|rule| {
            let mut parts = Vec::new();
            if let Some(w) = &rule.when {
                conjuncts(w, &mut parts);
            }
            let mut agent_parts = Vec::new();
            let mut site_parts = Vec::new();
            let mut data_parts = Vec::new();
            let mut request_parts = Vec::new();
            let mut mixed = Vec::new();
            for p in parts {
                let r = reads(p);
                match (r.agent, r.site, r.request) {
                    (_, false, false) => agent_parts.push(p),
                    (false, true, false) if !r.intent => data_parts.push(p),
                    (_, true, false) => site_parts.push(p),
                    (false, false, true) => request_parts.push(p),
                    _ => mixed.push(p),
                }
            }
            // Lowered as one conjunction, so that its bound applies to the product of the
            // parts (not only to each part): past it, the parts are one opaque boolean.
            let request = match request_parts.as_slice() {
                [] => Region::all(),
                [one] => space.lower(one, true, none),
                many => {
                    let all = many.iter().map(|p| (*p).clone()).collect();
                    space.lower(&Expr::And { all }, true, none)
                }
            };
            // Whether the agent parts may hold is decided per agent when a site first asks
            // (`Rules::at`), once per class of agents alike in every attribute they read.
            if rule.kind != RuleKind::RequireAudit {
                let attrs = agent_parts.iter().fold(0, |m, p| m | attributes(p));
                let set = classes.of(plan, attrs);
                if let Some(set) = classes.sets.get_mut(set) {
                    set.rules.push(agent_checks.len());
                }
            }
            agent_checks.push(agent_parts);
            let unless_fails = match &rule.unless {
                None => Some(Region::empty()),
                Some(u) => {
                    let r = reads(u);
                    (!r.agent && !r.site).then(|| space.lower(u, false, none))
                }
            };
            Prepared {
                data_parts,
                site_parts,
                request,
                mixed,
                unless_fails,
            }
        })
        .collect();
    Rules {
        rules,
        agent_checks,
        classes,
        by_agent: vec![None; plan.agents.len()],
        kinds,
        by_data: HashMap::new(),
        none: Bits::default(),
    }
}

/// The agent attributes an expression reads, as bits (what two agents must share for the
/// expression to say the same of both).
fn attributes(e: &Expr) -> u8 {
    match e {
        Expr::AgentTrust => 1,
        Expr::AgentCost => 2,
        Expr::AgentRegion => 4,
        Expr::AgentZone => 8,
        Expr::AgentName => 16,
        Expr::AgentLabel { .. } => 32,
        Expr::AgentProvides { .. } => 64,
        Expr::Lit { .. }
        | Expr::IntentIs { .. }
        | Expr::DataTouches { .. }
        | Expr::Confidence
        | Expr::Depth
        | Expr::Field { .. }
        | Expr::Has { .. }
        | Expr::ResponseConfidence
        | Expr::ResponseDataTouches { .. }
        | Expr::CallerName
        | Expr::CallerTrust
        | Expr::CallerRegion
        | Expr::CallerZone
        | Expr::CallerLabel { .. }
        | Expr::CallerProvides { .. }
        | Expr::HasCaller => 0,
        Expr::Not { e } => attributes(e),
        Expr::And { all } => all.iter().fold(0, |m, x| m | attributes(x)),
        Expr::Or { any } => any.iter().fold(0, |m, x| m | attributes(x)),
        Expr::Cmp { lhs, rhs, .. } => attributes(lhs) | attributes(rhs),
        Expr::In { item, set, .. } => attributes(item) | attributes(set),
    }
}

/// Per set of attributes, the agents in classes alike in them: each agent's class, and the
/// first agent of each class (on a large mesh, 1,000 agents fall in ~90 trust levels and a
/// handful of regions, so a rule's agent parts are evaluated ~100 times, not 1,000).
#[derive(Default)]
struct Classes {
    sets: Vec<ClassSet>,
    by_attributes: HashMap<u8, usize>,
}

/// The classes of agents alike in one set of attributes.
struct ClassSet {
    /// Each agent's class.
    class_of: Vec<usize>,
    /// The first agent of each class.
    firsts: Vec<usize>,
    /// The rules whose agent parts read these attributes.
    rules: Vec<usize>,
    /// Per class, once asked: which of `rules` may hold for its agents.
    holds: Vec<Option<Bits>>,
}

impl Classes {
    /// The classes of agents alike in `attrs`, as an index into `sets`.
    fn of(&mut self, plan: &Plan, attrs: u8) -> usize {
        if let Some(at) = self.by_attributes.get(&attrs) {
            return *at;
        }
        let set = {
            let mut ids: rustc_hash::FxHashMap<Vec<u8>, usize> = Default::default();
            let mut class_of = Vec::with_capacity(plan.agents.len());
            let mut firsts = Vec::new();
            for (a, agent) in plan.agents.iter().enumerate() {
                let n = ids.len();
                let c = *ids.entry(key(agent, attrs)).or_insert(n);
                if c == n {
                    firsts.push(a);
                }
                class_of.push(c);
            }
            ClassSet {
                class_of,
                firsts,
                rules: Vec::new(),
                holds: Vec::new(),
            }
        };
        self.sets.push(set);
        self.by_attributes.insert(attrs, self.sets.len() - 1);
        self.sets.len() - 1
    }
}

/// What an agent's attributes in `attrs` are, as bytes (equal bytes, equal attributes): each
/// number by its bits, each string and list by its length and then its contents. Written
/// without `write!`: after an edit, the analysis sorts every agent into classes once per
/// kind of rule.
fn key(a: &Agent, attrs: u8) -> Vec<u8> {
    fn text(k: &mut Vec<u8>, s: &str) {
        k.extend_from_slice(&(s.len() as u64).to_le_bytes());
        k.extend_from_slice(s.as_bytes());
    }
    let mut k = Vec::new();
    if attrs & 1 != 0 {
        k.extend_from_slice(&a.trust.to_bits().to_le_bytes());
    }
    if attrs & 2 != 0 {
        k.extend_from_slice(&a.cost.to_bits().to_le_bytes());
    }
    if attrs & 4 != 0 {
        text(&mut k, &a.region);
    }
    if attrs & 8 != 0 {
        text(&mut k, &a.zone);
    }
    if attrs & 16 != 0 {
        text(&mut k, &a.name);
    }
    if attrs & 32 != 0 {
        // Labels are rare; their debug text tells them apart.
        text(&mut k, &format!("{:?}", a.labels));
    }
    if attrs & 64 != 0 {
        k.extend_from_slice(&(a.provides.len() as u64).to_le_bytes());
        for cap in &a.provides {
            k.extend_from_slice(&cap.to_le_bytes());
        }
    }
    k
}

/// A set of rule indexes, one bit each.
#[derive(Clone, Default)]
struct Bits(Vec<u64>);

impl Bits {
    fn new(n: usize) -> Bits {
        Bits(vec![0; n.div_ceil(64)])
    }

    /// How many rules it can hold.
    fn len(&self) -> usize {
        self.0.len() * 64
    }

    fn set(&mut self, k: usize) {
        if let Some(w) = self.0.get_mut(k / 64) {
            *w |= 1 << (k % 64);
        }
    }

    /// Both; a set shorter than the other holds nothing past its end.
    fn and(&self, o: &Bits) -> Bits {
        Bits(self.0.iter().zip(&o.0).map(|(a, b)| a & b).collect())
    }

    /// Either (of two sets of the same length).
    fn or(&self, o: &Bits) -> Bits {
        Bits(self.0.iter().zip(&o.0).map(|(a, b)| a | b).collect())
    }

    /// The indexes in the set, in increasing order.
    fn indexes(&self) -> Vec<usize> {
        let mut out = Vec::with_capacity(self.0.iter().map(|w| w.count_ones() as usize).sum());
        for (i, w) in self.0.iter().enumerate() {
            let mut w = *w;
            while w != 0 {
                out.push(i * 64 + w.trailing_zeros() as usize);
                w &= w - 1;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::Bits;

    #[test]
    fn rule_sets_meet_and_list_in_order() {
        let mut a = Bits::new(130);
        let mut b = Bits::new(130);
        for k in [0, 5, 64, 129] {
            a.set(k);
        }
        for k in [5, 63, 129] {
            b.set(k);
        }
        assert_eq!(a.and(&b).indexes(), vec![5, 129]);
        assert_eq!(a.or(&b).indexes(), vec![0, 5, 63, 64, 129]);
        // A set with no rules of a kind is as long as the others: `or` keeps what they hold.
        assert_eq!(a.or(&Bits::new(130)).indexes(), vec![0, 5, 64, 129]);
    }
}
