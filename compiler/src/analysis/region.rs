//! Regions of the decision space: a [`Cube`] is a conjunction of per-variable constraints
//! (a variable not named is unconstrained), a [`Region`] is a union of cubes (a condition in
//! disjunctive normal form). Subtraction splits a cube into disjoint pieces, so "what no arm
//! covers" is a region whose every cube can be asked for a witness.

use super::set::VarSet;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// A variable of the decision space. Ordered by kind in the order declared, then by field
/// path or number (a field's variables share one path, which compares by address first).
#[derive(Debug, Clone)]
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

impl Var {
    fn rank(&self) -> u8 {
        match self {
            Var::Confidence => 0,
            Var::Depth => 1,
            Var::Field(_) => 2,
            Var::ResponseConfidence => 3,
            Var::ResponseData(_) => 4,
            Var::Caller => 5,
            Var::Opaque(_) => 6,
        }
    }
}

impl Ord for Var {
    fn cmp(&self, o: &Var) -> Ordering {
        match (self, o) {
            (Var::Field(a), Var::Field(b)) if Arc::ptr_eq(a, b) => Ordering::Equal,
            (Var::Field(a), Var::Field(b)) => a.cmp(b),
            (Var::ResponseData(a), Var::ResponseData(b)) | (Var::Opaque(a), Var::Opaque(b)) => {
                a.cmp(b)
            }
            _ => self.rank().cmp(&o.rank()),
        }
    }
}

impl PartialOrd for Var {
    fn partial_cmp(&self, o: &Var) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

impl PartialEq for Var {
    fn eq(&self, o: &Var) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}

impl Eq for Var {}

impl Hash for Var {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.rank().hash(h);
        match self {
            Var::Field(p) => p.hash(h),
            Var::ResponseData(n) | Var::Opaque(n) => n.hash(h),
            _ => {}
        }
    }
}

/// The domain of every variable in use: what "unconstrained" means for it.
#[derive(Debug, Clone, Default)]
pub struct Domains {
    pub of: BTreeMap<Var, VarSet>,
}

/// A conjunction of constraints; every set is a non-empty subset of its variable's domain.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Cube {
    pub vars: Vars,
}

/// A cube's constraints, sorted by variable. A cube names a handful of variables, and cubes
/// are copied at every step of region arithmetic: a sorted vector copies in one allocation
/// where a map allocates (and frees) one node each time.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Vars(Vec<(Var, VarSet)>);

type Pair<'a> = (&'a Var, &'a VarSet);

impl Vars {
    pub fn get(&self, v: &Var) -> Option<&VarSet> {
        let i = self.0.binary_search_by(|(k, _)| k.cmp(v)).ok()?;
        self.0.get(i).map(|(_, s)| s)
    }

    /// Sets `v`'s constraint, replacing any it had.
    pub fn insert(&mut self, v: Var, s: VarSet) {
        match self.0.binary_search_by(|(k, _)| k.cmp(&v)) {
            Ok(i) => {
                if let Some(slot) = self.0.get_mut(i) {
                    slot.1 = s;
                }
            }
            Err(i) => self.0.insert(i, (v, s)),
        }
    }

    /// Whether `o` constrains nothing that `self` does not constrain alike (then `self` lies
    /// inside `o`), walking both in order.
    pub fn within_alike(&self, o: &Vars) -> bool {
        let mut mine = self.0.iter();
        o.0.iter().all(|(v, s)| {
            mine.by_ref()
                .find(|(k, _)| k >= v)
                .is_some_and(|(k, m)| k == v && m == s)
        })
    }

    /// The constraints in the order of their variables.
    pub fn iter(&self) -> impl Iterator<Item = Pair<'_>> {
        self.0.iter().map(|(v, s)| (v, s))
    }
}

impl<'a> IntoIterator for &'a Vars {
    type Item = Pair<'a>;
    type IntoIter =
        std::iter::Map<std::slice::Iter<'a, (Var, VarSet)>, fn(&'a (Var, VarSet)) -> Pair<'a>>;

    fn into_iter(self) -> Self::IntoIter {
        let pair: fn(&'a (Var, VarSet)) -> Pair<'a> = |(v, s)| (v, s);
        self.0.iter().map(pair)
    }
}

/// A union of cubes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Region {
    pub cubes: Vec<Cube>,
}

/// A region compared and hashed by its exact value ([`VarSet::eq_exact`] for each variable's
/// set), to share regions worked out once: equal keys are the same region, cube for cube.
pub struct Exact<R>(pub R);

