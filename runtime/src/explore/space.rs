//! The request space of one intent, cut into cells. Every request variable a decision can read
//! (the confidence, the delegation depth and the last intent of the caller's lineage, each
//! context field) gets an ordered list of cells built from the constants that two plans compare
//! it against: for a number, the constants themselves and the open intervals between them; for
//! a string, each constant and one value equal to none of them; booleans both ways; an optional
//! field also absent. Within a cell no condition of either plan can tell two values apart, so
//! one representative request per combination of cells decides the whole combination.

use crate::engine::fault_free;
use crate::plan::{Action, DataId, Expr, Plan, Rule, Type, Value};
use crate::request::{Caller, Request};
use serde_json::{Map, Value as Json};
use std::collections::{BTreeMap, BTreeSet};

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
                (VarKind::Field(p), Some(v)) => insert(&mut req.context, p, v),
                _ => {}
            }
        }
        if depth > 0 {
            if let Some(last) = last {
                req.caller = Some(Caller {
                    agent: None,
                    lineage: vec![last; depth],
                });
            }
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

/// What the conditions of two plans say about the request variables of one intent.
#[derive(Default)]
struct Constants {
    confidence: Vec<f64>,
    depth: Vec<f64>,
    depth_read: bool,
    /// Per context path: the numbers and strings compared with it, and the list members
    /// looked for in it.
    numbers: BTreeMap<Vec<String>, Vec<f64>>,
    strings: BTreeMap<Vec<String>, BTreeSet<String>>,
    /// Paths read by a condition (`has` included).
    read: BTreeSet<Vec<String>>,
}

/// A leaf of the context schema in one plan.
#[derive(Debug, Clone, PartialEq)]
struct Leaf {
    ty: Type,
    /// The field or a record around it is optional.
    optional: bool,
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

/// The rules of `plan` that can apply to a step of `intent`, in plan order: a rule that needs
/// `data touches` classes no step of the intent handles never does.
pub fn applicable_rules<'p>(plan: &'p Plan, intent: &str) -> Vec<&'p Rule> {
    let handled: BTreeSet<DataId> = plan
        .intents
        .iter()
        .filter(|i| i.name == intent)
        .flat_map(|i| &i.route.arms)
        .flat_map(|arm| match &arm.action {
            Action::Dispatch { step } => std::slice::from_ref(step),
            Action::Plan { steps } => &steps[..],
            _ => &[],
        })
        .flat_map(|step| step.handles.iter().copied())
        .collect();
    plan.rules
        .iter()
        .filter(|r| can_apply(r, &handled))
        .collect()
}

/// False when the rule can never match (nor fault) on a step handling only `handled`: its
/// `when` is a conjunction in which `data touches ..` of other classes comes after conjuncts
/// that cannot fault. (`decide` evaluates `unless` only when `when` holds.)
fn can_apply(rule: &Rule, handled: &BTreeSet<DataId>) -> bool {
    fn conjuncts<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
        match e {
            Expr::And { all } => all.iter().for_each(|x| conjuncts(x, out)),
            other => out.push(other),
        }
    }
    let Some(when) = &rule.when else {
        return true;
    };
    let mut all = Vec::new();
    conjuncts(when, &mut all);
    for c in all {
        if let Expr::DataTouches { any } = c {
            if !handled.iter().any(|d| any.binary_search(d).is_ok()) {
                return false;
            }
        }
        if !fault_free(c) {
            return true;
        }
    }
    true
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

/// The constants an operand can take in `plan` that do not come from the request.
fn operand_values(e: &Expr, plan: &Plan) -> Vec<Value> {
    match e {
        Expr::Lit { value } => vec![value.clone()],
        Expr::AgentTrust => plan.agents.iter().map(|a| Value::Number(a.trust)).collect(),
        Expr::AgentCost => plan.agents.iter().map(|a| Value::Number(a.cost)).collect(),
        Expr::AgentRegion => plan
            .agents
            .iter()
            .map(|a| Value::String(a.region.clone()))
            .collect(),
        Expr::AgentZone => plan
            .agents
            .iter()
            .map(|a| Value::String(a.zone.clone()))
            .collect(),
        Expr::AgentName => plan
            .agents
            .iter()
            .map(|a| Value::String(a.name.clone()))
            .collect(),
        Expr::AgentLabel { key } => plan
            .agents
            .iter()
            .filter_map(|a| a.labels.get(key).cloned())
            .collect(),
        _ => Vec::new(),
    }
}

