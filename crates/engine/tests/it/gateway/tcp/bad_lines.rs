//! Error replies to bad lines, which the connection's reader queues itself, obey the
//! slow-reader rule as the gateway's replies do.

use std::time::Duration;

use switchyard_core::{Bytes, Message, handler_fn};
use switchyard_engine::gateway::Gateway;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use super::{BIG, closing_slow_readers, register, unlimited_reply};
use crate::gateway::support::within;

/// A client that sends bad lines and reads none of their error replies used to park its
/// connection's reader for good on the full reply queue: the connection was never closed
/// as a slow reader and kept its slot under `max_connections` forever.
#[tokio::test]
async fn a_client_that_sends_bad_lines_and_does_not_read_is_closed() {
    let payload = Bytes::from(vec![b'x'; BIG]);
    let handler = handler_fn(move |_request: Message| {
        let payload = payload.clone();
        async move { Ok(vec![unlimited_reply("big.reply", payload)?]) }
    });
    let gateway = Gateway::builder().handler(handler).build().unwrap();
    let (channel, address) = register(&gateway, closing_slow_readers()).await;

    // One request whose reply the client starts reading, then stops: the writer is busy
    // with it for good, and the reply queue is empty.
    let mut client = within(TcpStream::connect(address)).await.unwrap();
    within(client.write_all(b"{\"type\":\"big\"}\n"))
        .await
        .unwrap();
    let mut first = [0_u8; 1];
    within(client.read_exact(&mut first)).await.unwrap();

    // Bad lines: the first error reply fills the queue, the second finds it full, and no
    // byte goes out any more once the socket's buffers are full.
    within(client.write_all(b"not json\n".repeat(4).as_slice()))
        .await
        .unwrap();
    within(async {
        while channel.slow_readers_closed() == 0 {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert_eq!(channel.slow_readers_closed(), 1);

    let mut unread = Vec::new();
    // EOF or a reset: either way, the connection ends, cut off in its first reply.
    let _ = within(client.read_to_end(&mut unread)).await;
    assert!(unread.len() < BIG, "{} bytes", unread.len());
    let report = within(gateway.shutdown(Duration::from_secs(5))).await;
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(channel.connections(), 0, "its slot is free again");
}
