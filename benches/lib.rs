//! Switchyard's benchmark package. The benchmarks are its `[[bench]]` targets; this library
//! is empty. Every benchmark group measures a figure and its baseline side by side, named
//! `<group>/<figure>` and `<group>/baseline`, so that `cargo xtask perf` can pair them.
