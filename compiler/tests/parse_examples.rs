//! Every bundled example and stdlib module parses without a syntax problem.
use intent_compiler::syntax::parse;

#[test]
fn examples_parse() {
    for dir in ["../examples", "../stdlib"] {
        for entry in walk(std::path::Path::new(dir)) {
            let text = std::fs::read_to_string(&entry).unwrap();
            let parsed = parse(&text);
            assert!(parsed.problems.is_empty(), "{}: {:#?}", entry.display(), parsed.problems);
            assert!(!parsed.tree.items.is_empty());
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else if p.extension().is_some_and(|x| x == "intent") {
            out.push(p);
        }
    }
    out
}
