//! Fuzz target: any bytes, as a source file, go through the whole compiler (parse, check,
//! Cedar generation and validation) without a panic.
#![no_main]

use intent_compiler::{compile, Source, Stage};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let c = compile(&[Source::from_bytes("fuzz.intent", data.to_vec())], Stage::Build);
    let _ = intent_compiler::render::human(&c.diagnostics, &c.sources, false);
});
