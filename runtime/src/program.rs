//! Conditions compiled to flat programs when a plan is loaded, so that a decision reads each
//! condition from a cache line or two instead of chasing a heap box per node through a plan of
//! megabytes (docs/performance.md, "Conditions as flat programs").
//!
//! [`Programs`] holds every condition the engine evaluates (route arms, policy rules' residual
//! `when` and `unless`, review arms) in one array of 16-byte nodes: a condition's nodes are
//! contiguous, in the order evaluation reads them (a node, then its operands), and each node
//! with operands records where they end. Literal strings, label keys and context paths live in
//! one text buffer; a literal list of [`SET_MIN`] members or more is also kept as a set.
//!
//! Evaluation has `eval`'s meaning exactly, faults and their words included: the operand
//! values, comparisons and messages are `eval`'s own. `runtime/tests/eval.rs` evaluates every
//! expression it tests both ways.

use crate::eval::{self, compare, equal, from_json, Env, Fault, V};
use crate::litset::{LitSet, Probe, SET_MIN};
use crate::plan::{CapId, CmpOp, Expr, IntentId, Value};
use serde_json::{Map, Value as Json};

/// A compiled condition: where its nodes start in its [`Programs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cond(u32);

/// A piece of the text buffer.
#[derive(Debug, Clone, Copy)]
struct Span {
    at: u32,
    len: u32,
}

/// One node. `end`: the index just past the node's operands (they follow it).
#[derive(Debug, Clone, Copy)]
enum Node {
    Bool(bool),
    Num(f64),
    Str(Span),
    /// A literal list; its members follow.
    List {
        end: u32,
    },
    Confidence,
    Depth,
    IntentIs(IntentId),
    /// A context field; the segments of its path (`Seg`) follow.
    Field {
        end: u32,
    },
    Has {
        end: u32,
    },
    Seg(Span),
    AgentTrust,
    AgentCost,
    AgentRegion,
    AgentZone,
    AgentName,
    AgentLabel(Span),
    AgentProvides(CapId),
    CallerName,
    CallerTrust,
    CallerRegion,
    CallerZone,
    CallerLabel(Span),
    CallerProvides(CapId),
    HasCaller,
    /// The data classes it tests (`Id`) follow.
    DataTouches {
        end: u32,
    },
    ResponseConfidence,
    ResponseDataTouches {
        end: u32,
    },
    Id(u32),
    Not {
        end: u32,
    },
    And {
        end: u32,
    },
    Or {
        end: u32,
    },
    /// The left operand follows, then the right one.
    Cmp {
        op: CmpOp,
        end: u32,
    },
    /// A comparison of a context field with a literal that is not a list (the usual
    /// condition, evaluated without a node per operand): the segments of the field's path
    /// (`Seg`) follow, then the literal, the last node before `end`. `field_first`: the field
    /// is the left operand.
    FieldCmp {
        op: CmpOp,
        end: u32,
        field_first: bool,
    },
    /// The item follows, then the set. `set`: the index in `Programs::sets` of the set built
    /// for a literal list of `SET_MIN` members or more; `NO_SET` otherwise.
    In {
        negated: bool,
        end: u32,
        set: u32,
    },
}

/// No set: an index no set can have (each set is at least `SET_MIN` nodes, and node indexes
/// are 32 bits).
const NO_SET: u32 = u32::MAX;

impl Node {
    /// Where its operands end, for a node that has some.
    fn end_mut(&mut self) -> Option<&mut u32> {
        match self {
            Node::List { end }
            | Node::Field { end }
            | Node::Has { end }
            | Node::DataTouches { end }
            | Node::ResponseDataTouches { end }
            | Node::Not { end }
            | Node::And { end }
            | Node::Or { end }
            | Node::Cmp { end, .. }
            | Node::FieldCmp { end, .. }
            | Node::In { end, .. } => Some(end),
            _ => None,
        }
    }
}

/// The conditions of a loaded plan, compiled.
#[derive(Debug, Default)]
pub struct Programs {
    nodes: Vec<Node>,
    text: String,
    sets: Vec<LitSet>,
}

