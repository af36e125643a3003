//! Unit tests of the regex groups: chunking in rank order, and the one-by-one fallback.

use super::*;
use crate::pattern::entry::{position, rank};

fn members(count: usize, priority_of: impl Fn(usize) -> u32) -> Members {
    (0..count)
        .map(|i| {
            let regex = Regex::new(&format!(r"^orders\.{i}$|^orders\.any$")).unwrap();
            (regex, rank(priority_of(i), i))
        })
        .collect()
}

fn first(group: &Group, topic: &str) -> Option<usize> {
    let mut best = NO_RANK;
    for chunk in &group.chunks {
        if let Some(rank) = chunk.first_match(topic) {
            best = best.max(rank);
            break;
        }
    }
    (best != NO_RANK).then(|| position(best))
}

#[test]
fn groups_split_into_chunks_best_first() {
    let group = group(
        members(CHUNK * 2 + 3, |i| (i % 7) as u32),
        &PatternLimits::new(),
    );
    assert_eq!(group.chunks.len(), 3);
    assert!(matches!(group.chunks[0], Chunk::Set { .. }));
    let bests: Vec<Rank> = group.chunks.iter().map(Chunk::best).collect();
    assert!(bests.windows(2).all(|w| w[0] > w[1]));
    // Every regex matches `orders.any`: the best is the first with the top priority.
    assert_eq!(first(&group, "orders.any"), Some(6));
    assert_eq!(first(&group, "orders.40"), Some(40));
    assert_eq!(first(&group, "orders.none"), None);
    let mut all = Vec::new();
    for chunk in &group.chunks {
        chunk.all_matches("orders.any", &mut all);
    }
    assert_eq!(all.len(), CHUNK * 2 + 3);
}

#[test]
fn a_set_over_its_limits_falls_back_to_one_by_one() {
    let tiny = PatternLimits::new().with_max_regex_size(16);
    let group = group(members(3, |i| i as u32), &tiny);
    assert!(matches!(group.chunks[..], [Chunk::Each(_)]));
    assert_eq!(first(&group, "orders.any"), Some(2));
    assert_eq!(first(&group, "orders.0"), Some(0));
}

#[test]
fn the_pre_filter_skips_groups_whose_prefix_the_topic_lacks() {
    let mut builder = RegexIndexBuilder::new(PatternLimits::new());
    let parsed = |text: &str| match crate::pattern::Pattern::parse(text).unwrap().repr() {
        crate::pattern::syntax::Repr::Regex(regex) => (**regex).clone(),
        _ => panic!("not a regex"),
    };
    builder.insert(&parsed(r"re:^tenant1\.orders\..*"), rank(0, 0));
    builder.insert(&parsed(r"re:^tenant"), rank(0, 1));
    builder.insert(&parsed(r"re:created$"), rank(0, 2));
    let index = builder.build();
    let visited = |topic: &str| {
        let mut count = 0;
        index.for_each_candidate(topic, |_| count += 1);
        count
    };
    assert_eq!(visited("tenant1.orders.created"), 3);
    assert_eq!(visited("tenant2.orders.created"), 2);
    assert_eq!(visited("payments.created"), 1);
    let mut all = Vec::new();
    index.all_matches("tenant1.orders.created", &mut all);
    assert_eq!(all.len(), 3);
    assert_eq!(position(index.best_match("tenant1.orders.x", NO_RANK)), 0);
    assert_eq!(index.best_match("tenant1.orders.x", rank(0, 0)), NO_RANK);
}
