//! Regions: the cells with one and the same change, merged into boxes (a set of cells per
//! variable) and written as a condition a person reads, such as
//! `confidence in [0.5, 0.8), subject.region = "eu"`. Merging joins two boxes that agree on
//! every variable but one, until no two do; the boxes stay disjoint and cover exactly the cells
//! they came from, so a region never claims a cell that did not change.

use super::space::{Cell, NumCell, Var};
use std::collections::{BTreeSet, HashMap};

/// A box: for each variable, the indexes of its cells that the box takes (sorted).
pub type CellBox = Vec<BTreeSet<usize>>;

/// Merges cells (each a cell index per variable) into disjoint boxes covering exactly them,
/// each box with the cells it holds (indexes into `cells`, ascending): a cell belongs to the
/// box it was merged into, so nobody has to test every cell against every box.
pub fn merge_with_members(cells: &[Vec<usize>]) -> Vec<(CellBox, Vec<usize>)> {
    let mut boxes: Vec<(CellBox, Vec<usize>)> = cells
        .iter()
        .enumerate()
        .map(|(n, c)| (c.iter().map(|i| BTreeSet::from([*i])).collect(), vec![n]))
        .collect();
    let dims = cells.first().map_or(0, Vec::len);
    loop {
        let mut changed = false;
        for d in 0..dims {
            let mut out: Vec<(CellBox, Vec<usize>)> = Vec::with_capacity(boxes.len());
            let mut by_rest: HashMap<CellBox, usize> = HashMap::new();
            for (b, members) in boxes {
                let mut rest = b.clone();
                if let Some(slot) = rest.get_mut(d) {
                    slot.clear();
                }
                match by_rest.get(&rest) {
                    Some(&i) => {
                        if let (Some((into, into_members)), Some(from)) = (out.get_mut(i), b.get(d))
                        {
                            if let Some(slot) = into.get_mut(d) {
                                slot.extend(from.iter().copied());
                            }
                            into_members.extend(members);
                        }
                        changed = true;
                    }
                    None => {
                        by_rest.insert(rest, out.len());
                        out.push((b, members));
                    }
                }
            }
            boxes = out;
        }
        if !changed {
            for (_, members) in &mut boxes {
                members.sort_unstable();
            }
            return boxes;
        }
    }
}

/// Whether the box holds the cell.
pub fn contains(b: &CellBox, cell: &[usize]) -> bool {
    b.iter().zip(cell).all(|(set, i)| set.contains(i))
}

/// Writes boxes of one space as conditions. What it needs to know of each variable (which
/// cells hold a value, and where each stands among them) is worked out once, so a box costs
/// what it takes, not what its variables hold: a diff writes thousands of boxes.
pub struct Writer<'v> {
    vars: &'v [Var],
    /// Per variable, its cells that hold a value (not `Absent`), ascending.
    present: Vec<Vec<usize>>,
    /// Per variable, whether those cells are all numeric (written as intervals).
    numeric: Vec<bool>,
}

impl<'v> Writer<'v> {
    pub fn new(vars: &'v [Var]) -> Writer<'v> {
        let present = vars
            .iter()
            .map(|v| {
                (0..v.cells.len())
                    .filter(|i| !matches!(v.cells.get(*i), Some(Cell::Absent)))
                    .collect()
            })
            .collect();
        let numeric = vars
            .iter()
            .zip(&present)
            .map(|(v, p): (&Var, &Vec<usize>)| {
                p.iter()
                    .all(|i| matches!(v.cells.get(*i), Some(Cell::Num(_))))
            })
            .collect();
        Writer {
            vars,
            present,
            numeric,
        }
    }

    /// The condition a box stands for: one part per variable it restricts, joined with `, `;
    /// `every request` when it restricts none.
    pub fn describe(&self, b: &CellBox) -> String {
        let parts: Vec<String> = self
            .vars
            .iter()
            .zip(self.present.iter().zip(&self.numeric))
            .zip(b)
            .filter(|((v, _), set)| set.len() < v.cells.len())
            .map(|((v, (present, numeric)), set)| describe_var(v, present, *numeric, set))
            .collect();
        if parts.is_empty() {
            "every request".into()
        } else {
            parts.join(", ")
        }
    }
}

fn describe_var(v: &Var, present: &[usize], numeric: bool, set: &BTreeSet<usize>) -> String {
    let name = v.name();
    let absent_taken = set
        .iter()
        .any(|i| matches!(v.cells.get(*i), Some(Cell::Absent)));
    let taken: Vec<usize> = set
        .iter()
        .copied()
        .filter(|i| !matches!(v.cells.get(*i), Some(Cell::Absent) | None))
        .collect();
    let mut parts = Vec::new();
    if !taken.is_empty() && taken.len() == present.len() {
        parts.push(format!("has {name}"));
    } else if !taken.is_empty() {
        if numeric {
            parts.extend(numeric_runs(&name, v, present, &taken));
        } else {
            parts.push(discrete(&name, v, present, &taken));
        }
    }
    if absent_taken {
        parts.push(format!("not has {name}"));
    }
    if parts.len() > 1 {
        format!("({})", parts.join(" or "))
    } else {
        parts.concat()
    }
}

/// Runs of consecutive numeric cells, each written as an interval.
fn numeric_runs(name: &str, v: &Var, present: &[usize], taken: &[usize]) -> Vec<String> {
    let last = present.len().saturating_sub(1);
    // Positions among the present cells (both ascending); runs of consecutive positions.
    let pos: Vec<usize> = taken
        .iter()
        .filter_map(|t| present.binary_search(t).ok())
        .collect();
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for p in pos {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == p => *end = p,
            _ => runs.push((p, p)),
        }
    }
    let num = |p: usize| match present.get(p).and_then(|i| v.cells.get(*i)) {
        Some(Cell::Num(n)) => Some(*n),
        _ => None,
    };
    runs.into_iter()
        .map(|(i, j)| {
            if let (true, Some(NumCell::Point(x))) = (i == j, num(i)) {
                return format!("{name} = {x}");
            }
            let lower = match (i, num(i)) {
                (0, _) => None,
                (_, Some(NumCell::Point(x))) => Some((x, true)),
                (_, Some(NumCell::Open(a, _) | NumCell::Above(a))) => Some((a, false)),
                _ => None,
            };
            let upper = match (j == last, num(j)) {
                (true, _) => None,
                (_, Some(NumCell::Point(x))) => Some((x, true)),
                (_, Some(NumCell::Open(_, b) | NumCell::Below(b))) => Some((b, false)),
                _ => None,
            };
            match (lower, upper) {
                (None, None) => format!("has {name}"),
                (Some((a, true)), None) => format!("{name} >= {a}"),
                (Some((a, false)), None) => format!("{name} > {a}"),
                (None, Some((b, true))) => format!("{name} <= {b}"),
                (None, Some((b, false))) => format!("{name} < {b}"),
                (Some((a, ai)), Some((b, bi))) => format!(
                    "{name} in {}{a}, {b}{}",
                    if ai { "[" } else { "(" },
                    if bi { "]" } else { ")" }
                ),
            }
        })
        .collect()
}

