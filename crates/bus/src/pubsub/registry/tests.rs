//! Unit tests of `registry.rs`: routing, groups, removal, and the pattern delta.

use std::sync::Weak;

use tokio::sync::mpsc;

use super::*;
use crate::pubsub::options::{Resolved, SlowConsumerPolicy};
use crate::pubsub::patterns::MAX_DELTA;

/// A registered subscription, as the stream would hold it.
struct Sub {
    target: Arc<Target>,
    member: Arc<Member>,
}

fn member(id: u64, target: Weak<Target>, text: &str, group: Option<Arc<str>>) -> Arc<Member> {
    let (redeliver, _requests) = mpsc::unbounded_channel();
    let options = Resolved {
        group,
        policy: SlowConsumerPolicy::Fail,
        buffer: 8,
        max_in_flight: 8,
        replay: 0,
    };
    Arc::new(Member::new(
        id,
        target,
        Arc::from(text),
        &options,
        redeliver,
    ))
}

fn subscribe(registry: &Registry, text: &str, group: Option<&str>) -> Result<Sub> {
    let group: Option<Arc<str>> = group.map(Arc::from);
    let subject = Subject {
        text,
        pattern: Pattern::parse(text).unwrap(),
        group: group.clone(),
    };
    let registered = registry.subscribe(subject, 100_000, None, |id, target| {
        member(id, target, text, group)
    })?;
    Ok(Sub {
        target: registered.target,
        member: registered.member,
    })
}

fn unsubscribe(registry: &Registry, sub: &Sub) -> (Option<Arc<Target>>, bool) {
    registry.unsubscribe(&sub.member, &sub.target)
}

/// The subjects and groups of the targets `topic` routes to, sorted.
fn routes(registry: &Registry, topic: &str) -> Vec<String> {
    let mut found: Vec<String> = registry
        .route(topic)
        .iter()
        .map(|target| match &target.group {
            Some(group) => format!("{}@{group}", target.subject),
            None => target.subject.to_string(),
        })
        .collect();
    found.sort();
    found
}

#[test]
fn exact_and_pattern_subscriptions_route_every_matching_topic() {
    let registry = Registry::new();
    let _a = subscribe(&registry, "orders.created", None).unwrap();
    let _b = subscribe(&registry, "orders.*", None).unwrap();
    let _c = subscribe(&registry, "**.audit", None).unwrap();
    let _d = subscribe(&registry, r"re:^pay", None).unwrap();
    let check =
        |topic, expected: &[&str]| assert_eq!(routes(&registry, topic), expected, "{topic}");
    check("orders.created", &["orders.*", "orders.created"]);
    check("orders.updated", &["orders.*"]);
    check("orders.audit", &["**.audit", "orders.*"]);
    check("payments.audit", &["**.audit", "re:^pay"]);
    check("inventory.created", &[]);
    assert!(registry.route("nothing").is_empty());
}

#[test]
fn members_of_a_group_share_one_target_and_others_get_their_own() {
    let registry = Registry::new();
    let a = subscribe(&registry, "orders.*", Some("billing")).unwrap();
    let b = subscribe(&registry, "orders.*", Some("billing")).unwrap();
    let c = subscribe(&registry, "orders.*", Some("audit")).unwrap();
    let d = subscribe(&registry, "orders.*", None).unwrap();
    assert!(Arc::ptr_eq(&a.target, &b.target));
    assert!(!Arc::ptr_eq(&a.target, &c.target));
    assert_eq!(
        routes(&registry, "orders.x"),
        ["orders.*", "orders.*@audit", "orders.*@billing"]
    );
    assert!(
        registry
            .group(&a.target.subject, &Arc::from("billing"))
            .is_some()
    );

    // The group lives on while it has a member.
    assert!(unsubscribe(&registry, &a).0.is_some());
    assert_eq!(routes(&registry, "orders.x").len(), 3);
    assert!(unsubscribe(&registry, &b).0.is_none());
    assert!(
        registry
            .group(&b.target.subject, &Arc::from("billing"))
            .is_none()
    );
    assert!(b.target.is_removed());
    assert_eq!(
        routes(&registry, "orders.x"),
        ["orders.*", "orders.*@audit"]
    );
    unsubscribe(&registry, &c);
    unsubscribe(&registry, &d);
    assert!(registry.route("orders.x").is_empty());
    assert_eq!(registry.len(), 0);
}

