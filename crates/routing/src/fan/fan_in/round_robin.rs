//! The fair merge of [`FanInMode::RoundRobin`](super::FanInMode::RoundRobin): a rotation
//! over the open inputs that takes at most one item per turn.

use std::{
    sync::Arc,
    task::{Context, Poll},
};

use futures::stream::StreamExt;

use super::{Named, Tagged};

/// The open inputs in registration order and the position where the next poll starts.
pub(super) struct RoundRobin<T> {
    inputs: Vec<Named<T>>,
    /// The input to try first on the next poll: the one after the last input that gave an
    /// item. May equal `inputs.len()`, which wraps to 0.
    next: usize,
}

impl<T> RoundRobin<T> {
    pub(super) fn new(inputs: Vec<Named<T>>) -> Self {
        Self { inputs, next: 0 }
    }

    pub(super) fn len(&self) -> usize {
        self.inputs.len()
    }

    pub(super) fn names(&self) -> impl Iterator<Item = &Arc<str>> + '_ {
        self.inputs.iter().map(Named::name)
    }

    /// Polls each open input at most once, starting after the last one that gave an item,
    /// and returns the first item found.
    ///
    /// `Pending` only after every open input was polled and returned `Pending`, so each has
    /// registered the waker; `Ready(None)` once every input has ended. An input that ends
    /// is removed where it stands, and the rotation goes on with the one after it.
    pub(super) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Tagged<T>>> {
        let turns = self.inputs.len();
        let mut index = self.next;
        for _ in 0..turns {
            if index >= self.inputs.len() {
                index = 0;
            }
            let Some(input) = self.inputs.get_mut(index) else {
                // Every input ended during this poll.
                break;
            };
            match input.poll_next_unpin(cx) {
                Poll::Ready(Some(item)) => {
                    self.next = index + 1;
                    return Poll::Ready(Some(item));
                }
                // `remove` shifts the next input into `index`, keeping the rotation order.
                Poll::Ready(None) => drop(self.inputs.remove(index)),
                Poll::Pending => index += 1,
            }
        }
        self.next = index;
        if self.inputs.is_empty() {
            Poll::Ready(None)
        } else {
            Poll::Pending
        }
    }
}
