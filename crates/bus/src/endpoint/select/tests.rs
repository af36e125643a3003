//! Choosing an endpoint, against a naive model of tiers and availability.

use proptest::prelude::*;
use switchyard_core::{Message, handler_fn};
use switchyard_routing::pattern::PatternIndex;

use super::*;
use switchyard_routing::middleware::breaker::CircuitPolicy;

use crate::endpoint::{error::Refusal, spec::Endpoint};

fn settings() -> CircuitPolicy {
    CircuitPolicy::default()
}

/// An index of endpoints that all serve `t`, with these priorities and health.
fn index(endpoints: &[(u32, bool)]) -> PatternIndex<Arc<EndpointState>> {
    let mut builder = PatternIndex::builder();
    for (at, (priority, healthy)) in endpoints.iter().enumerate() {
        let handler = Arc::new(handler_fn(|_message: Message| async { Ok(Vec::new()) }));
        let spec = Endpoint::new(format!("e{at}"), "t", handler).priority(*priority);
        let state = Arc::new(EndpointState::new(spec, settings()));
        state.set_healthy(*healthy);
        builder.insert("t", *priority, state).unwrap();
    }
    builder.build()
}

fn chosen_id(choice: Choice) -> Option<String> {
    match choice {
        Choice::Admitted(admission) => Some(admission.endpoint().id.to_string()),
        Choice::NoneMatched | Choice::AllRefused(_) => None,
    }
}

#[test]
fn round_robin_takes_turns_within_the_best_tier() {
    let index = index(&[(1, true), (5, true), (5, true), (5, true)]);
    let now = Instant::now();
    let picks: Vec<_> = (0..6)
        .map(|_| chosen_id(choose(&index.find_all("t"), LoadBalancing::RoundRobin, now)).unwrap())
        .collect();
    assert_eq!(picks, ["e1", "e2", "e3", "e1", "e2", "e3"]);
}

#[test]
fn least_in_flight_prefers_the_idle_and_spreads_ties() {
    let index = index(&[(0, true), (0, true), (0, true)]);
    let now = Instant::now();
    let choose_one = || match choose(&index.find_all("t"), LoadBalancing::LeastInFlight, now) {
        Choice::Admitted(admission) => admission,
        other => panic!("{other:?}"),
    };
    // Each admission stays in flight while held.
    let first = choose_one();
    let second = choose_one();
    let third = choose_one();
    let mut ids: Vec<_> = [&first, &second, &third]
        .iter()
        .map(|admission| admission.endpoint().id.to_string())
        .collect();
    ids.sort();
    assert_eq!(ids, ["e0", "e1", "e2"], "one each while all are busy");
    let freed = second.endpoint().id.clone();
    drop(second);
    assert_eq!(choose_one().endpoint().id, freed);
}

#[test]
fn nothing_matched_is_not_the_same_as_all_refused() {
    let now = Instant::now();
    let empty = index(&[]);
    assert!(matches!(
        choose(&empty.find_all("t"), LoadBalancing::RoundRobin, now),
        Choice::NoneMatched
    ));
    let down = index(&[(0, false)]);
    down.iter().for_each(|entry| entry.value.mark_removed());
    assert!(matches!(
        choose(&down.find_all("t"), LoadBalancing::RoundRobin, now),
        Choice::NoneMatched
    ));
}

proptest! {
    /// The chosen endpoint is healthy and in the best tier that has a healthy endpoint;
    /// with none healthy, every endpoint is listed as refused.
    #[test]
    fn chooses_from_the_best_available_tier(
        endpoints in prop::collection::vec((0u32..4, any::<bool>()), 1..12),
        least_in_flight in any::<bool>(),
    ) {
        let balancing = if least_in_flight {
            LoadBalancing::LeastInFlight
        } else {
            LoadBalancing::RoundRobin
        };
        let index = index(&endpoints);
        let best_healthy = endpoints.iter().filter(|(_, healthy)| *healthy).map(|(p, _)| *p).max();
        match choose(&index.find_all("t"), balancing, Instant::now()) {
            Choice::Admitted(admission) => {
                let at: usize = admission.endpoint().id[1..].parse().unwrap();
                prop_assert!(endpoints[at].1, "chose an unhealthy endpoint");
                prop_assert_eq!(Some(endpoints[at].0), best_healthy);
            }
            Choice::AllRefused(refusals) => {
                prop_assert_eq!(best_healthy, None);
                prop_assert_eq!(refusals.len(), endpoints.len());
                prop_assert!(refusals.iter().all(|refusal| refusal.reason == Refusal::Unhealthy));
                let priorities: Vec<_> = refusals.iter().map(|refusal| refusal.priority).collect();
                prop_assert!(priorities.windows(2).all(|pair| pair[0] >= pair[1]), "best first");
            }
            Choice::NoneMatched => prop_assert!(false, "every endpoint matches"),
        }
    }
}
