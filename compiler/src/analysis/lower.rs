//! From plan conditions to regions. The analysis runs at a *site*: what is fixed while a
//! condition is evaluated (the intent of a route, the agent and data of a policy check, the
//! agent of a review). Whatever reads only the site is evaluated once, with the runtime's own
//! evaluator, to true or false; comparisons of one request variable (confidence, depth, a
//! scalar context field, the response's confidence) with literals become constraints; a
//! condition that reads the caller and nothing else of the request becomes the set of callers
//! (agents of the plan, or none) for which the runtime's evaluator says it holds; every other
//! condition becomes an opaque boolean variable, which keeps proofs sound.

use super::region::{Cube, Domains, Region, Var};
use super::set::{End, Names, NumSet, StrSet, Vals, VarSet};
use intent_runtime::eval::{holds, reads_caller, Env};
use intent_runtime::plan::{Agent, CmpOp, DataId, Expr, IntentId, Plan, Type, Value};
use serde_json::Map;
use std::collections::{BTreeSet, HashMap};

/// What is fixed while a condition is evaluated.
#[derive(Clone, Copy)]
pub struct Site<'p> {
    /// `u32::MAX` where there is no intent (reviews).
    pub intent: IntentId,
    pub agent: Option<&'p Agent>,
    pub data: &'p [DataId],
}

/// A condition larger than this many cubes (in disjunctive form) is kept opaque. The bound is
/// applied to every conjunction and disjunction while it is lowered, before the next part is
/// multiplied in, so a condition such as `(a or b) and (c or d) and ...` (2^n cubes) costs
/// time and memory linear in its size: past the bound it is one opaque boolean.
pub const MAX_DNF: usize = 256;

/// The variables of one plan and their domains; opaque conditions get numbered here.
pub struct Space<'p> {
    pub plan: &'p Plan,
    pub domains: Domains,
    opaque: HashMap<String, u32>,
    /// The regions of conditions that read the caller and nothing of the site, by the
    /// condition's text (as opaque conditions are named: some are built while lowering, so an
    /// address would not do) and the side asked for: a policy's condition is lowered at every
    /// site, and evaluating it for every agent each time would cost sites × agents.
    by_caller_memo: HashMap<(String, bool), Region>,
    empty: Map<String, serde_json::Value>,
}

fn num(set: NumSet, integer: bool) -> Vals {
    Vals::Num { set, integer }
}

fn bools() -> Vals {
    Vals::Str(StrSet::Only(
        ["false", "true"].iter().map(|s| s.to_string()).collect(),
    ))
}

fn closed(v: f64) -> End {
    End { v, closed: true }
}

const INF: End = End {
    v: f64::INFINITY,
    closed: false,
};
const NEG_INF: End = End {
    v: f64::NEG_INFINITY,
    closed: false,
};

