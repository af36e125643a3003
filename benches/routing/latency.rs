//! The G4 figures that criterion's medians cannot give: percentiles of single glob lookups
//! at 10k patterns, and the glob scaling table from 100 to 1M patterns, over 4096 topics and
//! over a hot set of 256. They are written to `target/perf/figures/G4.json`, which
//! `cargo xtask perf` merges into its summary.
//!
//! Those lookups repeat their topics, as a router's traffic does: they measure the
//! steady state, in which the lazy DFA of the default [`GlobEngine`] answers from its
//! cached steps (the measurement looks each topic up twice before timing, which is when
//! the DFA caches it). Each size is timed in [`ROUNDS`] rounds that alternate with the 1k
//! table its scaling figure divides by, so that the machine's drift over the minutes of a
//! run does not pass for growth. Beside them, for the record:
//!
//! - `G4.glob_first_sight_*`: the p50 and p99 of [`FIRST_SIGHT`] topics on an index that
//!   has looked nothing up yet, each once, against the same lookups with the trie walk
//!   alone ([`GlobEngine::Walk`]): what a topic costs before the DFA has its steps, and
//!   what the DFA adds to that;
//! - `G4.glob_10k.walk.*`: the 10k figures with the trie walk alone.

use std::{collections::HashSet, hint::black_box, time::Instant};

use switchyard_benches::{quantile, report, row};
use switchyard_routing::pattern::{GlobEngine, PatternIndex};

use crate::workload::{self, Route};

/// Glob-only table sizes, and their labels.
const SIZES: [(usize, &str); 5] = [
    (100, "100"),
    (1_000, "1k"),
    (10_000, "10k"),
    (100_000, "100k"),
    (1_000_000, "1M"),
];

/// Distinct topics cycled through by the measurement. At 1M globs they spread over about
/// 3000 tenants, and their DFA transitions over about a MB, so the figure includes cache
/// misses, as a router with traffic spread over many tenants would see.
const TOPICS: usize = 4096;

/// Distinct topics of the hot-set measurement: few enough that the DFA's steps for them
/// stay in the CPU's caches at every size.
const HOT_TOPICS: usize = 256;

/// Topics of the first-sight measurement, looked up once each on a fresh index.
const FIRST_SIGHT: usize = 16_384;

/// The goal for one glob lookup at 10k patterns, at the 99th percentile.
const P99_GOAL_NS: f64 = 250.0;

/// The goal for the growth of the match time from 1k to 1M patterns.
const SCALING_GOAL: f64 = 1.5;

/// Above this clock cost (ns per `Instant` pair), one timing covers several lookups.
const COARSE_CLOCK_NS: f64 = 40.0;

/// Lookups per timing when the clock is coarse.
const BATCH: usize = 8;

/// Rounds in which a table and the 1k reference are timed alternately.
const ROUNDS: usize = 4;

/// Seed of the workloads: the same tables and topics in every run.
const SEED: u64 = 0x5157_0004;

/// Builds an index of `routes`, with each route's position as its value.
pub(crate) fn build(routes: &[Route]) -> PatternIndex<u32> {
    build_with(routes, GlobEngine::default())
}

/// [`build`] with the glob engine `engine`.
fn build_with(routes: &[Route], engine: GlobEngine) -> PatternIndex<u32> {
    let mut builder = PatternIndex::builder().glob_engine(engine);
    for (i, (pattern, priority)) in routes.iter().enumerate() {
        builder
            .insert(pattern, *priority, i as u32)
            .expect("benchmark patterns are valid");
    }
    builder.build()
}

/// Timings of single lookups, pooled over several rounds.
#[derive(Default)]
struct Latency {
    times: Vec<f64>,
    hit_rate: f64,
}

impl Latency {
    fn p50(&mut self) -> f64 {
        quantile(&mut self.times, 0.50)
    }

    fn p99(&mut self) -> f64 {
        quantile(&mut self.times, 0.99)
    }
}

