//! Benchmarks of `switchyard-routing`'s pattern index: the G4 figures of the routing issue.
//!
//! Criterion measures each figure beside its baseline (`<group>/<figure>` and
//! `<group>/baseline`):
//!
//! - `G4.exact`: `find_first` of exact topics in the mixed 10k table (50% exact, 40% glob,
//!   10% regex), against a bare `HashMap<String, _>` lookup of the same keys. The index
//!   also has to rule out better glob and regex matches, so this is the whole lookup.
//! - `G4.glob_10k`: `find_first` in a table of 10k globs, against the same bare `HashMap`
//!   lookup of the same topics, as a unit of cost that drifts with the machine.
//! - `G4.vs_naive`: the naive scan (one regex per route, in priority order) against
//!   `find_first`, on the mixed 10k table and the same topics.
//!
//! When run by `cargo bench` (criterion's `--bench` argument), the binary also measures
//! glob lookups one by one for their p50 and p99 and the scaling table from 100 to 1M globs
//! (see `latency.rs`), and writes them to `target/perf/figures/G4.json`.

#![allow(
    clippy::print_stderr,
    reason = "a benchmark reports its own measurements on stderr"
)]

// A bench target is a crate root in `benches/`: its modules live beside it in `routing/`.
#[path = "routing/latency.rs"]
mod latency;
#[path = "routing/workload.rs"]
mod workload;

use std::{collections::HashMap, hint::black_box};

use criterion::Criterion;

/// Distinct topics that each benchmark cycles through.
const TOPICS: usize = 4096;

/// The size of the headline tables.
const TABLE: usize = 10_000;

const SEED: u64 = 0x5157_0004;

/// Cycles through `topics`, one per call.
struct Cycle<'a> {
    topics: &'a [String],
    at: usize,
}

impl<'a> Cycle<'a> {
    fn new(topics: &'a [String]) -> Self {
        Self { topics, at: 0 }
    }

    fn next(&mut self) -> &'a str {
        self.at = (self.at + 1) % self.topics.len();
        &self.topics[self.at]
    }
}

fn exact(c: &mut Criterion) {
    let mixed = workload::mixed(TABLE, TOPICS, SEED);
    let index = latency::build(&mixed.workload.routes);
    let bare: HashMap<String, u32> = mixed
        .exact_keys
        .iter()
        .enumerate()
        .map(|(i, key)| (key.clone(), i as u32))
        .collect();
    let mut rng = workload::Lcg::new(SEED);
    let topics: Vec<String> = (0..TOPICS)
        .map(|_| mixed.exact_keys[rng.below(mixed.exact_keys.len())].clone())
        .collect();

    let mut group = c.benchmark_group("G4.exact");
    group.bench_function("baseline", |b| {
        let mut cycle = Cycle::new(&topics);
        b.iter(|| black_box(bare.get(black_box(cycle.next()))));
    });
    group.bench_function("find_first", |b| {
        let mut cycle = Cycle::new(&topics);
        b.iter(|| black_box(index.find_first(black_box(cycle.next()))));
    });
    group.finish();
}

fn glob_10k(c: &mut Criterion) {
    let load = workload::globs(TABLE, TOPICS, SEED);
    let index = latency::build(&load.routes);
    let bare: HashMap<String, u32> = load
        .topics
        .iter()
        .step_by(2)
        .enumerate()
        .map(|(i, topic)| (topic.clone(), i as u32))
        .collect();

    let mut group = c.benchmark_group("G4.glob_10k");
    group.bench_function("baseline", |b| {
        let mut cycle = Cycle::new(&load.topics);
        b.iter(|| black_box(bare.get(black_box(cycle.next()))));
    });
    group.bench_function("find_first", |b| {
        let mut cycle = Cycle::new(&load.topics);
        b.iter(|| black_box(index.find_first(black_box(cycle.next()))));
    });
    group.finish();
}

fn vs_naive(c: &mut Criterion) {
    let mixed = workload::mixed(TABLE, TOPICS, SEED);
    let routes = &mixed.workload.routes;
    let topics = &mixed.workload.topics;
    let index = latency::build(routes);
    let naive = workload::NaiveScan::new(routes);
    // Both must give the same answers, or the comparison means nothing.
    let mut hits = 0;
    for topic in topics {
        let found = index.find_first(topic).map(|m| *m.value as usize);
        assert_eq!(found, naive.find_first(topic), "{topic}");
        hits += usize::from(found.is_some());
    }
    eprintln!(
        "G4.vs_naive: {} routes, {:.0}% of topics match, same answers from both",
        routes.len(),
        hits as f64 * 100.0 / topics.len() as f64
    );

    let mut group = c.benchmark_group("G4.vs_naive");
    group.bench_function("baseline", |b| {
        let mut cycle = Cycle::new(topics);
        b.iter(|| black_box(index.find_first(black_box(cycle.next()))));
    });
    group.bench_function("naive_scan", |b| {
        let mut cycle = Cycle::new(topics);
        b.iter(|| black_box(naive.find_first(black_box(cycle.next()))));
    });
    group.finish();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `cargo bench` passes `--bench`; without it criterion only smoke-tests each function,
    // and so do we: the percentile and scaling measurement takes tens of seconds.
    if args.iter().any(|arg| arg == "--bench") {
        latency::run(args.iter().any(|arg| arg == "--quick"));
    }
    let mut criterion = Criterion::default().configure_from_args();
    exact(&mut criterion);
    glob_10k(&mut criterion);
    vs_naive(&mut criterion);
    criterion.final_summary();
}
