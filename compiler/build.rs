//! Generates the parser from `src/syntax/grammar.lalrpop` into OUT_DIR.
fn main() {
    println!("cargo:rerun-if-changed=src/syntax/grammar.lalrpop");
    if let Err(e) = lalrpop::Configuration::new()
        .use_cargo_dir_conventions()
        .process_file("src/syntax/grammar.lalrpop")
    {
        eprintln!("lalrpop failed: {e}");
        std::process::exit(1);
    }
}
