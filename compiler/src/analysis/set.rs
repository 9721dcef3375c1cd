//! The values one variable of the decision space may take: a union of numeric intervals (with
//! open or closed ends), or a finite or co-finite set of strings, plus whether the variable may
//! be absent (an optional context field). Every set is closed under intersection and
//! complement, which is all that region arithmetic needs.

use std::collections::BTreeSet;
use std::sync::Arc;

/// One end of an interval; `v` is infinite for an unbounded end (then `closed` is false).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct End {
    pub v: f64,
    pub closed: bool,
}

/// A non-empty interval of the real line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub lo: End,
    pub hi: End,
}

impl Interval {
    pub fn new(lo: End, hi: End) -> Option<Interval> {
        let ok = lo.v < hi.v || (lo.v == hi.v && lo.closed && hi.closed);
        ok.then_some(Interval { lo, hi })
    }

    pub fn all() -> Interval {
        Interval {
            lo: End {
                v: f64::NEG_INFINITY,
                closed: false,
            },
            hi: End {
                v: f64::INFINITY,
                closed: false,
            },
        }
    }

    /// The smallest integer inside, if any.
    pub fn first_integer(&self) -> Option<f64> {
        let mut n = self.lo.v.ceil();
        if n == self.lo.v && !self.lo.closed {
            n += 1.0;
        }
        if !n.is_finite() {
            n = if self.hi.v.is_finite() {
                self.hi.v.floor().min(0.0)
            } else {
                0.0
            };
        }
        self.contains(n).then_some(n)
    }

    pub fn contains(&self, x: f64) -> bool {
        let above = x > self.lo.v || (x == self.lo.v && self.lo.closed);
        let below = x < self.hi.v || (x == self.hi.v && self.hi.closed);
        above && below
    }

    fn intersect(&self, o: &Interval) -> Option<Interval> {
        let lo = if self.lo.v > o.lo.v || (self.lo.v == o.lo.v && !self.lo.closed) {
            self.lo
        } else {
            o.lo
        };
        let hi = if self.hi.v < o.hi.v || (self.hi.v == o.hi.v && !self.hi.closed) {
            self.hi
        } else {
            o.hi
        };
        Interval::new(lo, hi)
    }
}

/// A union of disjoint intervals, sorted.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NumSet {
    pub parts: Vec<Interval>,
}

impl NumSet {
    pub fn all() -> NumSet {
        NumSet {
            parts: vec![Interval::all()],
        }
    }

    pub fn interval(lo: End, hi: End) -> NumSet {
        NumSet {
            parts: Interval::new(lo, hi).into_iter().collect(),
        }
    }

    pub fn point(x: f64) -> NumSet {
        let e = End { v: x, closed: true };
        NumSet::interval(e, e)
    }

    pub fn intersect(&self, o: &NumSet) -> NumSet {
        let mut parts = Vec::new();
        for a in &self.parts {
            for b in &o.parts {
                parts.extend(a.intersect(b));
            }
        }
        parts.sort_by(|x, y| x.lo.v.total_cmp(&y.lo.v));
        NumSet { parts }
    }

    pub fn complement(&self) -> NumSet {
        let mut parts = Vec::new();
        let mut lo = End {
            v: f64::NEG_INFINITY,
            closed: false,
        };
        for p in &self.parts {
            let hi = End {
                v: p.lo.v,
                closed: !p.lo.closed,
            };
            parts.extend(Interval::new(lo, hi));
            lo = End {
                v: p.hi.v,
                closed: !p.hi.closed,
            };
        }
        let hi = End {
            v: f64::INFINITY,
            closed: false,
        };
        if lo.v.is_finite() || lo.v == f64::NEG_INFINITY {
            parts.extend(Interval::new(lo, hi));
        }
        NumSet { parts }
    }

    pub fn union(&self, o: &NumSet) -> NumSet {
        self.complement().intersect(&o.complement()).complement()
    }
}

/// A set of strings (booleans are the strings `true` and `false`): finite, or everything but
/// finitely many.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StrSet {
    Only(Names),
    AllBut(Names),
}

/// A finite set of strings, shared: cubes are copied at every step of region arithmetic and
/// their sets rarely change, so a copy is a reference count, and an operation whose result
/// is one of its operands returns that operand rather than a new set.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Names(Arc<BTreeSet<String>>);

impl std::ops::Deref for Names {
    type Target = BTreeSet<String>;
    fn deref(&self) -> &BTreeSet<String> {
        &self.0
    }
}