impl<'p> Space<'p> {
    pub fn new(plan: &'p Plan) -> Space<'p> {
        let mut d = Domains::default();
        d.of.insert(
            Var::Confidence,
            VarSet {
                absent: false,
                vals: num(NumSet::interval(closed(0.0), closed(1.0)), false),
            },
        );
        let max = plan
            .limits
            .delegation_depth
            .map_or(INF, |m| closed(f64::from(m)));
        d.of.insert(
            Var::Depth,
            VarSet {
                absent: false,
                vals: num(NumSet::interval(closed(0.0), max), true),
            },
        );
        d.of.insert(
            Var::ResponseConfidence,
            VarSet {
                absent: false,
                vals: num(NumSet::all(), false),
            },
        );
        Space {
            plan,
            domains: d,
            opaque: HashMap::new(),
            by_caller_memo: HashMap::new(),
            empty: Map::new(),
        }
    }

    /// The type of a context field and whether it (or a record above it) is optional.
    pub fn field(&self, path: &[String]) -> Option<(&'p Type, bool)> {
        let mut ty = &self.plan.context;
        let mut optional = false;
        for seg in path {
            let Type::Record { fields } = ty else {
                return None;
            };
            let f = fields.iter().find(|f| &f.name == seg)?;
            optional |= f.optional;
            ty = &f.ty;
        }
        Some((ty, optional))
    }

    /// The variable of a scalar context field, its domain registered.
    fn field_var(&mut self, path: &[String]) -> Option<Var> {
        let (ty, optional) = self.field(path)?;
        let vals = match ty {
            Type::Number | Type::Duration => num(NumSet::all(), false),
            Type::String => Vals::Str(StrSet::AllBut(Names::default())),
            Type::Enum { values } => Vals::Str(StrSet::Only(values.iter().cloned().collect())),
            Type::Bool => bools(),
            _ => return None,
        };
        let v = Var::Field(path.into());
        // Every variable of a field shares the path registered first (compared by address).
        if let Some((known, _)) = self.domains.of.get_key_value(&v) {
            return Some(known.clone());
        }
        self.domains.of.insert(
            v.clone(),
            VarSet {
                absent: optional,
                vals,
            },
        );
        Some(v)
    }

    fn opaque(&mut self, e: &Expr, pos: bool) -> Region {
        Region {
            cubes: vec![self.opaque_cube(format!("{e:?}"), pos)],
        }
    }

    /// An independent boolean named by `key` (an expression's debug text, or a name such as
    /// `rule 3` that no expression prints as), true (`pos`) or false.
    pub fn opaque_cube(&mut self, key: String, pos: bool) -> Cube {
        let n = self.opaque.len() as u32;
        let id = *self.opaque.entry(key).or_insert(n);
        let v = Var::Opaque(id);
        let mut c = Cube::default();
        c.vars.insert(
            v.clone(),
            VarSet {
                absent: false,
                vals: Vals::Str(StrSet::one(if pos { "true" } else { "false" })),
            },
        );
        self.domains.of.entry(v).or_insert(VarSet {
            absent: false,
            vals: bools(),
        });
        c
    }

    /// A constraint `var ∈ vals` (present), or its negation (which admits absence).
    fn atom(&mut self, v: Var, vals: Vals, pos: bool) -> Region {
        let Some(dom) = self.domains.of.get(&v) else {
            return Region::empty();
        };
        let set = VarSet {
            absent: false,
            vals,
        };
        let set = if pos {
            set.intersect(dom)
        } else {
            set.complement_in(dom)
        };
        match set {
            Some(s) if !s.is_empty() => {
                let mut c = Cube::default();
                c.vars.insert(v, s);
                Region { cubes: vec![c] }
            }
            _ => Region::empty(),
        }
    }

    fn constant(b: bool) -> Region {
        if b {
            Region::all()
        } else {
            Region::empty()
        }
    }

    /// The region where `e` holds (`pos`) or fails (`!pos`) at `site`.
    pub fn lower(&mut self, e: &Expr, pos: bool, site: Site<'_>) -> Region {
        if caller_only(e) && reads_caller(e) {
            if !reads_only(e, true, false) {
                return self.by_caller(e, pos, site);
            }
            let key = (format!("{e:?}"), pos);
            if let Some(r) = self.by_caller_memo.get(&key) {
                return r.clone();
            }
            let r = self.by_caller(e, pos, site);
            self.by_caller_memo.insert(key, r.clone());
            return r;
        }
        match e {
            Expr::Not { e } => self.lower(e, !pos, site),
            Expr::And { all } if pos => self.product(e, all, true, site),
            Expr::Or { any } if !pos => self.product(e, any, false, site),
            Expr::And { all } => self.sum(e, all, false, site),
            Expr::Or { any } => self.sum(e, any, true, site),
            Expr::Lit {
                value: Value::Bool(b),
            } => Space::constant(*b == pos),
            Expr::Field { path } => match self.field(path) {
                Some((Type::Bool, _)) => match self.field_var(path) {
                    Some(v) => self.atom(v, Vals::Str(StrSet::one("true")), pos),
                    None => self.opaque(e, pos),
                },
                _ => self.opaque(e, pos),
            },
            Expr::Has { path } => match self.field_var(path) {
                Some(v) => {
                    let all = self.domains.of.get(&v).map(|d| d.vals.clone());
                    match all {
                        Some(vals) => self.atom(v, vals, pos),
                        None => self.opaque(e, pos),
                    }
                }
                None => self.opaque(e, pos),
            },
            Expr::ResponseDataTouches { any } if pos && any.len() <= MAX_DNF => {
                let mut r = Region::empty();
                for d in any {
                    let a = self.response_data(*d, true);
                    r = r.union(a);
                }
                r
            }
            Expr::ResponseDataTouches { any } if !pos => {
                // One cube: "touches none of them".
                let mut r = Region::all();
                for d in any {
                    let a = self.response_data(*d, false);
                    match a.cubes.first() {
                        Some(c) => r = r.restrict(c),
                        None => return Region::empty(),
                    }
                }
                r
            }
            Expr::Cmp { cmp, lhs, rhs } => self.compare(e, *cmp, lhs, rhs, pos, site),
            Expr::In { item, set, negated } => self.member(e, item, set, *negated, pos, site),
            _ if site_only(e) => match self.at_site(e, site) {
                Some(b) => Space::constant(b == pos),
                None => self.opaque(e, pos),
            },
            _ => self.opaque(e, pos),
        }
    }

    /// The callers for which `e` (reading only the site and the caller) holds (`pos`) or
    /// fails, each decided by the runtime's evaluator: every agent of the plan, and no caller.
    /// Opaque if the evaluator faults for some caller.
    fn by_caller(&mut self, e: &Expr, pos: bool, site: Site<'_>) -> Region {
        let plan = self.plan;
        let mut names = BTreeSet::new();
        for agent in &plan.agents {
            match self.at_site_as(e, site, Some(agent)) {
                Some(b) if b == pos => {
                    names.insert(agent.name.clone());
                }
                Some(_) => {}
                None => return self.opaque(e, pos),
            }
        }
        let absent = match self.at_site_as(e, site, None) {
            Some(b) => b == pos,
            None => return self.opaque(e, pos),
        };
        let dom = self.caller_domain();
        let set = VarSet {
            absent,
            vals: Vals::Str(StrSet::Only(names.into())),
        };
        match set.intersect(&dom) {
            Some(s) if !s.is_empty() => {
                let mut c = Cube::default();
                c.vars.insert(Var::Caller, s);
                Region { cubes: vec![c] }
            }
            _ => Region::empty(),
        }
    }

    /// The caller's domain (registered on first use): any agent of the plan, or none.
    fn caller_domain(&mut self) -> VarSet {
        let plan = self.plan;
        self.domains
            .of
            .entry(Var::Caller)
            .or_insert_with(|| VarSet {
                absent: true,
                vals: Vals::Str(StrSet::Only(
                    plan.agents.iter().map(|a| a.name.clone()).collect(),
                )),
            })
            .clone()
    }

    fn response_data(&mut self, d: DataId, pos: bool) -> Region {
        let v = Var::ResponseData(d);
        self.domains.of.entry(v.clone()).or_insert(VarSet {
            absent: false,
            vals: bools(),
        });
        self.atom(v, Vals::Str(StrSet::one("true")), pos)
    }

    /// A conjunction (or a negated disjunction): the product of its parts' regions.
    /// Past [`MAX_DNF`] cubes the whole is opaque: the bound holds at every step, and every
    /// part's region is itself within it, so no step multiplies more than `MAX_DNF²` pairs.
    fn product(&mut self, whole: &Expr, parts: &[Expr], pos: bool, site: Site<'_>) -> Region {
        let mut r = Region::all();
        for p in parts {
            let next = self.lower(p, pos, site);
            match r.intersect(&next) {
                Some(x) if x.is_empty() => return x,
                Some(x) if x.cubes.len() <= MAX_DNF => r = x,
                _ => return self.opaque(whole, pos),
            }
        }
        r
    }

    /// A disjunction (or a negated conjunction): the union of its parts' regions, opaque past
    /// [`MAX_DNF`] cubes like a product.
    fn sum(&mut self, whole: &Expr, parts: &[Expr], pos: bool, site: Site<'_>) -> Region {
        let mut r = Region::empty();
        for p in parts {
            let next = self.lower(p, pos, site);
            r = r.union(next);
            if r.cubes.len() > MAX_DNF {
                return self.opaque(whole, pos);
            }
        }
        r
    }

    /// Evaluates a condition that reads only the site, with the runtime's evaluator.
    pub fn at_site(&self, e: &Expr, site: Site<'_>) -> Option<bool> {
        self.at_site_as(e, site, None)
    }

    /// Evaluates a condition that reads only the site and the caller.
    fn at_site_as(&self, e: &Expr, site: Site<'_>, caller: Option<&Agent>) -> Option<bool> {
        let env = Env {
            context: &self.empty,
            confidence: 0.0,
            depth: 0,
            intent: site.intent,
            agent: site.agent,
            caller,
            data: site.data,
            response: None,
        };
        holds(e, &env).ok()
    }

    /// The variable an operand reads, if it reads exactly one scalar request variable.
    fn operand_var(&mut self, e: &Expr) -> Option<Var> {
        match e {
            Expr::Confidence => Some(Var::Confidence),
            Expr::Depth => Some(Var::Depth),
            Expr::ResponseConfidence => Some(Var::ResponseConfidence),
            Expr::Field { path } => self.field_var(path),
            _ => None,
        }
    }

    fn compare(
        &mut self,
        e: &Expr,
        op: CmpOp,
        lhs: &Expr,
        rhs: &Expr,
        pos: bool,
        site: Site<'_>,
    ) -> Region {
        if site_only(e) {
            return match self.at_site(e, site) {
                Some(b) => Space::constant(b == pos),
                None => self.opaque(e, pos),
            };
        }
        let (var, lit, op) = match (lhs, rhs) {
            (x, Expr::Lit { value }) => (self.operand_var(x), value, op),
            (Expr::Lit { value }, x) => (self.operand_var(x), value, flip(op)),
            _ => (None, &Value::Bool(false), op),
        };
        let Some(var) = var else {
            return self.opaque(e, pos);
        };
        let is_num = matches!(
            self.domains.of.get(&var).map(|d| &d.vals),
            Some(Vals::Num { .. })
        );
        let integer = var == Var::Depth;
        let vals = match (lit, is_num) {
            (Value::Number(x), true) => {
                let x = *x;
                let set = match op {
                    CmpOp::Eq => NumSet::point(x),
                    CmpOp::Ne => NumSet::point(x).complement(),
                    CmpOp::Lt => NumSet::interval(
                        NEG_INF,
                        End {
                            v: x,
                            closed: false,
                        },
                    ),
                    CmpOp::Le => NumSet::interval(NEG_INF, closed(x)),
                    CmpOp::Gt => NumSet::interval(
                        End {
                            v: x,
                            closed: false,
                        },
                        INF,
                    ),
                    CmpOp::Ge => NumSet::interval(closed(x), INF),
                };
                num(set, integer)
            }
            (Value::String(s), false) => match op {
                CmpOp::Eq => Vals::Str(StrSet::one(s)),
                CmpOp::Ne => Vals::Str(StrSet::one(s).complement()),
                _ => return self.opaque(e, pos),
            },
            (Value::Bool(b), false) => {
                let s = if *b { "true" } else { "false" };
                match op {
                    CmpOp::Eq => Vals::Str(StrSet::one(s)),
                    CmpOp::Ne => Vals::Str(StrSet::one(s).complement()),
                    _ => return self.opaque(e, pos),
                }
            }
            _ => return self.opaque(e, pos),
        };
        self.atom(var, vals, pos)
    }

    fn member(
        &mut self,
        e: &Expr,
        item: &Expr,
        set: &Expr,
        negated: bool,
        pos: bool,
        site: Site<'_>,
    ) -> Region {
        if site_only(e) {
            return match self.at_site(e, site) {
                Some(b) => Space::constant(b == pos),
                None => self.opaque(e, pos),
            };
        }
        let (
            Some(var),
            Expr::Lit {
                value: Value::List(members),
            },
        ) = (self.operand_var(item), set)
        else {
            return self.opaque(e, pos);
        };
        let Some(dom) = self.domains.of.get(&var) else {
            return self.opaque(e, pos);
        };
        let vals = match &dom.vals {
            Vals::Num { integer, .. } => {
                // Points sorted and without repeats are already a union of disjoint intervals
                // (built at once: a union per member would be quadratic in a long list).
                let mut xs: Vec<f64> = members
                    .iter()
                    .filter_map(|m| match m {
                        Value::Number(x) if !x.is_nan() => Some(*x),
                        _ => None,
                    })
                    .collect();
                xs.sort_by(f64::total_cmp);
                xs.dedup();
                let s = NumSet {
                    parts: xs
                        .into_iter()
                        .flat_map(|x| NumSet::point(x).parts)
                        .collect(),
                };
                num(if negated { s.complement() } else { s }, *integer)
            }
            Vals::Str(_) => {
                let names: BTreeSet<String> = members
                    .iter()
                    .filter_map(|m| match m {
                        Value::String(s) => Some(s.clone()),
                        Value::Bool(b) => Some(b.to_string()),
                        _ => None,
                    })
                    .collect();
                let s = StrSet::Only(names.into());
                Vals::Str(if negated { s.complement() } else { s })
            }
        };
        self.atom(var, vals, pos)
    }
}

fn flip(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        o => o,
    }
}

