//! [`LastHandle`]: what stops a component when the last of its user-facing handles is
//! dropped, even while a task of its own still holds its insides.
//!
//! The [`Engine`](crate::Engine) and the [`Gateway`](crate::gateway::Gateway) run their
//! shutdown in a task of their own, so that a caller who gives up on it neither cuts it
//! short nor has the next call redo it. That task holds the component's insides until it
//! ends, which with no time limit and a handler that never returns is never: dropping the
//! insides can then no longer be what stops the component's tasks. The handles share a
//! [`LastHandle`] instead, whose drop, with the last handle, stops them.

use std::sync::{Arc, Weak};

/// What a component does once nobody can stop it any more: end its tasks at once, which
/// nack what they hold. Idempotent.
pub(crate) trait Abandon: Send + Sync {
    fn abandon(&self);
}

/// Shared by every user-facing handle of one component; dropped with the last of them, it
/// [abandons](Abandon) the component if its insides are still alive.
pub(crate) struct LastHandle<T: Abandon>(Weak<T>);

impl<T: Abandon> LastHandle<T> {
    pub(crate) fn new(inner: &Arc<T>) -> Arc<Self> {
        Arc::new(Self(Arc::downgrade(inner)))
    }
}

impl<T: Abandon> Drop for LastHandle<T> {
    fn drop(&mut self) {
        if let Some(inner) = self.0.upgrade() {
            inner.abandon();
        }
    }
}