impl std::fmt::Debug for Names {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl FromIterator<String> for Names {
    fn from_iter<I: IntoIterator<Item = String>>(it: I) -> Names {
        Names(Arc::new(it.into_iter().collect()))
    }
}

impl From<BTreeSet<String>> for Names {
    fn from(s: BTreeSet<String>) -> Names {
        Names(Arc::new(s))
    }
}

impl StrSet {
    pub fn one(s: &str) -> StrSet {
        StrSet::Only(std::iter::once(s.to_string()).collect())
    }

    pub fn intersect(&self, o: &StrSet) -> StrSet {
        match (self, o) {
            (StrSet::Only(a), StrSet::Only(b)) => StrSet::Only(if a.is_subset(b) {
                a.clone()
            } else if b.is_subset(a) {
                b.clone()
            } else {
                a.intersection(b).cloned().collect()
            }),
            (StrSet::Only(a), StrSet::AllBut(b)) | (StrSet::AllBut(b), StrSet::Only(a)) => {
                StrSet::Only(if a.is_disjoint(b) {
                    a.clone()
                } else {
                    a.difference(b).cloned().collect()
                })
            }
            (StrSet::AllBut(a), StrSet::AllBut(b)) => StrSet::AllBut(if b.is_subset(a) {
                a.clone()
            } else if a.is_subset(b) {
                b.clone()
            } else {
                a.union(b).cloned().collect()
            }),
        }
    }

    pub fn complement(&self) -> StrSet {
        match self {
            StrSet::Only(a) => StrSet::AllBut(a.clone()),
            StrSet::AllBut(a) => StrSet::Only(a.clone()),
        }
    }
}

/// What a variable's values are made of.
#[derive(Debug, Clone, PartialEq)]
pub enum Vals {
    Num { set: NumSet, integer: bool },
    Str(StrSet),
}

/// The values a variable may take, `absent` included for optional fields.
#[derive(Debug, Clone, PartialEq)]
pub struct VarSet {
    pub absent: bool,
    pub vals: Vals,
}

impl VarSet {
    /// Feeds the set to `h` as [`VarSet::eq_exact`] compares it.
    pub fn hash_exact<H: std::hash::Hasher>(&self, h: &mut H) {
        use std::hash::Hash;
        self.absent.hash(h);
        match &self.vals {
            Vals::Num { set, integer } => {
                integer.hash(h);
                set.parts.len().hash(h);
                for p in &set.parts {
                    for e in [p.lo, p.hi] {
                        e.v.to_bits().hash(h);
                        e.closed.hash(h);
                    }
                }
            }
            Vals::Str(s) => {
                let (only, names) = match s {
                    StrSet::Only(n) => (true, n),
                    StrSet::AllBut(n) => (false, n),
                };
                only.hash(h);
                names.len().hash(h);
                names.iter().for_each(|n| n.hash(h));
            }
        }
    }

    /// Whether the two sets are the same value, numbers compared by their bits: `0` and `-0`
    /// differ (as their texts do), so a region shared by this equality is the very region
    /// each place would have worked out, down to the witnesses printed from it.
    pub fn eq_exact(&self, o: &VarSet) -> bool {
        let same = |a: End, b: End| a.v.to_bits() == b.v.to_bits() && a.closed == b.closed;
        self.absent == o.absent
            && match (&self.vals, &o.vals) {
                (Vals::Num { set: a, integer: i }, Vals::Num { set: b, integer: j }) => {
                    i == j
                        && a.parts.len() == b.parts.len()
                        && a.parts
                            .iter()
                            .zip(&b.parts)
                            .all(|(x, y)| same(x.lo, y.lo) && same(x.hi, y.hi))
                }
                (Vals::Str(a), Vals::Str(b)) => a == b,
                _ => false,
            }
    }

    pub fn is_empty(&self) -> bool {
        if self.absent {
            return false;
        }
        match &self.vals {
            Vals::Num { set, integer } => {
                if *integer {
                    set.parts.iter().all(|p| p.first_integer().is_none())
                } else {
                    set.parts.is_empty()
                }
            }
            Vals::Str(StrSet::Only(s)) => s.is_empty(),
            Vals::Str(StrSet::AllBut(_)) => false,
        }
    }

    /// The intersection; `None` when the two are of different kinds (never for one variable).
    pub fn intersect(&self, o: &VarSet) -> Option<VarSet> {
        let vals = match (&self.vals, &o.vals) {
            (Vals::Num { set: a, integer }, Vals::Num { set: b, integer: j }) => Vals::Num {
                set: a.intersect(b),
                integer: *integer || *j,
            },
            (Vals::Str(a), Vals::Str(b)) => Vals::Str(a.intersect(b)),
            _ => return None,
        };
        Some(VarSet {
            absent: self.absent && o.absent,
            vals,
        })
    }