/// A plan whose conditions do not fit in 32-bit indexes: more than 4 billion nodes, or bytes
/// of text (a plan within the loading limits stays far below; `Engine::from_plan` refuses
/// one that does not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooLarge;

fn index(n: usize) -> Result<u32, TooLarge> {
    u32::try_from(n).map_err(|_| TooLarge)
}

impl Programs {
    /// Compiles `e`; its nodes follow those compiled before.
    pub fn compile(&mut self, e: &Expr) -> Result<Cond, TooLarge> {
        let start = index(self.nodes.len())?;
        self.node(e)?;
        Ok(Cond(start))
    }

    /// `compile` for an optional condition.
    pub fn compile_opt(&mut self, e: Option<&Expr>) -> Result<Option<Cond>, TooLarge> {
        e.map(|e| self.compile(e)).transpose()
    }

    fn span(&mut self, s: &str) -> Result<Span, TooLarge> {
        let at = index(self.text.len())?;
        let len = index(s.len())?;
        self.text.push_str(s);
        Ok(Span { at, len })
    }

    fn push(&mut self, n: Node) -> Result<usize, TooLarge> {
        index(self.nodes.len())?;
        self.nodes.push(n);
        Ok(self.nodes.len() - 1)
    }

    /// Sets the `end` of the node at `at`: its operands, pushed since, end here.
    fn close(&mut self, at: usize) -> Result<(), TooLarge> {
        let end = index(self.nodes.len())?;
        if let Some(e) = self.nodes.get_mut(at).and_then(Node::end_mut) {
            *e = end;
        }
        Ok(())
    }

    fn value(&mut self, v: &Value) -> Result<(), TooLarge> {
        match v {
            Value::Bool(b) => self.push(Node::Bool(*b)).map(drop),
            Value::Number(n) => self.push(Node::Num(*n)).map(drop),
            Value::String(s) => {
                let s = self.span(s)?;
                self.push(Node::Str(s)).map(drop)
            }
            Value::List(members) => {
                let at = self.push(Node::List { end: 0 })?;
                for m in members {
                    self.value(m)?;
                }
                self.close(at)
            }
        }
    }

    fn path(&mut self, n: Node, path: &[String]) -> Result<(), TooLarge> {
        let at = self.push(n)?;
        for seg in path {
            let s = self.span(seg)?;
            self.push(Node::Seg(s))?;
        }
        self.close(at)
    }

    fn ids(&mut self, n: Node, ids: &[u32]) -> Result<(), TooLarge> {
        let at = self.push(n)?;
        for &id in ids {
            self.push(Node::Id(id))?;
        }
        self.close(at)
    }

