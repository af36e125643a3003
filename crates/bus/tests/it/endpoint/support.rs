//! Test doubles: a handler that counts, fails and blocks on demand, and a health check
//! that can be switched down or made to hang.

use std::{
    future::pending,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;
use switchyard_bus::endpoint::{Endpoint, EndpointConfigBuilder, EndpointRegistry, HealthCheck};
use switchyard_core::{BoxError, Error, Handler, Message};
use tokio::sync::{Semaphore, watch};

/// How long (in tokio's time, which a paused clock skips through) a test waits for
/// something that should happen before it counts as hung.
pub(super) const DEADLINE: Duration = Duration::from_secs(600);

/// A handler that answers with its name, counts its calls, fails while told to, and, when
/// gated, waits for a release before answering.
pub(super) struct Probe {
    name: &'static str,
    calls: watch::Sender<usize>,
    failing: AtomicBool,
    gate: Option<Semaphore>,
}

impl Probe {
    pub(super) fn new(name: &'static str) -> Arc<Self> {
        Self::build(name, None)
    }

    /// A probe whose every call waits for one [`release`](Self::release).
    pub(super) fn gated(name: &'static str) -> Arc<Self> {
        Self::build(name, Some(Semaphore::new(0)))
    }

    fn build(name: &'static str, gate: Option<Semaphore>) -> Arc<Self> {
        Arc::new(Self {
            name,
            calls: watch::Sender::new(0),
            failing: AtomicBool::new(false),
            gate,
        })
    }

    pub(super) fn release(&self, calls: usize) {
        self.gate
            .as_ref()
            .expect("a gated probe")
            .add_permits(calls);
    }

    pub(super) fn set_failing(&self, failing: bool) {
        self.failing.store(failing, Ordering::SeqCst);
    }

    pub(super) fn calls(&self) -> usize {
        *self.calls.borrow()
    }

    /// Waits until the handler has been called `calls` times.
    pub(super) async fn wait_calls(&self, calls: usize) {
        let mut seen = self.calls.subscribe();
        tokio::time::timeout(DEADLINE, seen.wait_for(|seen| *seen >= calls))
            .await
            .expect("the handler was called in time")
            .expect("the probe is alive");
    }
}

#[async_trait]
impl Handler for Probe {
    async fn handle(&self, _message: &Message) -> Result<Vec<Message>, Error> {
        self.calls.send_modify(|calls| *calls += 1);
        if let Some(gate) = &self.gate {
            gate.acquire().await.expect("gate open").forget();
        }
        if self.failing.load(Ordering::SeqCst) {
            return Err(Error::transient_handler(format!("{} failed", self.name)));
        }
        Ok(vec![Message::new(self.name)])
    }
}

/// A health check that passes while up, fails while down, and never answers while hung.
pub(super) struct Switch {
    up: AtomicBool,
    hung: AtomicBool,
    checks: watch::Sender<usize>,
}

impl Switch {
    pub(super) fn up() -> Arc<Self> {
        Arc::new(Self {
            up: AtomicBool::new(true),
            hung: AtomicBool::new(false),
            checks: watch::Sender::new(0),
        })
    }

    pub(super) fn down() -> Arc<Self> {
        let switch = Self::up();
        switch.set_up(false);
        switch
    }

    pub(super) fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
    }

    pub(super) fn hang(&self) {
        self.hung.store(true, Ordering::SeqCst);
    }

    pub(super) fn checks(&self) -> usize {
        *self.checks.borrow()
    }

    /// Waits until the check has run `checks` times.
    pub(super) async fn wait_checks(&self, checks: usize) {
        let mut seen = self.checks.subscribe();
        tokio::time::timeout(DEADLINE, seen.wait_for(|seen| *seen >= checks))
            .await
            .expect("the health check ran in time")
            .expect("the switch is alive");
    }
}

#[async_trait]
impl HealthCheck for Switch {
    async fn check(&self) -> Result<(), BoxError> {
        self.checks.send_modify(|checks| *checks += 1);
        if self.hung.load(Ordering::SeqCst) {
            pending::<()>().await;
        }
        if self.up.load(Ordering::SeqCst) {
            Ok(())
        } else {
            Err("password=hunter2 backend down".into())
        }
    }
}

/// An endpoint `id` serving `route` with `probe`.
pub(super) fn endpoint(id: &str, route: &str, probe: &Arc<Probe>) -> Endpoint {
    Endpoint::new(id, route, probe.clone())
}

/// A registry built from `config`.
pub(super) fn registry(config: EndpointConfigBuilder) -> EndpointRegistry {
    EndpointRegistry::new(config.build().expect("a valid config"))
}

/// The name of the probe that answered.
pub(super) fn answer(outputs: &[Message]) -> String {
    assert_eq!(outputs.len(), 1, "one output per call");
    String::from_utf8(outputs[0].payload().to_vec()).unwrap()
}

/// Waits until the registry's health monitor has made `transitions` health transitions.
pub(super) async fn wait_health_transitions(registry: &EndpointRegistry, transitions: u64) {
    let mut changes = registry.health_changes();
    tokio::time::timeout(DEADLINE, changes.wait_for(|seen| *seen >= transitions))
        .await
        .expect("the health monitor acted in time")
        .expect("the registry is alive");
}

/// Awaits `future`, failing the test if it has not finished by the [`DEADLINE`]: for
/// anything that a bug could leave blocked on a gated probe.
pub(super) async fn within<F: std::future::Future>(future: F) -> F::Output {
    tokio::time::timeout(DEADLINE, future)
        .await
        .expect("finished before the deadline")
}
