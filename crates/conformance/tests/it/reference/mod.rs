//! A tiny in-memory reference transport that exists only to test the conformance suite
//! itself: that its scenarios pass on a transport that keeps the contract, and that each
//! one fails on a transport broken in the way it is meant to catch. It is not a
//! transport, and nothing outside these tests uses it.

mod broker;

use std::sync::Arc;

use async_trait::async_trait;
use futures::stream;
use switchyard_conformance::Harness;
use switchyard_core::{Error, Message, MessageStream, Publisher, Result, Subscriber};

use broker::{Broker, Closed, Queue, Take};

/// How the reference behaves when it is correct.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Mode {
    /// Groups outlive their members and plain subscribers read the topic from its start.
    pub(crate) persistent: bool,
    /// Plain subscribers read the topic from its start.
    pub(crate) replay: bool,
    /// A subscription delivers the next message only once the previous one is settled.
    pub(crate) ordered: bool,
    /// Every client is one instance: closing any closes all.
    pub(crate) single_instance: bool,
    /// `restart` is supported.
    pub(crate) restartable: bool,
}

/// Ways to break the reference, each of which some scenario must catch.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Faults {
    /// Every n-th publish is acknowledged and lost.
    pub(crate) lose_every: Option<usize>,
    /// Every delivery has its `confcheck` attribute changed.
    pub(crate) corrupt_check: bool,
    /// Group members get every message, like independent subscribers.
    pub(crate) groups_broadcast: bool,
    /// Nacked messages are lost.
    pub(crate) drop_nacked: bool,
    /// Messages dropped unsettled (as by a cancelled subscription) are lost.
    pub(crate) lose_dropped: bool,
    /// Every message goes to every topic.
    pub(crate) leak_topics: bool,
    /// Closing a subscriber leaves its streams open.
    pub(crate) streams_survive_close: bool,
    /// A closed publisher still accepts messages.
    pub(crate) accept_after_close: bool,
    /// Every n-th message queued jumps to the front of its queue.
    pub(crate) reorder_every: Option<usize>,
    /// An acked message is delivered again.
    pub(crate) duplicate_after_ack: bool,
}

/// The harness over one reference instance.
pub(crate) struct Reference {
    broker: Arc<Broker>,
    single: Option<Arc<Closed>>,
}

impl Reference {
    pub(crate) fn new(mode: Mode) -> Self {
        Self::broken(mode, Faults::default())
    }

    pub(crate) fn broken(mode: Mode, faults: Faults) -> Self {
        Self {
            broker: Arc::new(Broker::new(mode, faults)),
            single: mode.single_instance.then(Arc::default),
        }
    }

    fn client(&self, group: Option<&str>) -> Arc<Client> {
        Arc::new(Client {
            broker: self.broker.clone(),
            group: group.map(str::to_owned),
            closed: self.single.clone().unwrap_or_default(),
        })
    }
}

#[async_trait]
impl Harness for Reference {
    async fn publisher(&self) -> Result<Arc<dyn Publisher>> {
        Ok(self.client(None))
    }

    async fn subscriber(&self) -> Result<Arc<dyn Subscriber>> {
        Ok(self.client(None))
    }

    async fn subscriber_in_group(&self, group: &str) -> Result<Arc<dyn Subscriber>> {
        Ok(self.client(Some(group)))
    }

    async fn prepare_topic(&self, topic: &str) -> Result<()> {
        self.broker.prepare_topic(topic);
        Ok(())
    }

    async fn prepare_group(&self, topic: &str, group: &str) -> Result<()> {
        self.broker.group_queue(topic, group, false);
        Ok(())
    }

    async fn restart(&self) -> Result<()> {
        if !self.broker.mode.restartable {
            return Err(Error::permanent_transport("this reference cannot restart"));
        }
        self.broker.restart();
        Ok(())
    }
}

/// A publisher and subscriber over the reference broker.
struct Client {
    broker: Arc<Broker>,
    group: Option<String>,
    closed: Arc<Closed>,
}

#[async_trait]
impl Publisher for Client {
    async fn publish(&self, topic: &str, message: Message) -> Result<()> {
        if self.closed.get() && !self.broker.faults.accept_after_close {
            return Err(Error::Closed {
                component: "reference publisher",
            });
        }
        self.broker.publish(topic, message)
    }

    async fn close(&self) -> Result<()> {
        self.closed.set();
        self.broker.wake_all();
        Ok(())
    }
}

#[async_trait]
impl Subscriber for Client {
    async fn subscribe(&self, topic: &str) -> Result<MessageStream> {
        if self.closed.get() {
            return Err(Error::Closed {
                component: "reference subscriber",
            });
        }
        let queue = match &self.group {
            Some(group) => self.broker.group_queue(topic, group, true),
            None => self.broker.plain_queue(topic),
        };
        let state = Subscription {
            queue,
            closed: self.closed.clone(),
            survive_close: self.broker.faults.streams_survive_close,
        };
        Ok(Box::pin(stream::unfold(state, |state| async move {
            let item = state.next().await?;
            Some((item, state))
        })))
    }

    async fn close(&self) -> Result<()> {
        self.closed.set();
        self.broker.wake_all();
        Ok(())
    }
}

/// One open subscription; dropping it leaves the queue's group.
struct Subscription {
    queue: Arc<Queue>,
    closed: Arc<Closed>,
    survive_close: bool,
}

impl Subscription {
    async fn next(&self) -> Option<Result<Message>> {
        loop {
            let notified = self.queue.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.closed.get() && !self.survive_close {
                return None;
            }
            match self.queue.take() {
                Take::Message(message) => return Some(Ok(message)),
                Take::Error(err) => return Some(Err(err)),
                Take::Nothing => notified.await,
            }
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.queue.leave();
    }
}
