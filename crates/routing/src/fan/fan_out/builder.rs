//! [`FanOutBuilder`]: the validated configuration of a [`FanOut`].

use std::{collections::HashSet, fmt, sync::Arc, sync::atomic::AtomicU64};

use super::{DEFAULT_LOOP_SCHEME, FanOut, FanOutReceivers};
use crate::fan::{
    BuildError, FanOutObserver, Output, OutputKind, SlowConsumerPolicy, error::shown,
    observer::NoopObserver, output::Queue, prefix::PrefixTable,
};

/// Builds a [`FanOut`]; created by [`FanOut::builder`]. Nothing is checked until
/// [`build`](Self::build).
#[must_use = "a builder does nothing until `build` is called"]
pub struct FanOutBuilder {
    routes: Vec<(String, Output)>,
    loop_output: Option<Output>,
    dead_letter: Option<Output>,
    loop_scheme: String,
    observer: Arc<dyn FanOutObserver>,
}

impl Default for FanOutBuilder {
    fn default() -> Self {
        Self {
            routes: Vec::new(),
            loop_output: None,
            dead_letter: None,
            loop_scheme: DEFAULT_LOOP_SCHEME.to_owned(),
            observer: Arc::new(NoopObserver),
        }
    }
}

impl FanOutBuilder {
    /// Routes destinations that start with `prefix` to `output`, unless a longer
    /// registered prefix matches too.
    ///
    /// Matching is byte-wise and case-sensitive, and a prefix is not a path: `kafka://orders`
    /// also matches `kafka://orders-archive`; register `kafka://orders/` to stop at a
    /// separator. Each prefix belongs to one output, and each output has one prefix.
    pub fn output(mut self, prefix: impl Into<String>, output: Output) -> Self {
        self.routes.push((prefix.into(), output));
        self
    }

    /// Sets the output for destinations with the loop scheme. Without one, such messages
    /// are unroutable ([`DeadLetterReason::NoLoop`](crate::fan::DeadLetterReason::NoLoop)).
    ///
    /// When the loop's consumer feeds back into the task that routes, give it a non-blocking
    /// policy such as [`SlowConsumerPolicy::DeadLetter`]: a blocking loop deadlocks once
    /// every buffer on the cycle is full.
    pub fn loop_output(mut self, output: Output) -> Self {
        self.loop_output = Some(output);
        self
    }

    /// Sets the dead-letter output, which takes unroutable and overflowing messages with the
    /// [`DEAD_LETTER_REASON`](crate::fan::DEAD_LETTER_REASON) attribute set. Without one,
    /// `route` hands unroutable messages back in
    /// [`FanOutError::Unroutable`](crate::fan::FanOutError::Unroutable).
    pub fn dead_letter(mut self, output: Output) -> Self {
        self.dead_letter = Some(output);
        self
    }

    /// Sets the scheme that addresses the internal loop; [`DEFAULT_LOOP_SCHEME`] otherwise.
    pub fn loop_scheme(mut self, scheme: impl Into<String>) -> Self {
        self.loop_scheme = scheme.into();
        self
    }

    /// Sets the observer whose hooks fire on unroutable, dropped and overflowing messages.
    pub fn observer(mut self, observer: Arc<dyn FanOutObserver>) -> Self {
        self.observer = observer;
        self
    }