    fn node(&mut self, e: &Expr) -> Result<(), TooLarge> {
        let leaf = match e {
            Expr::Lit { value } => return self.value(value),
            Expr::Field { path } => return self.path(Node::Field { end: 0 }, path),
            Expr::Has { path } => return self.path(Node::Has { end: 0 }, path),
            Expr::DataTouches { any } => return self.ids(Node::DataTouches { end: 0 }, any),
            Expr::ResponseDataTouches { any } => {
                return self.ids(Node::ResponseDataTouches { end: 0 }, any)
            }
            Expr::Not { e } => {
                let at = self.push(Node::Not { end: 0 })?;
                self.node(e)?;
                return self.close(at);
            }
            Expr::And { all } => {
                let at = self.push(Node::And { end: 0 })?;
                for x in all {
                    self.node(x)?;
                }
                return self.close(at);
            }
            Expr::Or { any } => {
                let at = self.push(Node::Or { end: 0 })?;
                for x in any {
                    self.node(x)?;
                }
                return self.close(at);
            }
            Expr::Cmp { cmp, lhs, rhs } => {
                let scalar =
                    |e: &Expr| matches!(e, Expr::Lit { value } if !matches!(value, Value::List(_)));
                let field = match (&**lhs, &**rhs) {
                    (Expr::Field { path }, l) if scalar(l) => Some((path, l, true)),
                    (l, Expr::Field { path }) if scalar(l) => Some((path, l, false)),
                    _ => None,
                };
                if let Some((path, lit, field_first)) = field {
                    let at = self.push(Node::FieldCmp {
                        op: *cmp,
                        end: 0,
                        field_first,
                    })?;
                    for seg in path {
                        let s = self.span(seg)?;
                        self.push(Node::Seg(s))?;
                    }
                    self.node(lit)?;
                    return self.close(at);
                }
                let at = self.push(Node::Cmp { op: *cmp, end: 0 })?;
                self.node(lhs)?;
                self.node(rhs)?;
                return self.close(at);
            }
            Expr::In { item, set, negated } => {
                let set_at = match &**set {
                    Expr::Lit {
                        value: Value::List(members),
                    } if members.len() >= SET_MIN => {
                        self.sets.push(LitSet::new(members));
                        index(self.sets.len() - 1)?
                    }
                    _ => NO_SET,
                };
                let at = self.push(Node::In {
                    negated: *negated,
                    end: 0,
                    set: set_at,
                })?;
                self.node(item)?;
                self.node(set)?;
                return self.close(at);
            }
            Expr::AgentLabel { key } => Node::AgentLabel(self.span(key)?),
            Expr::CallerLabel { key } => Node::CallerLabel(self.span(key)?),
            Expr::Confidence => Node::Confidence,
            Expr::Depth => Node::Depth,
            Expr::IntentIs { intent } => Node::IntentIs(*intent),
            Expr::AgentTrust => Node::AgentTrust,
            Expr::AgentCost => Node::AgentCost,
            Expr::AgentRegion => Node::AgentRegion,
            Expr::AgentZone => Node::AgentZone,
            Expr::AgentName => Node::AgentName,
            Expr::AgentProvides { cap } => Node::AgentProvides(*cap),
            Expr::CallerName => Node::CallerName,
            Expr::CallerTrust => Node::CallerTrust,
            Expr::CallerRegion => Node::CallerRegion,
            Expr::CallerZone => Node::CallerZone,
            Expr::CallerProvides { cap } => Node::CallerProvides(*cap),
            Expr::HasCaller => Node::HasCaller,
            Expr::ResponseConfidence => Node::ResponseConfidence,
        };
        self.push(leaf).map(drop)
    }

    /// Evaluates a compiled condition: `eval::holds`'s answer for the expression it came from.
    pub fn holds(&self, c: Cond, env: &Env<'_>) -> Result<bool, Fault> {
        self.holds_at(c.0, env)
    }

    /// `holds` for an optional condition; `absent` when there is none.
    pub fn holds_or(&self, c: Option<Cond>, absent: bool, env: &Env<'_>) -> Result<bool, Fault> {
        c.map_or(Ok(absent), |c| self.holds(c, env))
    }

    #[inline]
    fn text(&self, s: Span) -> &str {
        self.text
            .get(s.at as usize..(s.at as usize + s.len as usize))
            .unwrap_or_default()
    }

    #[inline]
    fn at(&self, i: u32) -> Option<Node> {
        self.nodes.get(i as usize).copied()
    }

    /// The index just past node `i` and its operands.
    #[inline]
    fn end(&self, i: u32) -> u32 {
        self.at(i)
            .and_then(|mut n| n.end_mut().copied())
            .unwrap_or(i + 1)
    }

