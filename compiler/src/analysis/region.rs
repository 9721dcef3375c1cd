//! Regions of the decision space: a [`Cube`] is a conjunction of per-variable constraints
//! (a variable not named is unconstrained), a [`Region`] is a union of cubes (a condition in
//! disjunctive normal form). Subtraction splits a cube into disjoint pieces, so "what no arm
//! covers" is a region whose every cube can be asked for a witness.

use super::set::VarSet;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A variable of the decision space.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Var {
    Confidence,
    Depth,
    /// A scalar context field, by path (shared: variables are cloned into every cube).
    Field(Arc<[String]>),
    ResponseConfidence,
    /// Whether the response carries this data class.
    ResponseData(u32),
    /// The request's caller, by agent name: absent for an anonymous caller (or one the plan
    /// does not declare). Every `caller.*` operand is a function of it.
    Caller,
    /// A condition the analysis does not look into, as an independent boolean: sound for
    /// every inclusion it proves, while its witnesses must be confirmed by the runtime.
    Opaque(u32),
}

/// The domain of every variable in use: what "unconstrained" means for it.
#[derive(Debug, Clone, Default)]
pub struct Domains {
    pub of: BTreeMap<Var, VarSet>,
}

/// A conjunction of constraints; every set is a non-empty subset of its variable's domain.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Cube {
    pub vars: BTreeMap<Var, VarSet>,
}

/// A union of cubes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Region {
    pub cubes: Vec<Cube>,
}

/// How many cubes a region may hold: an intersection or a difference that would grow past
/// this stops while it is being built (never after), and the caller makes no claim from it.
pub const MAX_CUBES: usize = 2048;

impl Cube {
    pub fn intersect(&self, o: &Cube) -> Option<Cube> {
        let mut vars = self.vars.clone();
        for (v, s) in &o.vars {
            let merged = match vars.get(v) {
                Some(mine) => mine.intersect(s)?,
                None => s.clone(),
            };
            if merged.is_empty() {
                return None;
            }
            vars.insert(v.clone(), merged);
        }
        Some(Cube { vars })
    }

    /// Whether no point lies in both (what `intersect` returning `None` says, without
    /// building the intersection).
    pub fn disjoint(&self, o: &Cube) -> bool {
        o.vars.iter().any(|(v, s)| match self.vars.get(v) {
            Some(mine) => !mine.meets(s),
            None => s.is_empty(),
        })
    }

    /// `self` minus `o`, as disjoint cubes.
    pub fn subtract(&self, o: &Cube, d: &Domains) -> Vec<Cube> {
        // `o` constrains nothing `self` does not constrain alike: `self` lies inside it. The
        // common case (a rule's region cut from the same reach as the cube), answered
        // without copying anything.
        if o.vars.iter().all(|(v, s)| self.vars.get(v) == Some(s)) {
            return Vec::new();
        }
        if self.disjoint(o) {
            return vec![self.clone()];
        }
        self.split(o, d)
    }

    /// `self` minus `o` for a cube `o` meets, as disjoint cubes.
    fn split(&self, o: &Cube, d: &Domains) -> Vec<Cube> {
        let mut out = Vec::new();
        let mut rest = self.clone();
        for (v, s) in &o.vars {
            let Some(dom) = d.of.get(v) else { continue };
            let mine = rest.vars.get(v).cloned().unwrap_or_else(|| dom.clone());
            // The part of `rest` outside `o` on this variable...
            if let Some(outside) = s.complement_in(dom).and_then(|c| c.intersect(&mine)) {
                if !outside.is_empty() {
                    let mut piece = rest.clone();
                    piece.vars.insert(v.clone(), outside);
                    out.push(piece);
                }
            }
            // ...and what remains is inside `o` on it.
            match s.intersect(&mine) {
                Some(inside) if !inside.is_empty() => {
                    rest.vars.insert(v.clone(), inside);
                }
                _ => return out,
            }
        }
        out
    }
}

impl Region {
    pub fn empty() -> Region {
        Region { cubes: Vec::new() }
    }

    pub fn all() -> Region {
        Region {
            cubes: vec![Cube::default()],
        }
    }

    pub fn is_empty(&self) -> bool {
        self.cubes.is_empty()
    }

    pub fn union(mut self, o: Region) -> Region {
        self.cubes.extend(o.cubes);
        self
    }