#[test]
fn exact_topics_leave_the_map_with_their_last_target() {
    let registry = Registry::new();
    let members: Vec<_> = (0..3)
        .map(|_| subscribe(&registry, "t", None).unwrap())
        .collect();
    assert_eq!(registry.route("t").iter().len(), 3);
    for (left, member) in (0..3).rev().zip(&members) {
        unsubscribe(&registry, member);
        assert_eq!(registry.route("t").iter().len(), left);
    }
    // Unsubscribing twice is harmless.
    assert_eq!(unsubscribe(&registry, &members[0]).0.map(|_| ()), None);
}

#[test]
fn the_pattern_delta_is_folded_into_the_index_when_full_or_on_compact() {
    let registry = Registry::new();
    let mut members = Vec::new();
    for n in 0..MAX_DELTA - 1 {
        members.push(subscribe(&registry, &format!("t{n}.*"), None).unwrap());
    }
    assert_eq!(registry.pattern_shape(), (0, MAX_DELTA - 1));
    members.push(subscribe(&registry, "last.*", None).unwrap());
    assert_eq!(
        registry.pattern_shape(),
        (MAX_DELTA, 0),
        "rebuilt at the bound"
    );
    members.push(subscribe(&registry, "late.*", None).unwrap());
    assert_eq!(registry.pattern_shape(), (MAX_DELTA, 1));
    registry.compact();
    assert_eq!(registry.pattern_shape(), (MAX_DELTA + 1, 0));
    assert_eq!(routes(&registry, "t7.x"), ["t7.*"]);
    assert_eq!(routes(&registry, "late.x"), ["late.*"]);

    // Removed patterns stop taking messages at once (the index keeps them, marked removed,
    // so that a route's positions hold still) and leave the index on the next rebuild.
    let (_, compact) = unsubscribe(&registry, &members[7]);
    assert!(compact, "a rebuild is wanted");
    let routed = registry.route("t7.x");
    assert!(
        routed
            .iter()
            .all(|target| target.is_removed() && !target.has_members())
    );
    registry.compact();
    assert_eq!(registry.pattern_shape(), (MAX_DELTA, 0));
    // Enough removals force a rebuild.
    for n in 0..MAX_DELTA {
        members.push(subscribe(&registry, &format!("more{n}.*"), None).unwrap());
    }
    registry.compact();
    assert_eq!(registry.pattern_shape(), (2 * MAX_DELTA, 0));
    for member in &members[8..8 + MAX_DELTA - 1] {
        assert!(unsubscribe(&registry, member).1);
    }
    assert_eq!(
        registry.pattern_shape(),
        (2 * MAX_DELTA, 0),
        "marked, not yet removed"
    );
    assert!(!unsubscribe(&registry, &members[8 + MAX_DELTA - 1]).1);
    assert_eq!(registry.pattern_shape(), (MAX_DELTA, 0));
}

#[test]
fn closing_empties_the_tables_and_refuses_subscriptions() {
    let registry = Registry::new();
    let a = subscribe(&registry, "a", Some("g")).unwrap();
    let _b = subscribe(&registry, "b.*", None).unwrap();
    let closed = registry.close();
    assert_eq!(closed.len(), 2);
    assert!(!a.target.has_members());
    assert!(a.target.is_removed());
    assert!(registry.route("a").is_empty() && registry.route("b.x").is_empty());
    assert!(matches!(
        subscribe(&registry, "a", None),
        Err(Error::Closed { .. })
    ));
}

#[test]
fn subscriptions_are_limited() {
    let registry = Registry::new();
    let make = |text: &str| Subject {
        text: "x",
        pattern: Pattern::parse(text).unwrap(),
        group: None,
    };
    let new = |id, target| member(id, target, "x", None);
    let _first = registry.subscribe(make("x"), 1, None, new).unwrap();
    let second = registry.subscribe(make("x"), 1, None, new);
    assert!(matches!(second, Err(Error::QueueFull { .. })));
}
