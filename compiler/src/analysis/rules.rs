//! Policy rules that do nothing: a `permit` that grants nothing beyond clearance and earlier
//! permits, or that a `forbid` always overrides, and an `escalate` rule that never fires
//! (its condition never holds where an authorized agent takes a step, or earlier escalation
//! rules always fire first). Each verdict is a proof over every reachable site.

use super::policy::{SiteRegions, StepAt};
use super::region::{Cube, Region};
use super::{Finding, Space};
use intent_runtime::plan::RuleKind;
use std::collections::HashSet;
use std::rc::Rc;

/// What one rule did across all sites.
#[derive(Default)]
struct Tally {
    /// Some site where the rule has an effect (or where the analysis could not tell).
    alive: bool,
    /// Some site where the rule's condition holds where it could matter.
    applies: bool,
    /// Some site where it survives the forbids (permits only).
    beats_forbids: bool,
    by: Vec<usize>,
}

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

pub fn check(space: &Space<'_>, steps: &[StepAt<'_>], out: &mut Vec<Finding>) {
    let plan = space.plan;
    let d = &space.domains;
    let mut tally: Vec<Tally> = plan.rules.iter().map(|_| Tally::default()).collect();
    // A site shared by several steps says the same thing each time: looked at once.
    let mut seen: HashSet<*const SiteRegions> = HashSet::new();
    for st in steps {
        for s in &st.sites {
            if !seen.insert(Rc::as_ptr(s)) {
                continue;
            }
            // Rules past the site's limit: no claim about them.
            for k in &s.overflow {
                if let Some(t) = tally.get_mut(*k) {
                    t.alive = true;
                }
            }
            if !s.cleared && !s.permits.is_empty() {
                for (n, (k, p)) in s.permits.iter().enumerate() {
                    let Some(t) = tally.get_mut(*k) else { continue };
                    // A rule alive at some site is never reported: nothing more to learn.
                    if t.alive {
                        continue;
                    }
                    t.applies = true;
                    // A forbid covers the whole site, so every permit's region.
                    if s.closed {
                        note(&mut t.by, &s.forbids, p);
                        continue;
                    }
                    let forbids = s.forbidden.iter().flat_map(|r| &r.cubes);
                    let Some(rest) = Region::minus(p.cubes.clone(), forbids, d) else {
                        t.alive = true;
                        continue;
                    };
                    if rest.is_empty() {
                        note(&mut t.by, &s.forbids, p);
                        continue;
                    }
                    t.beats_forbids = true;
                    let earlier = s.permits.get(..n).unwrap_or_default();
                    if among(earlier, p) {
                        note(&mut t.by, earlier, &rest);
                        continue;
                    }
                    match Region::minus(rest.cubes.clone(), distinct(earlier), d) {
                        Some(r) if r.is_empty() => note(&mut t.by, earlier, &rest),
                        _ => t.alive = true,
                    }
                }
            }
            let Some(allowed) = &s.allowed else {
                for (k, _) in &s.escalates {
                    if let Some(t) = tally.get_mut(*k) {
                        t.alive = true;
                    }
                }
                continue;
            };
            for (n, (k, e)) in s.escalates.iter().enumerate() {
                let Some(t) = tally.get_mut(*k) else { continue };
                if t.alive {
                    continue;
                }
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
                if among(earlier, e) {
                    note(&mut t.by, earlier, &here);
                    continue;
                }
                match Region::minus(here.cubes.clone(), distinct(earlier), d) {
                    Some(r) if r.is_empty() => note(&mut t.by, earlier, &here),
                    _ => t.alive = true,
                }
            }
        }
    }
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
