//! `cargo xtask ci`: every check, in the order that fails fastest.

use std::path::Path;

use crate::shell::{cargo, step, succeeds};

/// Runs formatting, clippy, the doc tests, the tests (nextest when installed) and rustdoc;
/// xtask's tidy tests run with the tests.
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
    // The doc tests run before the other tests, so that the runner's last summary, which
    // CI reads, is the one of the unit and integration tests (nextest does not run doc
    // tests; their counts are in this step's own output).
    step(
        "doc tests",
        cargo(root).args(["test", "--workspace", "--all-features", "--doc"]),
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
        "docs",
        cargo(root)
            .args(["doc", "--workspace", "--all-features", "--no-deps"])
            .env("RUSTDOCFLAGS", "-D warnings"),
    )?;
    eprintln!("\nci: every check passed");
    Ok(())
}
