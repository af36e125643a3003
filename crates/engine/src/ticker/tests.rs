//! The ticker on tokio's paused clock: timing, skipped ticks, errors, several messages per
//! tick, close, and periods too long for the clock.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use futures::StreamExt;
use switchyard_core::{Error, Message, Subscriber};
use tokio::time::{Instant, timeout};

use super::{Tick, TickerSubscriber};

const PERIOD: Duration = Duration::from_secs(10);
const DEADLINE: Duration = Duration::from_secs(3600);

/// Each tick's number and the time the generator ran.
type TickLog = Arc<Mutex<Vec<(u64, Instant)>>>;

/// A ticker whose generator records, for each tick, its number and the time it ran, and
/// returns `per_tick` messages numbered `tick.index`.
fn recording(per_tick: usize) -> (TickerSubscriber, TickLog) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let ticks = log.clone();
    let ticker = TickerSubscriber::new(PERIOD, move |tick: Tick| {
        ticks.lock().unwrap().push((tick.number, Instant::now()));
        async move {
            (0..per_tick)
                .map(|index| Message::new(format!("{}.{index}", tick.number)))
                .map(Ok)
                .collect()
        }
    })
    .unwrap();
    (ticker, log)
}

fn payload(message: &Message) -> String {
    String::from_utf8(message.payload().to_vec()).unwrap()
}