/// Whether `e` reads nothing of the request but (perhaps) its caller.
fn caller_only(e: &Expr) -> bool {
    reads_only(e, true, true)
}

/// Whether `e` reads nothing of the request (only literals, the intent, the agent, the data).
pub fn site_only(e: &Expr) -> bool {
    reads_only(e, false, true)
}

/// Whether `e` reads nothing of the request but the caller (when `caller`) and nothing of the
/// site but when `site`; literals always.
fn reads_only(e: &Expr, caller: bool, site: bool) -> bool {
    let only = |x: &Expr| reads_only(x, caller, site);
    match e {
        Expr::Lit { .. } => true,
        Expr::IntentIs { .. }
        | Expr::AgentTrust
        | Expr::AgentCost
        | Expr::AgentRegion
        | Expr::AgentZone
        | Expr::AgentName
        | Expr::AgentLabel { .. }
        | Expr::AgentProvides { .. }
        | Expr::DataTouches { .. } => site,
        Expr::Confidence
        | Expr::Depth
        | Expr::Field { .. }
        | Expr::Has { .. }
        | Expr::ResponseConfidence
        | Expr::ResponseDataTouches { .. } => false,
        Expr::CallerName
        | Expr::CallerTrust
        | Expr::CallerRegion
        | Expr::CallerZone
        | Expr::CallerLabel { .. }
        | Expr::CallerProvides { .. }
        | Expr::HasCaller => caller,
        Expr::Not { e } => only(e),
        Expr::And { all } => all.iter().all(only),
        Expr::Or { any } => any.iter().all(only),
        Expr::Cmp { lhs, rhs, .. } => only(lhs) && only(rhs),
        Expr::In { item, set, .. } => only(item) && only(set),
    }
}