    /// The operands of node `i` (ending at `end`), each by its first index.
    #[inline]
    fn operands(&self, i: u32, end: u32) -> Operands<'_> {
        Operands {
            p: self,
            next: i + 1,
            end,
        }
    }

    #[inline]
    fn holds_at(&self, i: u32, env: &Env<'_>) -> Result<bool, Fault> {
        eval::as_bool(self.value_at(i, env)?)
    }

    /// A context path (the `Seg`s from `i + 1` to `end`) looked up, as `eval::lookup`.
    fn lookup<'r>(&'r self, context: &'r Map<String, Json>, i: u32, end: u32) -> Option<&'r Json> {
        let segments = self.operands(i, end).filter_map(|s| match self.at(s) {
            Some(Node::Seg(s)) => Some(self.text(s)),
            _ => None,
        });
        eval::lookup_segments(context, segments)
    }

    /// Whether one of the `Id`s from `i + 1` to `end` is in `data`.
    fn touches(&self, i: u32, end: u32, data: &[u32]) -> bool {
        self.operands(i, end)
            .any(|x| matches!(self.at(x), Some(Node::Id(id)) if data.contains(&id)))
    }

    /// A literal as `eval`'s operand (`eval::from_value`).
    fn literal(&self, i: u32) -> V<'_> {
        match self.at(i) {
            Some(Node::Bool(b)) => V::Bool(b),
            Some(Node::Num(n)) => V::Num(n),
            Some(Node::Str(s)) => V::Str(self.text(s)),
            Some(Node::List { end }) => {
                V::List(self.operands(i, end).map(|m| self.literal(m)).collect())
            }
            _ => V::Absent,
        }
    }

    /// `eval::equal_lit`: `a` against the literal at `i`, without converting it.
    fn equal_lit(&self, a: &V<'_>, i: u32) -> bool {
        match (a, self.at(i)) {
            (V::Num(x), Some(Node::Num(y))) => *x == y,
            (V::Str(x), Some(Node::Str(y))) => *x == self.text(y),
            (V::Bool(x), Some(Node::Bool(y))) => *x == y,
            (V::List(x), Some(Node::List { end })) => {
                let mut members = self.operands(i, end);
                x.iter()
                    .all(|p| members.next().is_some_and(|q| self.equal_lit(p, q)))
                    && members.next().is_none()
            }
            _ => false,
        }
    }

    /// An operand of a comparison or `in`: `value_at`, with the usual operands (a literal
    /// scalar, a context field, the confidence) read in place instead of by a call.
    #[inline]
    fn operand<'r>(&'r self, i: u32, env: &Env<'r>) -> Result<V<'r>, Fault> {
        Ok(match self.at(i) {
            Some(Node::Num(n)) => V::Num(n),
            Some(Node::Str(s)) => V::Str(self.text(s)),
            Some(Node::Bool(b)) => V::Bool(b),
            Some(Node::Confidence) => V::Num(env.confidence),
            Some(Node::Field { end }) => match self.lookup(env.context, i, end) {
                Some(j) => from_json(j)?,
                None => V::Absent,
            },
            _ => return self.value_at(i, env),
        })
    }

    fn value_at<'r>(&'r self, i: u32, env: &Env<'r>) -> Result<V<'r>, Fault> {
        let Some(node) = self.at(i) else {
            return Err(Fault("a condition out of its program".into()));
        };
        Ok(match node {
            Node::Bool(_) | Node::Num(_) | Node::Str(_) | Node::List { .. } => self.literal(i),
            Node::Seg(_) | Node::Id(_) => {
                return Err(Fault("a condition out of its program".into()))
            }
            Node::Confidence => V::Num(env.confidence),
            Node::Depth => V::Num(f64::from(env.depth)),
            Node::IntentIs(intent) => V::Bool(intent == env.intent),
            Node::Field { end } => match self.lookup(env.context, i, end) {
                Some(j) => from_json(j)?,
                None => V::Absent,
            },
            Node::Has { end } => V::Bool(self.lookup(env.context, i, end).is_some()),
            Node::AgentTrust => V::Num(eval::agent(env)?.trust),
            Node::AgentCost => V::Num(eval::agent(env)?.cost),
            Node::AgentRegion => V::Str(&eval::agent(env)?.region),
            Node::AgentZone => V::Str(&eval::agent(env)?.zone),
            Node::AgentName => V::Str(&eval::agent(env)?.name),
            Node::AgentLabel(key) => eval::agent(env)?
                .labels
                .get(self.text(key))
                .map_or(V::Absent, eval::from_value),
            Node::AgentProvides(cap) => {
                V::Bool(eval::agent(env)?.provides.binary_search(&cap).is_ok())
            }
            Node::CallerName => env.caller.map_or(V::Absent, |c| V::Str(&c.name)),
            Node::CallerTrust => env.caller.map_or(V::Absent, |c| V::Num(c.trust)),
            Node::CallerRegion => env.caller.map_or(V::Absent, |c| V::Str(&c.region)),
            Node::CallerZone => env.caller.map_or(V::Absent, |c| V::Str(&c.zone)),
            Node::CallerLabel(key) => env
                .caller
                .and_then(|c| c.labels.get(self.text(key)))
                .map_or(V::Absent, eval::from_value),
            Node::CallerProvides(cap) => env.caller.map_or(V::Absent, |c| {
                V::Bool(c.provides.binary_search(&cap).is_ok())
            }),
            Node::HasCaller => V::Bool(env.caller.is_some()),
            Node::DataTouches { end } => V::Bool(self.touches(i, end, env.data)),
            Node::ResponseConfidence => match env.response {
                Some((Some(c), _)) => V::Num(c),
                Some((None, _)) => return Err(Fault("the response gives no confidence".into())),
                None => return Err(Fault("no response to review here".into())),
            },
            Node::ResponseDataTouches { end } => match env.response {
                Some((_, data)) => V::Bool(self.touches(i, end, data)),
                None => return Err(Fault("no response to review here".into())),
            },
            Node::Not { .. } => match self.value_at(i + 1, env)? {
                V::Bool(b) => V::Bool(!b),
                V::Absent => V::Bool(true),
                other => return Err(Fault(format!("`not` of {other:?}"))),
            },
            Node::And { end } => {
                for x in self.operands(i, end) {
                    if !self.holds_at(x, env)? {
                        return Ok(V::Bool(false));
                    }
                }
                V::Bool(true)
            }
            Node::Or { end } => {
                for x in self.operands(i, end) {
                    if self.holds_at(x, env)? {
                        return Ok(V::Bool(true));
                    }
                }
                V::Bool(false)
            }
            Node::Cmp { op, .. } => {
                let rhs = self.end(i + 1);
                let (l, r) = (self.operand(i + 1, env)?, self.operand(rhs, env)?);
                V::Bool(compare(op, &l, &r)?)
            }
            Node::FieldCmp {
                op,
                end,
                field_first,
            } => {
                let lit = end.saturating_sub(1);
                let field = match self.lookup(env.context, i, lit) {
                    Some(j) => from_json(j)?,
                    None => V::Absent,
                };
                let lit = self.literal(lit);
                let (l, r) = if field_first {
                    (&field, &lit)
                } else {
                    (&lit, &field)
                };
                V::Bool(compare(op, l, r)?)
            }
            Node::In { negated, set, .. } => {
                let item = self.operand(i + 1, env)?;
                let s = self.end(i + 1);
                // A literal set (the usual case) is read in place, without building a list.
                if let Some(Node::List { end }) = self.at(s) {
                    if matches!(item, V::Absent) {
                        return Ok(V::Bool(false));
                    }
                    let found = match (self.sets.get(set as usize), &item) {
                        (Some(set), V::Str(x)) => set.contains(Probe::Str(x)),
                        (Some(set), V::Num(x)) => set.contains(Probe::Num(*x)),
                        (Some(set), V::Bool(x)) => set.contains(Probe::Bool(*x)),
                        (Some(set), _) => set.lists.iter().any(|m| eval::equal_lit(&item, m)),
                        (None, _) => self.operands(s, end).any(|m| self.equal_lit(&item, m)),
                    };
                    return Ok(V::Bool(found != negated));
                }
                let set = self.value_at(s, env)?;
                match (&item, &set) {
                    (V::Absent, _) | (_, V::Absent) => V::Bool(false),
                    (_, V::List(members)) => {
                        let found = members.iter().any(|m| equal(&item, m));
                        V::Bool(found != negated)
                    }
                    _ => return Err(Fault(format!("`in` needs a set, found {set:?}"))),
                }
            }
        })
    }
}