/// Values compared as a whole: `x = v`, `x in {..}`, or `x not in {..}` when the cell of
/// "any other value" is taken.
fn discrete(name: &str, v: &Var, present: &[usize], taken: &[usize]) -> String {
    let shown = |i: &usize| match v.cells.get(*i) {
        Some(Cell::Value(j)) => Some(j.to_string()),
        Some(Cell::Num(n)) => Some(n.value().to_string()),
        _ => None,
    };
    let other_taken = taken
        .iter()
        .any(|i| matches!(v.cells.get(*i), Some(Cell::Other { .. })));
    if other_taken {
        let left: Vec<String> = present
            .iter()
            .filter(|i| taken.binary_search(i).is_err())
            .filter_map(shown)
            .collect();
        return format!("{name} not in {{{}}}", left.join(", "));
    }
    let values: Vec<String> = taken.iter().filter_map(shown).collect();
    match values.as_slice() {
        [one] => format!("{name} = {one}"),
        many => format!("{name} in {{{}}}", many.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::explore::space::VarKind;
    use serde_json::json;

    fn confidence() -> Var {
        // 0, (0, 0.5), 0.5, (0.5, 0.8), 0.8, (0.8, 1), 1
        let p = |x| Cell::Num(NumCell::Point(x));
        let o = |a, b| Cell::Num(NumCell::Open(a, b));
        Var {
            kind: VarKind::Confidence,
            cells: vec![
                p(0.0),
                o(0.0, 0.5),
                p(0.5),
                o(0.5, 0.8),
                p(0.8),
                o(0.8, 1.0),
                p(1.0),
            ],
        }
    }

    fn channel() -> Var {
        Var {
            kind: VarKind::Field(vec!["channel".into()]),
            cells: vec![
                Cell::Value(json!("api")),
                Cell::Value(json!("web")),
                Cell::Other {
                    value: json!("other"),
                    not: vec!["api".into(), "web".into()],
                },
                Cell::Absent,
            ],
        }
    }

    #[test]
    fn cells_merge_into_disjoint_boxes_that_read_as_conditions() {
        let vars = [confidence(), channel()];
        // confidence in [0.5, 0.8) for every channel but "web"; and confidence = 1 for "api".
        let mut cells = Vec::new();
        for c in [2, 3] {
            for ch in [0, 2, 3] {
                cells.push(vec![c, ch]);
            }
        }
        cells.push(vec![6, 0]);
        let boxes: Vec<CellBox> = merge_with_members(&cells)
            .into_iter()
            .map(|(b, _)| b)
            .collect();
        let written: Vec<String> = boxes
            .iter()
            .map(|b| Writer::new(&vars).describe(b))
            .collect();
        assert_eq!(
            written,
            [
                "(confidence in [0.5, 0.8) or confidence = 1), channel = \"api\"",
                "confidence in [0.5, 0.8), (channel not in {\"api\", \"web\"} or not has channel)",
            ]
        );
        // Exactly the cells given, no more.
        let covered: usize = boxes
            .iter()
            .map(|b| b.iter().map(BTreeSet::len).product::<usize>())
            .sum();
        assert_eq!(covered, cells.len());
    }

    #[test]
    fn open_ends_and_whole_variables_are_left_out() {
        let vars = [confidence(), channel()];
        let b: CellBox = vec![(0..4).collect(), (0..4).collect()];
        assert_eq!(Writer::new(&vars).describe(&b), "confidence < 0.8");
        let b: CellBox = vec![(4..7).collect(), (0..3).collect()];
        assert_eq!(
            Writer::new(&vars).describe(&b),
            "confidence >= 0.8, has channel"
        );
        let b: CellBox = vec![(0..7).collect(), (0..4).collect()];
        assert_eq!(Writer::new(&vars).describe(&b), "every request");
        let b: CellBox = vec![[1, 5].into(), [0, 1].into()];
        assert_eq!(
            Writer::new(&vars).describe(&b),
            "(confidence in (0, 0.5) or confidence in (0.8, 1)), channel in {\"api\", \"web\"}"
        );
    }
}
