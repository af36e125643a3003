//! The example served to a real client over a real loopback socket.

use std::{future::Future, net::SocketAddr, time::Duration};

use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines},
    net::{TcpStream, tcp::OwnedReadHalf},
    sync::oneshot,
};

use super::{Args, run};

/// Fails the test instead of hanging it.
async fn within<T>(future: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), future)
        .await
        .expect("in time")
}

/// Sends `line` and returns the reply line, parsed.
async fn ask(
    lines: &mut Lines<BufReader<OwnedReadHalf>>,
    writer: &mut tokio::net::tcp::OwnedWriteHalf,
    line: &str,
) -> Value {
    within(writer.write_all(format!("{line}\n").as_bytes()))
        .await
        .expect("write");
    let reply = within(lines.next_line())
        .await
        .expect("read")
        .expect("a reply line");
    serde_json::from_str(&reply).unwrap_or_else(|err| panic!("{err}: {reply}"))
}

#[tokio::test]
async fn a_client_gets_a_reply_to_every_line_and_the_shutdown_is_clean() {
    let args = Args {
        listen: "127.0.0.1:0".parse().expect("an address"),
        duration: 0,
    };
    let (stop, interrupted) = oneshot::channel::<()>();
    let (bound, listening) = oneshot::channel::<SocketAddr>();
    let serving = tokio::spawn(async move {
        let interrupted = async {
            let _ = interrupted.await;
        };
        run(&args, interrupted, |address| {
            let _ = bound.send(address);
        })
        .await
        .map_err(|err| err.to_string())
    });
    let address = within(listening).await.expect("the example listens");

    let stream = within(TcpStream::connect(address)).await.expect("connect");
    let (read, mut writer) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut ask = async |line: &str| ask(&mut lines, &mut writer, line).await;

    let quote = ask(r#"{"type":"quote.request","data":{"sku":"A-1","qty":3}}"#).await;
    assert_eq!(quote["type"], "quote.created", "{quote}");
    assert_eq!(
        quote["data"],
        json!({"sku": "A-1", "qty": 3, "total_cents": 3750})
    );
    let rejected = ask(r#"{"type":"quote.request","data":{"sku":"A-1","qty":0}}"#).await;
    assert_eq!(rejected["type"], "quote.rejected", "{rejected}");
    assert!(
        rejected["data"]["reason"]
            .as_str()
            .is_some_and(|reason| reason.contains("qty")),
        "{rejected}"
    );
    let pong = ask(r#"{"type":"ping"}"#).await;
    assert_eq!(pong["type"], "pong", "{pong}");
    for bad in [
        r#"{"type":"quote.request","data":{"sku":1}}"#,
        r#"{"type":"nope"}"#,
        "not json",
    ] {
        let reply = ask(bad).await;
        assert_eq!(reply["type"], "switchyard.gateway.error", "{bad}: {reply}");
        assert_eq!(
            reply["attributes"]["error"], "bad_request",
            "{bad}: {reply}"
        );
    }
    let still_served = ask(r#"{"type":"ping"}"#).await;
    assert_eq!(
        still_served["type"], "pong",
        "the connection goes on after bad lines"
    );

    stop.send(()).expect("the example runs");
    let report = within(serving)
        .await
        .expect("the example's task")
        .expect("the example succeeds");
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(report.abandoned(), 0);
}