/// The median cost of reading the clock twice, in ns, to subtract from every timing.
fn clock_overhead() -> f64 {
    let mut samples: Vec<u128> = (0..10_001)
        .map(|_| {
            let start = Instant::now();
            black_box(Instant::now()).duration_since(start).as_nanos()
        })
        .collect();
    samples.sort_unstable();
    samples[samples.len() / 2] as f64
}

/// Adds `samples` timings of `find_first` over `topics` to `into`, one lookup per timing,
/// or [`BATCH`] lookups per timing on a coarse clock (then each sample is their mean).
fn measure(
    index: &PatternIndex<u32>,
    topics: &[String],
    samples: usize,
    overhead: f64,
    into: &mut Latency,
) {
    let batch = if overhead < COARSE_CLOCK_NS { 1 } else { BATCH };
    let hits = topics
        .iter()
        .filter(|topic| index.find_first(topic).is_some())
        .count();
    into.hit_rate = hits as f64 / topics.len() as f64;
    // A second look: the lazy DFA caches a topic's transitions on its second sight, and
    // this measures the steady state of repeated topics.
    for topic in topics {
        black_box(index.find_first(topic));
    }
    // Reserved and written before timing, so that no page of it is first touched while
    // timing.
    let times = &mut into.times;
    let filled = times.len();
    times.resize(filled + samples, 1.0);
    times.truncate(filled);
    let mut at = 0;
    for _ in 0..samples {
        let start = Instant::now();
        for _ in 0..batch {
            black_box(index.find_first(black_box(&topics[at])));
            at = (at + 1) % topics.len();
        }
        let elapsed = start.elapsed().as_nanos() as f64;
        times.push(((elapsed - overhead) / batch as f64).max(0.0));
    }
}

/// The table's lookups and hot-set lookups, and the 1k table's timed in alternation with
/// them.
#[derive(Default)]
struct Paired {
    latency: Latency,
    hot: Latency,
    reference: Latency,
    reference_hot: Latency,
}

/// Times `index` and the 1k `reference` in [`ROUNDS`] alternating rounds, so that the
/// machine's drift over a run (2 to 3x on this machine) hits a size and the 1k table that
/// its scaling figure divides by alike.
fn measure_paired(
    index: &PatternIndex<u32>,
    topics: &[String],
    reference: &(PatternIndex<u32>, Vec<String>),
    samples: usize,
    overhead: f64,
) -> Paired {
    let (reference, reference_topics) = reference;
    let per_round = samples / ROUNDS;
    let mut paired = Paired::default();
    for _ in 0..ROUNDS {
        measure(index, topics, per_round, overhead, &mut paired.latency);
        measure(
            reference,
            reference_topics,
            per_round,
            overhead,
            &mut paired.reference,
        );
        let hot = &topics[..HOT_TOPICS];
        measure(index, hot, per_round, overhead, &mut paired.hot);
        let reference_hot = &reference_topics[..HOT_TOPICS];
        measure(
            reference,
            reference_hot,
            per_round,
            overhead,
            &mut paired.reference_hot,
        );
    }
    paired
}

/// p50 and p99 of lookups of `topics` on an index that has looked up nothing yet, each
/// distinct topic once: the cost before the lazy DFA has any of their steps, as for the
/// first messages after a start, or for topics that never come back.
fn first_sight(index: &PatternIndex<u32>, topics: &[String], overhead: f64) -> (f64, f64) {
    let mut fresh = HashSet::new();
    let mut times: Vec<f64> = topics
        .iter()
        .filter(|topic| fresh.insert(topic.as_str()))
        .map(|topic| {
            let start = Instant::now();
            black_box(index.find_first(black_box(topic)));
            (start.elapsed().as_nanos() as f64 - overhead).max(0.0)
        })
        .collect();
    (quantile(&mut times, 0.50), quantile(&mut times, 0.99))
}

