//! Tests of handler lookup, registration errors, router-wide layers and source matching.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use async_trait::async_trait;
use switchyard_core::{Error, Handler, Message, Result, handler_fn};
use tower_layer::Layer;

use super::*;

/// A handler that answers with one message whose payload names it.
fn named(name: &'static str) -> impl Handler + 'static {
    handler_fn(move |_message: Message| async move { Ok(vec![Message::new(name)]) })
}

fn typed(message_type: &str) -> Message {
    Message::builder()
        .message_type(message_type)
        .build()
        .unwrap()
}

async fn answer(router: &Router, message_type: &str) -> Option<String> {
    match router.handle(&typed(message_type)).await {
        Ok(outputs) => Some(String::from_utf8(outputs[0].payload().to_vec()).unwrap()),
        Err(RouterError::NoHandler { .. }) => None,
        Err(other) => panic!("{message_type}: {other}"),
    }
}

#[tokio::test]
async fn exact_types_win_then_patterns_in_registration_order() {
    let router = Router::builder()
        .handle("orders.*", named("orders-any"))
        .unwrap()
        .handle("orders.created", named("created"))
        .unwrap()
        .handle("**.created", named("any-created"))
        .unwrap()
        .handle("re:^users\\.(added|removed)$", named("users"))
        .unwrap()
        .build();
    let cases = [
        ("orders.created", Some("created")),
        ("orders.updated", Some("orders-any")),
        ("billing.created", Some("any-created")),
        ("users.added", Some("users")),
        ("users.renamed", None),
        ("orders", None),
    ];
    for (message_type, expected) in cases {
        assert_eq!(
            answer(&router, message_type).await.as_deref(),
            expected,
            "{message_type}"
        );
    }
    assert_eq!(router.len(), 4);
}

#[test]
fn duplicate_exact_types_are_an_error() {
    let err = Router::builder()
        .handle("orders.created", named("a"))
        .unwrap()
        .handle("orders.created", named("b"))
        .err()
        .unwrap();
    assert!(
        matches!(err, RouterError::DuplicateType { ref message_type } if message_type == "orders.created")
    );
}

/// A second handler for the same pattern would never be called (the first always wins):
/// refused like a second handler for an exact type.
#[test]
fn duplicate_patterns_are_an_error() {
    for pattern in ["orders.*", "orders.**", "re:^orders\\.(a|b)$"] {
        let err = Router::builder()
            .handle(pattern, named("a"))
            .unwrap()
            .handle(pattern, named("b"))
            .err();
        assert!(
            matches!(err, Some(RouterError::DuplicateType { ref message_type }) if message_type == pattern),
            "{pattern}: {err:?}"
        );
    }
}

#[test]
fn invalid_patterns_are_an_error() {
    for bad in ["orders..created", "", "re:(unclosed", "orders.[ab"] {
        let err = Router::builder().handle(bad, named("x")).err();
        assert!(
            matches!(err, Some(RouterError::InvalidPattern(_))),
            "{bad:?}: {err:?}"
        );
    }
}

#[tokio::test]
async fn messages_without_a_type_are_an_error() {
    let router = Router::builder().handle("a", named("a")).unwrap().build();
    let err = router.handle(&Message::new("x")).await.unwrap_err();
    assert!(matches!(err, RouterError::MissingType { .. }), "{err}");
    assert!(!err.is_transient());
}

#[tokio::test]
async fn handler_errors_keep_their_classification() {
    let router = Router::builder()
        .handle(
            "flaky",
            handler_fn(|_m: Message| async { Err(Error::transient_handler("busy")) }),
        )
        .unwrap()
        .handle(
            "broken",
            handler_fn(|_m: Message| async { Err(Error::permanent_handler("bad")) }),
        )
        .unwrap()
        .build();
    let flaky = router.handle(&typed("flaky")).await.unwrap_err();
    assert!(flaky.is_transient(), "{flaky}");
    let broken = router.handle(&typed("broken")).await.unwrap_err();
    assert!(!broken.is_transient(), "{broken}");
    let unknown = router.handle(&typed("nobody")).await.unwrap_err();
    assert!(!unknown.is_transient());
}

/// A layer that counts the calls through it.
#[derive(Clone)]
struct Counting(Arc<AtomicUsize>);

struct Counted<H> {
    inner: H,
    calls: Arc<AtomicUsize>,
}

impl<H> Layer<H> for Counting {
    type Service = Counted<H>;
    fn layer(&self, inner: H) -> Counted<H> {
        Counted {
            inner,
            calls: self.0.clone(),
        }
    }
}

#[async_trait]
impl<H: Handler> Handler for Counted<H> {
    async fn handle(&self, message: &Message) -> Result<Vec<Message>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.handle(message).await
    }
}

#[tokio::test]
async fn layers_wrap_every_handler() {
    let calls = Arc::new(AtomicUsize::new(0));
    let router = Router::builder()
        .handle("a", named("a"))
        .unwrap()
        .layer(Counting(calls.clone()))
        .handle("b.*", named("b"))
        .unwrap()
        .build();
    assert_eq!(answer(&router, "a").await.as_deref(), Some("a"));
    assert_eq!(answer(&router, "b.x").await.as_deref(), Some("b"));
    assert_eq!(answer(&router, "c").await, None);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "both handlers are wrapped; misses call none"
    );
}

#[test]
fn source_matchers() {
    let cases = [
        ("orders.created", Some("orders")),
        ("orders", Some("orders")),
        (".x", Some("")),
    ];
    for (message_type, expected) in cases {
        assert_eq!(TypePrefix.source(&typed(message_type)).as_deref(), expected);
    }
    assert_eq!(TypePrefix.source(&Message::new("untyped")), None);

    let by_subject = |message: &Message| message.attributes().subject().map(str::to_owned);
    let message = Message::builder().subject("tenant-7").build().unwrap();
    assert_eq!(by_subject.source(&message).as_deref(), Some("tenant-7"));
}
