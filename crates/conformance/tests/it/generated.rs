//! `conformance_tests!` on the reference transport: one test per scenario, on a
//! multi-threaded runtime in real time, as a transport's own tests run it.

mod in_process {
    use std::time::Duration;

    use switchyard_conformance::{Features, SuiteConfig, conformance_tests};

    use crate::reference::{Mode, Reference};

    conformance_tests!(
        Reference::new(Mode {
            ordered: true,
            ..Mode::default()
        }),
        Features {
            consumer_groups: true,
            guaranteed_order: true,
            ..Features::default()
        },
        SuiteConfig::builder()
            .quiet_period(Duration::from_millis(20))
            .build()
            .expect("a consistent configuration")
    );
}
