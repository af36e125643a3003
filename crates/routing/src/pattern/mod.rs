//! Topic patterns and the [`PatternIndex`] that finds, for a topic, the patterns that match
//! it, best first, without trying them one by one.
//!
//! # Syntax
//!
//! A topic is a string of segments separated by dots: `tenant7.orders.eu.created`. Splitting
//! keeps empty segments, so `a..b` has three segments and the empty topic has one. A pattern
//! is one of three kinds ([`PatternKind`]):
//!
//! | Pattern | Kind | Matches | Does not match |
//! | --- | --- | --- | --- |
//! | `orders.created` | exact | `orders.created` | `orders.created.v2`, `Orders.created` |
//! | `orders.*` | glob | `orders.created`, `orders.` | `orders`, `orders.eu.created` |
//! | `orders.**` | glob | `orders`, `orders.created`, `orders.eu.created` | `ordersx` |
//! | `**.audit` | glob | `audit`, `billing.audit` | `audit.log` |
//! | `a.**.z` | glob | `a.z`, `a.b.z`, `a.b.c.z` | `a.b` |
//! | `order*.created` | glob | `order.created`, `orders.created` | `order.eu.created` |
//! | `v?.orders` | glob | `v1.orders`, `vé.orders` | `v.orders`, `v10.orders` |
//! | `[a-c]x.y` | glob | `ax.y`, `cx.y` | `dx.y` |
//! | `[!a-c]x.y` | glob | `dx.y`, `-x.y` | `ax.y`, `x.y` |
//! | `re:^orders\.(created\|updated)$` | regex | `orders.created` | `orders.deleted` |
//!
//! - **Exact:** a pattern without any of `*`, `?`, `[` or `]` (and not starting with `re:`)
//!   matches the one topic equal to it.
//! - **Glob:** segments separated by dots, where a segment is
//!   - `*`: exactly one segment, whatever it holds (an empty one too);
//!   - `**`: zero or more whole segments (a run like `**.**` means one `**`);
//!   - otherwise, text in which `?` is any one character, `*` any run of characters
//!     (possibly none), and `[...]` one character of a class: `[abc]`, ranges `[a-z0-9]`,
//!     negated `[!abc]` or `[^abc]`. A `-` first or last in a class is literal. None of these
//!     ever matches a dot: wildcards stay within their segment. `**` inside a segment
//!     (`a**`) is an error; so are `]` outside a class, `[]` and `[z-a]`. There is no
//!     escape character: to match a literal `*`, `?` or `[`, put it in a class (`[*]`).
//! - **Regex:** `re:` followed by a regex in the syntax of the
//!   [`regex`](https://docs.rs/regex) crate, matched against the whole topic string.
//!   It is not anchored for you: `re:created` matches `orders.created.v2`; write `^...$` to
//!   match whole topics. Anchored regexes with a literal start (`re:^orders\.`) are also
//!   faster in an index: it skips them for topics that do not start with that text.
//!
//! Matching is case-sensitive and works on characters (`?` takes one `char`, not one
//! byte).
//!
//! # Limits
//!
//! Patterns come from configuration, which may not be trusted, so parsing bounds their
//! length, segments, `**` count, class sizes and compiled regex size ([`PatternLimits`]),
//! and rejects what it cannot parse with a [`PatternError`] that says what is wrong and at
//! which byte (and segment). Matching never backtracks exponentially: a glob segment costs
//! at most the product of its length and the topic segment's, and `**` is matched as an NFA
//! whose states are deduplicated.
//!
//! # Index
//!
//! A [`PatternIndex`] holds patterns with a priority and a value each. It is **frozen after
//! build** and rebuilt **copy-on-write** to change ([`PatternIndex::to_builder`]);
//! [`SharedPatternIndex`] wraps that for run-time registration, with lock-free reads.
//! [`PatternIndex::find_first`] returns the best match (highest priority, then earliest
//! registration) and [`PatternIndex::find_all`] every match in that order.
//!
//! ```
//! use switchyard_routing::pattern::PatternIndex;
//!
//! let mut routes = PatternIndex::builder();
//! routes.insert("tenant1.orders.*.created", 10, "tenant 1 orders")?;
//! routes.insert("*.orders.**", 5, "all orders")?;
//! routes.insert("**.audit", 1, "audit")?;
//! let routes = routes.build();
//!
//! let best = routes.find_first("tenant1.orders.eu.created").unwrap();
//! assert_eq!((*best.value, best.priority), ("tenant 1 orders", 10));
//! assert_eq!(routes.find_all("tenant2.orders.audit").len(), 2);
//! # Ok::<(), switchyard_routing::pattern::PatternError>(())
//! ```

mod builder;
mod entry;
mod error;
mod exact;
mod glob;
mod glob_engine;
mod index;
mod limits;
mod prefix_set;
mod regex_prefix;
mod regexes;
mod shared;
mod symbols;
mod syntax;
mod trie;

pub use builder::PatternIndexBuilder;
pub use entry::{EntryId, Match};
pub use error::PatternError;
pub use glob_engine::GlobEngine;
pub use index::PatternIndex;
pub use limits::PatternLimits;
pub use shared::{IndexGuard, SharedPatternIndex};
pub use syntax::{Pattern, PatternKind};
