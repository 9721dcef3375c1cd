//! The request space of one intent, cut into cells. Every request variable a decision can read
//! (the confidence, the delegation depth and the last intent of the caller's lineage, the
//! calling agent, each context field) gets an ordered list of cells built from the constants
//! that two plans compare it against (the caller: one cell per agent, and absent): for a number, the constants themselves and the open intervals between them; for
//! a string, each constant and one value equal to none of them; booleans both ways; an optional
//! field also absent. Within a cell no condition of either plan can tell two values apart, so
//! one representative request per combination of cells decides the whole combination.
//! (`constants` finds what each variable is compared against, `cells` cuts it.)

use super::cells::{
    confidence_cells, default_value, depth_cells, field_cells, leaves, required_records,
};
use super::constants::{applicable_rules, collect, Constants};
use crate::plan::{Plan, Type};
use crate::request::{Caller, Request};
use serde_json::{Map, Value as Json};
use std::collections::BTreeSet;

/// One cell of a numeric variable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NumCell {
    /// Exactly this value.
    Point(f64),
    /// Strictly between the two values.
    Open(f64, f64),
    /// Below the value (the first cell).
    Below(f64),
    /// Above the value (the last cell).
    Above(f64),
    /// Any value: nothing compares the variable with a constant.
    Any(f64),
}

impl NumCell {
    /// The representative value.
    pub fn value(self) -> f64 {
        match self {
            NumCell::Point(v) | NumCell::Any(v) => v,
            NumCell::Open(a, b) => a + (b - a) / 2.0,
            NumCell::Below(v) => v - 1.0,
            NumCell::Above(v) => v + 1.0,
        }
    }
}

/// One cell of a variable.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Num(NumCell),
    /// A value compared as a whole (a string, a boolean, a list).
    Value(Json),
    /// A string equal to none of the constants (`value` is its representative).
    Other {
        value: Json,
        not: Vec<String>,
    },
    /// The field is not in the request (or, for the lineage, there is no caller).
    Absent,
}

