//! The channel's shutdown stops every connection in time, a writer blocked on a client
//! that does not read included.

use std::time::Duration;

use switchyard_core::{Bytes, Message, handler_fn};
use switchyard_engine::gateway::{Gateway, TcpJsonChannel};
use tokio::{io::AsyncWriteExt, net::TcpStream, sync::mpsc};

use super::{BIG, UNDELIVERED, unlimited_reply};
use crate::gateway::support::{counting, runtime, within};

/// The connection's reader stops at the shutdown, but its writer is in the middle of a
/// reply larger than the socket buffers, which the client does not read: it gives up after
/// the slow-reader timeout, rather than hold the channel's stop until the gateway aborts
/// it. The reply is counted as undelivered.
#[test]
fn the_shutdown_stops_a_writer_blocked_on_a_client_that_does_not_read() {
    let (report, counts) = counting(runtime(), async {
        let payload = Bytes::from(vec![b'x'; BIG]);
        let (answered, mut answers) = mpsc::unbounded_channel::<()>();
        let handler = handler_fn(move |_request: Message| {
            let (payload, answered) = (payload.clone(), answered.clone());
            async move {
                let _ = answered.send(());
                Ok(vec![unlimited_reply("big", payload)?])
            }
        });
        let gateway = Gateway::builder().handler(handler).build().unwrap();
        let channel = TcpJsonChannel::builder("tcp")
            .slow_reader_timeout(Duration::from_millis(10))
            .bind("127.0.0.1:0")
            .await
            .unwrap();
        let address = channel.local_addr();
        gateway.register(channel).await.unwrap();

        let mut slow = within(TcpStream::connect(address)).await.unwrap();
        within(slow.write_all(b"{\"type\":\"big\"}\n"))
            .await
            .unwrap();
        within(answers.recv()).await.unwrap();
        // Far longer than the slow-reader timeout: a channel that does not stop in it is
        // aborted, and the report is not clean.
        let report = within(gateway.shutdown(Duration::from_secs(5))).await;
        drop(slow);
        report
    });
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(counts.get(UNDELIVERED), 1);
}
