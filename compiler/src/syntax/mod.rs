//! Syntax: the lexer, the grammar and the syntax tree. Knows nothing of salsa, names or types.

pub mod ast;
pub mod hidden;
pub mod lexer;
pub mod parser;
mod repair;
pub mod token;

lalrpop_util::lalrpop_mod!(
    #[allow(
        clippy::all,
        clippy::pedantic,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        unused
    )]
    grammar,
    "/syntax/grammar.rs"
);

pub use parser::{parse, Parsed, SyntaxProblem};
