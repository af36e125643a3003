//! Delivery counts: for random destinations, prefixes, buffers and policies, every message
//! ends up in exactly one place, where a reference model says.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use proptest::prelude::*;
use switchyard_core::Message;
use switchyard_routing::fan::{Delivery, FanOut, FanOutObserver, Output, SlowConsumerPolicy};

/// Where a message ended up.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Place {
    /// In the buffer of the named output (a route, the loop or the dead letter).
    Queued(String),
    /// Dropped by the named output's `DropNewest` policy.
    Dropped(String),
    /// Handed back to the caller in an error.
    Returned,
}

/// One output of a generated configuration.
#[derive(Debug, Clone)]
struct OutputCase {
    buffer: usize,
    policy: SlowConsumerPolicy,
}

#[derive(Debug, Clone)]
struct Case {
    /// Route prefixes; route `i` is called `o{i}`.
    routes: Vec<(String, OutputCase)>,
    loop_output: Option<OutputCase>,
    dead_letter: Option<OutputCase>,
    destinations: Vec<Option<String>>,
}

fn output_case(policies: Vec<SlowConsumerPolicy>) -> impl Strategy<Value = OutputCase> {
    (1..=3usize, proptest::sample::select(policies))
        .prop_map(|(buffer, policy)| OutputCase { buffer, policy })
}

fn case() -> impl Strategy<Value = Case> {
    let overflow = vec![
        SlowConsumerPolicy::Fail,
        SlowConsumerPolicy::DropNewest,
        SlowConsumerPolicy::DeadLetter,
    ];
    let terminal = vec![SlowConsumerPolicy::Fail, SlowConsumerPolicy::DropNewest];
    (
        proptest::collection::btree_set("[ab/]{1,3}", 0..6),
        proptest::collection::vec(output_case(overflow.clone()), 6),
        proptest::option::of(output_case(overflow)),
        proptest::option::of(output_case(terminal)),
        proptest::collection::vec(proptest::option::of("(loop://)?[ab/]{0,4}"), 0..40),
    )
        .prop_map(
            |(prefixes, outputs, loop_output, dead_letter, destinations)| {
                // Without a dead letter there is nothing to overflow into: fail instead.
                let fix = |mut output: OutputCase| {
                    if dead_letter.is_none() && output.policy == SlowConsumerPolicy::DeadLetter {
                        output.policy = SlowConsumerPolicy::Fail;
                    }
                    output
                };
                Case {
                    routes: prefixes
                        .into_iter()
                        .zip(outputs.into_iter().map(fix))
                        .collect(),
                    loop_output: loop_output.map(fix),
                    dead_letter,
                    destinations,
                }
            },
        )
}

/// Which output the reference model sends `destination` to: a naive longest-prefix search.
fn model_target(case: &Case, destination: Option<&str>) -> Option<String> {
    let destination = destination?;
    if destination.starts_with("loop://") {
        return case.loop_output.as_ref().map(|_| "loop".to_owned());
    }
    case.routes
        .iter()
        .enumerate()
        .filter(|(_, (prefix, _))| destination.starts_with(prefix.as_str()))
        .max_by_key(|(_, (prefix, _))| prefix.len())
        .map(|(index, _)| format!("o{index}"))
}

/// The reference model: routes every destination in order with no consumer running, and
/// says where each message ends up.
fn model(case: &Case) -> Vec<Place> {
    let mut configs: BTreeMap<String, &OutputCase> = case
        .routes
        .iter()
        .enumerate()
        .map(|(index, (_, output))| (format!("o{index}"), output))
        .collect();
    if let Some(output) = &case.loop_output {
        configs.insert("loop".into(), output);
    }
    if let Some(output) = &case.dead_letter {
        configs.insert("deadletter".into(), output);
    }
    let mut queued: BTreeMap<String, usize> = BTreeMap::new();
    let mut send = |name: &str| -> Result<Place, ()> {
        let config = configs[name];
        let count = queued.entry(name.to_owned()).or_default();
        if *count < config.buffer {
            *count += 1;
            return Ok(Place::Queued(name.to_owned()));
        }
        match config.policy {
            SlowConsumerPolicy::DropNewest => Ok(Place::Dropped(name.to_owned())),
            SlowConsumerPolicy::DeadLetter => Err(()),
            _ => Ok(Place::Returned),
        }
    };
    let mut places = Vec::new();
    for destination in &case.destinations {
        let outcome = match model_target(case, destination.as_deref()) {
            Some(name) => send(&name),
            None => Err(()),
        };
        let place = match (outcome, &case.dead_letter) {
            (Ok(place), _) => place,
            (Err(()), None) => Place::Returned,
            // The dead letter's own policy is never `DeadLetter`.
            (Err(()), Some(_)) => send("deadletter").unwrap_or(Place::Returned),
        };
        places.push(place);
    }
    places
}

