//! The line-delimited JSON channel, driven by a real client over a real loopback socket.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use serde_json::{Value, json};
use switchyard_core::{Acker, Attributes, Bytes, Message, handler_fn};
use switchyard_engine::gateway::{Gateway, TcpJsonChannel, TcpJsonChannelBuilder};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, Lines},
    net::{
        TcpStream,
        tcp::{OwnedReadHalf, OwnedWriteHalf},
    },
    sync::mpsc,
};

use super::support::{counting, runtime, within};

mod bad_lines;
mod fairness;
mod idle;
mod shutdown;

/// The counter of replies that did not reach their client.
const UNDELIVERED: &str = "switchyard_gateway_replies_undelivered_total";

/// A test client: writes raw bytes, reads JSON lines.
struct Client {
    lines: Lines<BufReader<OwnedReadHalf>>,
    writer: OwnedWriteHalf,
}

impl Client {
    async fn connect(address: SocketAddr) -> Self {
        let stream = within(TcpStream::connect(address)).await.expect("connect");
        let (read, writer) = stream.into_split();
        Self {
            lines: BufReader::new(read).lines(),
            writer,
        }
    }

    async fn send(&mut self, bytes: impl AsRef<[u8]>) {
        within(self.writer.write_all(bytes.as_ref()))
            .await
            .expect("write");
    }

    /// The next reply line, parsed.
    async fn recv(&mut self) -> Value {
        let line = within(self.lines.next_line())
            .await
            .expect("read")
            .expect("a line, not EOF");
        serde_json::from_str(&line).unwrap_or_else(|err| panic!("{err}: {line}"))
    }

    /// Whether the server closed the connection (after any replies still unread).
    async fn at_eof(&mut self) -> bool {
        matches!(within(self.lines.next_line()).await, Ok(None))
    }

    /// Sends a request and checks that its reply echoes it.
    async fn round_trip(&mut self, correlation: &str) -> Value {
        self.send(format!(
            "{{\"type\":\"echo\",\"data\":{{\"c\":\"{correlation}\"}},\"attributes\":{{\"correlationid\":\"{correlation}\"}}}}\n"
        ))
        .await;
        let reply = self.recv().await;
        assert_eq!(reply["type"], "echo.reply", "{reply}");
        assert_eq!(reply["attributes"]["correlationid"], correlation, "{reply}");
        assert_eq!(reply["data"], json!({"c": correlation}), "{reply}");
        reply
    }
}

/// Checks that `reply` is an error of `category` whose message starts with `start`.
fn check_error(reply: &Value, category: &str, start: &str) {
    assert_eq!(reply["type"], "switchyard.gateway.error", "{reply}");
    assert_eq!(reply["attributes"]["error"], category, "{reply}");
    assert_eq!(reply["data"]["category"], category, "{reply}");
    let message = reply["data"]["message"].as_str().unwrap_or_default();
    assert!(message.starts_with(start), "{reply}");
}

/// Binds the channel of `builder` on a free loopback port and registers it with `gateway`.
async fn register(
    gateway: &Gateway,
    builder: TcpJsonChannelBuilder,
) -> (Arc<TcpJsonChannel>, SocketAddr) {
    let channel = Arc::new(builder.bind("127.0.0.1:0").await.unwrap());
    let address = channel.local_addr();
    gateway.register_arc(channel.clone()).await.unwrap();
    (channel, address)
}

/// A gateway whose handler echoes the request's data as an `echo.reply`, and a TCP channel
/// registered on it.
async fn serve(max_connections: usize) -> (Gateway, SocketAddr) {
    let gateway = Gateway::builder()
        .handler(handler_fn(|request: Message| async move {
            let mut reply = Message::builder()
                .message_type("echo.reply")
                .payload(request.payload().clone());
            if let Some(content_type) = request.attributes().datacontenttype() {
                reply = reply.attribute("datacontenttype", content_type);
            }
            Ok(vec![reply.build()?])
        }))
        .build()
        .unwrap();
    let channel = TcpJsonChannel::builder("tcp")
        .max_line_bytes(256)
        .max_connections(max_connections)
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let address = channel.local_addr();
    gateway.register(channel).await.unwrap();
    (gateway, address)
}

