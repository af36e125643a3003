//! Benchmarks of the dispatch engine: one dispatch through 1 route, and through 100 routes
//! of which 3 match, each beside the bare handler calls it wraps.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use switchyard_core::{Handler, Message, handler_fn};
use switchyard_routing::dispatch::{DispatchEngine, MessageCategory, Route};

const EVENT: MessageCategory = MessageCategory::Event;
const TOPIC: &str = "prod.orders.events.v1";

fn handler() -> impl Handler + Clone + 'static {
    handler_fn(|message: Message| async move { Ok(vec![message.detached()]) })
}

/// 1 route to 1 dispatcher.
fn one_route() -> DispatchEngine {
    let mut engine = DispatchEngine::new();
    let types: [&str; 0] = [];
    engine
        .register_dispatcher("orders", EVENT, types, handler())
        .expect("valid dispatcher");
    engine
        .register_route(Route::new("orders", "*.orders.events.*", EVENT, "orders"))
        .expect("valid route");
    engine.freeze().expect("valid registry");
    engine
}

/// 100 routes over 100 dispatchers, of which 3 match the benchmark topic.
fn hundred_routes() -> DispatchEngine {
    let mut engine = DispatchEngine::new();
    let types: [&str; 0] = [];
    for i in 0..100 {
        let id = format!("d{i}");
        engine
            .register_dispatcher(&id, EVENT, types, handler())
            .expect("valid dispatcher");
        let pattern = match i {
            0 => "*.orders.events.*".to_owned(),
            1 => "prod.**".to_owned(),
            2 => "prod.orders.events.v1".to_owned(),
            _ => format!("*.domain{i}.events.*"),
        };
        engine
            .register_route(Route::new(id.clone(), pattern, EVENT, id))
            .expect("valid route");
    }
    engine.freeze().expect("valid registry");
    engine
}

fn dispatch(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let message = Message::builder()
        .message_type("OrderPlaced")
        .build()
        .expect("valid message");
    let bare = handler();

    let mut group = c.benchmark_group("dispatch_1_route");
    group.bench_function("baseline", |b| {
        b.to_async(&runtime)
            .iter(|| async { black_box(bare.handle(black_box(&message)).await) });
    });
    let engine = one_route();
    group.bench_function("engine", |b| {
        b.to_async(&runtime)
            .iter(|| async { black_box(engine.dispatch(TOPIC, black_box(&message)).await) });
    });
    group.finish();

    let mut group = c.benchmark_group("dispatch_100_routes_fanout_3");
    group.bench_function("baseline", |b| {
        b.to_async(&runtime).iter(|| async {
            let outputs = futures::future::join3(
                bare.handle(&message),
                bare.handle(&message),
                bare.handle(&message),
            );
            black_box(outputs.await)
        });
    });
    let engine = hundred_routes();
    group.bench_function("engine", |b| {
        b.to_async(&runtime)
            .iter(|| async { black_box(engine.dispatch(TOPIC, black_box(&message)).await) });
    });
    group.finish();
}

criterion_group!(benches, dispatch);
criterion_main!(benches);
