//! The hop count's text, shared or not.

use super::hop_count;

#[test]
fn hop_counts_read_as_decimal_within_and_past_the_shared_table() {
    for hops in [0, 1, 16, 17, 18, 1000, u32::MAX] {
        assert_eq!(&*hop_count(hops), hops.to_string(), "{hops}");
    }
    // Within the table the text is shared, not allocated per hop.
    assert!(std::sync::Arc::ptr_eq(&hop_count(3), &hop_count(3)));
}
