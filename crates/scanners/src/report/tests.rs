//! Reports add up and keep the first error, redacted.

use switchyard_core::Error;

use super::ScanReport;

#[test]
fn merge_adds_counts_and_keeps_the_first_error() {
    let mut total = ScanReport::with_counts(2, 1);
    let mut other = ScanReport::with_counts(5, 4);
    other.add_error(&Error::transient_transport(
        "connect redis://app:hunter2@cache failed",
    ));
    other.add_error(&Error::Closed { component: "later" });
    other.add_held(3);
    total.add_held(1);
    total.merge(other);
    total.merge(ScanReport::new());
    assert_eq!((total.examined(), total.acted(), total.errors()), (7, 5, 2));
    assert_eq!(total.held(), 4);
    assert_eq!(
        total.first_error(),
        Some("transport error: connect redis://[REDACTED]@cache failed")
    );
}

#[test]
fn counts_saturate_instead_of_overflowing() {
    let mut report = ScanReport::with_counts(u64::MAX, u64::MAX);
    report.add_examined(1);
    report.add_acted(1);
    report.add_held(u64::MAX);
    report.add_held(1);
    assert_eq!((report.examined(), report.acted()), (u64::MAX, u64::MAX));
    assert_eq!(report.held(), u64::MAX);
}