/// Measures every size, prints a line per size to stderr and writes `G4.json`.
pub(crate) fn run(quick: bool) {
    let samples = if quick { 200_000 } else { 1_000_000 };
    let overhead = clock_overhead();
    eprintln!("G4: clock overhead {overhead:.0} ns per timing, subtracted");
    // The 1k table that each size's scaling figure divides by, timed beside each size.
    let reference = {
        let load = workload::globs(1_000, TOPICS, SEED);
        (build(&load.routes), load.topics)
    };

    let mut rows = Vec::new();
    let mut scaling = Vec::new();
    let mut hot_scaling = Vec::new();
    for (size, label) in SIZES {
        let started = Instant::now();
        // The first `TOPICS` are the same whatever the count: the generator draws them first.
        let load = workload::globs(size, TOPICS + FIRST_SIGHT, SEED);
        let (topics, unseen) = load.topics.split_at(TOPICS);
        let index = build(&load.routes);
        let built = started.elapsed();
        // First, while the index has seen nothing.
        let (first_p50, first_p99) = first_sight(&index, unseen, overhead);
        let Paired {
            mut latency,
            mut hot,
            mut reference,
            mut reference_hot,
        } = measure_paired(&index, topics, &reference, samples, overhead);
        eprintln!(
            "G4: {label:>4} globs built in {built:.2?}; find_first p50 {:.1} ns, p99 {:.1} ns \
             ({TOPICS} topics, {:.0}% match); hot set of {HOT_TOPICS}: p50 {:.1} ns, p99 {:.1} ns; \
             first sight: p50 {first_p50:.1} ns, p99 {first_p99:.1} ns; 1k beside it: p50 {:.1} ns, \
             hot p50 {:.1} ns",
            latency.p50(),
            latency.p99(),
            latency.hit_rate * 100.0,
            hot.p50(),
            hot.p99(),
            reference.p50(),
            reference_hot.p50(),
        );
        if size == 10_000 || size == 1_000_000 {
            // The same table with the trie walk alone, beside the DFA: what the DFA costs a
            // topic it has not seen, and, at 10k, what it saves on the topics it has.
            let walk = build_with(&load.routes, GlobEngine::Walk);
            let (walk_p50, walk_p99) = first_sight(&walk, unseen, overhead);
            let baseline = "the same first sights with the trie walk alone (GlobEngine::Walk)";
            for (quantile, value, walked) in
                [("p50", first_p50, walk_p50), ("p99", first_p99, walk_p99)]
            {
                rows.push(report(
                    &format!("G4.glob_first_sight_{label}.{quantile}"),
                    value,
                    "ns",
                    baseline,
                    walked,
                ));
            }
            if size == 10_000 {
                let mut walked = Latency::default();
                measure(&walk, topics, samples, overhead, &mut walked);
                let goal = "the issue's p99 goal, 250 ns";
                for (id, value) in [
                    ("G4.glob_10k.p50", latency.p50()),
                    ("G4.glob_10k.p99", latency.p99()),
                ] {
                    rows.push(row(id, value, "ns", goal, P99_GOAL_NS, 1.0));
                }
                for (id, value) in [
                    ("G4.glob_10k.walk.p50", walked.p50()),
                    ("G4.glob_10k.walk.p99", walked.p99()),
                ] {
                    rows.push(report(id, value, "ns", goal, P99_GOAL_NS));
                }
            }
        }
        scaling.push((label, latency.p50(), reference.p50()));
        hot_scaling.push((label, hot.p50(), reference_hot.p50()));
    }

    for (id, figures, baseline) in [
        (
            "G4.glob_scaling",
            scaling,
            "p50 of the same lookups at 1k globs, timed in alternation with it",
        ),
        (
            "G4.glob_scaling_hot",
            hot_scaling,
            "p50 of the same hot-set lookups at 1k globs, timed in alternation with it",
        ),
    ] {
        for (label, p50, reference) in figures {
            rows.push(row(
                &format!("{id}.{label}"),
                p50,
                "ns",
                baseline,
                reference,
                SCALING_GOAL,
            ));
        }
    }

    switchyard_benches::write_figures("G4", &rows);
}
