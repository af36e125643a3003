//! Wiring a registry into a running pipeline, and the handle on what runs.

use std::sync::Arc;

use switchyard_core::{Message, Throttle};
use switchyard_routing::fan::{FanIn, FanInMode, FanOut, Output, OutputKind, SlowConsumerPolicy};
use tokio::sync::mpsc;
use tokio_util::task::TaskTracker;

use super::registry::{PublisherEntry, SubscriberEntry, Wiring};
use crate::{
    EngineError,
    config::Config,
    error::shown,
    health::{QueueHealth, QueueKind},
    pipeline::{
        DeadLetter, Job, LOOP_QUEUE, Pipeline, Signals,
        intake::{Intake, Slot},
        publish::{Target, topic_of},
        worker::Worker,
    },
    stats::{Counters, Degraded},
};

/// What runs between `start` and `stop`: the tasks, the signals that stop them, and what
/// `stop` closes afterwards.
pub(super) struct Running {
    pub(super) signals: Arc<Signals>,
    pub(super) tracker: TaskTracker,
    pub(super) subscribers: Vec<SubscriberEntry>,
    pub(super) publishers: Vec<PublisherEntry>,
    pipeline: Arc<Pipeline>,
    /// Each router's worker queues, for their depths.
    workers: Vec<(Arc<str>, Vec<mpsc::Sender<Job>>)>,
}

impl Running {
    /// Every queue's depth, now: each worker's, then the loop's.
    pub(super) fn queues(&self) -> Vec<QueueHealth> {
        let mut queues = Vec::new();
        for (source, senders) in &self.workers {
            for (index, sender) in senders.iter().enumerate() {
                let capacity = sender.max_capacity();
                queues.push(QueueHealth {
                    name: format!("{source}/{index}"),
                    kind: QueueKind::Worker,
                    depth: capacity.saturating_sub(sender.capacity()),
                    capacity,
                });
            }
        }
        let stats = self.pipeline.fan_out.stats();
        if let Some(output) = stats.output(LOOP_QUEUE) {
            queues.push(QueueHealth {
                name: output.name.to_string(),
                kind: QueueKind::Loop,
                depth: output.queued,
                capacity: output.capacity,
            });
        }
        queues
    }

    /// Why this run stopped working before `stop`, if it did.
    pub(super) fn degraded(&self) -> Option<String> {
        self.pipeline.degraded.reason().map(str::to_owned)
    }

    /// Ends every task now; each nacks what it holds.
    pub(super) fn abort(&self) {
        self.signals.stop_input.fire();
        self.signals.shutdown.fire();
    }
}

