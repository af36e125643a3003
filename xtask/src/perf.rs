//! `cargo xtask perf`: runs the headline benchmarks and writes `target/perf/summary.json`.
//!
//! Every figure is a benchmark measured beside its baseline in the same run, because this
//! machine's absolute speed drifts 2-3x between runs: the ratio is what we compare over
//! time, the absolute value only describes the run.
//!
//! Figures that criterion's medians cannot give (percentiles, scaling tables) are measured
//! by the bench binaries themselves and written as rows of the same shape to
//! `target/perf/figures/*.json`; they are merged into the summary after the benchmarks.

use std::{
    collections::BTreeSet,
    fmt::Write as _,
    fs,
    path::{Path, PathBuf},
};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

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
    /// The goal on `value / baseline_value`.
    goal: Goal,
    /// What one benchmark iteration is made of: both medians are divided by it, so that a
    /// benchmark of 10k items reports the cost per item.
    per: f64,
}

/// A goal on a figure's `value / baseline_value`.
#[derive(Clone, Copy)]
enum Goal {
    /// The ratio must not exceed this: the figure costs at most so many baselines.
    AtMost(f64),
    /// The ratio must reach this: the figure (a slower alternative) costs at least so many
    /// baselines.
    AtLeast(f64),
    /// No goal: the figure is reported for the record.
    Report,
}

impl Goal {
    fn met(self, ratio: f64) -> bool {
        match self {
            Self::AtMost(max) => ratio <= max,
            Self::AtLeast(min) => ratio >= min,
            Self::Report => true,
        }
    }

    fn describe(self) -> String {
        match self {
            Self::AtMost(max) => format!("ratio <= {max}"),
            Self::AtLeast(min) => format!("ratio >= {min}"),
            Self::Report => "report".to_owned(),
        }
    }
}

const FIGURES: &[Figure] = &[
    Figure {
        id: "core.message_clone",
        bench: "core",
        subject: "message_clone/message_1k_8attrs",
        baseline: "message_clone/baseline",
        baseline_label: "Bytes::clone of the same 1 KiB payload",
        // Three reference-count increments (payload, attributes, acker) against one; a copy
        // of the payload alone would be far above this.
        goal: Goal::AtMost(5.0),
        per: 1.0,
    },
    Figure {
        id: "G4.exact",
        bench: "routing",
        subject: "G4.exact/find_first",
        baseline: "G4.exact/baseline",
        baseline_label: "std HashMap<String, _>::get of the same exact topics",
        goal: Goal::AtMost(3.0),
        per: 1.0,
    },
    Figure {
        id: "G4.glob_10k",
        bench: "routing",
        subject: "G4.glob_10k/find_first",
        baseline: "G4.glob_10k/baseline",
        baseline_label: "std HashMap<String, _>::get of the same topics",
        // The goal is absolute (p99 <= 250 ns), checked by the bench's own
        // G4.glob_10k.p99 row. This median is kept in units of one std HashMap lookup
        // (about 25-30 ns here) so that it survives the machine's drift: 250 ns is ten.
        goal: Goal::AtMost(10.0),
        per: 1.0,
    },
    Figure {
        id: "G4.vs_naive",
        bench: "routing",
        subject: "G4.vs_naive/naive_scan",
        baseline: "G4.vs_naive/baseline",
        baseline_label: "PatternIndex::find_first, same mixed 10k table and topics",
        goal: Goal::AtLeast(50.0),
        per: 1.0,
    },
    Figure {
        id: "scanners.promote_10k",
        bench: "scanners",
        subject: "delayed_promoter/scan",
        baseline: "delayed_promoter/baseline",
        baseline_label: "moving the same 10k messages from a BTreeMap to a VecDeque",
        goal: Goal::Report,
        per: 10_000.0,
    },
    Figure {
        id: "scanners.expire_10k_leases",
        bench: "scanners",
        subject: "lease_expiry/scan",
        baseline: "lease_expiry/baseline",
        baseline_label: "checking 10k in-flight entries and requeueing them",
        goal: Goal::Report,
        per: 10_000.0,
    },
    Figure {
        id: "scanners.supervisor_tick_20_idle",
        bench: "scanners",
        subject: "supervisor/tick",
        baseline: "supervisor/baseline",
        baseline_label: "20 bare tokio interval tasks ticking once",
        goal: Goal::Report,
        per: 20.0,
    },
    Figure {
        id: "routing.dispatch_1_route",
        bench: "dispatch",
        subject: "dispatch_1_route/engine",
        baseline: "dispatch_1_route/baseline",
        baseline_label: "calling the one handler directly",
        // Parsing the topic, one index lookup, the result record and the metrics: a few
        // handler calls' worth. Throughput is 1e9 / value dispatches per second.
        goal: Goal::AtMost(10.0),
        per: 1.0,
    },
    Figure {
        id: "routing.dispatch_100_routes_fanout_3",
        bench: "dispatch",
        subject: "dispatch_100_routes_fanout_3/engine",
        baseline: "dispatch_100_routes_fanout_3/baseline",
        baseline_label: "calling the three matching handlers directly, joined",
        goal: Goal::AtMost(10.0),
        per: 1.0,
    },
    // G2.bus_fanout4 is compared with the faster of two baselines, so benches/bus.rs writes
    // its row to target/perf/figures/G2.json itself.
    Figure {
        id: "G1.bus_1to1",
        bench: "bus",
        subject: "G1.bus_1to1/bus",
        baseline: "G1.bus_1to1/baseline",
        baseline_label: "tokio mpsc SPSC of the same messages, each acked",
        // At least 50% of the baseline's throughput.
        goal: Goal::AtMost(2.0),
        per: 1.0,
    },
    Figure {
        id: "G1.bus_publish_10k_patterns",
        bench: "bus",
        subject: "G1.bus_publish_10k_patterns/publish",
        baseline: "G1.bus_publish_10k_patterns/baseline",
        baseline_label: "one publish with 1 exact subscription",
        goal: Goal::Report,
        per: 1.0,
    },
];