/// Adds `v` (and a list's members) to what `var` is compared with.
fn add(var: &Expr, v: &Value, k: &mut Constants) {
    match (var, v) {
        (_, Value::List(items)) => items.iter().for_each(|i| add(var, i, k)),
        (Expr::Confidence, Value::Number(n)) => k.confidence.push(*n),
        (Expr::Depth, Value::Number(n)) => k.depth.push(*n),
        (Expr::Field { path }, Value::Number(n)) => {
            k.numbers.entry(path.clone()).or_default().push(*n)
        }
        (Expr::Field { path }, Value::String(s)) => {
            k.strings.entry(path.clone()).or_default().insert(s.clone());
        }
        _ => {}
    }
}

fn is_var(e: &Expr) -> bool {
    matches!(e, Expr::Confidence | Expr::Depth | Expr::Field { .. })
}

fn collect(e: &Expr, plan: &Plan, k: &mut Constants) {
    match e {
        Expr::Field { path } | Expr::Has { path } => {
            k.read.insert(path.clone());
        }
        Expr::Depth => k.depth_read = true,
        _ => {}
    }
    match e {
        Expr::Not { e } => collect(e, plan, k),
        Expr::And { all: xs } | Expr::Or { any: xs } => xs.iter().for_each(|x| collect(x, plan, k)),
        Expr::Cmp { lhs, rhs, .. }
        | Expr::In {
            item: lhs,
            set: rhs,
            ..
        } => {
            collect(lhs, plan, k);
            collect(rhs, plan, k);
            for (var, other) in [(&**lhs, &**rhs), (&**rhs, &**lhs)] {
                if is_var(var) {
                    for v in operand_values(other, plan) {
                        add(var, &v, k);
                    }
                }
            }
        }
        _ => {}
    }
}

/// The cells of the confidence: the points 0 and 1 and every threshold between, and the open
/// intervals between consecutive points (one cell when nothing compares it).
fn confidence_cells(constants: &[f64]) -> Vec<Cell> {
    let mut points: Vec<f64> = constants
        .iter()
        .copied()
        .filter(|c| *c > 0.0 && *c < 1.0)
        .collect();
    if points.is_empty() && constants.is_empty() {
        return vec![Cell::Num(NumCell::Any(1.0))];
    }
    points.push(0.0);
    points.push(1.0);
    sort_dedup(&mut points);
    let mut cells = Vec::new();
    for (i, p) in points.iter().enumerate() {
        if let Some(prev) = i.checked_sub(1).and_then(|j| points.get(j)) {
            cells.push(Cell::Num(NumCell::Open(*prev, *p)));
        }
        cells.push(Cell::Num(NumCell::Point(*p)));
    }
    cells
}

/// The cells of the depth: whole numbers only, 0 and 1 and each one next to a constant; each
/// stands for every depth up to the next (the last for every depth above).
fn depth_cells(constants: &[f64]) -> Vec<Cell> {
    let mut points = vec![0.0, 1.0];
    for c in constants.iter().filter(|c| c.is_finite()) {
        let (f, up) = (c.floor(), c.ceil());
        points.extend([f - 1.0, f, f + 1.0, up, up + 1.0]);
    }
    points.retain(|p| (0.0..=1024.0).contains(p));
    sort_dedup(&mut points);
    points
        .into_iter()
        .map(|p| Cell::Num(NumCell::Point(p)))
        .collect()
}

/// The cells of a number compared with `constants`.
fn number_cells(constants: &[f64]) -> Vec<Cell> {
    let mut points: Vec<f64> = constants
        .iter()
        .copied()
        .filter(|c| c.is_finite())
        .collect();
    sort_dedup(&mut points);
    let (Some(first), Some(last)) = (points.first().copied(), points.last().copied()) else {
        return vec![Cell::Num(NumCell::Any(0.0))];
    };
    let mut cells = vec![Cell::Num(NumCell::Below(first))];
    for (i, p) in points.iter().enumerate() {
        if let Some(prev) = i.checked_sub(1).and_then(|j| points.get(j)) {
            cells.push(Cell::Num(NumCell::Open(*prev, *p)));
        }
        cells.push(Cell::Num(NumCell::Point(*p)));
    }
    cells.push(Cell::Num(NumCell::Above(last)));
    cells
}

fn sort_dedup(v: &mut Vec<f64>) {
    v.sort_by(f64::total_cmp);
    v.dedup();
}

