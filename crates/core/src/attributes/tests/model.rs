//! Property test: [`Attributes`] against a `BTreeMap<String, String>` model, through random
//! inserts, typed sets, removes and defaults, on copies that share their list with others.

use std::{
    collections::BTreeMap,
    sync::Arc,
    time::{Duration, SystemTime},
};

use proptest::{prelude::*, sample::select};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::{
    Attribute, Attributes, Error, Result,
    attributes::{
        name::{EXTENSIONS_AROUND, WellKnown},
        names,
    },
};

type Model = BTreeMap<String, String>;

/// Every well-known name, and extension names before, between and after them.
fn names() -> Vec<&'static str> {
    WellKnown::ALL
        .iter()
        .map(|known| known.as_str())
        .chain(EXTENSIONS_AROUND)
        .collect()
}

/// Values that are valid for some well-known names and not for others.
const VALUES: &[&str] = &[
    "",
    "1.0",
    "0.3",
    "2026-11-22T18:00:00Z",
    "2026-11-22T18:00:00.123+02:00",
    "acme",
    "loop://billing",
];

type Getter = fn(&Attributes) -> Option<&str>;
type Setter = fn(&mut Attributes, String) -> Result<()>;

/// The typed accessors, with the name each reads and writes.
fn typed() -> [(&'static str, Getter, Setter); 10] {
    [
        (names::ID, Attributes::id, |a, v| a.set_id(v)),
        (names::SOURCE, Attributes::source, |a, v| a.set_source(v)),
        (names::TYPE, Attributes::message_type, |a, v| a.set_type(v)),
        (names::SUBJECT, Attributes::subject, |a, v| a.set_subject(v)),
        (
            names::DATACONTENTTYPE,
            Attributes::datacontenttype,
            |a, v| a.set_datacontenttype(v),
        ),
        (names::DATASCHEMA, Attributes::dataschema, |a, v| {
            a.set_dataschema(v)
        }),
        (names::DESTINATION, Attributes::destination, |a, v| {
            a.set_destination(v)
        }),
        (names::CORRELATIONID, Attributes::correlation_id, |a, v| {
            a.set_correlation_id(v)
        }),
        (names::CAUSATIONID, Attributes::causation_id, |a, v| {
            a.set_causation_id(v)
        }),
        (names::PARTITIONKEY, Attributes::partition_key, |a, v| {
            a.set_partition_key(v)
        }),
    ]
}

#[derive(Clone, Debug)]
enum Op {
    Insert(String, String),
    /// Through the typed setter at this index of [`typed`].
    Set(usize, String),
    Remove(String),
    /// Through [`Attribute`]s and [`Attributes::insert_all`], one to three at once.
    InsertAll(Vec<(String, String)>),
    FillDefaults,
    SetTime(u32),
    /// Keeps a clone of the current attributes: later changes must leave it as it is.
    Fork,
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => select(names()).prop_map(str::to_owned),
        2 => "[a-z0-9]{1,20}",
        1 => prop_oneof![
            Just(String::new()),
            Just("Type".to_owned()),
            "[a-z]{21,24}",
            "[a-z]{0,3}[-_ A-Zé][a-z]{0,3}",
        ],
    ]
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![select(VALUES).prop_map(str::to_owned), "[ -~]{0,12}"]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (name(), value()).prop_map(|(name, value)| Op::Insert(name, value)),
        2 => (0..10usize, value()).prop_map(|(at, value)| Op::Set(at, value)),
        3 => name().prop_map(Op::Remove),
        3 => prop::collection::vec((name(), value()), 1..=3).prop_map(Op::InsertAll),
        1 => Just(Op::FillDefaults),
        1 => any::<u32>().prop_map(Op::SetTime),
        1 => Just(Op::Fork),
    ]
}

