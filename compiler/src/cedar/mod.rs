//! Placeholder until the Cedar generator lands from its branch: generates nothing and finds
//! nothing. (Replaced by the real module; never shipped as is.)

use intent_runtime::plan::{CedarPart, Plan, SrcId};

pub struct CedarProblem {
    pub src: Option<SrcId>,
    pub message: String,
}

pub fn generate(_plan: &Plan) -> CedarPart {
    CedarPart::default()
}

pub fn validate(_plan: &Plan, _part: &CedarPart) -> Vec<CedarProblem> {
    Vec::new()
}
