//! Constants filed for lookup, built once when a plan is loaded: `Scalars` files strings (in
//! one buffer), numbers and booleans in sorted vectors searched by bisection (the route-arm index of
//! `engine/arms.rs` files arms by them); `LitSet` is a literal list read as a set for
//! `x in [...]`; `Sets` finds the `LitSet` of a literal list of the loaded plan by its address.
//! Equality is the evaluator's (`eval.rs`): numbers as `f64` (`0 == -0`, NaN equal to
//! nothing), strings byte for byte, no value equal to one of another type, lists member by
//! member (kept aside and compared one by one: a list in a literal set is rare).

use crate::plan::{Expr, Value};
use std::collections::BTreeMap;

/// Literal lists shorter than this are scanned: a set is not faster there.
pub const SET_MIN: usize = 8;

/// A scalar operand, as the evaluator has it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Probe<'a> {
    Str(&'a str),
    Num(f64),
    Bool(bool),
}

/// The key of a number: its bits once `-0` is `0`; none for NaN, which equals nothing.
fn num_key(x: f64) -> Option<u64> {
    if x.is_nan() {
        None
    } else if x == 0.0 {
        Some(0.0f64.to_bits())
    } else {
        Some(x.to_bits())
    }
}

/// Scalars, each with a `T`. The strings are kept sorted in one buffer (`text`, each ending
/// at its `ends` entry), so that a bisection reads one small contiguous region rather than a
/// heap allocation per key: at 10,000 rules the keys of a route's index are cold, and reading
/// seven scattered keys per lookup was a tenth of a decision (docs/performance.md).
#[derive(Debug, Clone)]
pub(crate) struct Scalars<T> {
    text: Box<str>,
    ends: Box<[usize]>,
    str_vals: Box<[T]>,
    nums: Vec<(u64, T)>,
    bools: [Option<T>; 2],
}

/// Builds a [`Scalars`]; `T` of a scalar given twice is updated in place.
#[derive(Debug)]
pub(crate) struct ScalarsBuilder<T> {
    strs: BTreeMap<Box<str>, T>,
    nums: BTreeMap<u64, T>,
    bools: [Option<T>; 2],
}

impl<T: Default> Default for ScalarsBuilder<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Default> ScalarsBuilder<T> {
    pub fn new() -> Self {
        ScalarsBuilder {
            strs: BTreeMap::new(),
            nums: BTreeMap::new(),
            bools: [None, None],
        }
    }

    /// The `T` of a scalar literal (made on first use); `None` for a value no probe can
    /// equal (NaN) or that is not a scalar (a list).
    pub fn entry(&mut self, v: &Value) -> Option<&mut T> {
        match v {
            Value::String(s) => Some(self.strs.entry(s.as_str().into()).or_default()),
            Value::Number(x) => Some(self.nums.entry(num_key(*x)?).or_default()),
            Value::Bool(b) => self
                .bools
                .get_mut(usize::from(*b))
                .map(|slot| slot.get_or_insert_with(T::default)),
            Value::List(_) => None,
        }
    }

    pub fn build(self) -> Scalars<T> {
        let mut text = String::new();
        let mut ends = Vec::with_capacity(self.strs.len());
        let mut str_vals = Vec::with_capacity(self.strs.len());
        for (k, v) in self.strs {
            text.push_str(&k);
            ends.push(text.len());
            str_vals.push(v);
        }
        Scalars {
            text: text.into_boxed_str(),
            ends: ends.into_boxed_slice(),
            str_vals: str_vals.into_boxed_slice(),
            nums: self.nums.into_iter().collect(),
            bools: self.bools,
        }
    }
}

impl<T> Scalars<T> {
    /// The same keys, each with `f` of its `T` (called in key order: strings, numbers,
    /// booleans).
    pub fn map<U>(self, mut f: impl FnMut(T) -> U) -> Scalars<U> {
        let str_vals = self.str_vals.into_vec().into_iter().map(&mut f).collect();
        let nums = self.nums.into_iter().map(|(k, v)| (k, f(v))).collect();
        let [no, yes] = self.bools;
        Scalars {
            text: self.text,
            ends: self.ends,
            str_vals,
            nums,
            bools: [no.map(&mut f), yes.map(&mut f)],
        }
    }

    /// The `i`-th string key in sorted order (empty past the end).
    fn key(&self, i: usize) -> &str {
        let start = match i.checked_sub(1) {
            Some(j) => self.ends.get(j).copied().unwrap_or(0),
            None => 0,
        };
        let end = self.ends.get(i).copied().unwrap_or(0);
        self.text.get(start..end).unwrap_or("")
    }

    pub fn get(&self, p: Probe<'_>) -> Option<&T> {
        match p {
            Probe::Str(s) => {
                let (mut lo, mut hi) = (0, self.ends.len());
                while lo < hi {
                    let mid = lo + (hi - lo) / 2;
                    match self.key(mid).cmp(s) {
                        std::cmp::Ordering::Less => lo = mid + 1,
                        std::cmp::Ordering::Greater => hi = mid,
                        std::cmp::Ordering::Equal => return self.str_vals.get(mid),
                    }
                }
                None
            }
            Probe::Num(x) => {
                let key = num_key(x)?;
                let i = self.nums.binary_search_by(|(k, _)| k.cmp(&key)).ok()?;
                self.nums.get(i).map(|(_, t)| t)
            }
            Probe::Bool(b) => self.bools.get(usize::from(b))?.as_ref(),
        }
    }
}