/// Subscribes every subscriber, builds the fan-in and fan-out, and spawns the router
/// workers and the intake. Nothing is spawned unless everything before succeeded, and
/// nothing is awaited once something is spawned, so a wiring given up part-way leaves no
/// task behind.
///
/// Each subscriber is added to `opened` before its `subscribe` is called, and removed if
/// that fails: on failure, or when this future is dropped, `opened` holds exactly the
/// subscribers that may have a subscription open, for the caller to close.
pub(super) async fn wire(
    config: &Config,
    counters: &Arc<Counters>,
    wiring: Wiring,
    opened: &mut Vec<SubscriberEntry>,
) -> Result<Running, EngineError> {
    let Wiring {
        subscribers,
        routers,
        publishers,
        matcher,
        dead_letter,
    } = wiring;

    // The publisher outputs only resolve destinations (longest prefix wins): workers
    // publish themselves, so their queues are never sent to. `Fail` on a queue of one, with
    // the receiver dropped, makes a send by mistake a refusal rather than a wait.
    let mut builder = FanOut::builder()
        .loop_scheme(config.loop_scheme.clone())
        // Never wait on the loop: a full loop is an overflow, dead-lettered by the worker.
        .loop_output(Output::new(LOOP_QUEUE, config.loop_buffer).policy(SlowConsumerPolicy::Fail));
    for entry in &publishers {
        builder = builder.output(
            entry.prefix.to_string(),
            Output::new(entry.prefix.to_string(), 1).policy(SlowConsumerPolicy::Fail),
        );
    }
    let (fan_out, mut receivers) = builder.build()?;
    let targets: Vec<Arc<Target>> = publishers
        .iter()
        .map(|entry| {
            Arc::new(Target {
                name: entry.prefix.clone(),
                publisher: entry.publisher.clone(),
                stats: entry.stats.clone(),
            })
        })
        .collect();
    let dead_letter = match &dead_letter {
        Some(destination) => Some(resolve_dead_letter(&fan_out, &targets, destination)?),
        None => None,
    };

    let mut streams = Vec::with_capacity(subscribers.len());
    for entry in &subscribers {
        // Recorded before the call: a subscribe interrupted half-way may have subscribed.
        opened.push(entry.clone());
        match entry.subscriber.subscribe(&entry.topic).await {
            Ok(stream) => streams.push(stream),
            Err(source) => {
                // The transport said no: nothing of this one is open.
                opened.pop();
                entry.stats.record(&source);
                return Err(EngineError::Subscribe {
                    name: shown(&entry.name),
                    source,
                });
            }
        }
    }
    // Round-robin: a flood on one subscriber cannot starve the others (a ticker beside a
    // busy topic), and unlike the concurrent mode, whose `SelectAll` re-queues its input
    // after every item, it allocates nothing per message.
    let mut fan_in = FanIn::builder().mode(FanInMode::RoundRobin);
    for (entry, stream) in subscribers.iter().zip(streams) {
        fan_in = fan_in.input(entry.name.to_string(), stream);
    }
    let fan_in = fan_in.build()?;

    // The loop output was registered above, so its receiver is there; if it somehow were
    // not, a receiver whose sender is gone makes the intake treat the loop as closed, and
    // loop outputs are nacked, rather than anything panicking.
    let loop_queue = receivers
        .take(LOOP_QUEUE)
        .unwrap_or_else(|| mpsc::channel(1).1);
    drop(receivers);

    let signals = Arc::new(Signals::default());
    let tracker = TaskTracker::new();
    let pipeline = Arc::new(Pipeline {
        fan_out,
        targets,
        dead_letter,
        observer: config.observer.clone(),
        counters: counters.clone(),
        signals: signals.clone(),
        max_hops: config.max_hops,
        no_dead_letter_warnings: Throttle::default(),
        degraded: Degraded::default(),
    });

    let mut routes = Vec::with_capacity(routers.len());
    let mut workers = Vec::with_capacity(routers.len());
    for entry in routers {
        let mut senders = Vec::with_capacity(entry.workers);
        for _ in 0..entry.workers {
            let (sender, jobs) = mpsc::channel(config.worker_queue);
            senders.push(sender);
            tracker.spawn(
                Worker {
                    source: entry.source.clone(),
                    router: entry.router.clone(),
                    jobs,
                    pipeline: pipeline.clone(),
                    stats: entry.stats.clone(),
                    signals: signals.clone(),
                    topic: String::new(),
                }
                .run(),
            );
        }
        workers.push((entry.source.clone(), senders.clone()));
        routes.push((
            Box::from(&*entry.source),
            Slot {
                workers: senders,
                ordering: entry.ordering,
                stats: entry.stats,
                next: 0,
            },
        ));
    }

    tracker.spawn(
        Intake {
            fan_in,
            loop_queue,
            routes,
            matcher,
            pipeline: pipeline.clone(),
            subscribers: subscribers
                .iter()
                .map(|entry| entry.stats.clone())
                .collect(),
            signals: signals.clone(),
        }
        .run_guarded(),
    );

    Ok(Running {
        signals,
        tracker,
        subscribers,
        publishers,
        pipeline,
        workers,
    })
}

/// The publisher and topic of the dead letter: its destination is resolved like any
/// other, by the longest publisher prefix.
fn resolve_dead_letter(
    fan_out: &FanOut,
    targets: &[Arc<Target>],
    destination: &str,
) -> Result<DeadLetter, EngineError> {
    let unroutable = || EngineError::DeadLetterUnroutable {
        destination: shown(destination),
    };
    let probe = Message::builder()
        .destination(destination)
        .build()
        .map_err(|_| unroutable())?;
    match fan_out.resolve_output(&probe) {
        Ok((output, OutputKind::Route)) => targets
            .iter()
            .find(|target| &*target.name == output)
            .map(|target| DeadLetter {
                target: target.clone(),
                topic: topic_of(destination).to_owned(),
            })
            .ok_or_else(unroutable),
        _ => Err(unroutable()),
    }
}
