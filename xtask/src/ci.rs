//! `cargo xtask ci`: every check, in the order that fails fastest.

use std::path::Path;

use crate::shell::{cargo, step, succeeds};

/// Runs formatting, clippy, the tests (nextest when installed), the doc tests, rustdoc and,
/// as part of the tests, xtask's tidy tests.
pub(crate) fn run(root: &Path) -> anyhow::Result<()> {
    step("format", cargo(root).args(["fmt", "--all", "--check"]))?;
    step(
        "clippy",
        cargo(root).args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    if succeeds(cargo(root).args(["nextest", "--version"])) {
        step(
            "tests",
            cargo(root).args(["nextest", "run", "--workspace", "--all-features"]),
        )?;
    } else {
        eprintln!("cargo-nextest is not installed: running the tests with cargo test");
        step(
            "tests",
            cargo(root).args([
                "test",
                "--workspace",
                "--all-features",
                "--lib",
                "--bins",
                "--tests",
            ]),
        )?;
    }
    step(
        "doc tests",
        cargo(root).args(["test", "--workspace", "--all-features", "--doc"]),
    )?;
    step(
        "docs",
        cargo(root)
            .args(["doc", "--workspace", "--all-features", "--no-deps"])
            .env("RUSTDOCFLAGS", "-D warnings"),
    )?;
    eprintln!("\nci: every check passed");
    Ok(())
}