/// A literal list read as a set.
#[derive(Debug, Clone)]
pub(crate) struct LitSet {
    scalars: Scalars<()>,
    /// The members that are lists themselves, compared one by one.
    pub lists: Vec<Value>,
}

impl LitSet {
    pub fn new(members: &[Value]) -> LitSet {
        let mut b = ScalarsBuilder::<()>::new();
        let mut lists = Vec::new();
        for m in members {
            if let Value::List(_) = m {
                lists.push(m.clone());
            } else {
                b.entry(m);
            }
        }
        LitSet {
            scalars: b.build(),
            lists,
        }
    }

    /// Whether a scalar is a member.
    pub fn contains(&self, p: Probe<'_>) -> bool {
        self.scalars.get(p).is_some()
    }
}

/// The literal sets of a loaded plan, by the address of their `Expr::Lit` node (stable: the
/// engine never changes its plan). A list not found here is scanned, with the same answer.
#[derive(Debug, Default)]
pub struct Sets {
    by_addr: Vec<(usize, LitSet)>,
}

impl Sets {
    /// No sets: every literal list is scanned.
    pub const NONE: Sets = Sets {
        by_addr: Vec::new(),
    };

    /// The sets of every literal list of `SET_MIN` members or more under `roots`.
    pub fn new<'e>(roots: impl IntoIterator<Item = &'e Expr>) -> Sets {
        let mut by_addr = Vec::new();
        let mut stack: Vec<&Expr> = roots.into_iter().collect();
        while let Some(e) = stack.pop() {
            match e {
                Expr::In { item, set, .. } => {
                    if let Expr::Lit {
                        value: Value::List(members),
                    } = &**set
                    {
                        if members.len() >= SET_MIN {
                            by_addr.push((addr(set), LitSet::new(members)));
                        }
                    }
                    stack.push(item);
                    stack.push(set);
                }
                Expr::Not { e } => stack.push(e),
                Expr::And { all: es } | Expr::Or { any: es } => stack.extend(es),
                Expr::Cmp { lhs, rhs, .. } => {
                    stack.push(lhs);
                    stack.push(rhs);
                }
                _ => {}
            }
        }
        by_addr.sort_by_key(|(a, _)| *a);
        by_addr.dedup_by_key(|(a, _)| *a);
        Sets { by_addr }
    }

    pub(crate) fn get(&self, set: &Expr) -> Option<&LitSet> {
        let key = addr(set);
        let i = self.by_addr.binary_search_by_key(&key, |(a, _)| *a).ok()?;
        self.by_addr.get(i).map(|(_, s)| s)
    }
}

fn addr(e: &Expr) -> usize {
    std::ptr::from_ref(e) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Each long literal list of an expression has its own set, found by the list's node; a
    /// short one has none (it is scanned).
    #[test]
    fn each_long_list_has_its_own_set() {
        let list = |prefix: &str, n: usize| Expr::Lit {
            value: Value::List(
                (0..n)
                    .map(|i| Value::String(format!("{prefix}{i}")))
                    .collect(),
            ),
        };
        let field = |name: &str| Expr::Field {
            path: vec![name.to_string()],
        };
        let e = Expr::And {
            all: vec![
                Expr::In {
                    negated: false,
                    item: Box::new(field("a")),
                    set: Box::new(list("a", SET_MIN)),
                },
                Expr::In {
                    negated: false,
                    item: Box::new(field("b")),
                    set: Box::new(list("b", SET_MIN + 3)),
                },
                Expr::In {
                    negated: false,
                    item: Box::new(field("c")),
                    set: Box::new(list("c", SET_MIN - 1)),
                },
            ],
        };
        let sets = Sets::new([&e]);
        let Expr::And { all } = &e else {
            unreachable!()
        };
        let set_of = |k: usize| match all.get(k) {
            Some(Expr::In { set, .. }) => sets.get(set),
            _ => None,
        };
        let (a, b) = (set_of(0).unwrap(), set_of(1).unwrap());
        assert!(a.contains(Probe::Str("a7")) && !a.contains(Probe::Str("b7")));
        assert!(b.contains(Probe::Str("b10")) && !b.contains(Probe::Str("a0")));
        assert!(set_of(2).is_none());
    }

    proptest! {
        /// A string probe finds what a map of the same keys holds: every key (empty and
        /// prefixes of others included) and nothing else.
        #[test]
        fn strings_are_found_as_in_a_map(
            keys in proptest::collection::vec("[ab]{0,4}|é|x{0,12}", 0..40),
            probes in proptest::collection::vec("[ab]{0,5}|é|x{0,13}", 0..20),
        ) {
            let mut b = ScalarsBuilder::<usize>::new();
            let mut map = BTreeMap::new();
            for (i, k) in keys.iter().enumerate() {
                *b.entry(&Value::String(k.clone())).unwrap() = i;
                map.insert(k.clone(), i);
            }
            let s = b.build();
            for k in keys.iter().chain(&probes) {
                prop_assert_eq!(s.get(Probe::Str(k)), map.get(k));
            }
        }
    }
}
