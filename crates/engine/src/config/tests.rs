//! Configuration validation, as a table of settings and what `build` says about them.

use std::time::Duration;

use super::*;

fn check(builder: EngineBuilder, expected: Result<(), &str>) {
    match (builder.build(), expected) {
        (Ok(_), Ok(())) => {}
        (Err(err), Err(message)) => assert_eq!(err.to_string(), message),
        (Ok(_), Err(message)) => panic!("accepted, expected {message:?}"),
        (Err(err), Ok(())) => panic!("refused: {err}"),
    }
}

#[test]
fn settings_are_checked_on_build() {
    let b = Engine::builder;
    check(b(), Ok(()));
    check(
        b().workers(1).worker_queue(1).loop_buffer(1).max_hops(1),
        Ok(()),
    );
    check(
        b().workers(0),
        Err("invalid engine configuration: `workers` must be from 1 to 1024"),
    );
    check(
        b().workers(MAX_WORKERS + 1),
        Err("invalid engine configuration: `workers` must be from 1 to 1024"),
    );
    for (builder, setting) in [
        (b().worker_queue(0), "worker_queue"),
        (b().loop_buffer(0), "loop_buffer"),
        (b().loop_buffer(Output::MAX_BUFFER + 1), "loop_buffer"),
    ] {
        let expected =
            format!("invalid engine configuration: `{setting}` must be from 1 to 1048576");
        check(builder, Err(&expected));
    }
    check(
        b().max_hops(0),
        Err("invalid engine configuration: `max_hops` must be at least 1"),
    );
    check(b().loop_scheme(""), Err("loop scheme must not be empty"));
    check(
        b().close_timeout(Duration::ZERO),
        Err("invalid engine configuration: `close_timeout` must not be zero"),
    );
}

#[test]
fn router_options_fall_back_to_the_engine_default() {
    assert_eq!(
        RouterOptions::new().resolve(3).unwrap(),
        (3, KeyOrdering::PerPartitionKey)
    );
    assert_eq!(
        RouterOptions::new()
            .workers(7)
            .ordering(KeyOrdering::Unordered)
            .resolve(3)
            .unwrap(),
        (7, KeyOrdering::Unordered)
    );
    assert!(RouterOptions::new().workers(0).resolve(3).is_err());
}
