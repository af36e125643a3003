//! The in-process channel started again: a stopped start never takes the inbox of a newer
//! one.

use std::{sync::Arc, time::Duration};

use switchyard_engine::gateway::InProcessChannel;

use super::support::{echo, request, within};

/// A channel registered with one gateway, which is dropped (cancelling the channel's task
/// but not running it), then with another: the first task, run after the second start,
/// must leave the second start's inbox in place. Without that the handle could send
/// nothing more, although the channel is registered and running.
#[tokio::test(start_paused = true)]
async fn a_stopped_start_does_not_clear_the_inbox_of_a_newer_one() {
    let (channel, mut handle) = InProcessChannel::new("local", 8).unwrap();
    let channel = Arc::new(channel);
    let first = echo().build().unwrap();
    first.register_arc(channel.clone()).await.unwrap();
    drop(first);
    let second = echo().build().unwrap();
    second.register_arc(channel.clone()).await.unwrap();
    // With the clock paused, a sleep ends only once every other task has run as far as
    // it can: the first gateway's channel task has then seen its cancellation.
    tokio::time::sleep(Duration::from_millis(1)).await;

    within(handle.send("s", request("ping", "hi")))
        .await
        .expect("the second start's inbox takes the message");
    let reply = within(handle.recv()).await.expect("a reply");
    assert_eq!(reply.message().payload(), "hi");
    let report = within(second.shutdown(Duration::from_secs(5))).await;
    assert!(report.is_clean(), "{report:?}");
}
