//! Idle connections: a connection that reads nothing, has no request in flight and gets
//! no reply byte out for the idle timeout is closed, and gives its slot back.

use std::{sync::Arc, time::Duration};

use switchyard_core::{Bytes, Message, handler_fn};
use switchyard_engine::gateway::{Gateway, TcpJsonChannel};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
    sync::{Semaphore, mpsc},
};

use super::{BIG, Client, UNDELIVERED, echo_gateway, register, unlimited_reply};
use crate::gateway::support::{counting, paused_runtime, within};

/// The idle timeout of these tests: shorter than the deadline of `within`, so that a wait
/// for an idle connection to close is bounded by it.
const IDLE: Duration = Duration::from_secs(5);

/// The counter of connections closed as idle.
const IDLE_CLOSED: &str = "switchyard_gateway_tcp_idle_closed_total";

#[test]
fn an_idle_connection_is_closed_and_gives_its_slot_back() {
    let ((closed, open), counts) = counting(paused_runtime(), async {
        let gateway = echo_gateway();
        let builder = TcpJsonChannel::builder("tcp")
            .max_connections(1)
            .idle_timeout(IDLE);
        let (channel, address) = register(&gateway, builder).await;

        // A client that sends one request, then the start of a line it never finishes:
        // it holds the only slot until it is closed.
        let mut idle = Client::connect(address).await;
        idle.send("{\"type\":\"ping\",\"data\":1}\n").await;
        assert_eq!(idle.recv().await["type"], "pong");
        idle.send("{\"type\":").await;
        assert!(idle.at_eof().await, "an idle connection is closed");

        // Its slot is free: the next client is served, not turned away.
        let mut next = Client::connect(address).await;
        next.send("{\"type\":\"ping\",\"data\":2}\n").await;
        assert_eq!(next.recv().await["type"], "pong");
        let counted = (channel.idle_closed(), channel.connections());
        drop(next);
        let report = within(gateway.shutdown(Duration::from_secs(5))).await;
        assert!(report.is_clean(), "{report:?}");
        counted
    });
    assert_eq!((closed, open), (1, 1));
    assert_eq!(counts.get(IDLE_CLOSED), 1);
}

#[tokio::test(start_paused = true)]
async fn a_connection_with_a_request_in_flight_is_not_idle() {
    let gate = Arc::new(Semaphore::new(0));
    let (entered_tx, mut entered) = mpsc::unbounded_channel::<()>();
    let handler = {
        let gate = Arc::clone(&gate);
        handler_fn(move |_request: Message| {
            let (gate, entered) = (Arc::clone(&gate), entered_tx.clone());
            async move {
                let _ = entered.send(());
                gate.acquire().await.expect("the gate stays open").forget();
                Ok(vec![Message::builder().message_type("slow.reply").build()?])
            }
        })
    };
    let gateway = Gateway::builder()
        .handler(handler)
        .request_timeout(Duration::MAX)
        .build()
        .unwrap();
    let (channel, address) =
        register(&gateway, TcpJsonChannel::builder("tcp").idle_timeout(IDLE)).await;

    let mut client = Client::connect(address).await;
    client.send("{\"type\":\"slow\"}\n").await;
    within(entered.recv())
        .await
        .expect("the request is handled");
    // The paused clock moves on to three idle timeouts while the handler waits: the
    // connection reads nothing meanwhile, but its request is in flight.
    tokio::time::sleep(IDLE * 3).await;
    assert_eq!((channel.connections(), channel.idle_closed()), (1, 0));
    gate.add_permits(1);
    assert_eq!(client.recv().await["type"], "slow.reply");

    // Answered, the connection is idle, and closed once the timeout passes.
    assert!(client.at_eof().await);
    assert_eq!(channel.idle_closed(), 1);
    let report = within(gateway.shutdown(Duration::from_secs(5))).await;
    assert!(report.is_clean(), "{report:?}");
}