#[tokio::test]
async fn a_client_round_trips_and_bad_lines_are_answered_not_fatal() {
    let (gateway, address) = serve(4).await;
    let mut client = Client::connect(address).await;

    let reply = client.round_trip("r1").await;
    assert_eq!(reply["attributes"]["channel"], "tcp");
    let session = reply["attributes"]["session"].as_str().unwrap().to_owned();
    assert!(
        reply["attributes"]["durationms"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .is_ok(),
        "{reply}"
    );

    client.send("not json\n").await;
    check_error(
        &client.recv().await,
        "bad_request",
        "malformed request: expected ident",
    );
    // Over the 256-byte limit, written in two parts: discarded, never buffered whole.
    let long = format!("{{\"type\":\"echo\",\"data\":\"{}\"}}\n", "x".repeat(1000));
    client.send(&long[..500]).await;
    client.send(&long[500..]).await;
    check_error(
        &client.recv().await,
        "bad_request",
        "line longer than 256 bytes",
    );
    client.send(b"\xff\xfe oops\n").await;
    check_error(
        &client.recv().await,
        "bad_request",
        "line is not valid UTF-8",
    );
    client
        .send("{\"type\":\"echo\",\"attributes\":{\"Bad\":\"x\"}}\n")
        .await;
    check_error(
        &client.recv().await,
        "bad_request",
        "invalid attribute name \"Bad\"",
    );
    client.send("{\"type\":\"echo\",\"extra\":1}\n").await;
    let reply = client.recv().await;
    check_error(
        &reply,
        "bad_request",
        "malformed request: unknown field `extra`",
    );
    assert_eq!(
        reply["attributes"]["session"],
        session.as_str(),
        "errors go to the same session"
    );
    // A blank line is skipped without a reply; a CRLF ending is fine.
    client.send("\r\n").await;
    client
        .send("{\"type\":\"echo\",\"data\":1,\"attributes\":{\"correlationid\":\"crlf\"}}\r\n")
        .await;
    assert_eq!(client.recv().await["attributes"]["correlationid"], "crlf");

    // The connection goes on, pipelined requests included.
    client.round_trip("r2").await;
    client
        .send("{\"type\":\"echo\",\"data\":4,\"attributes\":{\"correlationid\":\"r4\"}}\n{\"type\":\"echo\",\"data\":5,\"attributes\":{\"correlationid\":\"r5\"}}\n")
        .await;
    let mut pipelined = [client.recv().await, client.recv().await];
    pipelined.sort_by_key(|reply| reply["data"].as_u64());
    assert_eq!(
        pipelined
            .iter()
            .map(|r| r["data"].clone())
            .collect::<Vec<_>>(),
        [json!(4), json!(5)]
    );

    // And so does the gateway, for another connection, which is another session.
    let mut other = Client::connect(address).await;
    let reply = other.round_trip("r3").await;
    assert_ne!(reply["attributes"]["session"], session.as_str());

    let report = within(gateway.shutdown(Duration::from_secs(5))).await;
    assert!(report.is_clean(), "{report:?}");
    assert!(
        client.at_eof().await,
        "the connections are closed on shutdown"
    );
    assert!(other.at_eof().await);
}

#[tokio::test]
async fn a_client_that_closes_its_side_still_gets_its_replies() {
    let (gateway, address) = serve(4).await;
    let mut client = Client::connect(address).await;
    client
        .send("{\"type\":\"echo\",\"data\":1}\n{\"type\":\"echo\",\"data\":2}\n")
        .await;
    within(client.writer.shutdown()).await.unwrap();
    let mut data = [
        client.recv().await["data"].clone(),
        client.recv().await["data"].clone(),
    ];
    data.sort_by_key(|value| value.as_u64());
    assert_eq!(data, [json!(1), json!(2)]);
    assert!(
        client.at_eof().await,
        "closed once every request is answered"
    );
    assert!(
        within(gateway.shutdown(Duration::from_secs(5)))
            .await
            .is_clean()
    );
}

#[tokio::test]
async fn connections_over_the_limit_are_turned_away_and_slots_come_back() {
    let (gateway, address) = serve(1).await;
    let mut first = Client::connect(address).await;
    first.round_trip("first").await;

    let mut second = Client::connect(address).await;
    let refusal = second.recv().await;
    check_error(&refusal, "unavailable", "too many connections");
    assert!(second.at_eof().await);

    // The first client leaves: once it sees the server close, its slot is free.
    within(first.writer.shutdown()).await.unwrap();
    assert!(first.at_eof().await);
    let mut third = Client::connect(address).await;
    third.round_trip("third").await;

    assert!(
        within(gateway.shutdown(Duration::from_secs(5)))
            .await
            .is_clean()
    );
}

/// Far more than a loopback socket buffers (a few MiB on each side), so that one such
/// reply that the client does not read blocks its connection's writer for good.
const BIG: usize = 16 * 1024 * 1024;

/// A channel whose reply queue holds one line and that closes a client that reads nothing
/// for 10 ms: short, so that the slow-reader tests are fast; a longer one would make them
/// slower, not fail them.
fn closing_slow_readers() -> TcpJsonChannelBuilder {
    TcpJsonChannel::builder("tcp")
        .reply_queue(1)
        .slow_reader_timeout(Duration::from_millis(10))
}

/// A reply of `message_type` with `payload`, built from parts: a builder would refuse a
/// payload over the default limits, such as one of [`BIG`] bytes.
fn unlimited_reply(message_type: &str, payload: Bytes) -> switchyard_core::Result<Message> {
    let mut attributes = Attributes::new();
    attributes.insert("type", message_type)?;
    Ok(Message::from_parts(payload, attributes, Acker::noop()))
}

#[tokio::test]
async fn a_client_that_does_not_read_is_closed_and_cannot_starve_the_others() {
    let payload = Bytes::from(vec![b'x'; BIG]);
    let (called, mut calls) = mpsc::unbounded_channel::<()>();
    let handler = handler_fn(move |request: Message| {
        let (payload, called) = (payload.clone(), called.clone());
        async move {
            if request.attributes().message_type() != Some("big") {
                return Ok(vec![unlimited_reply("pong", Bytes::new())?]);
            }
            let _ = called.send(());
            Ok(vec![unlimited_reply("big.reply", payload)?])
        }
    });
    // Two permits, and a send timeout far longer than the test: were the gateway to wait
    // for the slow client's queue, its requests would hold both permits throughout.
    let gateway = Gateway::builder()
        .handler(handler)
        .max_in_flight(2)
        .send_timeout(Duration::from_secs(600))
        .build()
        .unwrap();
    let (channel, address) = register(&gateway, closing_slow_readers()).await;

    // The slow client sends six requests and reads nothing. Reply 1 fills the socket and
    // blocks the writer, reply 2 fills the queue, and by reply 3 at the latest a reply
    // finds it full and waits for room. Were the gateway to wait for as long as it takes,
    // the tasks of requests 3 and 4 would now hold both permits for good; they hold them
    // for the slow-reader timeout, then the connection is closed.
    let mut slow = within(TcpStream::connect(address)).await.unwrap();
    within(slow.write_all("{\"type\":\"big\"}\n".repeat(6).as_bytes()))
        .await
        .unwrap();
    for _ in 0..4 {
        within(calls.recv())
            .await
            .expect("the slow client's requests are handled");
    }

    // A client that reads is answered at once, on its own connection.
    let mut good = Client::connect(address).await;
    good.send("{\"type\":\"ping\"}\n").await;
    assert_eq!(good.recv().await["type"], "pong");

    // The slow client was closed, once, cut off in the middle of its first reply.
    assert_eq!(channel.slow_readers_closed(), 1);
    assert_eq!(channel.connections(), 1, "only the good client is left");
    let mut unread = Vec::new();
    // EOF or a reset: either way, the connection ends.
    let _ = within(slow.read_to_end(&mut unread)).await;
    assert!(unread.len() < BIG, "{} bytes", unread.len());

    // Nothing of the slow client's is left waiting on it: the shutdown is clean.
    drop(good);
    let report = within(gateway.shutdown(Duration::from_secs(5))).await;
    assert!(report.is_clean(), "{report:?}");
}

/// Second reading: with default settings, one request (no pipelining) whose handler
/// returns more replies than the default reply queue closes a client that reads every
/// reply: the gateway sends a request's replies back to back without yielding, so the
/// connection's writer never gets a turn to drain the queue.
#[tokio::test]
async fn a_client_that_reads_every_reply_is_not_closed_by_one_multi_reply_request() {
    let count = TcpJsonChannelBuilder::DEFAULT_REPLY_QUEUE + 1;
    let gateway = Gateway::builder()
        .handler(handler_fn(move |_request: Message| async move {
            (0..count)
                .map(|n| {
                    Message::builder()
                        .message_type("item")
                        .payload(n.to_string())
                        .build()
                })
                .collect::<Result<Vec<_>, _>>()
        }))
        .build()
        .unwrap();
    let (channel, address) = register(&gateway, TcpJsonChannel::builder("tcp")).await;

    let mut client = Client::connect(address).await;
    client.send("{\"type\":\"list\"}\n").await;
    let mut received = 0;
    while received < count {
        match within(client.lines.next_line()).await.expect("read") {
            Some(line) => {
                let reply: Value = serde_json::from_str(&line).unwrap();
                assert_eq!(reply["type"], "item", "{reply}");
                received += 1;
            }
            None => break,
        }
    }
    assert_eq!(
        (received, channel.slow_readers_closed()),
        (count, 0),
        "a client reading every reply was closed as a slow reader"
    );
    drop(client);
    let report = within(gateway.shutdown(Duration::from_secs(5))).await;
    assert!(report.is_clean(), "{report:?}");
}

/// Second reading: eviction is documented to stop the connection's reader, but the reader
/// looks at its token only when it needs more bytes: every request line it had already
/// read from the socket is still pushed into the gateway and handled after the connection
/// was closed, and the connection keeps its slot meanwhile.
#[tokio::test]
async fn an_evicted_connection_pushes_no_more_requests() {
    let after = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = Arc::clone(&after);
    let payload = Bytes::from(vec![b'x'; BIG]);
    let handler = handler_fn(move |request: Message| {
        let (seen, payload) = (Arc::clone(&seen), payload.clone());
        async move {
            let kind = request
                .attributes()
                .message_type()
                .unwrap_or_default()
                .to_owned();
            if kind == "after" {
                seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            let reply = || Message::builder().message_type("r").build();
            if kind != "evict" {
                return Ok(vec![reply()?]);
            }
            // A reply that blocks the writer for good (the client does not read), then
            // more than the queue of one holds: the queue stays full, and the connection
            // is evicted once the slow-reader timeout passes.
            let big = unlimited_reply("big", payload)?;
            Ok(vec![big, reply()?, reply()?, reply()?])
        }
    });
    let gateway = Gateway::builder()
        .handler(handler)
        .max_in_flight(1)
        .inbox_capacity(1)
        .build()
        .unwrap();
    let (channel, address) = register(&gateway, closing_slow_readers().max_connections(1)).await;

    // One write: the reader has every line in its buffer after its first read. The client
    // reads nothing until it is evicted.
    let lines = 50;
    let mut evicted = within(TcpStream::connect(address)).await.unwrap();
    let batch = format!(
        "{{\"type\":\"evict\"}}\n{}",
        "{\"type\":\"after\"}\n".repeat(lines)
    );
    within(evicted.write_all(batch.as_bytes())).await.unwrap();

    // The evicted connection frees its slot once it stops reading: until then a new
    // client is turned away. Its ping queues behind whatever the evicted reader pushed.
    within(async {
        loop {
            let mut client = Client::connect(address).await;
            client.send("{\"type\":\"ping\"}\n").await;
            match within(client.lines.next_line()).await {
                Ok(Some(line)) if line.contains("\"type\":\"r\"") => break,
                _ => tokio::task::yield_now().await,
            }
        }
    })
    .await;
    assert_eq!(channel.slow_readers_closed(), 1);
    // At most two were already in the gateway's hands: one waiting for the dispatcher's
    // only permit, one in its inbox of one. A third, waiting for room in the inbox when
    // the connection was evicted, must not follow them.
    let handled_after = after.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        handled_after <= 2,
        "{handled_after} of the {lines} requests read before the eviction were handled after it"
    );
    let mut unread = Vec::new();
    // EOF or a reset: either way, the evicted connection ends, cut off in its first reply.
    let _ = within(evicted.read_to_end(&mut unread)).await;
    assert!(unread.len() < BIG, "{} bytes", unread.len());
    let _ = within(gateway.shutdown(Duration::from_secs(5))).await;
}

/// Second reading: replies that the channel accepted (so their requests were acked) but
/// that were still queued for a client that does not read when the shutdown aborted the
/// channel are lost without a count: the connection task that counts what its writer
/// discarded is aborted with the channel.
#[test]
fn replies_lost_when_the_shutdown_aborts_a_connection_are_counted() {
    let (report, counts) = counting(runtime(), async {
        let payload = Bytes::from(vec![b'x'; BIG]);
        let (answered, mut answers) = mpsc::unbounded_channel::<()>();
        let handler = handler_fn(move |request: Message| {
            let (payload, answered) = (payload.clone(), answered.clone());
            async move {
                let big = request.attributes().message_type() == Some("big");
                let payload = if big { payload } else { Bytes::new() };
                let _ = answered.send(());
                Ok(vec![unlimited_reply("reply", payload)?])
            }
        });
        let gateway = Gateway::builder().handler(handler).build().unwrap();
        // A writer stopped by the shutdown gives up on a client that does not read after
        // the slow-reader timeout: without one, it never does, and the channel is aborted.
        let channel = TcpJsonChannel::builder("tcp")
            .slow_reader_timeout(Duration::MAX)
            .bind("127.0.0.1:0")
            .await
            .unwrap();
        let address = channel.local_addr();
        gateway.register(channel).await.unwrap();

        // The big reply blocks the writer for good; the small one waits in the queue.
        let mut slow = within(TcpStream::connect(address)).await.unwrap();
        within(slow.write_all(b"{\"type\":\"big\"}\n{\"type\":\"small\"}\n"))
            .await
            .unwrap();
        for _ in 0..2 {
            within(answers.recv()).await.unwrap();
        }
        let report = within(gateway.shutdown(Duration::from_millis(200))).await;
        drop(slow);
        report
    });
    assert_eq!(
        report.not_stopped().collect::<Vec<_>>(),
        ["tcp"],
        "{report:?}"
    );
    assert!(
        counts.get(UNDELIVERED) >= 1,
        "replies dropped with the aborted connection were not counted as undelivered"
    );
}

/// Second reading: `reply_queue` is not checked against what a tokio channel can hold, as
/// `max_connections` is: `bind` accepts it, and the first client to connect panics the
/// channel's accept loop, which takes every connection down with it.
#[tokio::test]
async fn a_reply_queue_too_large_for_a_channel_is_refused_not_a_panic() {
    let Ok(channel) = TcpJsonChannel::builder("tcp")
        .reply_queue(usize::MAX)
        .bind("127.0.0.1:0")
        .await
    else {
        return;
    };
    let gateway = echo_gateway();
    let address = channel.local_addr();
    gateway.register(channel).await.unwrap();
    let mut client = within(TcpStream::connect(address)).await.unwrap();
    let mut rest = Vec::new();
    let _ = within(client.read_to_end(&mut rest)).await;
    let report = within(gateway.shutdown(Duration::from_secs(5))).await;
    assert!(
        report.is_clean(),
        "bind accepted reply_queue(usize::MAX): {report:?}"
    );
}

fn echo_gateway() -> Gateway {
    super::support::echo().build().unwrap()
}

/// Every value that a tokio constructor would panic on is refused by `bind`, naming the
/// setting; the largest values tokio takes are accepted and serve.
#[tokio::test]
async fn settings_are_validated_on_bind() {
    use switchyard_engine::gateway::GatewayError;
    use tokio::sync::Semaphore;

    let check = async |builder: TcpJsonChannelBuilder, setting: &str, reason: &str| match builder
        .bind("127.0.0.1:0")
        .await
    {
        Err(GatewayError::InvalidConfig {
            setting: got,
            reason: why,
        }) => {
            assert_eq!(got, setting);
            assert!(why.contains(reason), "{setting}: {why}");
        }
        other => panic!("{setting}: {other:?}"),
    };
    let tcp = || TcpJsonChannel::builder("tcp");
    check(tcp().max_connections(0), "max_connections", "zero").await;
    check(tcp().max_line_bytes(0), "max_line_bytes", "zero").await;
    check(
        tcp().max_in_flight_per_connection(0),
        "max_in_flight_per_connection",
        "zero",
    )
    .await;
    check(tcp().reply_queue(0), "reply_queue", "zero").await;
    check(
        tcp().slow_reader_timeout(Duration::ZERO),
        "slow_reader_timeout",
        "zero",
    )
    .await;
    check(tcp().idle_timeout(Duration::ZERO), "idle_timeout", "zero").await;
    let over = Semaphore::MAX_PERMITS + 1;
    check(
        tcp().max_connections(over),
        "max_connections",
        "MAX_PERMITS",
    )
    .await;
    check(tcp().reply_queue(over), "reply_queue", "MAX_PERMITS").await;

    let channel = tcp()
        .max_connections(Semaphore::MAX_PERMITS)
        .reply_queue(Semaphore::MAX_PERMITS)
        .slow_reader_timeout(Duration::MAX)
        .idle_timeout(Duration::MAX)
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let gateway = echo_gateway();
    let address = channel.local_addr();
    gateway.register(channel).await.unwrap();
    let mut client = Client::connect(address).await;
    client.send("{\"type\":\"ping\",\"data\":1}\n").await;
    assert_eq!(client.recv().await["type"], "pong");
    drop(client);
    let report = within(gateway.shutdown(Duration::from_secs(5))).await;
    assert!(report.is_clean(), "{report:?}");
}

/// Third reading: the module documentation says that "a client that reads, however slowly,
/// is not closed", and the slow-reader timeout is for a queue that *stays* full. But the
/// timeout is per waiting reply, not per stretch without progress: a client that reads
/// steadily (a chunk every 20 ms, simulated) but not fast enough to take a big reply within
/// the timeout is closed as a slow reader in the middle of reading it.
#[tokio::test(start_paused = true)]
async fn a_client_that_reads_steadily_is_not_closed_as_a_slow_reader() {
    let payload = Bytes::from(vec![b'x'; BIG]);
    let handler = handler_fn(move |_request: Message| {
        let payload = payload.clone();
        async move {
            let big = || unlimited_reply("big", payload.clone());
            Ok(vec![big()?, big()?, big()?])
        }
    });
    let gateway = Gateway::builder().handler(handler).build().unwrap();
    let (channel, address) =
        register(&gateway, TcpJsonChannel::builder("tcp").reply_queue(1)).await;

    let mut client = within(TcpStream::connect(address)).await.unwrap();
    within(client.write_all(b"{\"type\":\"big\"}\n"))
        .await
        .unwrap();
    let mut chunk = vec![0_u8; 256 * 1024];
    let mut lines = 0;
    tokio::time::timeout(Duration::from_secs(60), async {
        while lines < 3 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            match client.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(read) => lines += chunk[..read].iter().filter(|b| **b == b'\n').count(),
            }
        }
    })
    .await
    .expect("the client read on");
    assert_eq!(
        (lines, channel.slow_readers_closed()),
        (3, 0),
        "a client reading steadily was closed as a slow reader"
    );
    drop(client);
    let report = within(gateway.shutdown(Duration::from_secs(5))).await;
    assert!(report.is_clean(), "{report:?}");
}
