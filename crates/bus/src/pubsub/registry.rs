//! [`Registry`]: the subscription tables of one bus (exact topics in a [`TopicTable`],
//! patterns in a [`PatternTable`], consumer groups and live members), read without a lock
//! on every publish and changed under one writer mutex.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex, MutexGuard, PoisonError, Weak},
};

use switchyard_core::{Error, Result};
use switchyard_routing::pattern::{Pattern, PatternKind};

use super::{
    entry::Entry,
    member::Member,
    patterns::PatternTable,
    replay::ReplayStore,
    route::{RouteView, Routed},
    target::Target,
    topics::TopicTable,
};

type GroupKey = (Arc<str>, Arc<str>);

struct Writer {
    closed: bool,
    groups: HashMap<GroupKey, Arc<Target>>,
    members: HashMap<u64, Arc<Member>>,
    next_id: u64,
    /// Removed pattern targets still in the index.
    tombstones: usize,
}

/// What a new subscription subscribes to.
pub(super) struct Subject<'a> {
    pub(super) text: &'a str,
    pub(super) pattern: Pattern,
    pub(super) group: Option<Arc<str>>,
}

/// A registered subscription: its member, what it replays, and whether the pattern index
/// wants a rebuild soon.
pub(super) struct Registered {
    pub(super) target: Arc<Target>,
    pub(super) member: Arc<Member>,
    pub(super) replay: VecDeque<Entry>,
    pub(super) compact: bool,
}

/// The subscription tables of one bus.
pub(super) struct Registry {
    writer: Mutex<Writer>,
    topics: TopicTable,
    patterns: PatternTable,
}

