//! `intent graph`: the mesh as a graph, drawn from its routing plan. Nodes are agents,
//! capabilities, intents and humans; edges are what an agent provides (the capabilities it was
//! given, not each one below them), its backups in order, each route arm's steps (to an agent,
//! or to a capability for `any CAP`) with their fallbacks, escalations to people, and the
//! intents an intent delegates to. Printed as Graphviz DOT (`dot -Tsvg`) or a Mermaid flowchart.
//!
//! The graph is built once (`Graph`), then written by one of two small writers; node ids are
//! generated (`a0`, `c3`), so no name can break either syntax, and every label is escaped.

use super::plan_input;
use clap::ValueEnum;
use intent_runtime::plan::{Action, Plan, Step, Target};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// How `intent graph` writes the graph.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// Graphviz DOT
    Dot,
    /// A Mermaid flowchart
    Mermaid,
}

pub fn run(
    paths: &[PathBuf],
    plan: Option<&Path>,
    format: GraphFormat,
) -> Result<ExitCode, String> {
    let plan = match plan {
        Some(p) => plan_input::load(p)?,
        None => plan_input::compile_sources(paths, "the sources")?,
    };
    let graph = Graph::of(&plan);
    print!(
        "{}",
        match format {
            GraphFormat::Dot => graph.dot(),
            GraphFormat::Mermaid => graph.mermaid(),
        }
    );
    Ok(ExitCode::SUCCESS)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Agent,
    Capability,
    Intent,
    Human,
    /// An outcome that names nobody (`clarify`, `deny`).
    Outcome,
}

struct Node {
    id: String,
    label: String,
    kind: Kind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    /// Provides, routes to.
    Solid,
    /// A backup or a fallback: tried when the first choice cannot take it.
    Dashed,
    /// A delegation between intents.
    Bold,
}

struct Edge {
    from: String,
    to: String,
    label: String,
    style: Style,
}

struct Graph {
    nodes: Vec<Node>,
    edges: Vec<Edge>,
}

impl Graph {
    fn of(plan: &Plan) -> Graph {
        let mut g = Graph {
            nodes: Vec::new(),
            edges: Vec::new(),
        };
        let agent = |i: u32| format!("a{i}");
        let cap = |i: u32| format!("c{i}");
        let intent = |i: usize| format!("i{i}");
        let human = |i: u32| format!("h{i}");
        let target = |t: &Target| match t {
            Target::Agent(a) => agent(*a),
            Target::Any(c) => cap(*c),
        };
        for (i, a) in plan.agents.iter().enumerate() {
            g.node(agent(i as u32), &a.name, Kind::Agent);
        }
        for (i, c) in plan.capabilities.iter().enumerate() {
            g.node(cap(i as u32), &c.name, Kind::Capability);
        }
        for (i, it) in plan.intents.iter().enumerate() {
            g.node(intent(i), &it.name, Kind::Intent);
        }
        for (i, h) in plan.humans.iter().enumerate() {
            g.node(human(i as u32), &h.name, Kind::Human);
        }
        for (i, a) in plan.agents.iter().enumerate() {
            // The capabilities given, not each one below them: those whose group is not provided too.
            for &c in &a.provides {
                let parent = plan.capabilities.get(c as usize).and_then(|x| x.parent);
                if parent.is_none_or(|p| !a.provides.contains(&p)) {
                    g.edge(agent(i as u32), cap(c), "provides", Style::Solid);
                }
            }
            for (n, &b) in a.backups.iter().enumerate() {
                g.edge(
                    agent(i as u32),
                    agent(b),
                    &format!("backup {}", n + 1),
                    Style::Dashed,
                );
            }
        }
        let mut outcomes: Vec<&str> = Vec::new();
        for (i, it) in plan.intents.iter().enumerate() {
            for (n, arm) in it.route.arms.iter().enumerate() {
                let arm_no = n + 1;
                let (steps, word): (&[Step], Option<&str>) = match &arm.action {
                    Action::Dispatch { step } => (std::slice::from_ref(step), None),
                    Action::Plan { steps } => (steps.as_slice(), None),
                    Action::Escalate { humans, .. } => {
                        for &h in humans {
                            let label = format!("arm {arm_no}: escalate");
                            g.edge(intent(i), human(h), &label, Style::Solid);
                        }
                        (&[][..], None)
                    }
                    Action::Clarify { .. } => (&[][..], Some("clarify")),
                    Action::Deny { .. } => (&[][..], Some("deny")),
                    Action::Pass => (&[][..], Some("pass")),
                    Action::Redact { .. } => (&[][..], Some("redact")),
                };
                if let Some(word) = word {
                    if !outcomes.contains(&word) {
                        outcomes.push(word);
                        g.node(format!("o_{word}"), word, Kind::Outcome);
                    }
                    let label = format!("arm {arm_no}");
                    g.edge(intent(i), format!("o_{word}"), &label, Style::Solid);
                }
                for s in steps {
                    let any = if matches!(s.target, Target::Any(_)) {
                        " (any)"
                    } else {
                        ""
                    };
                    let label = format!("arm {arm_no}: {}{any}", s.name);
                    g.edge(intent(i), target(&s.target), &label, Style::Solid);
                    for (k, f) in s.fallbacks.iter().enumerate() {
                        g.edge(
                            intent(i),
                            target(f),
                            &format!("arm {arm_no}: {} fallback {}", s.name, k + 1),
                            Style::Dashed,
                        );
                    }
                }
            }
            for &d in &it.delegates {
                g.edge(intent(i), intent(d as usize), "delegates", Style::Bold);
            }
        }
        // A capability nothing provides or routes to (a group only named by its members) is
        // left out: it would stand alone.
        let linked: std::collections::HashSet<&str> = g
            .edges
            .iter()
            .flat_map(|e| [e.from.as_str(), e.to.as_str()])
            .collect();
        let keep: Vec<bool> = g
            .nodes
            .iter()
            .map(|n| n.kind != Kind::Capability || linked.contains(n.id.as_str()))
            .collect();
        let mut keep = keep.into_iter();
        g.nodes.retain(|_| keep.next().unwrap_or(true));
        g
    }

