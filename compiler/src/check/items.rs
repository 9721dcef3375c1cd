//! Agents, humans, intents and limits: field values, duplicate fields, `backup` cycles,
//! `delegates` cycles and delegation chains longer than the limit.

use super::expr::literal;
use super::graph;
use super::Checker;
use crate::codes::Code;
use crate::diagnostics::Diagnostic;
use crate::syntax::ast::*;
use intent_runtime::plan::{self, AgentId, LimitTarget, Value};
use std::collections::BTreeMap;

/// What a field value must be.
#[derive(Clone, Copy, PartialEq)]
enum Want {
    Fraction,
    NonNegative,
    Count,
    Str,
    Duration,
}

impl Want {
    fn describe(self) -> &'static str {
        match self {
            Want::Fraction => "a number between 0 and 1",
            Want::NonNegative => "a number of at least 0",
            Want::Count => "a whole number of at least 1",
            Want::Str => "a string",
            Want::Duration => "a positive duration such as `30s`, `5m` or `4h`",
        }
    }
}

impl Checker<'_, '_> {
    /// The value of a field written as a literal or a const's name, checked against `want`.
    fn value(&mut self, file: usize, field: &str, e: &Expr, want: Want) -> Option<Value> {
        let (v, is_duration) = match &e.kind {
            ExprKind::Path(p) => {
                let segs: Vec<&str> = p.segments.iter().map(|s| s.text.as_str()).collect();
                match self.t.find_const(file, &segs) {
                    Some((_, value)) => {
                        (literal(value), matches!(value.kind, ExprKind::Duration(_)))
                    }
                    None => {
                        let help = crate::diagnostics::did_you_mean(
                            &p.dotted(),
                            self.t
                                .visible(crate::syntax::ast::DeclKeyword::Const, file)
                                .iter()
                                .map(String::as_str),
                        )
                        .unwrap_or_else(|| format!("`{field}` takes {}", want.describe()));
                        self.diags.push(
                            Diagnostic::new(
                                Code::UNKNOWN_NAME,
                                self.t.path(file),
                                p.span,
                                format!("unknown name `{}`", p.dotted()),
                            )
                            .with_label("not a const")
                            .with_help(help),
                        );
                        return None;
                    }
                }
            }
            kind => (literal(e), matches!(kind, ExprKind::Duration(_))),
        };
        // A number literal already reported as invalid (E0005) is not reported again.
        if matches!(v, Some(Value::Number(n)) if n.is_nan()) {
            return None;
        }
        let ok = match (&v, want) {
            (Some(Value::Number(n)), Want::Fraction) if !is_duration => {
                if !(0.0..=1.0).contains(n) {
                    self.diags.push(
                        Diagnostic::new(
                            Code::THRESHOLD_RANGE,
                            self.t.path(file),
                            e.span,
                            format!("`{field}` is {n}, outside 0..1"),
                        )
                        .with_label("outside 0..1")
                        .with_help("trust is a fraction: 0.9, not 90"),
                    );
                    return None;
                }
                true
            }
            (Some(Value::Number(n)), Want::NonNegative) => !is_duration && *n >= 0.0,
            (Some(Value::Number(n)), Want::Count) => !is_duration && *n >= 1.0 && n.fract() == 0.0,
            (Some(Value::Number(n)), Want::Duration) => is_duration && *n > 0.0,
            (Some(Value::String(_)), Want::Str) => true,
            _ => false,
        };
        if !ok {
            self.diags.push(
                Diagnostic::new(
                    Code::BAD_FIELD_VALUE,
                    self.t.path(file),
                    e.span,
                    format!("`{field}` takes {}", want.describe()),
                )
                .with_label("invalid value")
                .with_help(match want {
                    Want::Duration => format!("write `{field} 4h` (units: ms, s, m, h, d)"),
                    Want::Str if field == "examples" => {
                        "write `examples [\"...\", \"...\"]`: each example is a string".to_string()
                    }
                    Want::Str => format!("write `{field} \"...\"`"),
                    _ => format!("write `{field}` followed by {}", want.describe()),
                }),
            );
            return None;
        }
        v
    }

