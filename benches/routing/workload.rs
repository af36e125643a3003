//! Deterministic, realistic routing tables and topics for the G4 benchmarks, and the naive
//! matcher they are compared with.
//!
//! Topics look like `tenant42.orders.eu.created`. Each tenant has a handful of routes of
//! every kind (exact topics, globs with `*`, `**` and in-segment wildcards, anchored
//! regexes), and a few global routes (`**.audit`, catch-all regexes) apply to everyone.
//! Half of the topics are made to match some route; the other half are random and mostly
//! miss, some of them on tenants that have no route at all.

use std::collections::HashSet;

use regex::Regex;

const DOMAINS: [&str; 8] = [
    "orders",
    "payments",
    "shipping",
    "inventory",
    "users",
    "billing",
    "catalog",
    "returns",
];
const EVENTS: [&str; 8] = [
    "created",
    "updated",
    "deleted",
    "shipped",
    "failed",
    "refunded",
    "approved",
    "cancelled",
];
const REGIONS: [&str; 4] = ["eu", "us", "apac", "latam"];

/// Routes that every table has, whatever its size: the ones a real deployment adds once.
const GLOBAL_GLOBS: [&str; 4] = [
    "**.audit",
    "*.payments.*.failed",
    "tenant*.orders.*.cancelled",
    "**.dlq.**",
];

/// Glob routes per tenant: the tenant count grows with the table.
const GLOBS_PER_TENANT: usize = 8;

/// A linear congruential generator: deterministic, fast, no dependency.
pub(crate) struct Lcg(u64);

impl Lcg {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// One route: the pattern text and its priority.
pub(crate) type Route = (String, u32);

/// A routing table and topics to look up in it.
pub(crate) struct Workload {
    pub(crate) routes: Vec<Route>,
    pub(crate) topics: Vec<String>,
}

/// Parameters of one topic shape.
#[derive(Clone, Copy)]
struct Parts {
    tenant: usize,
    domain: &'static str,
    event: &'static str,
    region: &'static str,
    version: usize,
}

impl Parts {
    fn random(rng: &mut Lcg, tenants: usize) -> Self {
        Self {
            tenant: rng.below(tenants.max(1)),
            domain: rng.pick(&DOMAINS),
            event: rng.pick(&EVENTS),
            region: rng.pick(&REGIONS),
            version: 1 + rng.below(3),
        }
    }

    /// A glob of shape `shape`, and a topic that it matches.
    fn glob(&self, shape: usize) -> (String, String) {
        let Self {
            tenant: t,
            domain: d,
            event: e,
            region: r,
            version: v,
        } = *self;
        let short = &e[..3];
        match shape % GLOBS_PER_TENANT {
            0 => (
                format!("tenant{t}.{d}.*.{e}"),
                format!("tenant{t}.{d}.{r}.{e}"),
            ),
            1 => (
                format!("tenant{t}.{d}.**"),
                format!("tenant{t}.{d}.{r}.{e}"),
            ),
            2 => (format!("tenant{t}.**.{e}"), format!("tenant{t}.{d}.{e}")),
            3 => (
                format!("tenant{t}.{d}.{short}*"),
                format!("tenant{t}.{d}.{e}"),
            ),
            4 => (
                format!("tenant{t}.*.{r}.{e}"),
                format!("tenant{t}.{d}.{r}.{e}"),
            ),
            5 => (
                format!("tenant{t}.{d}.[a-m]*.{e}"),
                format!("tenant{t}.{d}.eu.{e}"),
            ),
            6 => (
                format!("tenant{t}.{d}.{e}.v?"),
                format!("tenant{t}.{d}.{e}.v{v}"),
            ),
            _ => (
                format!("tenant{t}.{d}.*.*.v{v}"),
                format!("tenant{t}.{d}.{r}.{e}.v{v}"),
            ),
        }
    }

    /// An exact topic, in one of two shapes.
    fn exact(&self, long: bool) -> String {
        let Self {
            tenant: t,
            domain: d,
            event: e,
            region: r,
            ..
        } = *self;
        if long {
            format!("tenant{t}.{d}.{r}.{e}")
        } else {
            format!("tenant{t}.{d}.{e}")
        }
    }

    /// An anchored regex of shape `shape`, and a topic that it matches.
    fn regex(&self, shape: usize) -> (String, String) {
        let Self {
            tenant: t,
            domain: d,
            event: e,
            region: r,
            version: v,
        } = *self;
        match shape % 3 {
            0 => (
                format!(r"re:^tenant{t}\.{d}\.(created|updated)$"),
                format!("tenant{t}.{d}.updated"),
            ),
            1 => (
                format!(r"re:^tenant{t}\.{d}\.[a-z]+\.{e}\.v[0-9]+$"),
                format!("tenant{t}.{d}.{r}.{e}.v{v}"),
            ),
            _ => (
                format!(r"re:^tenant{t}\.(orders|payments)\.[a-z]+\.(failed|refunded)$"),
                format!("tenant{t}.payments.{r}.failed"),
            ),
        }
    }

