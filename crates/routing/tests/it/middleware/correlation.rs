//! Correlation: outputs inherit the conversation and name their cause.

use switchyard_core::{Error, Handler, Message};
use switchyard_routing::middleware::correlation::CorrelationLayer;
use tower_layer::Layer;

use super::support::{recorded, within};

/// Runs a correlation layer over a handler that returns `output`, for `input`, and checks
/// the output's `correlationid` and `causationid`.
async fn check(input: Message, output: Message, correlation: &str, causation: &str) {
    let (handler, _calls) = recorded(move |_, _| {
        let output = output.clone();
        async move { Ok(vec![output]) }
    });
    let handler = CorrelationLayer::new().layer(handler);
    let outputs = within(handler.handle(&input)).await.unwrap();
    let attributes = outputs[0].attributes();
    assert_eq!(
        attributes.correlation_id(),
        Some(correlation),
        "correlationid"
    );
    assert_eq!(attributes.causation_id(), Some(causation), "causationid");
}

fn input(id: &str) -> switchyard_core::MessageBuilder {
    Message::builder().id(id)
}

#[tokio::test(start_paused = true)]
async fn outputs_inherit_correlation_and_name_their_cause() {
    let plain = || Message::builder().id("out").build().unwrap();
    // The input's correlation id is inherited.
    check(
        input("in-1").correlation_id("conv").build().unwrap(),
        plain(),
        "conv",
        "in-1",
    )
    .await;
    // An input without one starts the conversation: its id names it.
    check(input("in-2").build().unwrap(), plain(), "in-2", "in-2").await;
    // An output's own correlation id is kept.
    check(
        input("in-3").correlation_id("conv").build().unwrap(),
        Message::builder().correlation_id("mine").build().unwrap(),
        "mine",
        "in-3",
    )
    .await;
    // A causation id copied from elsewhere is replaced: the input is the cause.
    check(
        input("in-4").causation_id("grandparent").build().unwrap(),
        Message::builder()
            .causation_id("grandparent")
            .build()
            .unwrap(),
        "in-4",
        "in-4",
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn every_output_is_stamped_and_errors_pass_through() {
    let (handler, _calls) = recorded(|call, _| async move {
        if call == 1 {
            Ok(vec![Message::new("a"), Message::new("b")])
        } else {
            Err(Error::transient_handler("down"))
        }
    });
    let handler = CorrelationLayer::new().layer(handler);
    let request = input("req").correlation_id("conv").build().unwrap();

    let outputs = within(handler.handle(&request)).await.unwrap();
    assert_eq!(outputs.len(), 2);
    assert!(outputs.iter().all(|out| {
        out.attributes().correlation_id() == Some("conv")
            && out.attributes().causation_id() == Some("req")
    }));

    let err = within(handler.handle(&request)).await.unwrap_err();
    assert!(err.is_transient());
}