/// The operands of a node, each by the index of its first node.
struct Operands<'p> {
    p: &'p Programs,
    next: u32,
    end: u32,
}

impl Iterator for Operands<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        if self.next >= self.end {
            return None;
        }
        let at = self.next;
        self.next = self.p.end(at).max(at + 1);
        Some(at)
    }
}

#[cfg(test)]
mod tests {
    //! The layout; `runtime/tests/program.rs` holds the meaning.
    use super::*;
    use serde_json::json;

    fn compiled(e: serde_json::Value) -> Programs {
        let mut p = Programs::default();
        p.compile(&serde_json::from_value(e).unwrap()).unwrap();
        p
    }

    fn field(path: &[&str]) -> serde_json::Value {
        json!({"op": "field", "path": path})
    }

    fn lit(v: serde_json::Value) -> serde_json::Value {
        json!({"op": "lit", "value": v})
    }

    /// A field compared with a literal that is not a list is one node, its path's segments
    /// and the literal; other comparisons are a node and each operand's.
    #[test]
    fn a_field_compared_with_a_literal_is_one_node() {
        let cmp = |l, r| json!({"op": "cmp", "cmp": "eq", "lhs": l, "rhs": r});
        let p = compiled(cmp(field(&["f"]), lit(json!("a"))));
        assert!(matches!(
            p.nodes[..],
            [
                Node::FieldCmp {
                    end: 3,
                    field_first: true,
                    ..
                },
                Node::Seg(_),
                Node::Str(_)
            ]
        ));
        let p = compiled(cmp(lit(json!(1)), field(&["o", "f"])));
        assert!(matches!(
            p.nodes[..],
            [
                Node::FieldCmp {
                    end: 4,
                    field_first: false,
                    ..
                },
                Node::Seg(_),
                Node::Seg(_),
                Node::Num(_)
            ]
        ));
        let p = compiled(cmp(field(&["f"]), lit(json!(["a"]))));
        assert!(matches!(
            p.nodes[..],
            [
                Node::Cmp { end: 5, .. },
                Node::Field { end: 3 },
                Node::Seg(_),
                Node::List { end: 5 },
                Node::Str(_)
            ]
        ));
        let p = compiled(cmp(json!({"op": "confidence"}), lit(json!(0.5))));
        assert!(matches!(
            p.nodes[..],
            [Node::Cmp { end: 3, .. }, Node::Confidence, Node::Num(_)]
        ));
    }