#[tokio::test(start_paused = true)]
async fn ticks_come_every_period_starting_one_period_after_subscribe() {
    let (ticker, log) = recording(1);
    let start = Instant::now();
    let mut stream = ticker.subscribe("ignored").await.unwrap();
    let mut payloads = Vec::new();
    for _ in 0..3 {
        let message = timeout(DEADLINE, stream.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        payloads.push(payload(&message));
    }
    assert_eq!(payloads, ["1.0", "2.0", "3.0"]);
    let times: Vec<(u64, Duration)> = log
        .lock()
        .unwrap()
        .iter()
        .map(|(number, at)| (*number, *at - start))
        .collect();
    assert_eq!(times, [(1, PERIOD), (2, 2 * PERIOD), (3, 3 * PERIOD)]);
}

#[tokio::test(start_paused = true)]
async fn a_stalled_consumer_gets_one_late_tick_then_the_schedule_resumes() {
    let (ticker, log) = recording(1);
    let start = Instant::now();
    let mut stream = ticker.subscribe("ignored").await.unwrap();
    timeout(DEADLINE, stream.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    // Nobody polls for 3.5 periods.
    tokio::time::sleep(PERIOD * 7 / 2).await;
    for _ in 0..2 {
        timeout(DEADLINE, stream.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
    }
    let times: Vec<Duration> = log
        .lock()
        .unwrap()
        .iter()
        .map(|(_, at)| *at - start)
        .collect();
    assert_eq!(
        times,
        [PERIOD, PERIOD * 9 / 2, PERIOD * 5],
        "the missed ticks are skipped, not burst"
    );
}

#[tokio::test(start_paused = true)]
async fn every_message_of_a_tick_is_emitted_in_order() {
    let (ticker, _log) = recording(3);
    let stream = ticker.subscribe("ignored").await.unwrap();
    let payloads: Vec<String> = timeout(DEADLINE, stream.take(6).collect::<Vec<_>>())
        .await
        .unwrap()
        .into_iter()
        .map(|item| payload(&item.unwrap()))
        .collect();
    assert_eq!(payloads, ["1.0", "1.1", "1.2", "2.0", "2.1", "2.2"]);
}

#[tokio::test(start_paused = true)]
async fn generator_errors_are_emitted_and_ticking_goes_on() {
    let ticker = TickerSubscriber::new(PERIOD, |tick: Tick| async move {
        if tick.number % 2 == 1 {
            Err(Error::transient_handler("database down"))
        } else {
            Ok(vec![Message::new("ok")])
        }
    })
    .unwrap();
    let mut stream = ticker.subscribe("ignored").await.unwrap();
    let first = timeout(DEADLINE, stream.next()).await.unwrap().unwrap();
    assert!(matches!(first, Err(Error::Handler { .. })), "{first:?}");
    let second = timeout(DEADLINE, stream.next()).await.unwrap().unwrap();
    assert_eq!(payload(&second.unwrap()), "ok");
}

#[tokio::test(start_paused = true)]
async fn close_ends_the_streams_and_refuses_new_subscriptions() {
    let (ticker, log) = recording(1);
    let mut stream = ticker.subscribe("ignored").await.unwrap();
    ticker.close().await.unwrap();
    assert!(timeout(DEADLINE, stream.next()).await.unwrap().is_none());
    assert!(log.lock().unwrap().is_empty(), "no tick after close");
    let err = ticker.subscribe("ignored").await.err().unwrap();
    assert!(matches!(err, Error::Closed { .. }), "{err}");
    ticker.close().await.unwrap();
}

#[test]
fn a_zero_period_is_refused() {
    let err = TickerSubscriber::new(Duration::ZERO, |_tick| async { Ok(Vec::new()) })
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "invalid engine configuration: `period` must not be zero"
    );
}

#[tokio::test(start_paused = true)]
async fn periods_up_to_far_future_tick_and_longer_ones_never_do() {
    use switchyard_core::deadline::FAR_FUTURE;

    // Up to `FAR_FUTURE`, a period ticks like any other.
    let ticker = TickerSubscriber::new(FAR_FUTURE, |tick: Tick| async move {
        Ok(vec![Message::new(tick.number.to_string())])
    })
    .unwrap();
    let start = Instant::now();
    let mut stream = ticker.subscribe("ignored").await.unwrap();
    for expected in ["1", "2"] {
        let message = timeout(FAR_FUTURE * 2, stream.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(payload(&message), expected);
    }
    assert_eq!(start.elapsed(), FAR_FUTURE * 2);

    // Past it, the ticker never ticks: no tick, and no panic computing one.
    for period in [Duration::MAX, FAR_FUTURE + Duration::from_nanos(1)] {
        let ticks = Arc::new(Mutex::new(0_u64));
        let counted = ticks.clone();
        let ticker = TickerSubscriber::new(period, move |_tick: Tick| {
            *counted.lock().unwrap() += 1;
            async { Ok(vec![Message::new("tick")]) }
        })
        .expect("the period only has to be non-zero");
        let mut stream = ticker.subscribe("ignored").await.unwrap();
        let long_after = FAR_FUTURE * 4;
        assert!(
            timeout(long_after, stream.next()).await.is_err(),
            "{period:?}"
        );
        assert_eq!(*ticks.lock().unwrap(), 0, "{period:?}");
        ticker.close().await.unwrap();
        assert!(timeout(DEADLINE, stream.next()).await.unwrap().is_none());
    }
}

#[tokio::test(start_paused = true)]
async fn a_panicking_generator_is_an_error_item_and_ticking_goes_on() {
    let ticker = TickerSubscriber::new(PERIOD, |tick: Tick| {
        // A panic while building the future, then one while running it.
        assert_ne!(tick.number, 1, "generator bug building tick 1");
        async move {
            assert_ne!(tick.number, 2, "generator bug running tick 2");
            Ok(vec![Message::new(tick.number.to_string())])
        }
    })
    .unwrap();
    let mut stream = ticker.subscribe("ignored").await.unwrap();
    for tick in ["tick 1", "tick 2"] {
        let item = timeout(DEADLINE, stream.next()).await.unwrap().unwrap();
        let Err(err) = item else {
            panic!("a panic is an error item, not {item:?}");
        };
        assert!(matches!(err, Error::Handler { .. }), "{err}");
        assert!(err.report().contains(tick), "{}", err.report());
    }
    let third = timeout(DEADLINE, stream.next()).await.unwrap().unwrap();
    assert_eq!(payload(&third.unwrap()), "3");
}

#[tokio::test(start_paused = true)]
async fn close_ends_a_stream_whose_generator_never_returns() {
    let called = Arc::new(tokio::sync::Notify::new());
    let notify = called.clone();
    let ticker = TickerSubscriber::new(PERIOD, move |_tick: Tick| {
        notify.notify_one();
        std::future::pending::<switchyard_core::Result<Vec<Message>>>()
    })
    .unwrap();
    let mut stream = ticker.subscribe("ignored").await.unwrap();
    let close = async {
        called.notified().await;
        ticker.close().await.unwrap();
    };
    let (item, ()) = timeout(DEADLINE, futures::future::join(stream.next(), close))
        .await
        .expect("close ends the stream while its generator runs");
    assert!(item.is_none());
}

#[tokio::test(start_paused = true)]
async fn close_ends_a_stream_with_messages_of_a_tick_left() {
    let (ticker, _log) = recording(3);
    let mut stream = ticker.subscribe("ignored").await.unwrap();
    let first = timeout(DEADLINE, stream.next()).await.unwrap().unwrap();
    assert_eq!(payload(&first.unwrap()), "1.0");
    ticker.close().await.unwrap();
    let next = timeout(DEADLINE, stream.next()).await.unwrap();
    assert!(next.is_none(), "{next:?}");
}
