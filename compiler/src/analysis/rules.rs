//! Policy rules that do nothing: a `permit` that grants nothing beyond clearance and earlier
//! permits, or that a `forbid` always overrides, and an `escalate` rule that never fires
//! (its condition never holds where an authorized agent takes a step, or earlier escalation
//! rules always fire first). Each verdict is a proof over every reachable site.

use super::policy::{SiteRegions, StepAt};
use super::region::{Cube, Domains, Region};
use super::{Finding, Space};
use intent_runtime::plan::{Plan, RuleKind};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;
use std::sync::Arc;

/// What one rule did across sites: at one site, at the sites of one intent, or across all.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    /// Some site where the rule has an effect (or where the analysis could not tell).
    alive: bool,
    /// Some site where the rule's condition holds where it could matter.
    applies: bool,
    /// Some site where it survives the forbids (permits only).
    beats_forbids: bool,
    by: Vec<usize>,
    /// Not looked at here, since it was alive at a site analysed before in the same batch:
    /// it is alive anyway when the batch is combined, but a part kept for later is not
    /// complete for it (see `Memo`).
    skipped: bool,
}

impl Tally {
    /// Adds what the rule did at other sites: a rule is reported only when it is alive at
    /// none, so the flags are "at some site" and `by` collects, in order of first mention.
    pub fn merge(&mut self, o: &Tally) {
        self.alive |= o.alive;
        self.applies |= o.applies;
        self.beats_forbids |= o.beats_forbids;
        self.skipped |= o.skipped;
        for k in &o.by {
            if !self.by.contains(k) {
                self.by.push(*k);
            }
        }
    }

    /// Whether the rule does nothing at the sites tallied, though some of them did not look
    /// at it (`skipped`): those must be looked at again before anything is reported.
    pub fn incomplete(&self) -> bool {
        self.skipped && !self.alive
    }

    /// Whether the rule has an effect at some site (or the analysis could not tell).
    pub fn is_alive(&self) -> bool {
        self.alive
    }

    /// Counts the rule alive (at a site that makes no claim about it).
    pub fn mark_alive(&mut self) {
        self.alive = true;
    }

    /// Whether some site did not look at the rule.
    pub fn skipped(&self) -> bool {
        self.skipped
    }
}

/// The tallies of the rules one site says something about.
type SiteTally = Vec<(usize, Tally)>;

/// A new tally for rule `k` at a site: a rule is among a site's permits or its escalation
/// rules at most once, and `at_site` looks at each once.
fn push(tally: &mut SiteTally, k: usize) -> &mut Tally {
    tally.push((k, Tally::default()));
    let last = tally.len() - 1;
    &mut tally[last].1
}

/// Adds to `by` the rules of `rules` (each rule at most once there) whose regions meet `r`.
fn note(by: &mut Vec<usize>, rules: &[(usize, Rc<Region>)], r: &Region) {
    // Rules whose regions are one shared value meet `r` alike: asked once per value.
    let mut asked: Vec<(*const Region, bool)> = Vec::new();
    for (k, x) in rules {
        if by.contains(k) {
            continue;
        }
        let at = Rc::as_ptr(x);
        let meets = match asked.iter().find(|(p, _)| *p == at) {
            Some((_, m)) => *m,
            None => {
                let m = x.meets(r);
                asked.push((at, m));
                m
            }
        };
        if meets {
            by.push(*k);
        }
    }
}

/// Whether `r` is the region of one of `earlier` (so `earlier` covers whatever lies in it).
fn among(earlier: &[(usize, Rc<Region>)], r: &Rc<Region>) -> bool {
    earlier.iter().any(|(_, x)| Rc::ptr_eq(x, r))
}

/// `region` (where rule `x`, one of a site's permits or escalation rules, has an effect) when
/// the earlier rules of its kind, `earlier`, cover it, so the rule adds nothing there;
/// `None` when it adds something or that is too costly to prove.
fn covered_by(
    earlier: &[(usize, Rc<Region>)],
    x: &Rc<Region>,
    region: Region,
    d: &Domains,
) -> Option<Region> {
    if among(earlier, x) {
        return Some(region);
    }
    match Region::minus(region.cubes.clone(), distinct(earlier), d) {
        Some(r) if r.is_empty() => Some(region),
        _ => None,
    }
}