/// What a variable reads.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum VarKind {
    Confidence,
    /// The delegation depth: the length of the caller's lineage (0: no caller).
    Depth,
    /// The last intent of the caller's lineage.
    LineageLast,
    /// The calling agent: one cell per agent of either plan (each may differ in every
    /// attribute), and absent (an anonymous caller, or one neither plan declares).
    Caller,
    /// A context field, by path.
    Field(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Var {
    pub kind: VarKind,
    pub cells: Vec<Cell>,
}

impl Var {
    /// How the variable is written in a region's condition.
    pub fn name(&self) -> String {
        match &self.kind {
            VarKind::Confidence => "confidence".into(),
            VarKind::Depth => "depth".into(),
            VarKind::LineageLast => "lineage.last".into(),
            VarKind::Caller => "caller".into(),
            VarKind::Field(p) => p.join("."),
        }
    }
}

/// The request space of one intent: its variables, and the fields every request carries.
#[derive(Debug, Clone, PartialEq)]
pub struct Space {
    pub intent: String,
    pub vars: Vec<Var>,
    /// Context fields that no condition reads but that a plan requires: always this value.
    pub fixed: Vec<(Vec<String>, Json)>,
    /// Records required by a plan: present (possibly empty) in every request.
    pub records: Vec<Vec<String>>,
}

impl Space {
    /// How many cells the space has (saturating).
    pub fn size(&self) -> u128 {
        self.vars
            .iter()
            .fold(1u128, |n, v| n.saturating_mul(v.cells.len().max(1) as u128))
    }

    /// The cell indexes of the `n`th cell (mixed radix, the first variable slowest).
    pub fn cell(&self, mut n: u128) -> Vec<usize> {
        let mut out = vec![0; self.vars.len()];
        for (slot, v) in out.iter_mut().zip(&self.vars).rev() {
            let k = v.cells.len().max(1) as u128;
            *slot = (n % k) as usize;
            n /= k;
        }
        out
    }

    /// The cell a request of this intent falls in (`None`: outside the space, such as a value
    /// no schema allows). At depth 0 the lineage's last intent is read as the first cell.
    pub fn locate(&self, req: &Request) -> Option<Vec<usize>> {
        let depth = req.caller.as_ref().map_or(0, |c| c.lineage.len());
        self.vars
            .iter()
            .map(|v| match &v.kind {
                VarKind::Confidence => find_num(&v.cells, req.confidence?),
                VarKind::Depth => v
                    .cells
                    .iter()
                    .rposition(|c| matches!(c, Cell::Num(n) if n.value() <= depth as f64)),
                VarKind::LineageLast => match req.caller.as_ref().and_then(|c| c.lineage.last()) {
                    Some(last) if depth > 0 => v
                        .cells
                        .iter()
                        .position(|c| matches!(c, Cell::Value(Json::String(s)) if s == last)),
                    _ => Some(0),
                },
                VarKind::Caller => {
                    let name = req.caller.as_ref().and_then(|c| c.agent.as_deref());
                    name.and_then(|n| {
                        v.cells
                            .iter()
                            .position(|c| matches!(c, Cell::Value(Json::String(s)) if s == n))
                    })
                    .or_else(|| v.cells.iter().position(|c| matches!(c, Cell::Absent)))
                }
                VarKind::Field(path) => match crate::eval::lookup(&req.context, path) {
                    None => v.cells.iter().position(|c| matches!(c, Cell::Absent)),
                    Some(Json::Number(n)) => find_num(&v.cells, n.as_f64()?),
                    Some(Json::Array(items)) => {
                        // A list falls in the cell of the members looked for that it holds.
                        let looked_for: Vec<&Json> = v
                            .cells
                            .iter()
                            .filter_map(|c| match c {
                                Cell::Value(Json::Array(m)) => Some(m),
                                _ => None,
                            })
                            .flatten()
                            .fold(Vec::new(), |mut acc, m| {
                                if !acc.contains(&m) {
                                    acc.push(m);
                                }
                                acc
                            });
                        let held: Vec<Json> = looked_for
                            .into_iter()
                            .filter(|m| items.contains(m))
                            .cloned()
                            .collect();
                        v.cells
                            .iter()
                            .position(|c| matches!(c, Cell::Value(Json::Array(x)) if *x == held))
                    }
                    Some(j) => v
                        .cells
                        .iter()
                        .position(|c| matches!(c, Cell::Value(x) if x == j))
                        .or_else(|| {
                            j.is_string().then(|| {
                                v.cells.iter().position(|c| matches!(c, Cell::Other { .. }))
                            })?
                        }),
                },
            })
            .collect()
    }

    /// The representative request of a cell.
    pub fn request(&self, cell: &[usize]) -> Request {
        let mut req = Request {
            intent: Some(self.intent.clone()),
            confidence: Some(1.0),
            ..Request::default()
        };
        for path in &self.records {
            insert(&mut req.context, path, Json::Object(Map::new()));
        }
        for (path, v) in &self.fixed {
            insert(&mut req.context, path, v.clone());
        }
        let mut depth = 0usize;
        let mut last = None;
        let mut agent = None;
        for (var, &i) in self.vars.iter().zip(cell) {
            let Some(c) = var.cells.get(i) else { continue };
            let json = match c {
                Cell::Num(n) => Some(number(n.value())),
                Cell::Value(v) | Cell::Other { value: v, .. } => Some(v.clone()),
                Cell::Absent => None,
            };
            match (&var.kind, json) {
                (VarKind::Confidence, Some(v)) => req.confidence = v.as_f64(),
                (VarKind::Depth, Some(v)) => depth = v.as_f64().unwrap_or(0.0).max(0.0) as usize,
                (VarKind::LineageLast, Some(Json::String(s))) => last = Some(s),
                (VarKind::Caller, Some(Json::String(s))) => agent = Some(s),
                (VarKind::Field(p), Some(v)) => insert(&mut req.context, p, v),
                _ => {}
            }
        }
        let lineage = match last {
            Some(last) if depth > 0 => vec![last; depth],
            _ => Vec::new(),
        };
        if agent.is_some() || !lineage.is_empty() {
            req.caller = Some(Caller { agent, lineage });
        }
        req
    }
}

/// The numeric cell holding `x`.
fn find_num(cells: &[Cell], x: f64) -> Option<usize> {
    cells.iter().position(|c| match c {
        Cell::Num(NumCell::Point(p)) => x == *p,
        Cell::Num(NumCell::Open(a, b)) => *a < x && x < *b,
        Cell::Num(NumCell::Below(b)) => x < *b,
        Cell::Num(NumCell::Above(a)) => x > *a,
        Cell::Num(NumCell::Any(_)) => true,
        _ => false,
    })
}

/// A JSON number for `v` (an integer when it is one, so requests read naturally).
pub fn number(v: f64) -> Json {
    if v.fract() == 0.0 && v.abs() < 9.0e15 {
        Json::from(v as i64)
    } else {
        serde_json::Number::from_f64(v).map_or(Json::Null, Json::Number)
    }
}

fn insert(map: &mut Map<String, Json>, path: &[String], value: Json) {
    let Some((head, rest)) = path.split_first() else {
        return;
    };
    if rest.is_empty() {
        // A record already made present keeps the leaves put in it.
        if !(value.is_object() && map.get(head).is_some_and(Json::is_object)) {
            map.insert(head.clone(), value);
        }
        return;
    }
    let entry = map
        .entry(head.clone())
        .or_insert_with(|| Json::Object(Map::new()));
    if !entry.is_object() {
        *entry = Json::Object(Map::new());
    }
    if let Json::Object(inner) = entry {
        insert(inner, rest, value);
    }
}

/// Builds the request space of `intent` over both plans (either may lack the intent).
pub fn space(intent: &str, old: &Plan, new: &Plan) -> Space {
    let mut k = Constants::default();
    for plan in [old, new] {
        for it in plan.intents.iter().filter(|i| i.name == intent) {
            for arm in &it.route.arms {
                if let Some(w) = &arm.when {
                    collect(w, plan, &mut k);
                }
            }
        }
        for r in applicable_rules(plan, intent) {
            for e in r.when.iter().chain(&r.unless) {
                collect(e, plan, &mut k);
            }
        }
        if let Some(d) = plan.limits.delegation_depth {
            k.depth.push(f64::from(d));
        }
    }
    let mut vars = vec![Var {
        kind: VarKind::Confidence,
        cells: confidence_cells(&k.confidence),
    }];
    // The lineage matters when some intent may delegate this one, or a condition reads `depth`.
    let delegators = delegators(intent, old, new);
    if !delegators.is_empty() || k.depth_read {
        let mut lasts: Vec<Cell> = delegators
            .iter()
            .map(|d| Cell::Value(Json::String(d.clone())))
            .collect();
        let outsider = old
            .intents
            .iter()
            .chain(&new.intents)
            .map(|i| i.name.as_str())
            .filter(|n| *n != intent && !delegators.contains(*n))
            .min();
        if let Some(o) = outsider {
            lasts.push(Cell::Value(Json::String(o.to_string())));
        }
        if !lasts.is_empty() {
            // The last intent before the depth: at depth 0 it is read by nothing, and merging
            // it first joins those cells into one before the depth is merged.
            vars.push(Var {
                kind: VarKind::LineageLast,
                cells: lasts,
            });
            vars.push(Var {
                kind: VarKind::Depth,
                cells: depth_cells(&k.depth),
            });
        }
    }
    if k.caller_read {
        let names: BTreeSet<&str> = old
            .agents
            .iter()
            .chain(&new.agents)
            .map(|a| a.name.as_str())
            .collect();
        let mut cells: Vec<Cell> = names
            .into_iter()
            .map(|n| Cell::Value(Json::String(n.to_string())))
            .collect();
        cells.push(Cell::Absent);
        vars.push(Var {
            kind: VarKind::Caller,
            cells,
        });
    }
    let (old_leaves, new_leaves) = (leaves(&old.context), leaves(&new.context));
    let paths: BTreeSet<&Vec<String>> = old_leaves.keys().chain(new_leaves.keys()).collect();
    let mut fixed = Vec::new();
    for path in paths {
        let (o, n) = (old_leaves.get(path), new_leaves.get(path));
        let absent_ok = [o, n].iter().any(|l| l.is_none_or(|l| l.optional));
        let read = k.read.iter().any(|r| path.starts_with(r));
        if !read && o == n {
            if let Some(l) = o.filter(|l| !l.optional) {
                fixed.push((path.clone(), default_value(&l.ty)));
            }
            continue;
        }
        let types: Vec<&Type> = [o, n].into_iter().flatten().map(|l| &l.ty).collect();
        let mut cells = field_cells(
            &types,
            k.numbers.get(path).map_or(&[][..], |v| &v[..]),
            k.strings.get(path),
        );
        if absent_ok {
            cells.push(Cell::Absent);
        }
        vars.push(Var {
            kind: VarKind::Field(path.clone()),
            cells,
        });
    }
    let mut records = Vec::new();
    for plan in [old, new] {
        required_records(&plan.context, &mut Vec::new(), &mut records);
    }
    records.sort();
    records.dedup();
    Space {
        intent: intent.to_string(),
        vars,
        fixed,
        records,
    }
}

/// The intents that delegate `intent` in either plan, sorted.
fn delegators(intent: &str, old: &Plan, new: &Plan) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for plan in [old, new] {
        let Some(id) = plan.intents.iter().position(|i| i.name == intent) else {
            continue;
        };
        for it in &plan.intents {
            if it.name != intent && it.delegates.contains(&(id as u32)) {
                out.insert(it.name.clone());
            }
        }
    }
    out
}