impl Registry {
    pub(super) fn new() -> Self {
        Self {
            writer: Mutex::new(Writer {
                closed: false,
                groups: HashMap::new(),
                members: HashMap::new(),
                next_id: 0,
                tombstones: 0,
            }),
            topics: TopicTable::new(),
            patterns: PatternTable::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Writer> {
        // Every change under this lock is completed by atomic stores of whole tables, so a
        // panic cannot leave a table half changed.
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every target that `topic` is delivered to, without taking a lock.
    pub(super) fn route(&self, topic: &str) -> Routed {
        self.with_route(topic, |view| view.to_owned())
    }

    /// Runs `f` on the targets of `topic`, without taking a lock and without cloning the
    /// exact topic's list of targets.
    pub(super) fn with_route<R>(&self, topic: &str, f: impl FnOnce(RouteView<'_>) -> R) -> R {
        let shard = self.topics.load(topic);
        let set = self.patterns.load();
        let (indexed, delta) = set.as_ref().map(|set| set.find(topic)).unwrap_or_default();
        f(RouteView {
            exact: shard.get(topic),
            indexed: &indexed,
            patterns: &delta,
        })
    }

    /// Registers a subscription to `subject`: joins its group's target, or creates a target.
    /// `make` builds the member with its id and target. If `replay` is given and the target
    /// is new, the store is locked around the registration, so that every message is either
    /// in the replay snapshot or delivered live, never both nor neither.
    pub(super) fn subscribe(
        &self,
        subject: Subject<'_>,
        max_subscriptions: usize,
        replay: Option<(&Mutex<ReplayStore>, usize)>,
        make: impl FnOnce(u64, Weak<Target>) -> Arc<Member>,
    ) -> Result<Registered> {
        let mut writer = self.lock();
        if writer.closed {
            return Err(Error::Closed {
                component: "memory pub/sub",
            });
        }
        if writer.members.len() >= max_subscriptions {
            return Err(Error::QueueFull {
                queue: "pub/sub subscriptions".to_owned(),
            });
        }
        let text: Arc<str> = subject.text.into();
        let exact = subject.pattern.kind() == PatternKind::Exact;
        let id = writer.next_id;
        writer.next_id += 1;
        let key = subject
            .group
            .clone()
            .map(|group| (Arc::clone(&text), group));
        let existing = key.as_ref().and_then(|key| writer.groups.get(key)).cloned();
        let is_new = existing.is_none();
        let (target, member) = match (existing, &subject.group) {
            (Some(target), _) => {
                let member = make(id, Arc::downgrade(&target));
                (target, member)
            }
            (None, Some(group)) => {
                let target = Arc::new(Target::group(Arc::clone(&text), Arc::clone(group), exact));
                let member = make(id, Arc::downgrade(&target));
                (target, member)
            }
            (None, None) => {
                let mut made = None;
                let target = Arc::new_cyclic(|weak| {
                    let member = make(id, Weak::clone(weak));
                    made = Some(Arc::clone(&member));
                    Target::single(Arc::clone(&text), exact, member)
                });
                let Some(member) = made else {
                    unreachable!("new_cyclic runs its closure");
                };
                (target, member)
            }
        };

        // Snapshot and registration under one hold of the replay lock, which every
        // publish takes to record and route: a message is either in the snapshot or routed
        // to the new member, never both nor neither.
        // A group replays once, to the member that forms it: its later members continue
        // where the group is, as a consumer of a broker's group would.
        let store = replay.filter(|_| is_new).map(|(store, count)| {
            let store = store.lock().unwrap_or_else(PoisonError::into_inner);
            let snapshot = store.snapshot(&subject.pattern, count);
            // A publish that routed before this registration and waits for room may follow
            // a group formed again to this target: it must not deliver what is replayed.
            target.set_replayed(snapshot.sequences);
            (store, snapshot.entries)
        });
        target.add_member(Arc::clone(&member));
        if !is_new {
            // A publisher blocked because every member was full may go on now: the new
            // member has room.
            target.notify_space();
        }
        let mut compact = false;
        if is_new {
            if let Some(key) = key {
                writer.groups.insert(key, Arc::clone(&target));
            }
            if exact {
                self.topics.add(text, Arc::clone(&target));
            } else {
                let pattern = subject.pattern;
                compact = self
                    .patterns
                    .add(&mut writer.tombstones, pattern, Arc::clone(&target));
            }
        }
        let replay = store.map(|(_, snapshot)| snapshot).unwrap_or_default();
        writer.members.insert(id, Arc::clone(&member));
        Ok(Registered {
            target,
            member,
            replay,
            compact,
        })
    }

    /// Removes `member` from `target`. Returns the target if other members are left in it
    /// (a group), and whether the pattern index wants a rebuild soon.
    pub(super) fn unsubscribe(
        &self,
        member: &Member,
        target: &Arc<Target>,
    ) -> (Option<Arc<Target>>, bool) {
        let mut writer = self.lock();
        if writer.members.remove(&member.id).is_none() {
            // Closed already: the tables are gone.
            return (None, false);
        }
        if target.remove_member(member.id) {
            return (Some(Arc::clone(target)), false);
        }
        target.mark_removed();
        if let Some(group) = &target.group {
            writer
                .groups
                .remove(&(Arc::clone(&target.subject), Arc::clone(group)));
        }
        let compact = if target.exact {
            self.topics.remove(target);
            false
        } else {
            self.patterns.remove(&mut writer.tombstones, target)
        };
        (None, compact)
    }

    /// The live target of consumer group `group` on `subject`, if it has members.
    pub(super) fn group(&self, subject: &Arc<str>, group: &Arc<str>) -> Option<Arc<Target>> {
        let writer = self.lock();
        writer
            .groups
            .get(&(Arc::clone(subject), Arc::clone(group)))
            .filter(|target| target.has_members())
            .cloned()
    }

    /// Rebuilds the pattern index with the delta in it and the removed targets out.
    pub(super) fn compact(&self) {
        let mut writer = self.lock();
        if !writer.closed {
            self.patterns.compact(&mut writer.tombstones);
        }
    }

    /// Closes the tables: no subscribe succeeds from now on, every target and member is
    /// dropped from them, and the members are returned for their streams to be ended.
    pub(super) fn close(&self) -> Vec<Arc<Member>> {
        let mut writer = self.lock();
        writer.closed = true;
        let members: Vec<_> = writer.members.drain().map(|(_, member)| member).collect();
        writer.groups.clear();
        writer.tombstones = 0;
        self.topics.clear();
        self.patterns.clear();
        drop(writer);
        for member in &members {
            if let Some(target) = member.target.upgrade() {
                target.clear();
            }
        }
        members
    }

    /// Every live member.
    pub(super) fn members(&self) -> Vec<Arc<Member>> {
        self.lock().members.values().cloned().collect()
    }

    /// The number of live subscriptions.
    pub(super) fn len(&self) -> usize {
        self.lock().members.len()
    }

    /// The number of pattern targets in the index and in the delta.
    #[cfg(test)]
    pub(super) fn pattern_shape(&self) -> (usize, usize) {
        self.patterns.shape()
    }
}

#[cfg(test)]
mod tests;
