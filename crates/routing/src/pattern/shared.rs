//! [`SharedPatternIndex`]: a [`PatternIndex`] that changes at run time, read without locks
//! and rebuilt copy-on-write by one writer at a time.

use std::{
    fmt,
    sync::{Arc, Mutex, PoisonError},
};

use arc_swap::{ArcSwap, Guard};

use super::{builder::PatternIndexBuilder, index::PatternIndex};

/// A [`PatternIndex`] for registrations that come and go while lookups run, such as
/// subscriptions to a bus.
///
/// Readers [`load`](Self::load) the current index: an atomic pointer read through
/// `arc-swap`, never a lock, and never blocked by a writer. Writers [`update`](Self::update)
/// it copy-on-write: they copy the current entries into a builder, change them, build a new
/// index and swap it in. Writers take a mutex among themselves so that no update is lost,
/// and hold it for the rebuild, which costs O(entries); readers never touch that mutex and
/// go on using the previous index until the swap.
///
/// ```
/// use switchyard_routing::pattern::{PatternError, SharedPatternIndex};
///
/// let shared = SharedPatternIndex::default();
/// let id = shared.update(|builder| builder.insert("orders.*", 0, "orders"))?;
/// assert!(shared.load().find_first("orders.created").is_some());
///
/// shared.update(|builder| {
///     builder.remove(id);
///     Ok::<_, PatternError>(())
/// })?;
/// assert!(shared.load().is_empty());
/// # Ok::<(), PatternError>(())
/// ```
pub struct SharedPatternIndex<T> {
    current: ArcSwap<PatternIndex<T>>,
    /// Serializes writers; the index itself lives in `current`.
    writer: Mutex<()>,
}

/// A reader's hold on the current index; see [`SharedPatternIndex::load`].
pub type IndexGuard<T> = Guard<Arc<PatternIndex<T>>>;

impl<T> SharedPatternIndex<T> {
    /// Shares `index`.
    pub fn new(index: PatternIndex<T>) -> Self {
        Self {
            current: ArcSwap::from_pointee(index),
            writer: Mutex::new(()),
        }
    }

    /// The current index, without a lock. The guard is meant for one lookup: keep it
    /// briefly, and use [`load_full`](Self::load_full) to hold the index longer (across an
    /// `.await`, for instance).
    pub fn load(&self) -> IndexGuard<T> {
        self.current.load()
    }

    /// The current index, as an `Arc` that may be kept as long as needed; costs a
    /// reference-count increment more than [`load`](Self::load).
    pub fn load_full(&self) -> Arc<PatternIndex<T>> {
        self.current.load_full()
    }

    /// Changes the index copy-on-write: `change` edits a builder holding the current
    /// entries; if it returns `Ok`, the builder is built and replaces the current index,
    /// and `update` returns `change`'s value. If it returns `Err`, the index stays as it was.
    ///
    /// Group several changes in one `change`: each update rebuilds the whole index.
    ///
    /// # Errors
    ///
    /// Whatever `change` returns.
    pub fn update<R, E>(
        &self,
        change: impl FnOnce(&mut PatternIndexBuilder<T>) -> Result<R, E>,
    ) -> Result<R, E>
    where
        T: Clone,
    {
        // A writer that panicked left no half-done state behind: the index is only ever
        // replaced whole. So a poisoned lock is safe to take.
        let _writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let mut builder = self.current.load().to_builder();
        let result = change(&mut builder)?;
        self.current.store(Arc::new(builder.build()));
        Ok(result)
    }
}

impl<T> Default for SharedPatternIndex<T> {
    /// Shares an empty index with the default limits.
    fn default() -> Self {
        Self::new(PatternIndex::default())
    }
}

impl<T> From<PatternIndex<T>> for SharedPatternIndex<T> {
    fn from(index: PatternIndex<T>) -> Self {
        Self::new(index)
    }
}

impl<T> fmt::Debug for SharedPatternIndex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedPatternIndex")
            .field("current", &*self.current.load())
            .finish()
    }
}

#[cfg(test)]
mod tests;
