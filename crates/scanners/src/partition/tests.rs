//! The partition hash is pinned, and the router validates its families.

use std::num::NonZeroU32;

use proptest::prelude::*;
use switchyard_core::Message;

use super::{Partition, PartitionRouter, partition_of};
use crate::Error;

/// Keys and their partitions among 16, 7 and 1024. These values are the contract: if this
/// test fails, the hash changed, and every deployed key would move to another partition.
const PINNED: &[(&str, u32, u32, u32)] = &[
    ("", 2, 4, 194),
    ("a", 15, 1, 543),
    ("flow-1", 4, 0, 516),
    ("flow-42", 3, 2, 435),
    ("order-7", 11, 4, 955),
    ("tenant:acme", 5, 2, 181),
    ("ünïcödé", 1, 5, 881),
    ("0193e1f0-7c1a-7b4e-9a0b-1c2d3e4f5a6b", 12, 2, 908),
];

fn count(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap()
}

#[test]
fn the_hash_is_xxh3_with_seed_zero() {
    // The reference vector of XXH3-64 for empty input, from the xxHash specification.
    assert_eq!(xxhash_rust::xxh3::xxh3_64(b""), 0x2D06_8005_38D3_94C2);
}

#[test]
fn pinned_keys_stay_in_their_partitions() {
    for &(key, of16, of7, of1024) in PINNED {
        let actual = [16, 7, 1024].map(|n| partition_of(key.as_bytes(), count(n)));
        assert_eq!(actual, [of16, of7, of1024], "key {key:?}");
    }
}

#[test]
fn the_router_uses_each_familys_count() {
    let router = PartitionRouter::builder()
        .family("flow", 16)
        .family("budget", 7)
        .build()
        .unwrap();
    for &(key, of16, of7, _) in PINNED {
        assert_eq!(
            router.partition("flow", key).unwrap(),
            Partition::new("flow", of16, 16).unwrap()
        );
        assert_eq!(
            router.partition("budget", key).unwrap(),
            Partition::new("budget", of7, 7).unwrap()
        );
    }
    assert_eq!(
        router.partition("quota", "x").unwrap_err(),
        Error::UnknownFamily {
            family: "quota".into()
        }
    );
    let all: Vec<_> = router
        .partitions("budget")
        .unwrap()
        .map(|p| p.index())
        .collect();
    assert_eq!(all, [0, 1, 2, 3, 4, 5, 6]);
}

#[test]
fn messages_route_by_partition_key_then_id() {
    let router = PartitionRouter::builder()
        .family("flow", 16)
        .build()
        .unwrap();
    let keyed = Message::builder()
        .partition_key("order-7")
        .id("flow-1")
        .build()
        .unwrap();
    assert_eq!(
        router.partition_of_message("flow", &keyed).unwrap().index(),
        11
    );
    let unkeyed = Message::builder().id("flow-42").build().unwrap();
    assert_eq!(
        router
            .partition_of_message("flow", &unkeyed)
            .unwrap()
            .index(),
        3
    );
}

#[test]
fn builder_rejects_bad_families() {
    let cases = [
        (
            PartitionRouter::builder(),
            Error::InvalidConfig {
                field: "families",
                reason: "at least one family is needed",
            },
        ),
        (
            PartitionRouter::builder().family("flow", 0),
            Error::ZeroPartitions {
                family: "flow".into(),
            },
        ),
        (
            PartitionRouter::builder().family("", 3),
            Error::InvalidConfig {
                field: "families",
                reason: "a family name must not be empty",
            },
        ),
    ];
    for (builder, expected) in cases {
        assert_eq!(builder.build().unwrap_err(), expected);
    }
}

#[test]
fn partitions_out_of_range_cannot_be_made() {
    assert!(Partition::new("flow", 3, 3).is_none());
    assert_eq!(Partition::new("flow", 2, 3).unwrap().to_string(), "flow/2");
}

proptest! {
    #[test]
    fn every_key_lands_in_range_and_stays_there(key: Vec<u8>, n in 1u32..10_000) {
        let first = partition_of(&key, count(n));
        prop_assert!(first < n);
        prop_assert_eq!(first, partition_of(&key, count(n)));
    }
}
