//! Witnesses: a concrete point of a region (with "nice" numbers: the middle of `[0.5, 0.8)` is
//! `0.65`), turned into a request the runtime can decide, and the region written back as a
//! condition in the language's own syntax for help lines and suggested tests.

use super::region::{Cube, Var};
use super::set::{Interval, StrSet, Vals, VarSet};
use super::Space;
use intent_runtime::plan::{IntentId, Plan, Type};
use intent_runtime::request::{Caller, Request};
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;

/// The value a witness gives one variable.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Absent,
    Num(f64),
    Str(String),
}

/// A concrete point: a value for every constrained variable.
pub type Point = BTreeMap<Var, Val>;

/// A short decimal inside the interval, preferring its middle.
fn nice(iv: &Interval, integer: bool) -> Option<f64> {
    if integer {
        return iv.first_integer();
    }
    let (lo, hi) = (iv.lo.v, iv.hi.v);
    let x = match (lo.is_finite(), hi.is_finite()) {
        (true, true) if lo == hi => lo,
        (true, true) => {
            let mid = (lo + hi) / 2.0;
            // Two decimals first (the middle of [0.5, 0.8) is 0.65), then more.
            (2..=6)
                .map(|d| {
                    let f = 10f64.powi(d);
                    (mid * f).round() / f
                })
                .find(|x| iv.contains(*x))
                .unwrap_or(mid)
        }
        (true, false) if iv.lo.closed => lo,
        (true, false) => lo.floor() + 1.0,
        (false, true) if iv.hi.closed => hi,
        (false, true) => hi.ceil() - 1.0,
        (false, false) => 0.0,
    };
    iv.contains(x).then_some(x)
}

/// A value of one variable's set; absent only when nothing else is possible.
pub fn pick(set: &VarSet) -> Option<Val> {
    let v = match &set.vals {
        Vals::Num { set: s, integer } => {
            s.parts.iter().find_map(|p| nice(p, *integer)).map(Val::Num)
        }
        Vals::Str(StrSet::Only(s)) => s.iter().next().cloned().map(Val::Str),
        Vals::Str(StrSet::AllBut(ex)) => (0..=ex.len())
            .map(|i| {
                if i == 0 {
                    "other".to_string()
                } else {
                    format!("other{i}")
                }
            })
            .find(|s| !ex.contains(s))
            .map(Val::Str),
    };
    v.or_else(|| set.absent.then_some(Val::Absent))
}

/// A point of the cube; `None` for an empty cube.
pub fn point(cube: &Cube) -> Option<Point> {
    cube.vars
        .iter()
        .map(|(v, s)| pick(s).map(|x| (v.clone(), x)))
        .collect()
}

/// How a variable is written in conditions.
pub fn var_name(v: &Var) -> Option<String> {
    Some(match v {
        Var::Confidence => "confidence".into(),
        Var::Depth => "depth".into(),
        Var::Field(p) => p.join("."),
        Var::ResponseConfidence => "response.confidence".into(),
        Var::Caller => "caller.name".into(),
        Var::ResponseData(_) | Var::Opaque(_) => return None,
    })
}

pub fn num_text(x: f64) -> String {
    format!("{x}")
}