/// The naming rule, restated.
fn valid_name(name: &str) -> bool {
    (1..=20).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// The value rules, restated.
fn valid_value(name: &str, value: &str) -> bool {
    match name {
        "id" | "source" | "type" => !value.is_empty(),
        "specversion" => value == "1.0",
        "time" => OffsetDateTime::parse(value, &Rfc3339).is_ok(),
        _ => true,
    }
}

/// Checks the outcome of setting `name` to `value`, and applies it to the model.
fn expect_set<T: std::fmt::Debug>(
    model: &mut Model,
    name: &str,
    value: String,
    result: Result<T>,
) -> Option<(T, Option<String>)> {
    if !valid_name(name) {
        assert!(
            matches!(result, Err(Error::InvalidAttributeName { .. })),
            "{name:?}: {result:?}"
        );
        None
    } else if !valid_value(name, &value) {
        assert!(
            matches!(&result, Err(Error::InvalidAttributeValue { name: n, .. }) if n == name),
            "{name}={value:?}: {result:?}"
        );
        None
    } else {
        let stored = result.unwrap_or_else(|err| panic!("{name}={value:?}: {err}"));
        Some((stored, model.insert(name.to_owned(), value)))
    }
}

/// Applies `op` to `attrs` and `model`, checking what it returns.
fn apply(attrs: &mut Attributes, model: &mut Model, op: Op) {
    match op {
        Op::Insert(name, value) => {
            let result = attrs.insert(&name, value.clone());
            if let Some((replaced, expected)) = expect_set(model, &name, value, result) {
                assert_eq!(replaced, expected, "insert {name}");
            }
        }
        Op::Set(at, value) => {
            let (name, _, set) = typed()[at];
            let result = set(attrs, value.clone());
            expect_set(model, name, value, result);
        }
        Op::Remove(name) => {
            // Held, the list is shared: removing an absent name must not copy it.
            let before = Arc::clone(&attrs.map);
            let removed = attrs.remove(&name);
            assert_eq!(removed, model.remove(&name), "remove {name:?}");
            if removed.is_none() {
                assert!(Arc::ptr_eq(&before, &attrs.map), "remove {name:?} copied");
            }
        }
        Op::InsertAll(pairs) => {
            // Each attribute is validated when it is made, as `insert` validates; the valid
            // ones are set at once, the later of two with one name winning, as in the model.
            let mut valid = Vec::new();
            let mut scratch = model.clone();
            for (name, value) in pairs {
                let attribute = Attribute::new(&name, value.as_str());
                if let Some((attribute, _)) = expect_set(&mut scratch, &name, value, attribute) {
                    assert_eq!(
                        (attribute.name(), attribute.value()),
                        (name.as_str(), &*scratch[&name])
                    );
                    valid.push(attribute);
                }
            }
            let mut valid = valid.into_iter();
            match (valid.next(), valid.next(), valid.next()) {
                (None, ..) => {}
                (Some(a), None, _) => attrs.insert_all([a]),
                (Some(a), Some(b), None) => attrs.insert_all([a, b]),
                (Some(a), Some(b), Some(c)) => attrs.insert_all([a, b, c]),
            }
            *model = scratch;
        }
        Op::FillDefaults => {
            let before = Arc::clone(&attrs.map);
            attrs.fill_defaults();
            let had_both = model.contains_key("id") && model.contains_key("time");
            assert_eq!(Arc::ptr_eq(&before, &attrs.map), had_both);
            for name in ["id", "time"] {
                let value = attrs.get(name).expect("filled in");
                assert!(valid_value(name, value), "{name}={value:?}");
                let expected = model
                    .entry(name.to_owned())
                    .or_insert_with(|| value.to_owned());
                assert_eq!(value, expected, "an existing {name} is kept");
            }
        }
        Op::SetTime(secs) => {
            let time = SystemTime::UNIX_EPOCH + Duration::from_secs(secs.into());
            attrs.set_time(time);
            let text = OffsetDateTime::from(time).format(&Rfc3339).unwrap();
            model.insert("time".to_owned(), text);
            assert_eq!(attrs.time(), Some(time));
        }
        Op::Fork => unreachable!("forks are taken by the caller"),
    }
}

/// Checks `attrs` against `model` through every way of reading them.
fn check(attrs: &Attributes, model: &Model) {
    attrs.map.assert_consistent();
    let listed: Vec<(&str, &str)> = attrs.iter().collect();
    let expected: Vec<(&str, &str)> = model
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    assert_eq!(listed, expected);
    assert_eq!(attrs.iter().len(), model.len());
    assert_eq!(attrs.len(), model.len());
    assert_eq!(attrs.is_empty(), model.is_empty());
    let encoded: usize = model.iter().map(|(n, v)| n.len() + v.len()).sum();
    assert_eq!(attrs.encoded_len(), encoded);
    for name in names()
        .iter()
        .copied()
        .chain(model.keys().map(String::as_str))
    {
        assert_eq!(
            attrs.get(name),
            model.get(name).map(String::as_str),
            "{name}"
        );
    }
    for (name, get, _) in typed() {
        assert_eq!(get(attrs), model.get(name).map(String::as_str), "{name}");
    }
    assert_eq!(format!("{attrs:?}"), format!("{model:?}"));

    // Equal to the same attributes built from the map, and inserted in reverse order.
    let rebuilt = Attributes::try_from(model.clone()).unwrap();
    rebuilt.map.assert_consistent();
    assert_eq!(&rebuilt, attrs);
    let mut reversed = Attributes::new();
    for (name, value) in model.iter().rev() {
        reversed.insert(name, value.as_str()).unwrap();
    }
    assert_eq!(&reversed, attrs);
    assert_eq!(&BTreeMap::from(attrs.clone()), model);
}

fn run(ops: Vec<Op>) {
    let mut attrs = Attributes::new();
    let mut model = Model::new();
    let mut forks: Vec<(Attributes, Model)> = Vec::new();
    for op in ops {
        if let Op::Fork = op {
            let fork = attrs.clone();
            assert!(Arc::ptr_eq(&fork.map, &attrs.map));
            forks.push((fork, model.clone()));
            continue;
        }
        apply(&mut attrs, &mut model, op);
        check(&attrs, &model);
        for (fork, fork_model) in &forks {
            let listed: Vec<(&str, &str)> = fork.iter().collect();
            let expected: Vec<(&str, &str)> = fork_model
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            assert_eq!(listed, expected, "a change to a copy reached a fork");
            assert_eq!(*fork == attrs, *fork_model == model);
        }
    }
    for (fork, fork_model) in &forks {
        check(fork, fork_model);
    }
    let json = serde_json::to_string(&attrs).unwrap();
    assert_eq!(json, serde_json::to_string(&model).unwrap());
    assert_eq!(serde_json::from_str::<Attributes>(&json).unwrap(), attrs);
}

proptest! {
    #[test]
    fn attributes_behave_as_a_sorted_map(ops in prop::collection::vec(op(), 1..64)) {
        run(ops);
    }
}