/// Benchmarks that measure all their figures themselves (percentiles, throughput under
/// concurrency) and write them to `target/perf/figures/`, with no criterion figure to pair.
const SELF_REPORTING: &[&str] = &["engine", "request"];

/// One row of `summary.json`, and of the bench binaries' `target/perf/figures/*.json`.
#[derive(Serialize, Deserialize)]
struct Row {
    id: String,
    value: f64,
    unit: String,
    baseline: String,
    baseline_value: f64,
    ratio: f64,
    goal: String,
    met: bool,
}

pub(crate) fn run(root: &Path, quick: bool) -> anyhow::Result<()> {
    let target = target_dir(root)?;
    // Rows from an earlier run must not pass for this run's.
    let figures_dir = target.join("perf").join("figures");
    match fs::remove_dir_all(&figures_dir) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            return Err(error).with_context(|| format!("cannot clear {}", figures_dir.display()));
        }
        _ => {}
    }

    let benches: BTreeSet<&str> = FIGURES
        .iter()
        .map(|figure| figure.bench)
        .chain(SELF_REPORTING.iter().copied())
        .collect();
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

    let mut rows = FIGURES
        .iter()
        .map(|figure| {
            let value = median_ns(&target, figure.subject)? / figure.per;
            let baseline_value = median_ns(&target, figure.baseline)? / figure.per;
            let ratio = value / baseline_value;
            Ok(Row {
                id: figure.id.to_owned(),
                value,
                unit: if figure.per == 1.0 { "ns" } else { "ns/item" }.to_owned(),
                baseline: figure.baseline_label.to_owned(),
                baseline_value,
                ratio,
                goal: figure.goal.describe(),
                met: figure.goal.met(ratio),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    rows.extend(bench_rows(&figures_dir)?);

    let out_dir = target.join("perf");
    fs::create_dir_all(&out_dir)?;
    let summary = out_dir.join("summary.json");
    fs::write(&summary, serde_json::to_string_pretty(&rows)?)?;
    println!("{}", table(&rows));
    println!("wrote {}", summary.display());
    Ok(())
}

/// The rows that bench binaries wrote to `dir/*.json`, file by file in name order.
fn bench_rows(dir: &Path) -> anyhow::Result<Vec<Row>> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut paths: Vec<PathBuf> = entries
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<Result<_, _>>()?;
    paths.retain(|path| path.extension().is_some_and(|ext| ext == "json"));
    paths.sort();
    let mut rows = Vec::new();
    for path in paths {
        let text = fs::read_to_string(&path)?;
        let file: Vec<Row> = serde_json::from_str(&text)
            .with_context(|| format!("{} is not an array of figure rows", path.display()))?;
        rows.extend(file);
    }
    Ok(rows)
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