/// A client that reads a long reply slowly sends nothing and has nothing in flight (its
/// request was answered once its reply was queued), but it is not idle: its reply goes
/// out, and it gets all of it.
#[tokio::test(start_paused = true)]
async fn a_client_reading_a_long_reply_is_not_idle() {
    let payload = Bytes::from(vec![b'x'; BIG]);
    let handler = handler_fn(move |_request: Message| {
        let payload = payload.clone();
        async move { Ok(vec![unlimited_reply("big", payload)?]) }
    });
    let gateway = Gateway::builder().handler(handler).build().unwrap();
    let (_channel, address) =
        register(&gateway, TcpJsonChannel::builder("tcp").idle_timeout(IDLE)).await;

    // A small receive buffer, so that the reply waits in the server's socket and its
    // writer, not in the client's socket (which would take all of it at once): the server
    // buffers at most a few MiB (`tcp_wmem`), a fraction of what the client reads in one
    // idle timeout.
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(64 * 1024).unwrap();
    let mut client = within(socket.connect(address)).await.unwrap();
    within(client.write_all(b"{\"type\":\"big\"}\n"))
        .await
        .unwrap();
    // At most 64 KiB every 50 ms: at least 256 reads, over twelve seconds in all.
    let mut chunk = vec![0_u8; 64 * 1024];
    let mut received = 0;
    let mut whole = false;
    tokio::time::timeout(Duration::from_secs(600), async {
        while !whole {
            tokio::time::sleep(Duration::from_millis(50)).await;
            match client.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(read) => {
                    received += read;
                    whole = chunk[..read].contains(&b'\n');
                }
            }
        }
    })
    .await
    .expect("the client read on");
    assert!(whole, "cut off after {received} bytes");
    drop(client);
    let report = within(gateway.shutdown(Duration::from_secs(5))).await;
    assert!(report.is_clean(), "{report:?}");
}

/// A client that asks for a reply larger than the socket buffers, closes its side and
/// never reads: its reader is done and nothing is in flight, but its writer waits on the
/// socket for good. Idle, it is closed, and the reply is counted as undelivered.
#[test]
fn a_client_that_never_reads_its_reply_is_closed_when_idle() {
    let ((closed, unread), counts) = counting(paused_runtime(), async {
        let payload = Bytes::from(vec![b'x'; BIG]);
        let handler = handler_fn(move |request: Message| {
            let payload = payload.clone();
            async move {
                if request.attributes().message_type() == Some("big") {
                    return Ok(vec![unlimited_reply("big", payload)?]);
                }
                Ok(vec![Message::builder().message_type("pong").build()?])
            }
        });
        let gateway = Gateway::builder().handler(handler).build().unwrap();
        let builder = TcpJsonChannel::builder("tcp")
            .max_connections(1)
            .idle_timeout(IDLE);
        let (channel, address) = register(&gateway, builder).await;

        let mut stuck = within(TcpStream::connect(address)).await.unwrap();
        within(stuck.write_all(b"{\"type\":\"big\"}\n"))
            .await
            .unwrap();
        within(stuck.shutdown()).await.unwrap();
        // The paused clock moves on past the idle timeout.
        tokio::time::sleep(IDLE * 3).await;

        // Its slot is free: the next client is served, not turned away.
        let mut next = Client::connect(address).await;
        next.send("{\"type\":\"ping\"}\n").await;
        assert_eq!(next.recv().await["type"], "pong");
        let mut unread = Vec::new();
        // EOF or a reset: either way, the connection ends, cut off in its reply.
        let _ = within(stuck.read_to_end(&mut unread)).await;
        let closed = channel.idle_closed();
        drop(next);
        let report = within(gateway.shutdown(Duration::from_secs(5))).await;
        assert!(report.is_clean(), "{report:?}");
        (closed, unread.len())
    });
    assert!(unread < BIG, "{unread} bytes");
    assert_eq!(closed, 1);
    assert_eq!(counts.get(IDLE_CLOSED), 1);
    assert_eq!(counts.get(UNDELIVERED), 1);
}
