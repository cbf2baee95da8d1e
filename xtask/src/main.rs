//! Project automation. `cargo xtask test` runs every check.
fn main() {}
