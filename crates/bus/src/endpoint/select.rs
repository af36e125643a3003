//! Choosing the one endpoint that a delivery goes to: the best priority tier first,
//! spread within a tier by the [`LoadBalancing`] policy, and on to the next endpoint (then
//! the next tier) while the candidate is unhealthy or its circuit refuses.

use std::sync::Arc;

use smallvec::SmallVec;
use switchyard_routing::pattern::Match;
use tokio::time::Instant;

use super::{
    config::LoadBalancing,
    error::EndpointRefusal,
    state::{Admission, EndpointState},
};

/// The endpoints of a tier that [`choose`] orders without allocating.
const TIER_INLINE: usize = 8;

/// What [`choose`] found.
#[derive(Debug)]
pub(crate) enum Choice {
    /// This endpoint was admitted.
    Admitted(Admission),
    /// Nothing matched (or every match was deregistered meanwhile).
    NoneMatched,
    /// Every match refused; none was called.
    AllRefused(Vec<EndpointRefusal>),
}

/// Admits the endpoint that a delivery goes to, among `matches` (best first, as
/// [`PatternIndex::find_all`](switchyard_routing::pattern::PatternIndex::find_all) orders
/// them).
pub(crate) fn choose(
    matches: &[Match<'_, Arc<EndpointState>>],
    balancing: LoadBalancing,
    now: Instant,
) -> Choice {
    let mut tried = Tried::default();
    for tier in matches.chunk_by(|a, b| a.priority == b.priority) {
        let admitted = if let [only] = tier {
            tried.first_admitted([only.value], now)
        } else {
            // The least recently admitted first, which is round-robin within a tier, and
            // stays fair to each endpoint when the tiers of different topics share some:
            // a turn kept per tier would let one topic's deliveries take another's turns.
            // Stable: endpoints never admitted keep the tier's order. On the stack for a
            // tier of up to `TIER_INLINE`, which spares a delivery an allocation.
            let mut order: SmallVec<[&Arc<EndpointState>; TIER_INLINE]> =
                tier.iter().map(|found| found.value).collect();
            match balancing {
                LoadBalancing::LeastInFlight => {
                    order.sort_by_key(|endpoint| (endpoint.in_flight(), endpoint.last_admitted()));
                }
                _ => order.sort_by_key(|endpoint| endpoint.last_admitted()),
            }
            tried.first_admitted(order, now)
        };
        if let Some(admission) = admitted {
            return Choice::Admitted(admission);
        }
    }
    if tried.live {
        Choice::AllRefused(tried.refusals)
    } else {
        Choice::NoneMatched
    }
}

/// The candidates tried so far.
#[derive(Default)]
struct Tried {
    /// Whether any was still registered.
    live: bool,
    refusals: Vec<EndpointRefusal>,
}

impl Tried {
    /// Admits the first endpoint of `order` that accepts, noting the refusals before it.
    fn first_admitted<'a>(
        &mut self,
        order: impl IntoIterator<Item = &'a Arc<EndpointState>>,
        now: Instant,
    ) -> Option<Admission> {
        for endpoint in order {
            if endpoint.is_removed() {
                continue;
            }
            self.live = true;
            match endpoint.try_admit(now) {
                Ok(admission) => return Some(admission),
                Err(reason) => self.refusals.push(endpoint.refusal(reason)),
            }
        }
        None
    }
}

#[cfg(test)]
mod tests;
