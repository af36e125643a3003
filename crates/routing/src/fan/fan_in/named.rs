//! One input of a [`FanIn`](super::FanIn): a boxed stream that tags its items with its name.

use std::{
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use futures::stream::{BoxStream, Stream, StreamExt};

use super::Tagged;

/// A named input stream whose items come out [`Tagged`] with its name.
pub(super) struct Named<T> {
    name: Arc<str>,
    stream: BoxStream<'static, T>,
}

impl<T> Named<T> {
    pub(super) fn new(name: Arc<str>, stream: BoxStream<'static, T>) -> Self {
        Self { name, stream }
    }

    pub(super) fn name(&self) -> &Arc<str> {
        &self.name
    }
}

impl<T> Stream for Named<T> {
    type Item = Tagged<T>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        this.stream.poll_next_unpin(cx).map(|item| {
            item.map(|item| Tagged {
                input: this.name.clone(),
                item,
            })
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.stream.size_hint()
    }
}
