//! Switchyard's benchmark package. The benchmarks are its `[[bench]]` targets; this library
//! holds what they share. Every criterion group measures a figure and its baseline side by
//! side, named `<group>/<figure>` and `<group>/baseline`, so that `cargo xtask perf` can
//! pair them; figures that criterion's medians cannot give (percentiles, scaling tables)
//! are written by the bench itself with [`write_figures`].

use std::path::{Path, PathBuf};

use serde_json::Value;

/// `target/perf/figures`: under `CARGO_TARGET_DIR` if set (relative to the workspace, as
/// cargo reads it), else under the workspace's `target`.
pub fn figures_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new(".."));
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if Path::new(&dir).is_absolute() => PathBuf::from(dir),
        Some(dir) => workspace.join(dir),
        None => workspace.join("target"),
    };
    target.join("perf").join("figures")
}

/// Writes `rows` (objects with the keys of `summary.json`: `id`, `value`, `unit`,
/// `baseline`, `baseline_value`, `ratio`, `goal`, `met`) to `figures/<name>.json`, where
/// `cargo xtask perf` merges them into its summary. A failure to write is reported on
/// stderr: the summary then lacks these rows, which `cargo xtask perf` shows.
#[allow(
    clippy::print_stderr,
    reason = "a benchmark reports on its standard streams"
)]
pub fn write_figures(name: &str, rows: &[Value]) {
    let dir = figures_dir();
    let path = dir.join(format!("{name}.json"));
    let written = std::fs::create_dir_all(&dir).and_then(|()| {
        let text = serde_json::to_string_pretty(rows).unwrap_or_else(|_| "[]".to_owned());
        std::fs::write(&path, text)
    });
    match written {
        Ok(()) => eprintln!("{name}: wrote {}", path.display()),
        Err(error) => eprintln!("{name}: cannot write {}: {error}", path.display()),
    }
}

/// One figure row, as [`write_figures`] takes them: `value` against `baseline_value`, with
/// the goal `ratio <= max_ratio`.
pub fn row(
    id: &str,
    value: f64,
    unit: &str,
    baseline: &str,
    baseline_value: f64,
    max_ratio: f64,
) -> Value {
    let ratio = value / baseline_value;
    // Two decimals at most, so that a goal of 1 / 0.6 reads 1.67.
    let goal = format!("ratio <= {}", (max_ratio * 100.0).round() / 100.0);
    figure(
        id,
        (value, unit),
        (baseline, baseline_value),
        &goal,
        ratio <= max_ratio,
    )
}

/// A row reported for the record, with no goal: `value` beside `baseline_value`.
pub fn report(id: &str, value: f64, unit: &str, baseline: &str, baseline_value: f64) -> Value {
    figure(
        id,
        (value, unit),
        (baseline, baseline_value),
        "report",
        true,
    )
}

fn figure(id: &str, value: (f64, &str), baseline: (&str, f64), goal: &str, met: bool) -> Value {
    serde_json::json!({
        "id": id,
        "value": value.0,
        "unit": value.1,
        "baseline": baseline.0,
        "baseline_value": baseline.1,
        "ratio": value.0 / baseline.1,
        "goal": goal,
        "met": met,
    })
}

/// The `q` quantile (0 to 1) of `samples`, which it sorts.
pub fn quantile(samples: &mut [f64], q: f64) -> f64 {
    samples.sort_by(f64::total_cmp);
    if samples.is_empty() {
        return f64::NAN;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "q is in 0..=1, so the index is in range"
    )]
    let at = ((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len()) - 1;
    samples[at]
}