    /// The union of borrowed regions, each cube copied once.
    pub fn union_of<'r>(rs: impl IntoIterator<Item = &'r Region>) -> Region {
        Region {
            cubes: rs
                .into_iter()
                .flat_map(|r| r.cubes.iter().cloned())
                .collect(),
        }
    }

    /// `self` and `o` both; `None` when that would hold more than [`MAX_CUBES`] cubes (the
    /// product of two unions grows as the product of their sizes: it stops at the bound while
    /// it is built, so no condition can take more than bounded time and memory).
    pub fn intersect(&self, o: &Region) -> Option<Region> {
        let mut cubes = Vec::new();
        for a in &self.cubes {
            for b in &o.cubes {
                if a.disjoint(b) {
                    continue;
                }
                if let Some(c) = a.intersect(b) {
                    if cubes.len() >= MAX_CUBES {
                        return None;
                    }
                    cubes.push(c);
                }
            }
        }
        Some(Region { cubes })
    }

    /// `self` within one cube: never larger than `self`, so it needs no bound.
    pub fn restrict(&self, c: &Cube) -> Region {
        Region {
            cubes: self.cubes.iter().filter_map(|a| a.intersect(c)).collect(),
        }
    }

    /// Whether the two share a point (`intersect` non-empty), without building anything.
    pub fn meets(&self, o: &Region) -> bool {
        self.cubes
            .iter()
            .any(|a| o.cubes.iter().any(|b| !a.disjoint(b)))
    }

    /// `self` minus `o`; `None` when the result would grow past [`MAX_CUBES`] (the caller
    /// must then stay conservative).
    pub fn subtract(&self, o: &Region, d: &Domains) -> Option<Region> {
        Region::minus(self.cubes.clone(), &o.cubes, d)
    }

    /// The cubes `cur` minus every cube of `o` (a union, given cube by cube so that it need
    /// not be built); `None` as for [`Region::subtract`].
    pub fn minus<'r>(
        mut cur: Vec<Cube>,
        o: impl IntoIterator<Item = &'r Cube>,
        d: &Domains,
    ) -> Option<Region> {
        for b in o {
            // Cubes `b` misses are moved on, not copied; those inside it vanish.
            let mut next = Vec::with_capacity(cur.len());
            for a in cur {
                if b.vars.iter().all(|(v, s)| a.vars.get(v) == Some(s)) {
                    continue;
                }
                if a.disjoint(b) {
                    next.push(a);
                } else {
                    next.extend(a.split(b, d));
                }
            }
            if next.len() > MAX_CUBES {
                return None;
            }
            cur = next;
            if cur.is_empty() {
                break;
            }
        }
        Some(Region { cubes: cur })
    }

    /// Whether `self` lies inside `o`: `Some(true)` proved, `Some(false)` refuted, `None` too
    /// large to decide.
    pub fn within(&self, o: &Region, d: &Domains) -> Option<bool> {
        self.subtract(o, d).map(|r| r.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::super::set::{End, NumSet, Vals};
    use super::*;

    fn conf(lo: f64, lo_closed: bool, hi: f64, hi_closed: bool) -> Cube {
        let set = NumSet::interval(
            End {
                v: lo,
                closed: lo_closed,
            },
            End {
                v: hi,
                closed: hi_closed,
            },
        );
        let mut vars = BTreeMap::new();
        vars.insert(
            Var::Confidence,
            VarSet {
                absent: false,
                vals: Vals::Num {
                    set,
                    integer: false,
                },
            },
        );
        Cube { vars }
    }

    fn domains() -> Domains {
        let mut d = Domains::default();
        d.of.insert(
            Var::Confidence,
            conf(0.0, true, 1.0, true).vars[&Var::Confidence].clone(),
        );
        d
    }

    #[test]
    fn subtracting_two_halves_leaves_the_middle() {
        let d = domains();
        let all = Region {
            cubes: vec![conf(0.0, true, 1.0, true)],
        };
        let arms = Region {
            cubes: vec![conf(0.0, true, 0.5, false), conf(0.8, true, 1.0, true)],
        };
        let rest = all.subtract(&arms, &d).unwrap();
        assert_eq!(rest.cubes, vec![conf(0.5, true, 0.8, false)]);
    }

    #[test]
    fn closed_halves_cover_everything() {
        let d = domains();
        let all = Region {
            cubes: vec![conf(0.0, true, 1.0, true)],
        };
        let arms = Region {
            cubes: vec![conf(0.0, true, 0.5, false), conf(0.5, true, 1.0, true)],
        };
        assert_eq!(all.within(&arms, &d), Some(true));
    }
}
