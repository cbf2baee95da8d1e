//! Runnable examples for the zmtp crates; see `examples/`.
