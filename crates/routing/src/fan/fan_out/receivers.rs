//! [`FanOutReceivers`]: the receiving ends of a [`FanOut`](super::FanOut)'s outputs.

use std::sync::Arc;

use switchyard_core::Message;
use tokio::sync::mpsc;

/// The receivers of a [`FanOut`](super::FanOut)'s outputs, by output name, returned by
/// [`FanOutBuilder::build`](super::FanOutBuilder::build).
///
/// Take each receiver and drain it, typically in a task that publishes what it receives.
/// A receiver that is dropped closes its output: routing to it then fails with
/// [`FanOutError::Closed`](crate::fan::FanOutError::Closed). A receiver ends (`recv`
/// returns `None`) once the fan-out is dropped and its buffer is drained.
#[derive(Debug)]
pub struct FanOutReceivers {
    /// In the order of [`FanOutStats::outputs`](crate::fan::FanOutStats::outputs).
    receivers: Vec<(Arc<str>, Option<mpsc::Receiver<Message>>)>,
}

impl FanOutReceivers {
    pub(crate) fn new(receivers: Vec<(Arc<str>, mpsc::Receiver<Message>)>) -> Self {
        Self {
            receivers: receivers
                .into_iter()
                .map(|(name, receiver)| (name, Some(receiver)))
                .collect(),
        }
    }

    /// Takes the receiver of the output called `name`; `None` if there is no such output
    /// or it was taken already.
    pub fn take(&mut self, name: &str) -> Option<mpsc::Receiver<Message>> {
        self.receivers
            .iter_mut()
            .find(|(output, _)| &**output == name)
            .and_then(|(_, receiver)| receiver.take())
    }

    /// The names of the outputs whose receivers have not been taken.
    pub fn names(&self) -> impl Iterator<Item = &str> + '_ {
        self.receivers
            .iter()
            .filter(|(_, receiver)| receiver.is_some())
            .map(|(name, _)| &**name)
    }
}

impl IntoIterator for FanOutReceivers {
    type Item = (Arc<str>, mpsc::Receiver<Message>);
    type IntoIter = std::vec::IntoIter<Self::Item>;

    /// Every receiver not taken yet, with its output's name.
    fn into_iter(self) -> Self::IntoIter {
        self.receivers
            .into_iter()
            .filter_map(|(name, receiver)| receiver.map(|receiver| (name, receiver)))
            .collect::<Vec<_>>()
            .into_iter()
    }
}
