//! Fuzz target: what `intent mcp` reads from clients and servers besides the protocol itself
//! (`intent_runtime::tool_schema`). A call's arguments (any JSON, as a client sends them) are
//! checked against each input type of the MCP example's tools; an advertised input schema (any
//! JSON, as a server sends it) is read into its shape and compared with the mesh's. Nothing may
//! panic; the problems listed stay within their bound.
#![no_main]

use intent_fuzz::Json;
use intent_runtime::plan::Plan;
use intent_runtime::tool_schema::{check_arguments, declared_shape, differences, shape};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn plan() -> &'static Plan {
    static PLAN: OnceLock<Plan> = OnceLock::new();
    PLAN.get_or_init(|| {
        use intent_compiler::{compile, Source, Stage};
        let text = include_str!("../../examples/support-mcp/support.intent");
        let c = compile(&[Source::new("support.intent", text)], Stage::Build);
        c.plan.expect("the MCP example compiles")
    })
}

fuzz_target!(|input: (Json, Json)| {
    let (args, advertised) = (input.0.value(), input.1.value());
    for intent in &plan().intents {
        let Some(ty) = &intent.input else { continue };
        if let Some(obj) = args.as_object() {
            let problems = check_arguments(ty, obj);
            assert!(problems.len() <= 16);
        }
        if let Some(obj) = advertised.as_object() {
            let _ = differences(&declared_shape(ty), &shape(obj));
        }
    }
});
