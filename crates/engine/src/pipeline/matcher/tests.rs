//! The default matcher's fast path against `TypePrefix`, and custom matchers.

use super::*;

fn typed(message_type: &str) -> Message {
    Message::builder()
        .message_type(message_type)
        .build()
        .expect("valid")
}

#[test]
fn the_fast_path_agrees_with_type_prefix() {
    let fast = Matcher::new(TypePrefix);
    assert!(matches!(fast, Matcher::TypePrefix));
    for message_type in ["orders.created", "orders", "a.b.c", ".x", "x."] {
        let message = typed(message_type);
        assert_eq!(
            fast.source(&message).map(Cow::into_owned),
            TypePrefix.source(&message),
            "{message_type}"
        );
    }
    assert_eq!(fast.source(&Message::new("no type")), None);
}

#[test]
fn custom_matchers_are_called() {
    let by_subject =
        Matcher::new(|message: &Message| message.attributes().subject().map(str::to_owned));
    assert!(matches!(by_subject, Matcher::Custom(_)));
    let message = Message::builder()
        .message_type("orders.created")
        .subject("billing")
        .build()
        .expect("valid");
    assert_eq!(by_subject.source(&message).as_deref(), Some("billing"));
}
