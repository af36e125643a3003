//! [`FanInBuilder`]: the validated configuration of a [`FanIn`].

use std::{collections::HashSet, fmt, sync::Arc};

use futures::stream::{BoxStream, SelectAll, Stream, StreamExt};
use tokio_util::sync::CancellationToken;

use super::{FanIn, FanInMode, Inputs, Named, RoundRobin};
use crate::fan::{BuildError, error::shown};

/// Builds a [`FanIn`]; created by [`FanIn::builder`]. Nothing is checked until
/// [`build`](Self::build).
#[must_use = "a builder does nothing until `build` is called"]
pub struct FanInBuilder<T> {
    mode: FanInMode,
    inputs: Vec<(String, BoxStream<'static, T>)>,
    cancel: Option<CancellationToken>,
}

impl<T> Default for FanInBuilder<T> {
    fn default() -> Self {
        Self {
            mode: FanInMode::default(),
            inputs: Vec::new(),
            cancel: None,
        }
    }
}

impl<T> FanInBuilder<T> {
    /// Sets the mode; [`FanInMode::Concurrent`] otherwise.
    pub fn mode(mut self, mode: FanInMode) -> Self {
        self.mode = mode;
        self
    }

    /// Adds an input under `name`, which tags its items and must be unique and not empty.
    /// Round-robin visits inputs in the order they were added.
    pub fn input<S>(mut self, name: impl Into<String>, stream: S) -> Self
    where
        S: Stream<Item = T> + Send + 'static,
    {
        self.inputs.push((name.into(), stream.boxed()));
        self
    }

    /// Ends the output as soon as `token` is cancelled, dropping every input.
    pub fn cancel_on(mut self, token: CancellationToken) -> Self {
        self.cancel = Some(token);
        self
    }

    /// Checks the names and builds the fan-in. With no input at all, the output ends at
    /// once.
    ///
    /// # Errors
    ///
    /// [`BuildError::EmptyName`] or [`BuildError::DuplicateInput`].
    pub fn build(self) -> Result<FanIn<T>, BuildError> {
        let mut seen = HashSet::new();
        for (name, _) in &self.inputs {
            if name.is_empty() {
                return Err(BuildError::EmptyName { what: "input" });
            }
            if !seen.insert(name.as_str()) {
                return Err(BuildError::DuplicateInput { name: shown(name) });
            }
        }
        let named = self
            .inputs
            .into_iter()
            .map(|(name, stream)| Named::new(Arc::from(name), stream));
        let inputs = match self.mode {
            FanInMode::Concurrent => Inputs::Concurrent(named.collect::<SelectAll<_>>()),
            FanInMode::RoundRobin => Inputs::RoundRobin(RoundRobin::new(named.collect())),
        };
        Ok(FanIn {
            mode: self.mode,
            inputs: Some(inputs),
            cancelled: self.cancel.map(|token| Box::pin(token.cancelled_owned())),
        })
    }
}

impl<T> fmt::Debug for FanInBuilder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.inputs.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("FanInBuilder")
            .field("mode", &self.mode)
            .field("inputs", &names)
            .field("cancellable", &self.cancel.is_some())
            .finish()
    }
}