    fn node(&mut self, id: String, label: &str, kind: Kind) {
        self.nodes.push(Node {
            id,
            label: label.to_string(),
            kind,
        });
    }

    fn edge(&mut self, from: String, to: String, label: &str, style: Style) {
        self.edges.push(Edge {
            from,
            to,
            label: label.to_string(),
            style,
        });
    }

    fn dot(&self) -> String {
        let mut out = String::from(
            "digraph mesh {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n",
        );
        for n in &self.nodes {
            let shape = match n.kind {
                Kind::Agent => "shape=box, style=rounded",
                Kind::Capability => "shape=ellipse, style=dashed",
                Kind::Intent => "shape=hexagon",
                Kind::Human => "shape=house",
                Kind::Outcome => "shape=plaintext",
            };
            let _ = writeln!(out, "  {} [label={}, {shape}];", n.id, dot_string(&n.label));
        }
        for e in &self.edges {
            let style = match e.style {
                Style::Solid => "",
                Style::Dashed => ", style=dashed",
                Style::Bold => ", style=bold",
            };
            let _ = writeln!(
                out,
                "  {} -> {} [label={}{style}];",
                e.from,
                e.to,
                dot_string(&e.label)
            );
        }
        out.push_str("}\n");
        out
    }

    fn mermaid(&self) -> String {
        let mut out = String::from("flowchart LR\n");
        for n in &self.nodes {
            let label = mermaid_string(&n.label);
            let _ = match n.kind {
                Kind::Agent => writeln!(out, "  {}(\"{label}\")", n.id),
                Kind::Capability => writeln!(out, "  {}([\"{label}\"])", n.id),
                Kind::Intent => writeln!(out, "  {}{{{{\"{label}\"}}}}", n.id),
                Kind::Human => writeln!(out, "  {}[/\"{label}\"\\]", n.id),
                Kind::Outcome => writeln!(out, "  {}[\"{label}\"]", n.id),
            };
        }
        for e in &self.edges {
            let arrow = match e.style {
                Style::Solid => "-->",
                Style::Dashed => "-.->",
                Style::Bold => "==>",
            };
            let _ = writeln!(
                out,
                "  {} {arrow}|\"{}\"| {}",
                e.from,
                mermaid_string(&e.label),
                e.to
            );
        }
        out
    }
}

/// A DOT double-quoted string.
fn dot_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Text inside a Mermaid `"..."` label: quotes and the characters Mermaid reads as markup
/// become entity codes.
fn mermaid_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '|' => out.push_str("#124;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}
