//! The Intent runtime: the routing plan types (the contract with the compiler) and, in later
//! work, the evaluator that decides requests against a plan. It never depends on the compiler.

pub mod plan;
