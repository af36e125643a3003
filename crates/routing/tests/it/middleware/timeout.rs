//! Timeout: a slow call fails at its deadline with a transient `Error::Timeout` and is
//! dropped; a fast one passes its result through unchanged.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use switchyard_core::{Error, Handler, Message};
use switchyard_routing::middleware::timeout::{OPERATION, TimeoutLayer};
use tokio::time::Instant;
use tower_layer::Layer;

use super::support::{assert_between, message, recorded, within};

/// Sets its flag when dropped.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[tokio::test(start_paused = true)]
async fn a_slow_call_times_out_at_its_deadline_and_is_dropped() {
    let dropped = Arc::new(AtomicBool::new(false));
    let flag = dropped.clone();
    let (handler, _calls) = recorded(move |_, _| {
        let guard = DropFlag(flag.clone());
        async move {
            let _guard = guard;
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok(vec![])
        }
    });
    let deadline = Duration::from_secs(2);
    let timeout = TimeoutLayer::new(deadline).unwrap().layer(handler);

    let start = Instant::now();
    let err = within(timeout.handle(&message("m"))).await.unwrap_err();
    assert_between(
        start.elapsed(),
        deadline,
        deadline + Duration::from_millis(1),
    );
    assert!(
        matches!(err, Error::Timeout { operation, after } if operation == OPERATION && after == deadline),
        "{err}"
    );
    assert!(err.is_transient());
    assert!(
        dropped.load(Ordering::SeqCst),
        "the slow call was cancelled"
    );
    assert_eq!(timeout.deadline(), deadline);
}

#[tokio::test(start_paused = true)]
async fn fast_calls_pass_their_result_through() {
    let (handler, calls) = recorded(|call, message: Message| async move {
        tokio::time::sleep(Duration::from_millis(999)).await;
        if call == 1 {
            Ok(vec![message])
        } else {
            Err(Error::permanent_handler("bad input"))
        }
    });
    let timeout = TimeoutLayer::new(Duration::from_secs(1))
        .unwrap()
        .layer(handler);

    let outputs = within(timeout.handle(&message("m"))).await.unwrap();
    assert_eq!(outputs[0].attributes().id(), Some("m"));
    let err = within(timeout.handle(&message("m"))).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Handler {
                transient: false,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(calls.count(), 2);
}
