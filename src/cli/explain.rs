//! `intent explain CODE`: the long explanation of a diagnostic code. A code intent does not
//! have is a bad argument (exit 2), like any other misuse.

use intent_compiler::codes::{Code, ALL};
use std::process::ExitCode;

pub fn run(code: Option<&str>) -> ExitCode {
    let Some(code) = code else {
        for info in ALL {
            println!(
                "{}  {:<8} {}",
                info.code,
                format!("{:?}", info.severity).to_lowercase(),
                info.title
            );
        }
        return ExitCode::SUCCESS;
    };
    match Code::parse(code).and_then(|c| c.info()) {
        Some(info) => {
            print!("{}", info.explanation);
            ExitCode::SUCCESS
        }
        None => {
            eprintln!("error: `{code}` is not a diagnostic code of intent");
            eprintln!("help: run `intent explain` for the list of codes");
            ExitCode::from(2)
        }
    }
}