fn str_lit(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

/// `confidence = 0.65, channel = "api"`: the point, for messages (empty when it names
/// nothing that can be written).
pub fn describe(p: &Point) -> String {
    let parts: Vec<String> = p
        .iter()
        .filter_map(|(v, x)| {
            let name = var_name(v)?;
            Some(match x {
                Val::Absent if *v == Var::Caller => "an anonymous caller".to_string(),
                Val::Absent => format!("{name} absent"),
                Val::Num(n) => format!("{name} = {}", num_text(*n)),
                Val::Str(s) if is_bool_var(v) => format!("{name} = {s}"),
                Val::Str(s) => format!("{name} = {}", str_lit(s)),
            })
        })
        .collect();
    parts.join(", ")
}

fn is_bool_var(v: &Var) -> bool {
    matches!(v, Var::ResponseData(_) | Var::Opaque(_))
}

/// The cube as a condition (`confidence >= 0.5 and confidence < 0.8`), around the point
/// chosen; `None` when it cannot be written (it constrains something opaque), and an empty
/// string when it constrains nothing.
pub fn condition(cube: &Cube, p: &Point, space: &Space<'_>) -> Option<String> {
    let mut parts = Vec::new();
    for (v, set) in &cube.vars {
        let dom = space.domains.of.get(v)?;
        if set.covers(dom) {
            continue;
        }
        let name = var_name(v)?;
        let bool_field =
            matches!(v, Var::Field(path) if matches!(space.field(path), Some((Type::Bool, _))));
        match (p.get(v)?, &set.vals) {
            (Val::Absent, _) if *v == Var::Caller => parts.push("not has caller".into()),
            (Val::Absent, _) => parts.push(format!("not has {name}")),
            (Val::Num(x), Vals::Num { set: s, .. }) => {
                let iv = s.parts.iter().find(|i| i.contains(*x))?;
                let (dlo, dhi) = match &dom.vals {
                    Vals::Num { set: d, .. } => {
                        (d.parts.first().map(|i| i.lo), d.parts.last().map(|i| i.hi))
                    }
                    Vals::Str(_) => (None, None),
                };
                if iv.lo.v == iv.hi.v {
                    parts.push(format!("{name} == {}", num_text(iv.lo.v)));
                    continue;
                }
                if iv.lo.v.is_finite() && Some(iv.lo) != dlo {
                    let op = if iv.lo.closed { ">=" } else { ">" };
                    parts.push(format!("{name} {op} {}", num_text(iv.lo.v)));
                }
                if iv.hi.v.is_finite() && Some(iv.hi) != dhi {
                    let op = if iv.hi.closed { "<=" } else { "<" };
                    parts.push(format!("{name} {op} {}", num_text(iv.hi.v)));
                }
            }
            (Val::Str(s), _) if bool_field => {
                parts.push(if s == "true" {
                    name
                } else {
                    format!("not {name}")
                });
            }
            (Val::Str(_), Vals::Str(StrSet::Only(vals))) => {
                if vals.len() == 1 {
                    let one = vals.iter().next()?;
                    parts.push(format!("{name} == {}", str_lit(one)));
                } else {
                    let list: Vec<String> = vals.iter().map(|s| str_lit(s)).collect();
                    parts.push(format!("{name} in {{{}}}", list.join(", ")));
                }
            }
            (Val::Str(_), Vals::Str(StrSet::AllBut(ex))) => {
                if ex.len() == 1 {
                    let one = ex.iter().next()?;
                    parts.push(format!("{name} != {}", str_lit(one)));
                } else {
                    let list: Vec<String> = ex.iter().map(|s| str_lit(s)).collect();
                    parts.push(format!("{name} not in {{{}}}", list.join(", ")));
                }
            }
            _ => return None,
        }
    }
    Some(parts.join(" and "))
}

fn json_of(v: &Val, ty: &Type) -> Option<Json> {
    Some(match (v, ty) {
        (Val::Absent, _) => return None,
        (Val::Num(x), _) => {
            if x.fract() == 0.0 && x.abs() < 1e15 {
                Json::from(*x as i64)
            } else {
                Json::from(*x)
            }
        }
        (Val::Str(s), Type::Bool) => Json::Bool(s == "true"),
        (Val::Str(s), _) => Json::String(s.clone()),
    })
}

/// A value of a type when the witness leaves it free.
fn default_of(ty: &Type, path: &mut Vec<String>, p: &Point, space: &Space<'_>) -> Json {
    match ty {
        Type::Bool => Json::Bool(false),
        Type::Number | Type::Duration => Json::from(0),
        Type::String => Json::String("x".into()),
        Type::Enum { values } => values
            .first()
            .map_or(Json::Null, |v| Json::String(v.clone())),
        Type::Set { .. } | Type::List { .. } => Json::Array(Vec::new()),
        Type::Record { .. } => Json::Object(record(ty, path, p, space, true)),
    }
}

/// Whether the point gives a value to some field at or below `path`.
fn mentions(p: &Point, path: &[String]) -> bool {
    p.iter()
        .any(|(v, x)| matches!(v, Var::Field(f) if f.starts_with(path)) && *x != Val::Absent)
}

fn record(
    ty: &Type,
    path: &mut Vec<String>,
    p: &Point,
    space: &Space<'_>,
    _required: bool,
) -> Map<String, Json> {
    let mut out = Map::new();
    let Type::Record { fields } = ty else {
        return out;
    };
    for f in fields {
        path.push(f.name.clone());
        let value = match &f.ty {
            Type::Record { .. } => {
                (!f.optional || mentions(p, path)).then(|| default_of(&f.ty, path, p, space))
            }
            ty => match p.get(&Var::Field(path.as_slice().into())) {
                Some(v) => json_of(v, ty),
                None if f.optional => None,
                None => match space
                    .domains
                    .of
                    .get(&Var::Field(path.as_slice().into()))
                    .and_then(pick)
                {
                    Some(v) if v != Val::Absent => json_of(&v, ty),
                    _ => Some(default_of(ty, path, p, space)),
                },
            },
        };
        if let Some(v) = value {
            out.insert(f.name.clone(), v);
        }
        path.pop();
    }
    out
}

/// The context fields of a request at the point.
pub fn context(p: &Point, space: &Space<'_>) -> Map<String, Json> {
    record(&space.plan.context, &mut Vec::new(), p, space, true)
}

/// A lineage of `depth` intents whose last one delegates `intent`, without loops.
pub fn lineage(plan: &Plan, intent: IntentId, depth: usize) -> Option<Vec<String>> {
    if depth == 0 {
        return Some(Vec::new());
    }
    let last = plan
        .intents
        .iter()
        .enumerate()
        .find(|(i, it)| *i as IntentId != intent && it.delegates.contains(&intent))?;
    let mut out: Vec<String> = plan
        .intents
        .iter()
        .enumerate()
        .filter(|(i, _)| *i as IntentId != intent && *i != last.0)
        .map(|(_, it)| it.name.clone())
        .take(depth - 1)
        .collect();
    if out.len() + 1 < depth {
        return None;
    }
    out.push(last.1.name.clone());
    Some(out)
}

/// The request of a route witness: the intent, the point's confidence, depth and context.
pub fn request(intent: IntentId, p: &Point, space: &Space<'_>) -> Option<Request> {
    let plan = space.plan;
    let name = plan.intents.get(intent as usize)?.name.clone();
    let confidence = match p.get(&Var::Confidence) {
        Some(Val::Num(c)) => *c,
        _ => 0.9,
    };
    let depth = match p.get(&Var::Depth) {
        Some(Val::Num(d)) => *d as usize,
        _ => 0,
    };
    let agent = match p.get(&Var::Caller) {
        Some(Val::Str(name)) => Some(name.clone()),
        _ => None,
    };
    let caller = if depth > 0 || agent.is_some() {
        Some(Caller {
            agent,
            lineage: lineage(plan, intent, depth)?,
        })
    } else {
        None
    };
    Some(Request {
        intent: Some(name),
        text: None,
        confidence: Some(confidence),
        caller,
        context: context(p, space),
    })
}

/// The request as the `given` of a `test` block.
pub fn given_text(req: &Request) -> String {
    let mut parts = Vec::new();
    if let Some(i) = &req.intent {
        parts.push(format!("intent: {i}"));
    }
    if let Some(c) = req.confidence {
        parts.push(format!("confidence: {}", num_text(c)));
    }
    for (k, v) in &req.context {
        parts.push(format!("{k}: {}", json_text(v)));
    }
    if let Some(c) = &req.caller {
        let agent = c
            .agent
            .as_ref()
            .map(|a| format!("agent: {a}, "))
            .unwrap_or_default();
        parts.push(format!(
            "caller: {{ {agent}lineage: [{}] }}",
            c.lineage.join(", ")
        ));
    }
    format!("{{ {} }}", parts.join(", "))
}

fn json_text(v: &Json) -> String {
    match v {
        Json::Object(m) => {
            let inner: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{k}: {}", json_text(v)))
                .collect();
            format!("{{ {} }}", inner.join(", "))
        }
        Json::Array(a) => {
            let inner: Vec<String> = a.iter().map(json_text).collect();
            format!("[{}]", inner.join(", "))
        }
        other => other.to_string(),
    }
}
