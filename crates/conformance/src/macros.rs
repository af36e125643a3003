//! `conformance_tests!`: one `#[tokio::test]` per scenario, so that each shows up on its
//! own in the test runner.

/// Expands into one `#[tokio::test(flavor = "multi_thread")]` per scenario, named after
/// it, plus a test that checks that no scenario is missing. Invoke it inside a module of
/// the transport's test binary; the crate needs `tokio` with the `macros` and
/// `rt-multi-thread` features.
///
/// The first argument is an expression that makes a fresh [`Harness`](crate::Harness); it
/// is evaluated inside each async test, so it may `.await`. The second is the
/// [`Features`](crate::Features), and an optional third the
/// [`SuiteConfig`](crate::SuiteConfig) (the default otherwise). A scenario that does not
/// apply passes and prints why on the test's output.
///
/// ```no_run
/// # use std::sync::Arc;
/// # use async_trait::async_trait;
/// # use switchyard_core::{Publisher, Result, Subscriber};
/// # struct MyHarness;
/// # impl MyHarness {
/// #     async fn start() -> Self { MyHarness }
/// # }
/// # #[async_trait]
/// # impl switchyard_conformance::Harness for MyHarness {
/// #     async fn publisher(&self) -> Result<Arc<dyn Publisher>> { unreachable!() }
/// #     async fn subscriber(&self) -> Result<Arc<dyn Subscriber>> { unreachable!() }
/// # }
/// mod conformance {
///     use switchyard_conformance::{Features, conformance_tests};
///
///     use super::MyHarness;
///
///     conformance_tests!(
///         MyHarness::start().await,
///         Features {
///             consumer_groups: true,
///             ..Features::default()
///         }
///     );
/// }
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr, $features:expr $(,)?) => {
        $crate::conformance_tests!($make, $features, $crate::SuiteConfig::default());
    };
    ($make:expr, $features:expr, $config:expr $(,)?) => {
        $crate::__conformance_tests! {
            ($make, $features, $config)
            publish_subscribe
            concurrent_subscribe
            concurrent_subscribe_multiple_topics
            resend_on_error
            no_ack
            continue_after_subscribe_close
            concurrent_close
            continue_after_errors
            publish_subscribe_in_order
            publisher_close
            topic
            message_cancellation
            subscribe_cancel
            new_subscriber_receives_old_messages
            reconnect
            consumer_groups
            lifecycle
        }
    };
}

/// The expansion of [`conformance_tests!`] for a list of scenario names.
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_tests {
    (($make:expr, $features:expr, $config:expr) $($name:ident)*) => {
        $(
            #[::tokio::test(flavor = "multi_thread")]
            async fn $name() {
                let harness = $make;
                let config: $crate::SuiteConfig = $config;
                let outcome = $crate::scenarios::$name(&harness, $features, &config).await;
                $crate::__finish(stringify!($name), outcome);
            }
        )*

        #[test]
        fn every_conformance_scenario_has_a_test() {
            $crate::__check_listed(&[$(stringify!($name)),*]);
        }
    };
}
