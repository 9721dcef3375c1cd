//! The cells of each kind of request variable (numbers, the confidence, the depth, strings,
//! enums, booleans, sets and lists), and what the context schema says: its leaves, the records
//! it requires, a value for a field nothing reads.

use super::space::{number, Cell, NumCell};
use crate::plan::Type;
use serde_json::{Map, Value as Json};
use std::collections::{BTreeMap, BTreeSet};

/// A leaf of the context schema in one plan.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Leaf {
    pub(super) ty: Type,
    /// The field or a record around it is optional.
    pub(super) optional: bool,
}

/// The cells of the confidence: the points 0 and 1 and every threshold between, and the open
/// intervals between consecutive points (one cell when nothing compares it).
pub(super) fn confidence_cells(constants: &[f64]) -> Vec<Cell> {
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
pub(super) fn depth_cells(constants: &[f64]) -> Vec<Cell> {
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
pub(super) fn field_cells(
    types: &[&Type],
    numbers: &[f64],
    strings: Option<&BTreeSet<String>>,
) -> Vec<Cell> {
    let mut cells = Vec::new();
    // Each cell once, in the order first made; looked up by key (a search of the cells so far
    // made a field compared with 10,000 constants cost 10^8 comparisons).
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut push = |c: Cell, cells: &mut Vec<Cell>| {
        if seen.insert(key(&c)) {
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

/// A text that two cells share exactly when they are equal (`-0` is `0`, as for `==`).
fn key(c: &Cell) -> String {
    let n = |x: f64| x + 0.0;
    match c {
        Cell::Num(NumCell::Point(x)) => format!("point {:?}", n(*x)),
        Cell::Num(NumCell::Open(a, b)) => format!("open {:?} {:?}", n(*a), n(*b)),
        Cell::Num(NumCell::Below(x)) => format!("below {:?}", n(*x)),
        Cell::Num(NumCell::Above(x)) => format!("above {:?}", n(*x)),
        Cell::Num(NumCell::Any(x)) => format!("any {:?}", n(*x)),
        Cell::Value(v) => format!("value {v}"),
        Cell::Other { value, not } => format!("other {value} {not:?}"),
        Cell::Absent => "absent".into(),
    }
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
pub(super) fn leaves(ty: &Type) -> BTreeMap<Vec<String>, Leaf> {
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
pub(super) fn required_records(ty: &Type, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
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
pub(super) fn default_value(ty: &Type) -> Json {
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