/// The cells of a context field whose type is one of `types` (its type in each plan).
fn field_cells(types: &[&Type], numbers: &[f64], strings: Option<&BTreeSet<String>>) -> Vec<Cell> {
    let mut cells = Vec::new();
    let push = |c: Cell, cells: &mut Vec<Cell>| {
        if !cells.contains(&c) {
            cells.push(c);
        }
    };
    let no_strings = BTreeSet::new();
    let strings = strings.unwrap_or(&no_strings);
    for ty in types {
        match ty {
            Type::Number | Type::Duration => {
                number_cells(numbers)
                    .into_iter()
                    .for_each(|c| push(c, &mut cells));
            }
            Type::Bool => {
                for b in [false, true] {
                    push(Cell::Value(Json::Bool(b)), &mut cells);
                }
            }
            Type::String => {
                for s in strings {
                    push(Cell::Value(Json::String(s.clone())), &mut cells);
                }
                push(other(strings), &mut cells);
            }
            Type::Enum { values } => {
                for s in values {
                    push(Cell::Value(Json::String(s.clone())), &mut cells);
                }
            }
            Type::Set { of } | Type::List { of } => {
                for c in list_cells(of, numbers, strings) {
                    push(c, &mut cells);
                }
            }
            Type::Record { .. } => {}
        }
    }
    cells
}

/// A string equal to none of `strings`.
fn other(strings: &BTreeSet<String>) -> Cell {
    let mut candidate = "other".to_string();
    let mut n = 1;
    while strings.contains(&candidate) {
        n += 1;
        candidate = format!("other_{n}");
    }
    Cell::Other {
        value: Json::String(candidate),
        not: strings.iter().cloned().collect(),
    }
}

/// The cells of a set or list: the empty one, each member looked for alone, and (up to four
/// members) every combination of them; beyond four, all of them together.
fn list_cells(of: &Type, numbers: &[f64], strings: &BTreeSet<String>) -> Vec<Cell> {
    let members: Vec<Json> = match of {
        Type::Number | Type::Duration => numbers.iter().map(|n| number(*n)).collect(),
        Type::Bool => vec![Json::Bool(false), Json::Bool(true)],
        Type::Enum { values } => values.iter().map(|s| Json::String(s.clone())).collect(),
        _ => strings.iter().map(|s| Json::String(s.clone())).collect(),
    };
    let mut out = Vec::new();
    if members.len() <= 4 {
        for mask in 0u32..(1 << members.len()) {
            let pick: Vec<Json> = members
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, m)| m.clone())
                .collect();
            out.push(Cell::Value(Json::Array(pick)));
        }
    } else {
        out.push(Cell::Value(Json::Array(Vec::new())));
        for m in &members {
            out.push(Cell::Value(Json::Array(vec![m.clone()])));
        }
        out.push(Cell::Value(Json::Array(members)));
    }
    out
}

/// The leaves of a context schema by path, with whether they (or a record around them) are
/// optional.
fn leaves(ty: &Type) -> BTreeMap<Vec<String>, Leaf> {
    fn walk(
        ty: &Type,
        path: &mut Vec<String>,
        optional: bool,
        out: &mut BTreeMap<Vec<String>, Leaf>,
    ) {
        match ty {
            Type::Record { fields } => {
                for f in fields {
                    path.push(f.name.clone());
                    walk(&f.ty, path, optional || f.optional, out);
                    path.pop();
                }
            }
            other if !path.is_empty() => {
                out.insert(
                    path.clone(),
                    Leaf {
                        ty: other.clone(),
                        optional,
                    },
                );
            }
            _ => {}
        }
    }
    let mut out = BTreeMap::new();
    walk(ty, &mut Vec::new(), false, &mut out);
    out
}

/// The paths of the records a schema requires (every record around them required too).
fn required_records(ty: &Type, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    if let Type::Record { fields } = ty {
        for f in fields.iter().filter(|f| !f.optional) {
            if matches!(f.ty, Type::Record { .. }) {
                path.push(f.name.clone());
                out.push(path.clone());
                required_records(&f.ty, path, out);
                path.pop();
            }
        }
    }
}

/// A value of type `ty` for a field that no condition reads.
fn default_value(ty: &Type) -> Json {
    match ty {
        Type::Bool => Json::Bool(false),
        Type::Number | Type::Duration => Json::from(0),
        Type::String => Json::String(String::new()),
        Type::Enum { values } => values
            .first()
            .map_or(Json::String(String::new()), |v| Json::String(v.clone())),
        Type::Set { .. } | Type::List { .. } => Json::Array(Vec::new()),
        Type::Record { .. } => Json::Object(Map::new()),
    }
}