    /// Checks the configuration and builds the fan-out and the receivers of its outputs.
    ///
    /// # Errors
    ///
    /// A [`BuildError`] for an empty loop scheme; an empty or duplicate output name; a buffer
    /// of zero or over [`Output::MAX_BUFFER`];
    /// a zero [`BlockFor`](SlowConsumerPolicy::BlockFor) timeout; an empty or duplicate
    /// prefix, or one inside the loop scheme; or a
    /// [`DeadLetter`](SlowConsumerPolicy::DeadLetter) policy without a dead letter to
    /// overflow into.
    pub fn build(self) -> Result<(FanOut, FanOutReceivers), BuildError> {
        if self.loop_scheme.is_empty() {
            return Err(BuildError::EmptyLoopScheme);
        }
        let has_dead_letter = self.dead_letter.is_some();
        let mut names = HashSet::new();
        let outputs = self
            .routes
            .iter()
            .map(|(_, output)| (output, OutputKind::Route))
            .chain(
                self.loop_output
                    .iter()
                    .map(|output| (output, OutputKind::Loop)),
            )
            .chain(
                self.dead_letter
                    .iter()
                    .map(|output| (output, OutputKind::DeadLetter)),
            );
        for (output, kind) in outputs {
            check_output(output, kind, has_dead_letter)?;
            if !names.insert(output.name()) {
                return Err(BuildError::DuplicateOutput {
                    name: shown(output.name()),
                });
            }
        }
        for (prefix, output) in &self.routes {
            if prefix.is_empty() {
                return Err(BuildError::EmptyPrefix {
                    output: shown(output.name()),
                });
            }
            if prefix.starts_with(&self.loop_scheme) {
                return Err(BuildError::ReservedPrefix {
                    prefix: shown(prefix),
                    output: shown(output.name()),
                });
            }
        }
        let table = PrefixTable::new(
            self.routes
                .iter()
                .enumerate()
                .map(|(index, (prefix, output))| (prefix.as_str(), output.name(), index)),
        )?;

        let mut queues = Vec::with_capacity(self.routes.len() + 2);
        let mut receivers = Vec::with_capacity(self.routes.len() + 2);
        let mut add = |output: Output, kind: OutputKind| {
            let (queue, receiver) = Queue::new(output, kind);
            receivers.push((queue.name().clone(), receiver));
            queues.push(queue);
            queues.len() - 1
        };
        for (_, output) in self.routes {
            add(output, OutputKind::Route);
        }
        let loop_queue = self.loop_output.map(|output| add(output, OutputKind::Loop));
        let dead_letter = self
            .dead_letter
            .map(|output| add(output, OutputKind::DeadLetter));

        let fan_out = FanOut {
            queues,
            table,
            loop_scheme: self.loop_scheme.into(),
            loop_queue,
            dead_letter,
            observer: self.observer,
            unroutable: AtomicU64::new(0),
        };
        Ok((fan_out, FanOutReceivers::new(receivers)))
    }
}

/// Checks one output's own settings.
fn check_output(
    output: &Output,
    kind: OutputKind,
    has_dead_letter: bool,
) -> Result<(), BuildError> {
    if output.name().is_empty() {
        return Err(BuildError::EmptyName { what: "output" });
    }
    if output.buffer() == 0 {
        return Err(BuildError::ZeroBuffer {
            output: shown(output.name()),
        });
    }
    if output.buffer() > Output::MAX_BUFFER {
        return Err(BuildError::BufferTooLarge {
            output: shown(output.name()),
            buffer: output.buffer(),
            max: Output::MAX_BUFFER,
        });
    }
    match output.slow_consumer_policy() {
        SlowConsumerPolicy::BlockFor(timeout) if timeout.is_zero() => {
            Err(BuildError::ZeroTimeout {
                output: shown(output.name()),
            })
        }
        SlowConsumerPolicy::DeadLetter if kind == OutputKind::DeadLetter => {
            Err(BuildError::InvalidOverflow {
                output: shown(output.name()),
                problem: "is this output itself",
            })
        }
        SlowConsumerPolicy::DeadLetter if !has_dead_letter => Err(BuildError::InvalidOverflow {
            output: shown(output.name()),
            problem: "is not configured",
        }),
        _ => Ok(()),
    }
}

impl fmt::Debug for FanOutBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FanOutBuilder")
            .field("routes", &self.routes)
            .field("loop_output", &self.loop_output)
            .field("dead_letter", &self.dead_letter)
            .field("loop_scheme", &self.loop_scheme)
            .finish_non_exhaustive()
    }
}
