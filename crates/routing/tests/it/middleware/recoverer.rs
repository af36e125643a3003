//! Recoverer: a panic becomes a permanent error with a redacted, bounded message, and the
//! handler keeps serving.

use std::error::Error as _;

use switchyard_core::{Error, Handler, Message, REDACTED};
use switchyard_routing::middleware::recoverer::{MAX_PANIC_MESSAGE, PanicError, RecovererLayer};
use tower_layer::Layer;

use super::support::{message, recorded, within};

fn panic_error(err: &Error) -> &PanicError {
    err.source()
        .and_then(|source| source.downcast_ref::<PanicError>())
        .unwrap_or_else(|| panic!("not a recovered panic: {err}"))
}

#[tokio::test(start_paused = true)]
async fn a_panic_becomes_an_error_and_the_handler_keeps_serving() {
    let (handler, calls) = recorded(|call, message: Message| async move {
        if call == 1 {
            panic!("index out of bounds");
        }
        Ok(vec![message])
    });
    let recoverer = RecovererLayer::new().layer(handler);

    let err = within(recoverer.handle(&message("m"))).await.unwrap_err();
    assert!(!err.is_transient(), "a panic is not retried by default");
    assert_eq!(panic_error(&err).message(), "index out of bounds");
    assert_eq!(
        err.report(),
        "handler error: handler panicked: index out of bounds"
    );

    let outputs = within(recoverer.handle(&message("m"))).await.unwrap();
    assert_eq!(outputs.len(), 1, "the next message is handled normally");
    assert_eq!(calls.count(), 2);
}

#[tokio::test(start_paused = true)]
async fn panic_messages_are_redacted_bounded_and_any_payload_is_accepted() {
    let long = "x".repeat(10 * MAX_PANIC_MESSAGE);
    let (handler, _calls) = recorded(move |call, _| {
        let long = long.clone();
        async move {
            match call {
                1 => panic!("cannot connect to redis://app:hunter2@cache:6379"),
                2 => std::panic::panic_any(42_u32),
                _ => panic!("{long}é"),
            }
        }
    });
    let recoverer = RecovererLayer::new().layer(handler);

    let err = within(recoverer.handle(&message("m"))).await.unwrap_err();
    let text = panic_error(&err).message();
    assert!(
        !text.contains("hunter2") && text.contains(REDACTED),
        "{text}"
    );
    assert!(!err.report().contains("hunter2"));

    let err = within(recoverer.handle(&message("m"))).await.unwrap_err();
    assert_eq!(
        panic_error(&err).message(),
        "a panic payload that is not text"
    );

    let err = within(recoverer.handle(&message("m"))).await.unwrap_err();
    assert_eq!(panic_error(&err).message().len(), MAX_PANIC_MESSAGE);
}