    /// A random topic: it matches a route only by chance.
    fn topic(&self, rng: &mut Lcg) -> String {
        // The glob generator's topics come in every length the table uses.
        self.glob(rng.below(GLOBS_PER_TENANT)).1
    }
}

/// Topics: half made to match `matching` (pairs of route and topic), half random over
/// `tenants * 5 / 4` tenants, so that a fifth of those have no route at all.
fn topics(rng: &mut Lcg, matching: &[String], tenants: usize, count: usize) -> Vec<String> {
    (0..count)
        .map(|i| {
            if i % 2 == 0 && !matching.is_empty() {
                matching[rng.below(matching.len())].clone()
            } else {
                let parts = Parts::random(rng, tenants * 5 / 4 + 1);
                let mut topic = parts.topic(rng);
                if rng.below(32) == 0 {
                    topic.push_str(".audit");
                }
                topic
            }
        })
        .collect()
}

/// `count` globs (all tenant routes but the few global ones), with topics.
pub(crate) fn globs(count: usize, topic_count: usize, seed: u64) -> Workload {
    let mut rng = Lcg::new(seed);
    let tenants = count / GLOBS_PER_TENANT + 1;
    let mut routes: Vec<Route> = GLOBAL_GLOBS
        .iter()
        .take(count)
        .map(|glob| (glob.to_string(), rng.below(10) as u32))
        .collect();
    let mut matching = Vec::new();
    while routes.len() < count {
        let i = routes.len();
        let mut parts = Parts::random(&mut rng, tenants);
        parts.tenant = i / GLOBS_PER_TENANT;
        let (glob, topic) = parts.glob(i);
        routes.push((glob, rng.below(10) as u32));
        matching.push(topic);
    }
    let topics = topics(&mut rng, &matching, tenants, topic_count);
    Workload { routes, topics }
}

/// The mixed table of the issue: `count` routes, half exact, 40% globs, 10% regexes
/// (1% of them unanchored catch-alls), in a shuffled registration order.
pub(crate) struct Mixed {
    pub(crate) workload: Workload,
    /// The exact routes' topics, in registration order.
    pub(crate) exact_keys: Vec<String>,
}

pub(crate) fn mixed(count: usize, topic_count: usize, seed: u64) -> Mixed {
    let mut rng = Lcg::new(seed);
    // About 16 routes per tenant.
    let tenants = count / 16 + 1;
    let (exact_count, regex_count) = (count / 2, count / 10);
    let glob_count = count - exact_count - regex_count;

    let mut routes = Vec::with_capacity(count);
    let mut matching = Vec::new();
    let mut exact_keys = Vec::with_capacity(exact_count);
    let mut seen = HashSet::new();
    while exact_keys.len() < exact_count {
        let key = Parts::random(&mut rng, tenants).exact(rng.below(2) == 0);
        if seen.insert(key.clone()) {
            routes.push((key.clone(), rng.below(10) as u32));
            matching.push(key.clone());
            exact_keys.push(key);
        }
    }
    for glob in GLOBAL_GLOBS {
        routes.push((glob.to_owned(), rng.below(10) as u32));
    }
    for i in GLOBAL_GLOBS.len()..glob_count {
        let (glob, topic) = Parts::random(&mut rng, tenants).glob(i);
        routes.push((glob, rng.below(10) as u32));
        matching.push(topic);
    }
    for i in 0..regex_count {
        if i % 100 == 0 {
            // Catch-alls without a literal prefix run for every topic; real tables give
            // them a low priority, which lets better matches skip them.
            let catch_all = [r"re:\.dlq$", r"re:(^|\.)debug(\.|$)"][i / 100 % 2];
            routes.push((catch_all.to_owned(), 0));
            continue;
        }
        let (regex, topic) = Parts::random(&mut rng, tenants).regex(i);
        routes.push((regex, rng.below(10) as u32));
        matching.push(topic);
    }
    // Registration order is not grouped by kind in real configuration.
    for i in (1..routes.len()).rev() {
        routes.swap(i, rng.below(i + 1));
    }
    let topics = topics(&mut rng, &matching, tenants, topic_count);
    Mixed {
        workload: Workload { routes, topics },
        exact_keys,
    }
}

/// The seed's design, made correct: one compiled regex per route, scanned in priority
/// order (stable, so ties keep registration order) until the first match.
pub(crate) struct NaiveScan {
    /// `(regex, whether it runs on "." + topic)`, best first.
    regexes: Vec<(Regex, bool)>,
    /// The registration position of each regex above.
    positions: Vec<usize>,
}

impl NaiveScan {
    pub(crate) fn new(routes: &[Route]) -> Self {
        let mut order: Vec<usize> = (0..routes.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(routes[i].1));
        let regexes = order
            .iter()
            .map(|&i| {
                let pattern = &routes[i].0;
                match pattern.strip_prefix("re:") {
                    Some(regex) => (Regex::new(regex).expect("benchmark regex"), false),
                    None => (glob_to_regex(pattern), true),
                }
            })
            .collect();
        Self {
            regexes,
            positions: order,
        }
    }

    /// The registration position of the best route matching `topic`.
    pub(crate) fn find_first(&self, topic: &str) -> Option<usize> {
        let dotted = format!(".{topic}");
        self.regexes
            .iter()
            .position(|(regex, on_dotted)| regex.is_match(if *on_dotted { &dotted } else { topic }))
            .map(|i| self.positions[i])
    }
}

/// A glob as a regex on "." + topic: each segment is `\.` and its text, `**` is any number
/// of those. Only the syntax this workload uses (`*`, `**`, `?`, simple classes).
fn glob_to_regex(glob: &str) -> Regex {
    let mut out = String::from("^");
    for segment in glob.split('.') {
        if segment == "**" {
            out.push_str(r"(?:\.[^.]*)*");
            continue;
        }
        out.push_str(r"\.");
        let mut in_class = false;
        for c in segment.chars() {
            match c {
                '*' if !in_class => out.push_str("[^.]*"),
                '?' if !in_class => out.push_str("[^.]"),
                '[' => {
                    in_class = true;
                    out.push('[');
                }
                ']' => {
                    in_class = false;
                    out.push(']');
                }
                '-' if in_class => out.push('-'),
                c => out.push_str(&regex::escape(&c.to_string())),
            }
        }
    }
    out.push('$');
    Regex::new(&out).expect("benchmark glob")
}