impl<R: std::borrow::Borrow<Region>> PartialEq for Exact<R> {
    fn eq(&self, o: &Exact<R>) -> bool {
        let (a, b) = (self.0.borrow(), o.0.borrow());
        a.cubes.len() == b.cubes.len()
            && a.cubes.iter().zip(&b.cubes).all(|(x, y)| {
                x.vars.0.len() == y.vars.0.len()
                    && x.vars
                        .iter()
                        .zip(y.vars.iter())
                        .all(|((v, s), (w, t))| v == w && s.eq_exact(t))
            })
    }
}

impl<R: std::borrow::Borrow<Region>> Eq for Exact<R> {}

impl<R: std::borrow::Borrow<Region>> Hash for Exact<R> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        let r = self.0.borrow();
        r.cubes.len().hash(h);
        for c in &r.cubes {
            c.vars.0.len().hash(h);
            for (v, s) in c.vars.iter() {
                v.hash(h);
                s.hash_exact(h);
            }
        }
    }
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
        // Both sorted: walked together, not searched.
        let mut mine = self.vars.0.iter().peekable();
        o.vars.0.iter().any(|(v, s)| {
            while mine.next_if(|(k, _)| k < v).is_some() {}
            match mine.peek() {
                Some((k, m)) if k == v => !m.meets(s),
                _ => s.is_empty(),
            }
        })
    }

    /// `self` minus `o`, as disjoint cubes.
    pub fn subtract(&self, o: &Cube, d: &Domains) -> Vec<Cube> {
        // `o` constrains nothing `self` does not constrain alike: `self` lies inside it. The
        // common case (a rule's region cut from the same reach as the cube), answered
        // without copying anything.
        if self.vars.within_alike(&o.vars) {
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
            let mine = match rest.vars.get(v) {
                // Constrained alike: nothing of `rest` lies outside `o` on this variable, and
                // what lies inside is `rest` as it is (what the arithmetic below gives).
                Some(m) if m == s => continue,
                Some(m) => m,
                None => dom,
            };
            // The part of `rest` outside `o` on this variable...
            let outside = s.complement_in(dom).and_then(|c| c.intersect(mine));
            let inside = s.intersect(mine);
            if let Some(outside) = outside {
                if !outside.is_empty() {
                    let mut piece = rest.clone();
                    piece.vars.insert(v.clone(), outside);
                    out.push(piece);
                }
            }
            // ...and what remains is inside `o` on it.
            match inside {
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
                if a.vars.within_alike(&b.vars) {
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
        let mut vars = Vars::default();
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
            conf(0.0, true, 1.0, true)
                .vars
                .get(&Var::Confidence)
                .cloned()
                .unwrap(),
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

/// The sorted constraints and the subtraction, against straightforward references on random
/// inputs: a `BTreeMap` for `Vars`, membership of sample points for `Cube::subtract`.
#[cfg(test)]
mod properties {
    use super::super::set::{End, NumSet, StrSet, Vals};
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn var(i: u8) -> Var {
        match i % 4 {
            0 => Var::Confidence,
            1 => Var::Field(vec!["channel".to_string()].into()),
            2 => Var::Opaque(u32::from(i)),
            _ => Var::Depth,
        }
    }

    proptest! {
        #[test]
        fn vars_behave_as_a_sorted_map(ops in prop::collection::vec((0u8..12, 0u8..4), 0..24)) {
            let mut vars = Vars::default();
            let mut reference = BTreeMap::new();
            for (v, n) in ops {
                let set = VarSet { absent: n % 2 == 0, vals: Vals::Str(StrSet::one(&n.to_string())) };
                vars.insert(var(v), set.clone());
                reference.insert(var(v), set);
            }
            let ours: Vec<_> = vars.iter().map(|(v, s)| (v.clone(), s.clone())).collect();
            let theirs: Vec<_> = reference.iter().map(|(v, s)| (v.clone(), s.clone())).collect();
            prop_assert_eq!(ours, theirs);
            for i in 0..12 {
                prop_assert_eq!(vars.get(&var(i)), reference.get(&var(i)));
            }
        }
    }

    /// Confidence in tenths, a channel among four strings (optional: absent as `None`).
    type Point = (u8, Option<u8>);
    const CHANNELS: [&str; 4] = ["api", "chat", "mail", "web"];

    fn domains() -> Domains {
        let mut d = Domains::default();
        let conf = NumSet::interval(
            End {
                v: 0.0,
                closed: true,
            },
            End {
                v: 1.0,
                closed: true,
            },
        );
        d.of.insert(
            Var::Confidence,
            VarSet {
                absent: false,
                vals: Vals::Num {
                    set: conf,
                    integer: false,
                },
            },
        );
        let all = CHANNELS.iter().map(|s| s.to_string()).collect();
        d.of.insert(
            var(1),
            VarSet {
                absent: true,
                vals: Vals::Str(StrSet::Only(all)),
            },
        );
        d
    }

    /// A cube from a confidence interval (tenths) and a set of channels, either optional.
    fn cube(conf: Option<(u8, u8)>, chan: Option<(u8, bool)>) -> Cube {
        let mut c = Cube::default();
        if let Some((a, b)) = conf {
            let (lo, hi) = (f64::from(a.min(b)) / 10.0, f64::from(a.max(b)) / 10.0);
            let set = NumSet::interval(
                End {
                    v: lo,
                    closed: true,
                },
                End {
                    v: hi,
                    closed: a != b,
                },
            );
            c.vars.insert(
                Var::Confidence,
                VarSet {
                    absent: false,
                    vals: Vals::Num {
                        set,
                        integer: false,
                    },
                },
            );
        }
        if let Some((mask, absent)) = chan {
            let names: BTreeSet<String> = CHANNELS
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, s)| s.to_string())
                .collect();
            c.vars.insert(
                var(1),
                VarSet {
                    absent: absent || names.is_empty(),
                    vals: Vals::Str(StrSet::Only(names.into())),
                },
            );
        }
        c
    }

    fn holds(set: &VarSet, v: &Var, p: Point) -> bool {
        match (&set.vals, v) {
            (Vals::Num { set, .. }, Var::Confidence) => {
                set.parts.iter().any(|i| i.contains(f64::from(p.0) / 10.0))
            }
            (Vals::Str(s), _) => match p.1 {
                None => set.absent,
                Some(c) => {
                    let name = CHANNELS
                        .get(usize::from(c))
                        .map(|s| s.to_string())
                        .unwrap_or_default();
                    match s {
                        StrSet::Only(x) => x.contains(&name),
                        StrSet::AllBut(x) => !x.contains(&name),
                    }
                }
            },
            _ => false,
        }
    }

    fn inside(c: &Cube, p: Point) -> bool {
        c.vars.iter().all(|(v, s)| holds(s, v, p))
    }

    fn side() -> impl Strategy<Value = Cube> {
        (
            prop::option::of((0u8..=10, 0u8..=10)),
            prop::option::of((1u8..16, any::<bool>())),
        )
            .prop_map(|(conf, chan)| cube(conf, chan))
    }

    /// `r` with every bound at 0 made -0: the same points, another value.
    fn negative_zero(r: &Region) -> Region {
        let mut r = r.clone();
        for c in &mut r.cubes {
            for (_, s) in &mut c.vars.0 {
                if let Vals::Num { set, .. } = &mut s.vals {
                    for p in &mut set.parts {
                        for e in [&mut p.lo, &mut p.hi] {
                            if e.v == 0.0 {
                                e.v = -0.0;
                            }
                        }
                    }
                }
            }
        }
        r
    }

    fn hash_of(r: &Region) -> u64 {
        let mut h = std::hash::DefaultHasher::new();
        Exact(r).hash(&mut h);
        h.finish()
    }

    proptest! {
        /// Regions shared by `Exact` are those the analysis once shared by their debug text:
        /// equal exactly when the texts are, and equal ones hash alike.
        #[test]
        fn exact_equality_is_equality_of_the_texts(
            a in prop::collection::vec(side(), 0..3),
            other in prop::collection::vec(side(), 0..3),
            how in 0u8..3,
        ) {
            let a = Region { cubes: a };
            let b = match how {
                0 => a.clone(),
                1 => negative_zero(&a),
                _ => Region { cubes: other },
            };
            let same_text = format!("{a:?}") == format!("{b:?}");
            prop_assert_eq!(Exact(&a) == Exact(&b), same_text);
            if same_text {
                prop_assert_eq!(hash_of(&a), hash_of(&b));
            }
        }

        #[test]
        fn subtraction_keeps_exactly_the_points_outside(a in side(), b in side(), c in side()) {
            let d = domains();
            let rest = Region::minus(vec![a.clone()], [&b, &c], &d).unwrap();
            for conf in 0..=10u8 {
                for chan in [None, Some(0), Some(1), Some(2), Some(3)] {
                    let p = (conf, chan);
                    let want = inside(&a, p) && !inside(&b, p) && !inside(&c, p);
                    let n = rest.cubes.iter().filter(|x| inside(x, p)).count();
                    // Inside exactly one piece (the pieces are disjoint), or none.
                    prop_assert_eq!(n, usize::from(want), "{:?}", p);
                }
            }
        }
    }
}
