//! Each reply line that does not reach the socket is counted once, whoever drops it.

use std::sync::Arc;

use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use tokio::sync::mpsc;

use super::ReplyLine;

/// Runs `f` with this thread's metrics recorded, and returns how many replies it counted
/// as undelivered.
fn undelivered_by(f: impl FnOnce(&Arc<str>)) -> u64 {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || f(&Arc::from("tcp")));
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(key, ..)| key.key().name() == "switchyard_gateway_replies_undelivered_total")
        .map(|(.., value)| match value {
            DebugValue::Counter(count) => count,
            other => panic!("a counter, not {other:?}"),
        })
        .sum()
}

fn line(channel: &Arc<str>) -> ReplyLine {
    ReplyLine::new("{}\n".to_owned(), channel)
}

#[test]
fn a_written_line_is_not_counted_and_a_dropped_one_is_counted_once() {
    assert_eq!(undelivered_by(|channel| line(channel).written()), 0);
    assert_eq!(undelivered_by(|channel| drop(line(channel))), 1);
}

#[test]
fn lines_still_queued_when_the_writer_goes_are_counted() {
    let counted = undelivered_by(|channel| {
        let (replies, queue) = mpsc::channel(4);
        for _ in 0..3 {
            assert!(replies.try_send(line(channel)).is_ok());
        }
        drop(queue);
    });
    assert_eq!(counted, 3);
}

/// A send that reserved its slot before the queue closed pushes its line after the writer
/// dropped the queue's receiver: the line waits in the channel, unseen by anyone, until
/// the last sender goes, and is counted then.
#[test]
fn a_line_pushed_after_the_writer_went_is_counted_when_the_last_sender_goes() {
    let counted = undelivered_by(|channel| {
        let (replies, queue) = mpsc::channel(1);
        let slot = replies.try_reserve().expect("room for one");
        drop(queue);
        slot.send(line(channel));
        drop(replies);
    });
    assert_eq!(counted, 1);
}