    /// A literal list of `SET_MIN` members or more is also a set, which its `in` names; a
    /// shorter one is scanned.
    #[test]
    fn long_literal_lists_are_sets() {
        let within = |n: usize| {
            let members: Vec<_> = (0..n).map(|i| json!(format!("m{i}"))).collect();
            compiled(
                json!({"op": "in", "item": field(&["f"]), "set": lit(json!(members)), "negated": false}),
            )
        };
        let short = within(SET_MIN - 1);
        assert!(short.sets.is_empty());
        assert!(matches!(
            short.nodes.first(),
            Some(Node::In { set: NO_SET, .. })
        ));
        let mut long = within(SET_MIN);
        assert_eq!(long.sets.len(), 1);
        assert!(matches!(long.nodes.first(), Some(Node::In { set: 0, .. })));
        // A second long list names the second set.
        let members: Vec<_> = (0..SET_MIN).map(|i| json!(i)).collect();
        let e =
            json!({"op": "in", "item": field(&["g"]), "set": lit(json!(members)), "negated": true});
        let c = long.compile(&serde_json::from_value(e).unwrap()).unwrap();
        assert!(matches!(
            long.nodes.get(c.0 as usize),
            Some(Node::In { set: 1, .. })
        ));
    }

    /// A node is two words: a condition of a few operands fits a cache line or two.
    #[test]
    fn a_node_is_sixteen_bytes() {
        assert_eq!(std::mem::size_of::<Node>(), 16);
    }
}