/// The cubes of the regions of `rules`, each region (by address) once: subtracting a region
/// a second time changes nothing.
fn distinct(rules: &[(usize, Rc<Region>)]) -> impl Iterator<Item = &Cube> {
    let mut seen: Vec<*const Region> = Vec::new();
    rules
        .iter()
        .filter(move |(_, r)| {
            let at = Rc::as_ptr(r);
            let new = !seen.contains(&at);
            if new {
                seen.push(at);
            }
            new
        })
        .flat_map(|(_, r)| &r.cubes)
}

/// What one site says about the rules, worked out once per batch.
pub struct SiteSays {
    site: Rc<SiteRegions>,
    tally: SiteTally,
    overflow: Overflow,
    /// Which rules cover a rule that does nothing here, left for later ([`resolve`]).
    notes: Vec<Note>,
}

/// Which of a site's lists of rules a [`Note`] reads.
#[derive(Clone, Copy)]
enum List {
    Forbids,
    /// The first `n` permits.
    Permits(usize),
    /// The first `n` escalation rules.
    Escalates(usize),
}

/// The rules of `list` whose regions meet `r` cover rule `rule` at a site. Kept by a batch
/// whose parts are kept, and worked out only for the rules alive nowhere in the batch, the
/// only ones that may be reported.
struct Note {
    rule: usize,
    list: List,
    r: Rc<Region>,
}

/// The rules of `s` a note reads.
fn list_of(s: &SiteRegions, l: List) -> &[(usize, Rc<Region>)] {
    match l {
        List::Forbids => &s.forbids,
        List::Permits(n) => s.permits.get(..n).unwrap_or_default(),
        List::Escalates(n) => s.escalates.get(..n).unwrap_or_default(),
    }
}

/// Where [`at_site`] puts which rules cover a rule that does nothing at a site.
enum Notes<'a> {
    /// Kept, and worked out only for the rules alive nowhere in the batch ([`resolve`]):
    /// the rule's tally at the site is `skipped` until then.
    Later(Vec<Note>),
    /// Worked out at once into each rule's `by` over every site so far, where one batch
    /// covers the whole plan and nothing is kept ([`tally_all`]).
    Now(&'a mut [Vec<usize>]),
}

impl Notes<'_> {
    fn add(&mut self, s: &SiteRegions, t: &mut Tally, rule: usize, list: List, r: Rc<Region>) {
        match self {
            Notes::Later(notes) => {
                t.skipped = true;
                notes.push(Note { rule, list, r });
            }
            Notes::Now(by) => {
                if let Some(by) = by.get_mut(rule) {
                    note(by, list_of(s, list), &r);
                }
            }
        }
    }
}

/// What the rules did at the sites of one intent.
pub struct IntentTally {
    /// By rule.
    pub rules: Vec<(usize, Tally)>,
    /// The rules past the limit of one of its sites.
    pub overflow: Vec<Overflow>,
    /// Its sites, each once, in order.
    pub sites: Vec<Rc<SiteSays>>,
}

