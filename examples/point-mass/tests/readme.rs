//! The README's "Your own environment" program is `src/bin/readme.rs`, so it compiles.

#![allow(clippy::unwrap_used, reason = "test code: a panic is a test failure")]

#[test]
fn the_readme_shows_the_program_that_compiles() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let section = &readme[readme.find("## Your own environment").unwrap()..];
    let start = section.find("```rust\n").unwrap() + "```rust\n".len();
    let block = &section[start..start + section[start..].find("```").unwrap()];
    let program =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/bin/readme.rs")).unwrap();
    assert!(
        program.ends_with(block),
        "README.md and src/bin/readme.rs differ"
    );
    assert!(
        block.lines().count() < 40,
        "{} lines",
        block.lines().count()
    );
}
