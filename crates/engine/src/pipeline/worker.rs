//! The router worker: handles the messages of its queue with its router, then delivers the
//! outputs, nacks for redelivery, or dead-letters.

use std::{any::Any, panic::AssertUnwindSafe, sync::Arc};

use futures::FutureExt;
use switchyard_core::{Error, Message};
use switchyard_routing::{
    fan::DeadLetterReason,
    router::{Router, RouterError},
};
use tokio::sync::mpsc::{self, error::TryRecvError};

use super::{Job, Pipeline, Signals};
use crate::{
    ack::Group,
    reason::{HANDLER_FAILED, HANDLER_PANICKED, NO_HANDLER},
    stats::ComponentStats,
};

/// One worker of a router. A router has several; each owns its queue, so that messages
/// with the same partition key, sent to the same worker, are handled in order.
pub(crate) struct Worker {
    pub(crate) source: Arc<str>,
    pub(crate) router: Arc<Router>,
    pub(crate) jobs: mpsc::Receiver<Job>,
    pub(crate) pipeline: Arc<Pipeline>,
    pub(crate) stats: Arc<ComponentStats>,
    pub(crate) signals: Arc<Signals>,
    /// Scratch space for each output's topic, so that publishing allocates nothing.
    pub(crate) topic: String,
}

impl Worker {
    /// Runs until shutdown, then nacks the message in hand and everything still queued.
    ///
    /// Each future is polled before the shutdown signal, so that a message that completes
    /// at once costs no lock for the shutdown check (see [`Signal`](super::signal::Signal)
    /// and its `unless_fired`).
    /// Delivering the outputs needs no such guard: every wait in it is a publish, which
    /// settles its output and returns as soon as the engine shuts down.
    pub(crate) async fn run(mut self) {
        while !self.signals.shutdown.is_fired() {
            // A queued message is taken without building the wait for one.
            let job = match self.jobs.try_recv() {
                Ok(job) => {
                    // `try_recv` spends none of tokio's task budget, unlike `recv`: spend it
                    // here, so that a worker whose queue never empties still yields its
                    // thread to the runtime every so often.
                    tokio::task::coop::consume_budget().await;
                    job
                }
                Err(TryRecvError::Disconnected) => break,
                Err(TryRecvError::Empty) => tokio::select! {
                    biased;
                    job = self.jobs.recv() => match job {
                        Some(job) => job,
                        None => break,
                    },
                    () = self.signals.shutdown.fired() => break,
                },
            };
            let handled = AssertUnwindSafe(self.router.handle(&job.message)).catch_unwind();
            // `AssertUnwindSafe` is sound here: after a panic the message is only nacked or
            // dead-lettered, and handler state shared across calls must already tolerate
            // being interrupted at any await point.
            let Some(outcome) = self.signals.shutdown.unless_fired(handled).await else {
                job.message.nack();
                break;
            };
            // A panic past the handler (a publisher's, an observer hook's) ends this message
            // alone: its ackers are dropped while unwinding, which nacks it for redelivery,
            // and the worker goes on. Left to unwind, it would end the worker, and its
            // router would refuse every later message.
            let completed = AssertUnwindSafe(self.complete(job, outcome)).catch_unwind();
            if let Err(panic) = completed.await {
                super::contained_panic("router worker", Some(&self.stats), panic.as_ref());
            }
        }
        self.jobs.close();
        while let Ok(job) = self.jobs.try_recv() {
            job.message.nack();
        }
    }

    async fn complete(
        &mut self,
        job: Job,
        outcome: Result<Result<Vec<Message>, RouterError>, Box<dyn Any + Send>>,
    ) {
        match outcome {
            Ok(Ok(outputs)) => self.route_outputs(job, outputs).await,
            Ok(Err(error)) => {
                let reason = match &error {
                    RouterError::NoHandler { .. } | RouterError::MissingType { .. } => {
                        Some(NO_HANDLER)
                    }
                    _ if error.is_transient() => None,
                    _ => Some(HANDLER_FAILED),
                };
                self.failed(job, error, reason).await;
            }
            Err(_panic) => {
                let error = RouterError::Handler {
                    message_type: job
                        .message
                        .attributes()
                        .message_type()
                        .unwrap_or_default()
                        .to_owned(),
                    source: Error::permanent_handler("the handler panicked"),
                };
                self.failed(job, error, Some(HANDLER_PANICKED)).await;
            }
        }
    }

    /// Settles the input through its outputs: with none it is acked now, with one the
    /// output takes its acker, with several they share a [`Group`].
    async fn route_outputs(&mut self, job: Job, mut outputs: Vec<Message>) {
        let Job { message, hops } = job;
        match outputs.len() {
            0 => {
                message.ack();
            }
            1 => {
                if let Some(output) = outputs.pop() {
                    let acker = message.acker().clone();
                    drop(message);
                    self.pipeline
                        .route_output(output.with_acker(acker), hops, &mut self.topic)
                        .await;
                }
            }
            n => {
                let ackers = Group::ackers(message.acker().clone(), n);
                drop(message);
                for (output, acker) in outputs.into_iter().zip(ackers) {
                    self.pipeline
                        .route_output(output.with_acker(acker), hops, &mut self.topic)
                        .await;
                }
            }
        }
    }

    /// A router error: reported, then the input is dead-lettered for `reason`, with the
    /// error attached, or nacked for redelivery when there is no reason (a transient error).
    async fn failed(&self, job: Job, error: RouterError, reason: Option<DeadLetterReason>) {
        self.stats.record(&error);
        metrics::counter!("switchyard_engine_router_errors_total", "router" => self.stats.label().to_string())
            .increment(1);
        tracing::debug!(
            router = %self.stats.label(),
            error = %switchyard_core::report(&error),
            "router error"
        );
        self.pipeline
            .observer
            .on_router_error(&self.source, &job.message, &error);
        match reason {
            Some(reason) => {
                self.pipeline
                    .dead_letter_with_error(job.message, reason, &error)
                    .await;
            }
            None => {
                job.message.nack();
            }
        }
    }
}