/// What the rules did at the sites of `steps` (one intent's), by rule, with those sites. A
/// site shared with other intents' steps is worked out once per batch (`done`, by address),
/// and equal overflows are one value (`overflows`).
/// With `alive` (by rule: alive at some site of the batch so far), a rule alive already is
/// not looked at again (`Tally::skipped`): nothing more can be learnt about it in this batch.
pub fn tally(
    space: &Space<'_>,
    steps: &[StepAt<'_>],
    done: &mut HashMap<*const SiteRegions, Rc<SiteSays>>,
    overflows: &mut HashSet<Overflow>,
    mut alive: Option<&mut Vec<bool>>,
) -> IntentTally {
    let mut out: Vec<(usize, Tally)> = Vec::new();
    let mut overflow = Vec::new();
    let mut sites = Vec::new();
    // A site shared by several steps says the same thing each time: looked at once.
    let mut seen: HashSet<*const SiteRegions> = HashSet::new();
    for st in steps {
        for s in &st.sites {
            if !seen.insert(Rc::as_ptr(s)) {
                continue;
            }
            let here = done.entry(Rc::as_ptr(s)).or_insert_with(|| {
                let skip = alive.as_deref().map(Vec::as_slice).unwrap_or_default();
                let mut notes = Notes::Later(Vec::new());
                let tally = at_site(space, s, skip, &mut notes);
                let notes = match notes {
                    Notes::Later(notes) => notes,
                    Notes::Now(_) => Vec::new(),
                };
                if let Some(alive) = alive.as_mut() {
                    let now = tally.iter().filter(|(_, t)| t.alive).map(|(k, _)| k);
                    for k in now.chain(&s.overflow) {
                        if let Some(flag) = alive.get_mut(*k) {
                            *flag = true;
                        }
                    }
                }
                // Sites of one agent share their overflow: one value each, so that merging
                // the parts looks at it once (30 distinct lists for 1,200 sites on the bench).
                let overflow = match overflows.get(s.overflow.as_slice()) {
                    Some(o) => Arc::clone(o),
                    None => {
                        let o: Overflow = s.overflow.as_slice().into();
                        overflows.insert(Arc::clone(&o));
                        o
                    }
                };
                Rc::new(SiteSays {
                    site: Rc::clone(s),
                    tally,
                    overflow,
                    notes,
                })
            });
            out.extend(here.tally.iter().cloned());
            if !here.overflow.is_empty() {
                overflow.push(Arc::clone(&here.overflow));
            }
            sites.push(Rc::clone(here));
        }
    }
    // By rule, each rule's tallies merged in the order of the sites (the sort is stable).
    out.sort_by_key(|(k, _)| *k);
    let mut merged: Vec<(usize, Tally)> = Vec::with_capacity(out.len());
    for (k, t) in out {
        match merged.last_mut() {
            Some((j, all)) if *j == k => all.merge(&t),
            _ => merged.push((k, t)),
        }
    }
    IntentTally {
        rules: merged,
        overflow,
        sites,
    }
}

/// What each rule did across the sites of `steps` (every intent's, in order), each site
/// looked at once, as one batch whose tallies are not kept per intent: a rule alive at one
/// site is not looked at again, and which rules cover a rule is worked out at once.
pub fn tally_all(space: &Space<'_>, steps: &[StepAt<'_>]) -> Vec<Tally> {
    let n = space.plan.rules.len();
    let mut tally = vec![Tally::default(); n];
    let mut alive = vec![false; n];
    let mut by: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut seen: HashSet<*const SiteRegions> = HashSet::new();
    for s in steps.iter().flat_map(|st| &st.sites) {
        if !seen.insert(Rc::as_ptr(s)) {
            continue;
        }
        for (k, t) in at_site(space, s, &alive, &mut Notes::Now(&mut by)) {
            if let (Some(all), Some(flag)) = (tally.get_mut(k), alive.get_mut(k)) {
                all.merge(&t);
                *flag |= t.alive;
            }
        }
        for k in &s.overflow {
            if let (Some(all), Some(flag)) = (tally.get_mut(*k), alive.get_mut(*k)) {
                all.mark_alive();
                *flag = true;
            }
        }
    }
    for (t, by) in tally.iter_mut().zip(by) {
        t.by = by;
        t.skipped = false;
    }
    tally
}

/// Works out `by` for the rules of `part` (one intent's tally over `sites`) that `dead`
/// marks (alive nowhere in the batch, so possibly reported), from the sites' notes.
pub fn resolve(part: &mut [(usize, Tally)], sites: &[Rc<SiteSays>], dead: &[bool]) {
    let is_dead = |k: usize| dead.get(k) == Some(&true);
    if !part.iter().any(|(k, t)| t.skipped && is_dead(*k)) {
        return;
    }
    // In the order of the sites, as if every note had been worked out at once.
    let mut by: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for said in sites {
        for n in said.notes.iter().filter(|n| is_dead(n.rule)) {
            note(
                by.entry(n.rule).or_default(),
                list_of(&said.site, n.list),
                &n.r,
            );
        }
    }
    for (k, t) in part.iter_mut().filter(|(k, _)| is_dead(*k)) {
        t.by = by.remove(k).unwrap_or_default();
        t.skipped = false;
    }
}