    fn dup_field(
        &mut self,
        file: usize,
        seen: &mut Vec<(&'static str, Span)>,
        word: &'static str,
        span: Span,
        (kind, name): (&str, &str),
    ) {
        // A declaration has a dozen fields at most: a list searched in turn, where a map
        // allocated a node for every declaration of the mesh at every check.
        if let Some((_, prev)) = seen.iter().find(|(w, _)| *w == word) {
            self.diags.push(
                Diagnostic::new(
                    Code::DUPLICATE_FIELD,
                    self.t.path(file),
                    span,
                    format!("`{word}` is given twice for {kind} `{name}`"),
                )
                .with_label("given again here")
                .with_secondary(self.t.path(file), *prev, "first given here")
                .with_help(
                    if matches!(
                        word,
                        "provides" | "clearance" | "backup" | "requires" | "handles" | "delegates"
                    ) {
                        format!("keep one `{word}`; it takes a list: `{word} a, b`")
                    } else {
                        format!("keep one `{word}`")
                    },
                ),
            );
        } else {
            seen.push((word, span));
        }
    }

    pub fn agents(&mut self) -> Vec<plan::Agent> {
        let mut out = Vec::with_capacity(self.t.agents.len());
        let mut backup_spans: Vec<Option<(usize, Span)>> = Vec::new();
        for i in 0..self.t.agents.len() {
            let Some(entry) = self.t.agents.get(i) else {
                continue;
            };
            let (file, decl, display) = (entry.decl.file, entry.decl.node, entry.display.clone());
            let src = self.src(file, decl.name.span);
            let mut a = plan::Agent {
                name: display.clone(),
                provides: Vec::new(),
                cleared: Vec::new(),
                trust: 0.0,
                cost: 0.0,
                region: String::new(),
                zone: String::new(),
                endpoint: None,
                protocol: None,
                backups: Vec::new(),
                labels: BTreeMap::new(),
                src,
            };
            let mut seen = Vec::new();
            let mut backup_span = None;
            let owner = ("agent", display.as_str());
            for f in &decl.fields {
                self.dup_field(file, &mut seen, f.keyword(), f.span(), owner);
                match f {
                    AgentField::Provides(paths, _) => {
                        for p in paths {
                            if let Some(c) = self.t.resolve_cap(file, p, &mut self.diags) {
                                a.provides.extend(self.t.cap_closure(c));
                            }
                        }
                    }
                    AgentField::Clearance(paths, _) => {
                        for p in paths {
                            if let Some(d) = self.t.resolve_data(file, p, &mut self.diags) {
                                a.cleared.extend_from_slice(self.t.data_closure(d));
                            }
                        }
                    }
                    AgentField::Trust(e, _) => {
                        if let Some(Value::Number(n)) = self.value(file, "trust", e, Want::Fraction)
                        {
                            a.trust = n;
                        }
                    }
                    AgentField::Cost(e, _) => {
                        if let Some(Value::Number(n)) =
                            self.value(file, "cost", e, Want::NonNegative)
                        {
                            a.cost = n;
                        }
                    }
                    AgentField::Region(e, _) => {
                        if let Some(Value::String(s)) = self.value(file, "region", e, Want::Str) {
                            a.region = s;
                        }
                    }
                    AgentField::Endpoint(e, _) => {
                        if let Some(Value::String(s)) = self.value(file, "endpoint", e, Want::Str) {
                            a.endpoint = Some(s);
                        }
                    }
                    AgentField::ProtocolEndpoint(kind, e, _) => {
                        if kind.text != "mcp" {
                            self.diags.push(
                                Diagnostic::new(
                                    Code::BAD_FIELD_VALUE,
                                    self.t.path(file),
                                    kind.span,
                                    format!("unknown endpoint protocol `{}`", kind.text),
                                )
                                .with_label("not a protocol the mesh knows")
                                .with_help(
                                    "write `endpoint mcp \"URL\"` for an MCP server, or `endpoint \"URL\"`",
                                ),
                            );
                        } else if let Some(Value::String(s)) =
                            self.value(file, "endpoint", e, Want::Str)
                        {
                            a.endpoint = Some(s);
                            a.protocol = Some(plan::Protocol::Mcp);
                        }
                    }
                    AgentField::Zone(n, _) => a.zone = n.text.clone(),
                    AgentField::Backup(names, span) => {
                        backup_span = Some((file, *span));
                        for n in names {
                            if let Some(b) = self.t.resolve_agent(file, n, &mut self.diags) {
                                a.backups.push(b);
                            }
                        }
                    }
                    AgentField::Labels(entries, _) => {
                        for (k, v) in entries {
                            match literal(v) {
                                Some(
                                    value @ (Value::String(_) | Value::Number(_) | Value::Bool(_)),
                                ) => {
                                    a.labels.insert(k.text.clone(), value);
                                }
                                _ => self.diags.push(
                                    Diagnostic::new(
                                        Code::BAD_FIELD_VALUE,
                                        self.t.path(file),
                                        v.span,
                                        format!(
                                            "label `{}` must be a string, a number or a boolean",
                                            k.text
                                        ),
                                    )
                                    .with_label("not a simple literal")
                                    .with_help("write `labels { team: \"finance\", tier: 2 }`"),
                                ),
                            }
                        }
                    }
                }
            }
            a.provides.sort_unstable();
            a.provides.dedup();
            a.cleared.sort_unstable();
            a.cleared.dedup();
            backup_spans.push(backup_span);
            out.push(a);
        }
        self.backup_cycles(&out, &backup_spans);
        out
    }

    fn backup_cycles(&mut self, agents: &[plan::Agent], spans: &[Option<(usize, Span)>]) {
        let edges = |i: usize| -> Vec<usize> {
            agents
                .get(i)
                .map(|a| a.backups.iter().map(|b| *b as usize).collect())
                .unwrap_or_default()
        };
        for cycle in graph::cycles(agents.len(), &edges) {
            let Some(&start) = cycle.first() else {
                continue;
            };
            let names: Vec<&str> = cycle
                .iter()
                .chain(cycle.first())
                .filter_map(|i| agents.get(*i))
                .map(|a| a.name.as_str())
                .collect();
            if let Some(Some((file, span))) = spans.get(start) {
                self.diags.push(
                    Diagnostic::new(
                        Code::BACKUP_CYCLE,
                        self.t.path(*file),
                        *span,
                        format!("`backup` chain loops: {}", names.join(" → ")),
                    )
                    .with_label("part of the loop")
                    .with_help(
                        "a backup must not lead back to the agent it backs up: remove one `backup`",
                    ),
                );
            }
        }
    }

    pub fn humans(&mut self) -> Vec<plan::Human> {
        let mut out = Vec::with_capacity(self.t.humans.len());
        for i in 0..self.t.humans.len() {
            let Some(entry) = self.t.humans.get(i) else {
                continue;
            };
            let (file, decl, display) = (entry.decl.file, entry.decl.node, entry.display.clone());
            let src = self.src(file, decl.name.span);
            let mut h = plan::Human {
                name: display.clone(),
                channel: None,
                sla_ms: None,
                src,
            };
            let mut seen = Vec::new();
            let owner = ("human", display.as_str());
            for f in &decl.fields {
                match f {
                    HumanField::Channel(e, span) => {
                        self.dup_field(file, &mut seen, "channel", *span, owner);
                        if let Some(Value::String(s)) = self.value(file, "channel", e, Want::Str) {
                            h.channel = Some(s);
                        }
                    }
                    HumanField::Sla(e, span) => {
                        self.dup_field(file, &mut seen, "sla", *span, owner);
                        if let Some(Value::Number(n)) = self.value(file, "sla", e, Want::Duration) {
                            h.sla_ms = Some(n as u64);
                        }
                    }
                }
            }
            out.push(h);
        }
        out
    }

    pub fn limits(&mut self) -> plan::Limits {
        let mut limits = plan::Limits::default();
        let mut depth_at: Option<(usize, Span)> = None;
        let mut floor_at: Option<(usize, Span)> = None;
        let blocks: Vec<(usize, &[Limit])> = self.t.ws.limits.clone();
        for (file, entries) in blocks {
            for l in entries {
                match l {
                    Limit::DelegationDepth(e, span) => {
                        if let Some((pf, ps)) = depth_at {
                            self.diags.push(
                                Diagnostic::new(
                                    Code::DUPLICATE_FIELD,
                                    self.t.path(file),
                                    *span,
                                    "`delegation depth` is given twice",
                                )
                                .with_label("given again here")
                                .with_secondary(self.t.path(pf), ps, "first given here")
                                .with_help("keep one"),
                            );
                            continue;
                        }
                        depth_at = Some((file, *span));
                        if let Some(Value::Number(n)) =
                            self.value(file, "delegation depth", e, Want::Count)
                        {
                            limits.delegation_depth = Some(n as u32);
                        }
                    }
                    Limit::Rate {
                        target,
                        count,
                        per,
                        span,
                    } => {
                        let target = self.limit_target(file, target, true);
                        let count = self.value(file, "rate", count, Want::Count);
                        let per = self.value(file, "per", per, Want::Duration);
                        if let (
                            Some(target),
                            Some(Value::Number(count)),
                            Some(Value::Number(per)),
                        ) = (target, count, per)
                        {
                            let src = self.src(file, *span);
                            limits.rates.push(plan::RateLimit {
                                target,
                                count: count as u64,
                                per_ms: per as u64,
                                per_caller: false,
                                src,
                            });
                        }
                    }
                    Limit::IntentRate {
                        intent,
                        count,
                        per,
                        each,
                        span,
                    } => {
                        let per_caller = match each {
                            None => false,
                            Some(w) if w.text == "caller" => true,
                            Some(w) => {
                                self.diags.push(
                                    Diagnostic::new(
                                        Code::BAD_FIELD_VALUE,
                                        self.t.path(file),
                                        w.span,
                                        format!("`per {}` is not a way to count an intent's requests", w.text),
                                    )
                                    .with_label("expected `caller`")
                                    .with_help("write `per caller` to count each calling agent on its own, or leave it out to count all callers together"),
                                );
                                continue;
                            }
                        };
                        let target = self.t.resolve_intent(file, intent, &mut self.diags);
                        let count = self.value(file, "rate", count, Want::Count);
                        let per = self.value(file, "per", per, Want::Duration);
                        if let (Some(i), Some(Value::Number(count)), Some(Value::Number(per))) =
                            (target, count, per)
                        {
                            let src = self.src(file, *span);
                            limits.rates.push(plan::RateLimit {
                                target: LimitTarget::Intent(i),
                                count: count as u64,
                                per_ms: per as u64,
                                per_caller,
                                src,
                            });
                        }
                    }
                    Limit::Breaker {
                        target,
                        failures,
                        cooldown,
                        span,
                    } => {
                        let target = self.limit_target(file, target, false);
                        let failures = self.value(file, "breaker", failures, Want::Count);
                        let cooldown = self.value(file, "cooldown", cooldown, Want::Duration);
                        if let (
                            Some(target),
                            Some(Value::Number(failures)),
                            Some(Value::Number(cooldown)),
                        ) = (target, failures, cooldown)
                        {
                            let src = self.src(file, *span);
                            limits.breakers.push(plan::Breaker {
                                target,
                                failures: failures as u64,
                                cooldown_ms: cooldown as u64,
                                src,
                            });
                        }
                    }
                    Limit::Floor {
                        subject,
                        value,
                        span,
                    } => {
                        if subject.text != "confidence" {
                            self.diags.push(
                                Diagnostic::new(
                                    Code::BAD_FIELD_VALUE,
                                    self.t.path(file),
                                    subject.span,
                                    format!("`{} floor` is not a limit", subject.text),
                                )
                                .with_label("only the confidence has a floor")
                                .with_help("write `confidence floor 0.3`"),
                            );
                            continue;
                        }
                        if let Some((pf, ps)) = floor_at {
                            self.diags.push(
                                Diagnostic::new(
                                    Code::DUPLICATE_FIELD,
                                    self.t.path(file),
                                    *span,
                                    "`confidence floor` is given twice",
                                )
                                .with_label("given again here")
                                .with_secondary(self.t.path(pf), ps, "first given here")
                                .with_help("keep one"),
                            );
                            continue;
                        }
                        floor_at = Some((file, *span));
                        if let Some(Value::Number(n)) =
                            self.value(file, "confidence floor", value, Want::Fraction)
                        {
                            self.floor = Some(n);
                        }
                    }
                    Limit::Error(_) => {}
                }
            }
        }
        limits.rates.sort_by(|a, b| {
            (format!("{:?}", a.target), a.count, a.per_ms).cmp(&(
                format!("{:?}", b.target),
                b.count,
                b.per_ms,
            ))
        });
        limits.breakers.sort_by(|a, b| {
            (format!("{:?}", a.target), a.failures, a.cooldown_ms).cmp(&(
                format!("{:?}", b.target),
                b.failures,
                b.cooldown_ms,
            ))
        });
        limits
    }

    fn limit_target(
        &mut self,
        file: usize,
        target: &Target,
        humans_too: bool,
    ) -> Option<LimitTarget> {
        match target {
            Target::Any(..) => Some(LimitTarget::Any),
            Target::Agent(n) => {
                if let Some(a) = self.t.try_agent(file, &n.text) {
                    return Some(LimitTarget::Agent(a));
                }
                if humans_too {
                    if let Some(h) = self.t.try_human(file, &n.text) {
                        return Some(LimitTarget::Human(h));
                    }
                }
                self.t
                    .resolve_agent(file, n, &mut self.diags)
                    .map(LimitTarget::Agent)
            }
        }
    }

    pub fn intents(&mut self, limits: &plan::Limits) -> Vec<plan::Intent> {
        let mut out = Vec::with_capacity(self.t.intents.len());
        let mut delegate_spans = Vec::new();
        for i in 0..self.t.intents.len() {
            let Some(entry) = self.t.intents.get(i) else {
                continue;
            };
            let (file, decl, display) = (entry.decl.file, entry.decl.node, entry.display.clone());
            let src = self.src(file, decl.name.span);
            let mut it = plan::Intent {
                name: display.clone(),
                description: None,
                examples: Vec::new(),
                requires: Vec::new(),
                handles: Vec::new(),
                delegates: Vec::new(),
                input: None,
                tool: None,
                output: None,
                route: plan::Route { arms: Vec::new() },
                src,
            };
            let mut seen = Vec::new();
            let mut delegates_span = None;
            let owner = ("intent", display.as_str());
            for f in &decl.fields {
                self.dup_field(file, &mut seen, f.keyword(), f.span(), owner);
                match f {
                    IntentField::Description(e, _) => {
                        if let Some(Value::String(s)) =
                            self.value(file, "description", e, Want::Str)
                        {
                            it.description = Some(s);
                        }
                    }
                    IntentField::Examples(list, _) => {
                        for e in list {
                            if let Some(Value::String(s)) =
                                self.value(file, "examples", e, Want::Str)
                            {
                                it.examples.push(s);
                            }
                        }
                    }
                    IntentField::Requires(paths, _) => {
                        for p in paths {
                            if let Some(c) = self.t.resolve_cap(file, p, &mut self.diags) {
                                it.requires.push(c);
                            }
                        }
                    }
                    IntentField::Handles(paths, _) => {
                        for p in paths {
                            if let Some(d) = self.t.resolve_data(file, p, &mut self.diags) {
                                it.handles.push(d);
                            }
                        }
                    }
                    IntentField::Delegates(names, span) => {
                        delegates_span = Some((file, *span));
                        for n in names {
                            if let Some(d) = self.t.resolve_intent(file, n, &mut self.diags) {
                                it.delegates.push(d);
                            }
                        }
                    }
                    IntentField::Tool(e, _) => {
                        if let Some(Value::String(s)) = self.value(file, "tool", e, Want::Str) {
                            it.tool = self.tool_name(file, e.span, s);
                        }
                    }
                    IntentField::Output(schema, _) => {
                        it.output = Some(self.output_schema(file, schema));
                    }
                    IntentField::Input(schema, _) => {
                        super::schema::no_marks(self.t.path(file), schema, &mut self.diags);
                        it.input = Some(super::schema::record(
                            self.t.path(file),
                            schema,
                            &mut self.diags,
                        ));
                    }
                }
            }
            it.requires.sort_unstable();
            it.requires.dedup();
            it.handles.sort_unstable();
            it.handles.dedup();
            delegate_spans.push(delegates_span);
            out.push(it);
        }
        self.delegation(&out, &delegate_spans, limits);
        out
    }

    fn delegation(
        &mut self,
        intents: &[plan::Intent],
        spans: &[Option<(usize, Span)>],
        limits: &plan::Limits,
    ) {
        let edges = |i: usize| -> Vec<usize> {
            intents
                .get(i)
                .map(|x| x.delegates.iter().map(|d| *d as usize).collect())
                .unwrap_or_default()
        };
        let mut in_cycle = vec![false; intents.len()];
        for cycle in graph::cycles(intents.len(), &edges) {
            for i in &cycle {
                if let Some(c) = in_cycle.get_mut(*i) {
                    *c = true;
                }
            }
            // A loop no longer than `delegation depth` is bounded by the runtime's loop guard;
            // a longer one (or one with no limit at all) is what the checker reports.
            if limits
                .delegation_depth
                .is_some_and(|d| cycle.len() as u32 <= d)
            {
                continue;
            }
            let Some(&start) = cycle.first() else {
                continue;
            };
            let names: Vec<&str> = cycle
                .iter()
                .chain(cycle.first())
                .filter_map(|i| intents.get(*i))
                .map(|x| x.name.as_str())
                .collect();
            let why = limits.delegation_depth.map_or_else(
                || "and no `delegation depth` limits it".to_string(),
                |d| format!("longer than `delegation depth` {d}"),
            );
            if let Some(Some((file, span))) = spans.get(start) {
                self.diags.push(
                    Diagnostic::new(Code::DELEGATES_CYCLE, self.t.path(*file), *span, format!("`delegates` loops: {}, {why}", names.join(" → ")))
                        .with_label("part of the loop")
                        .with_help("remove one of the delegations, or set `delegation depth` to at least the loop's length (the runtime then denies the loop's last step)"),
                );
            }
        }
        let Some(limit) = limits.delegation_depth else {
            return;
        };
        let depths = graph::longest_paths(intents.len(), &edges, &in_cycle);
        for (start, depth) in depths.into_iter().enumerate() {
            if depth <= limit || in_cycle.get(start).copied().unwrap_or(true) {
                continue;
            }
            if let Some(Some((file, span))) = spans.get(start) {
                let name = intents.get(start).map_or("", |x| x.name.as_str());
                self.diags.push(
                    Diagnostic::new(Code::DELEGATION_TOO_DEEP, self.t.path(*file), *span, format!("intent `{name}` starts a delegation chain {depth} deep, but `delegation depth` is {limit}"))
                        .with_label("chain starts here")
                        .with_help(format!("the last delegations of the chain will be denied: raise `delegation depth` to {depth} or shorten the chain")),
                );
            }
        }
    }
}

/// Agents reachable through `backups` from `a` (not including `a`), in order.
pub(crate) fn backup_chain(agents: &[plan::Agent], a: AgentId) -> Vec<AgentId> {
    let mut out = Vec::new();
    let mut queue: Vec<AgentId> = agents
        .get(a as usize)
        .map(|x| x.backups.clone())
        .unwrap_or_default();
    queue.reverse();
    while let Some(b) = queue.pop() {
        if b == a || out.contains(&b) {
            continue;
        }
        out.push(b);
        if let Some(x) = agents.get(b as usize) {
            queue.extend(x.backups.iter().rev());
        }
    }
    out
}
