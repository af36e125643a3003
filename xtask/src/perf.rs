//! `cargo xtask perf`: runs the headline benchmarks and writes `target/perf/summary.json`.
//!
//! Every figure is a benchmark measured beside its baseline in the same run, because this
//! machine's absolute speed drifts 2-3x between runs: the ratio is what we compare over
//! time, the absolute value only describes the run.

use std::{
    collections::BTreeSet,
    fmt::Write as _,
    fs,
    path::{Path, PathBuf},
};

use anyhow::{Context, bail};
use serde::Serialize;

use crate::shell::{cargo, step};

/// A headline figure: a criterion benchmark and the baseline it is compared with.
struct Figure {
    /// Starts with the goal id of the issue that named it (G1, G4, ...), if it named one.
    id: &'static str,
    /// The `[[bench]]` target in `benches/Cargo.toml` that measures it.
    bench: &'static str,
    /// Criterion's `group/function` of the figure.
    subject: &'static str,
    /// Criterion's `group/function` of the baseline.
    baseline: &'static str,
    /// What the baseline is, in words.
    baseline_label: &'static str,
    /// The goal, as the largest acceptable `value / baseline_value`.
    max_ratio: f64,
}

const FIGURES: &[Figure] = &[Figure {
    id: "core.message_clone",
    bench: "core",
    subject: "message_clone/message_1k_8attrs",
    baseline: "message_clone/baseline",
    baseline_label: "Bytes::clone of the same 1 KiB payload",
    // Three reference-count increments (payload, attributes, acker) against one; a copy of
    // the payload alone would be far above this.
    max_ratio: 5.0,
}];

/// One row of `summary.json`.
#[derive(Serialize)]
struct Row {
    id: &'static str,
    value: f64,
    unit: &'static str,
    baseline: &'static str,
    baseline_value: f64,
    ratio: f64,
    goal: String,
    met: bool,
}

pub(crate) fn run(root: &Path, quick: bool) -> anyhow::Result<()> {
    let benches: BTreeSet<&str> = FIGURES.iter().map(|figure| figure.bench).collect();
    let mut command = cargo(root);
    command.args(["bench", "--package", "switchyard-benches"]);
    for bench in &benches {
        command.args(["--bench", bench]);
    }
    command.arg("--");
    if quick {
        command.args(["--quick", "--warm-up-time", "1", "--measurement-time", "2"]);
    }
    step("benchmarks", &mut command)?;

    let target = target_dir(root)?;
    let rows = FIGURES
        .iter()
        .map(|figure| {
            let value = median_ns(&target, figure.subject)?;
            let baseline_value = median_ns(&target, figure.baseline)?;
            let ratio = value / baseline_value;
            Ok(Row {
                id: figure.id,
                value,
                unit: "ns",
                baseline: figure.baseline_label,
                baseline_value,
                ratio,
                goal: format!("ratio <= {}", figure.max_ratio),
                met: ratio <= figure.max_ratio,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;

    let out_dir = target.join("perf");
    fs::create_dir_all(&out_dir)?;
    let summary = out_dir.join("summary.json");
    fs::write(&summary, serde_json::to_string_pretty(&rows)?)?;
    println!("{}", table(&rows));
    println!("wrote {}", summary.display());
    Ok(())
}

/// Criterion's median estimate for `group/function`, in nanoseconds.
fn median_ns(target: &Path, benchmark: &str) -> anyhow::Result<f64> {
    let path = target
        .join("criterion")
        .join(benchmark)
        .join("new/estimates.json");
    let text = fs::read_to_string(&path)
        .with_context(|| format!("no estimates for {benchmark} at {}", path.display()))?;
    let estimates: serde_json::Value = serde_json::from_str(&text)?;
    match estimates["median"]["point_estimate"].as_f64() {
        Some(ns) if ns > 0.0 => Ok(ns),
        _ => bail!("{} has no positive median estimate", path.display()),
    }
}

fn target_dir(root: &Path) -> anyhow::Result<PathBuf> {
    let output = cargo(root)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()?;
    if !output.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    metadata["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .context("cargo metadata has no target_directory")
}

fn table(rows: &[Row]) -> String {
    let mut out = format!(
        "{:<28} {:>12} {:>14} {:>8}  {:<10} {}\n",
        "figure", "value (ns)", "baseline (ns)", "ratio", "goal", "baseline is"
    );
    for row in rows {
        let _ = writeln!(
            out,
            "{:<28} {:>12.2} {:>14.2} {:>8.2}  {:<10} {}{}",
            row.id,
            row.value,
            row.baseline_value,
            row.ratio,
            row.goal.trim_start_matches("ratio "),
            row.baseline,
            if row.met { "" } else { "  (goal missed)" },
        );
    }
    out
}