/// The rules past a site's limit (`SiteRegions::overflow`), alive there; shared by every
/// intent the site serves, since there may be hundreds.
pub type Overflow = Arc<[usize]>;

/// What the rules do at one site; those `skip` marks (alive at another site of the batch)
/// are not looked at, and counted `skipped`. Which rules cover a rule goes to `notes`.
fn at_site(space: &Space<'_>, s: &SiteRegions, skip: &[bool], notes: &mut Notes<'_>) -> SiteTally {
    let d = &space.domains;
    let mut tally = SiteTally::new();
    let mut defer = |t: &mut Tally, rule: usize, list: List, r: Rc<Region>| {
        notes.add(s, t, rule, list, r);
    };
    let leaves = |k: usize| skip.get(k) == Some(&true);
    for (k, _) in s.permits.iter().chain(&s.escalates) {
        if leaves(*k) {
            push(&mut tally, *k).skipped = true;
        }
    }
    if !s.cleared && !s.permits.is_empty() {
        for (n, (k, p)) in s.permits.iter().enumerate() {
            if leaves(*k) {
                continue;
            }
            let t = push(&mut tally, *k);
            t.applies = true;
            // A forbid covers the whole site, so every permit's region.
            if s.closed {
                defer(t, *k, List::Forbids, Rc::clone(p));
                continue;
            }
            let forbids = s.forbidden.iter().flat_map(|r| &r.cubes);
            let Some(rest) = Region::minus(p.cubes.clone(), forbids, d) else {
                t.alive = true;
                continue;
            };
            if rest.is_empty() {
                defer(t, *k, List::Forbids, Rc::clone(p));
                continue;
            }
            t.beats_forbids = true;
            let earlier = s.permits.get(..n).unwrap_or_default();
            match covered_by(earlier, p, rest, d) {
                Some(rest) => defer(t, *k, List::Permits(n), Rc::new(rest)),
                None => t.alive = true,
            }
        }
    }
    let Some(allowed) = &s.allowed else {
        for (k, _) in s.escalates.iter().filter(|(k, _)| !leaves(*k)) {
            push(&mut tally, *k).alive = true;
        }
        return tally;
    };
    for (n, (k, e)) in s.escalates.iter().enumerate() {
        if leaves(*k) {
            continue;
        }
        let t = push(&mut tally, *k);
        // Too large to build: no claim about this rule.
        let Some(here) = e.intersect(allowed) else {
            t.applies = true;
            t.alive = true;
            continue;
        };
        if here.is_empty() {
            continue;
        }
        t.applies = true;
        let earlier = s.escalates.get(..n).unwrap_or_default();
        match covered_by(earlier, e, here, d) {
            Some(here) => defer(t, *k, List::Escalates(n), Rc::new(here)),
            None => t.alive = true,
        }
    }
    tally
}

/// The rules that do nothing, from what each did across every intent's sites.
pub fn report(plan: &Plan, tally: Vec<Tally>, out: &mut Vec<Finding>) {
    for (k, (rule, t)) in plan.rules.iter().zip(tally).enumerate() {
        if t.alive {
            continue;
        }
        match rule.kind {
            RuleKind::Permit if t.applies && !t.beats_forbids => {
                out.push(Finding::PermitOverridden { rule: k, by: t.by })
            }
            RuleKind::Permit => out.push(Finding::PermitGrantsNothing {
                rule: k,
                by: if t.applies { t.by } else { Vec::new() },
            }),
            RuleKind::Escalate => out.push(Finding::EscalateNeverFires {
                rule: k,
                by: if t.applies { t.by } else { Vec::new() },
            }),
            _ => {}
        }
    }
}