    /// Whether the two share a value (`intersect` non-empty), without building string sets.
    pub fn meets(&self, o: &VarSet) -> bool {
        if self.absent && o.absent {
            return true;
        }
        match (&self.vals, &o.vals) {
            (Vals::Str(StrSet::Only(a)), Vals::Str(StrSet::Only(b))) => !a.is_disjoint(b),
            (Vals::Str(StrSet::Only(a)), Vals::Str(StrSet::AllBut(b)))
            | (Vals::Str(StrSet::AllBut(b)), Vals::Str(StrSet::Only(a))) => !a.is_subset(b),
            (Vals::Str(StrSet::AllBut(_)), Vals::Str(StrSet::AllBut(_))) => true,
            (Vals::Num { set: a, integer: i }, Vals::Num { set: b, integer: j }) => {
                a.parts.iter().any(|x| {
                    b.parts.iter().any(|y| {
                        x.intersect(y)
                            .is_some_and(|m| !(*i || *j) || m.first_integer().is_some())
                    })
                })
            }
            _ => false,
        }
    }

    /// Everything in `domain` that is not in `self`.
    pub fn complement_in(&self, domain: &VarSet) -> Option<VarSet> {
        let vals = match &self.vals {
            Vals::Num { set, integer } => Vals::Num {
                set: set.complement(),
                integer: *integer,
            },
            Vals::Str(s) => Vals::Str(s.complement()),
        };
        VarSet {
            absent: !self.absent,
            vals,
        }
        .intersect(domain)
    }

    /// Whether `self` holds every value of `domain` (so a constraint on it says nothing).
    pub fn covers(&self, domain: &VarSet) -> bool {
        self.complement_in(domain).is_some_and(|c| c.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lt(x: f64) -> NumSet {
        NumSet::interval(
            End {
                v: f64::NEG_INFINITY,
                closed: false,
            },
            End {
                v: x,
                closed: false,
            },
        )
    }

    #[test]
    fn complement_flips_ends() {
        let c = lt(0.5).complement();
        assert_eq!(c.parts.len(), 1);
        assert!(c.parts[0].contains(0.5));
        assert!(!c.parts[0].contains(0.49));
        assert_eq!(c.complement(), lt(0.5));
    }

    #[test]
    fn point_complement_is_two_intervals() {
        let c = NumSet::point(3.0).complement();
        assert_eq!(c.parts.len(), 2);
        assert!(c.intersect(&NumSet::point(3.0)).parts.is_empty());
    }

    #[test]
    fn integers_between_open_ends_may_not_exist() {
        let s = VarSet {
            absent: false,
            vals: Vals::Num {
                set: NumSet::interval(
                    End {
                        v: 1.0,
                        closed: false,
                    },
                    End {
                        v: 2.0,
                        closed: false,
                    },
                ),
                integer: true,
            },
        };
        assert!(s.is_empty());
    }

    #[test]
    fn cofinite_strings() {
        let a = StrSet::one("a").complement();
        assert_eq!(
            a.intersect(&StrSet::one("a")),
            StrSet::Only(Names::default())
        );
        assert_eq!(a.intersect(&StrSet::one("b")), StrSet::one("b"));
    }

    /// A finite or co-finite set over six strings, from a mask.
    fn strs(mask: u8, cofinite: bool) -> StrSet {
        let names: Names = (0..6)
            .filter(|i| mask & (1 << i) != 0)
            .map(|i| format!("s{i}"))
            .collect();
        if cofinite {
            StrSet::AllBut(names)
        } else {
            StrSet::Only(names)
        }
    }

    fn has(s: &StrSet, x: &str) -> bool {
        match s {
            StrSet::Only(a) => a.contains(x),
            StrSet::AllBut(a) => !a.contains(x),
        }
    }

    proptest::proptest! {
        /// Intersection and complement (shared sets reused where the result equals an
        /// operand) against membership, on every string named and one never named.
        #[test]
        fn string_sets_meet_as_sets(a in 0u8..64, ca: bool, b in 0u8..64, cb: bool) {
            let (x, y) = (strs(a, ca), strs(b, cb));
            let both = x.intersect(&y);
            let vx = VarSet { absent: false, vals: Vals::Str(x.clone()) };
            let vy = VarSet { absent: false, vals: Vals::Str(y.clone()) };
            let mut any = false;
            for s in (0..6).map(|i| format!("s{i}")).chain(["other".to_string()]) {
                proptest::prop_assert_eq!(has(&both, &s), has(&x, &s) && has(&y, &s));
                proptest::prop_assert_eq!(has(&x.complement(), &s), !has(&x, &s));
                any |= has(&both, &s);
            }
            proptest::prop_assert_eq!(vx.meets(&vy), any);
        }
    }
}
