//! What is registered before start: subscribers, routers, publishers, the source matcher
//! and the dead letter, with the checks that registration makes.

use std::{mem, sync::Arc};

use switchyard_core::{Publisher, Subscriber};
use switchyard_routing::router::{Router, SourceMatcher};

use crate::{
    ComponentKind, EngineError, KeyOrdering, error::shown, pipeline::matcher::Matcher,
    stats::ComponentStats,
};

#[derive(Clone)]
pub(super) struct SubscriberEntry {
    pub(super) name: Arc<str>,
    pub(super) subscriber: Arc<dyn Subscriber>,
    pub(super) topic: String,
    pub(super) stats: Arc<ComponentStats>,
}

pub(super) struct RouterEntry {
    pub(super) source: Arc<str>,
    pub(super) router: Arc<Router>,
    pub(super) workers: usize,
    pub(super) ordering: KeyOrdering,
    pub(super) stats: Arc<ComponentStats>,
}

#[derive(Clone)]
pub(super) struct PublisherEntry {
    pub(super) prefix: Arc<str>,
    pub(super) publisher: Arc<dyn Publisher>,
    pub(super) stats: Arc<ComponentStats>,
}

/// What `start` wires, taken out of the registry.
#[derive(Default)]
pub(super) struct Wiring {
    pub(super) subscribers: Vec<SubscriberEntry>,
    pub(super) routers: Vec<RouterEntry>,
    pub(super) publishers: Vec<PublisherEntry>,
    pub(super) matcher: Matcher,
    pub(super) dead_letter: Option<String>,
}

/// The registered components, and the error records that outlive start for health.
#[derive(Default)]
pub(super) struct Registry {
    wiring: Wiring,
    components: Vec<Arc<ComponentStats>>,
}

impl Registry {
    pub(super) fn components(&self) -> &[Arc<ComponentStats>] {
        &self.components
    }

    /// Takes what `start` wires; the error records stay for health.
    pub(super) fn take_wiring(&mut self) -> Wiring {
        mem::take(&mut self.wiring)
    }

    /// A new error record for a component, after checking that its name is free.
    fn claim(
        &mut self,
        kind: ComponentKind,
        name: &str,
        what: &'static str,
    ) -> Result<Arc<ComponentStats>, EngineError> {
        if name.is_empty() {
            return Err(EngineError::Empty { what });
        }
        if self
            .components
            .iter()
            .any(|c| c.kind() == kind && &**c.name() == name)
        {
            return Err(EngineError::Duplicate {
                kind,
                name: shown(name),
            });
        }
        let stats = Arc::new(ComponentStats::new(kind, Arc::from(name)));
        self.components.push(stats.clone());
        Ok(stats)
    }

    pub(super) fn add_subscriber(
        &mut self,
        name: String,
        subscriber: Arc<dyn Subscriber>,
        topic: String,
    ) -> Result<(), EngineError> {
        let stats = self.claim(ComponentKind::Subscriber, &name, "subscriber name")?;
        self.wiring.subscribers.push(SubscriberEntry {
            name: stats.name().clone(),
            subscriber,
            topic,
            stats,
        });
        Ok(())
    }

    pub(super) fn add_router(
        &mut self,
        source: String,
        router: Router,
        workers: usize,
        ordering: KeyOrdering,
    ) -> Result<(), EngineError> {
        let stats = self.claim(ComponentKind::Router, &source, "router source")?;
        self.wiring.routers.push(RouterEntry {
            source: stats.name().clone(),
            router: Arc::new(router),
            workers,
            ordering,
            stats,
        });
        Ok(())
    }

    pub(super) fn add_publisher(
        &mut self,
        prefix: String,
        publisher: Arc<dyn Publisher>,
        loop_scheme: &str,
    ) -> Result<(), EngineError> {
        if !prefix.is_empty() && prefix.starts_with(loop_scheme) {
            return Err(EngineError::Reserved {
                what: "publisher prefix",
                value: shown(&prefix),
                scheme: loop_scheme.to_owned(),
            });
        }
        let stats = self.claim(ComponentKind::Publisher, &prefix, "publisher prefix")?;
        self.wiring.publishers.push(PublisherEntry {
            prefix: stats.name().clone(),
            publisher,
            stats,
        });
        Ok(())
    }

    pub(super) fn set_matcher(&mut self, matcher: impl SourceMatcher + 'static) {
        self.wiring.matcher = Matcher::new(matcher);
    }

    pub(super) fn set_dead_letter(
        &mut self,
        destination: String,
        loop_scheme: &str,
    ) -> Result<(), EngineError> {
        if destination.is_empty() {
            return Err(EngineError::Empty {
                what: "dead-letter destination",
            });
        }
        if destination.starts_with(loop_scheme) {
            return Err(EngineError::Reserved {
                what: "dead-letter destination",
                value: shown(&destination),
                scheme: loop_scheme.to_owned(),
            });
        }
        self.wiring.dead_letter = Some(destination);
        Ok(())
    }
}