/// Records the ids given to `on_drop`.
#[derive(Default)]
struct Drops(Mutex<Vec<String>>);

impl FanOutObserver for Drops {
    fn on_drop(&self, _output: &str, message: &Message) {
        let id = message.attributes().id().unwrap_or_default().to_owned();
        self.0.lock().expect("not poisoned").push(id);
    }
}

/// Routes every message of `case` through a real `FanOut`, then checks the places against
/// the model and that every message is in exactly one place.
async fn run_case(case: &Case) -> Result<(), TestCaseError> {
    let drops = Arc::new(Drops::default());
    let output =
        |name: String, config: &OutputCase| Output::new(name, config.buffer).policy(config.policy);
    let mut builder = FanOut::builder().observer(drops.clone());
    for (index, (prefix, config)) in case.routes.iter().enumerate() {
        builder = builder.output(prefix.clone(), output(format!("o{index}"), config));
    }
    if let Some(config) = &case.loop_output {
        builder = builder.loop_output(output("loop".into(), config));
    }
    if let Some(config) = &case.dead_letter {
        builder = builder.dead_letter(output("deadletter".into(), config));
    }
    let (fan_out, receivers) = builder.build().expect("generated configurations are valid");

    let mut places = Vec::new();
    for (index, destination) in case.destinations.iter().enumerate() {
        let mut message = Message::builder().id(format!("m{index}"));
        if let Some(destination) = destination {
            message = message.destination(destination.clone());
        }
        let message = message.build().expect("valid message");
        let place = match fan_out.route(message).await {
            Ok(routed) => match routed.delivery() {
                Delivery::Queued => Place::Queued(routed.output().to_owned()),
                Delivery::Dropped => Place::Dropped(routed.output().to_owned()),
                other => panic!("unknown delivery {other:?}"),
            },
            Err(err) => {
                let expected = format!("m{index}");
                prop_assert_eq!(
                    err.message().attributes().id(),
                    Some(expected.as_str()),
                    "the error gives the message back"
                );
                Place::Returned
            }
        };
        places.push(place);
    }
    prop_assert_eq!(&places, &model(case));

    // Count every id everywhere: the receivers, the drop hook, the errors.
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let stats = fan_out.stats();
    drop(fan_out);
    for (name, mut receiver) in receivers {
        let mut received = 0;
        while let Some(message) = receiver.recv().await {
            let id = message.attributes().id().unwrap_or_default().to_owned();
            prop_assert_eq!(&places[index_of(&id)], &Place::Queued(name.to_string()));
            *seen.entry(id).or_default() += 1;
            received += 1;
        }
        prop_assert_eq!(stats.output(&name).map(|s| s.routed), Some(received));
    }
    for id in drops.0.lock().expect("not poisoned").iter() {
        *seen.entry(id.clone()).or_default() += 1;
    }
    for (index, place) in places.iter().enumerate() {
        if *place == Place::Returned {
            *seen.entry(format!("m{index}")).or_default() += 1;
        }
    }
    let expected: BTreeMap<String, usize> = (0..case.destinations.len())
        .map(|index| (format!("m{index}"), 1))
        .collect();
    prop_assert_eq!(seen, expected, "every message in exactly one place");
    Ok(())
}

fn index_of(id: &str) -> usize {
    id.trim_start_matches('m')
        .parse()
        .expect("ids are m<index>")
}

proptest! {
    #[test]
    fn fan_out_puts_every_message_in_exactly_one_place(case in case()) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime");
        runtime.block_on(run_case(&case))?;
    }
}
