//! [`Target`]: what a publish delivers to, either one subscription or one consumer group,
//! which picks one member per message, round-robin.

use std::{
    sync::{
        Arc, OnceLock,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use arc_swap::ArcSwap;
use tokio::sync::Notify;

use super::{entry::Entry, member::Member, options::SlowConsumerPolicy, queue::Push};

/// A subscription outside any group (one member), or a consumer group (its members).
///
/// Every target matching a topic gets every message published on it; within a target, one
/// member gets it. A single subscription's target holds its member for life; a group's
/// member list is replaced copy-on-write under the registry's writer lock and read without
/// a lock by publishers. Members point back at their target weakly, so there is no cycle.
#[derive(Debug)]
pub(super) struct Target {
    /// The topic or pattern subscribed to, as given.
    pub(super) subject: Arc<str>,
    pub(super) group: Option<Arc<str>>,
    /// Whether the subject is an exact topic (in the topic map) rather than a pattern.
    pub(super) exact: bool,
    members: Members,
    cursor: AtomicUsize,
    /// Set once the target is unregistered, so that lookups still holding it skip it.
    removed: AtomicBool,
    /// Publishers blocked until a member has room wait here.
    space: Notify,
    /// The replay sequence numbers of what the member that made this target replays,
    /// ascending. Set before the target is registered.
    replayed: OnceLock<Box<[u64]>>,
}

#[derive(Debug)]
enum Members {
    /// A subscription outside any group: no list to load on every publish.
    Single(Arc<Member>),
    Group(ArcSwap<Vec<Arc<Member>>>),
}

/// The outcome of [`Target::offer`].
#[derive(Debug)]
pub(super) enum Offer {
    /// Queued.
    Accepted,
    /// Queued by dropping the oldest message of `member`'s queue.
    DroppedOldest(Arc<Member>),
    /// Every member is full and the one whose turn it was blocks: wait for room in any
    /// member's queue (see [`Target::space`]), up to `timeout`, and offer again.
    Blocked { timeout: Duration },
    /// Every member is full and the one whose turn it was fails the publish.
    Rejected(Arc<Member>),
    /// No member is left; the message is dropped.
    Gone,
}

impl Target {
    /// The target of a subscription outside any group, with its one member.
    pub(super) fn single(subject: Arc<str>, exact: bool, member: Arc<Member>) -> Self {
        Self::new(subject, None, exact, Members::Single(member))
    }

    /// The target of consumer group `group`, without members yet.
    pub(super) fn group(subject: Arc<str>, group: Arc<str>, exact: bool) -> Self {
        let members = Members::Group(ArcSwap::from_pointee(Vec::new()));
        Self::new(subject, Some(group), exact, members)
    }

    fn new(subject: Arc<str>, group: Option<Arc<str>>, exact: bool, members: Members) -> Self {
        Self {
            subject,
            group,
            exact,
            members,
            cursor: AtomicUsize::new(0),
            removed: AtomicBool::new(false),
            space: Notify::new(),
            replayed: OnceLock::new(),
        }
    }

    /// Where publishers wait for room in any member's queue.
    pub(super) fn space(&self) -> &Notify {
        &self.space
    }

    /// Wakes the publishers waiting for room: a member took a full queue, or left.
    pub(super) fn notify_space(&self) {
        self.space.notify_waiters();
    }

    pub(super) fn is_removed(&self) -> bool {
        self.removed.load(Ordering::Acquire)
    }

    /// Notes the replay sequence numbers (ascending) of what this new target's first
    /// member replays. Called under the registry's writer lock and the replay lock, before
    /// the target is registered.
    pub(super) fn set_replayed(&self, sequences: Box<[u64]>) {
        // Set once, when the target is made; a second call cannot happen.
        let _ = self.replayed.set(sequences);
    }

    /// Whether the message with replay sequence number `sequence` (0: not recorded) is one
    /// that this target's first member replays.
    pub(super) fn replayed(&self, sequence: u64) -> bool {
        self.replayed
            .get()
            .is_some_and(|replayed| replayed.binary_search(&sequence).is_ok())
    }

    pub(super) fn mark_removed(&self) {
        self.removed.store(true, Ordering::Release);
    }

    /// Runs `f` on the current members.
    #[inline]
    fn with_members<R>(&self, f: impl FnOnce(&[Arc<Member>]) -> R) -> R {
        match &self.members {
            Members::Single(member) if !self.is_removed() => f(std::slice::from_ref(member)),
            Members::Single(_) => f(&[]),
            Members::Group(members) => f(&members.load()),
        }
    }

    pub(super) fn has_members(&self) -> bool {
        self.with_members(|members| !members.is_empty())
    }

    /// Adds `member` to a group. Called under the registry's writer lock, which makes the
    /// read-copy-update safe.
    pub(super) fn add_member(&self, member: Arc<Member>) {
        if let Members::Group(members) = &self.members {
            let mut changed = Vec::clone(&members.load());
            changed.push(member);
            members.store(Arc::new(changed));
        }
    }

    /// Removes the member `id`; returns whether members are left. Called under the
    /// registry's writer lock.
    pub(super) fn remove_member(&self, id: u64) -> bool {
        match &self.members {
            Members::Single(_) => false,
            Members::Group(members) => {
                let mut changed = Vec::clone(&members.load());
                changed.retain(|member| member.id != id);
                let left = !changed.is_empty();
                members.store(Arc::new(changed));
                left
            }
        }
    }

    /// Removes every member, on close.
    pub(super) fn clear(&self) {
        self.mark_removed();
        if let Members::Group(members) = &self.members {
            members.store(Arc::new(Vec::new()));
        }
    }

    /// The position where this message's round-robin starts.
    fn start(&self, members: usize) -> usize {
        if members == 1 {
            0
        } else {
            self.cursor.fetch_add(1, Ordering::Relaxed) % members
        }
    }

    /// Queues `entry` on one member: the next in round-robin order that has room. When all
    /// are full, the policy of the member whose turn it was decides. The member that
    /// queues it takes it out of the option; it is left there when the offer blocks.
    #[inline]
    pub(super) fn offer(&self, entry: &mut Option<Entry>) -> Offer {
        self.with_members(|members| self.offer_to(members, entry))
    }

    fn offer_to(&self, members: &[Arc<Member>], entry: &mut Option<Entry>) -> Offer {
        let count = members.len();
        if count == 0 {
            return Offer::Gone;
        }
        let start = self.start(count);
        // Each pass but the last finds one more member closed (a closed queue stays closed),
        // so this ends after at most `count + 1` passes.
        loop {
            let mut first_full = None;
            for step in 0..count {
                let member = &members[wrap(start + step, count)];
                match member.queue.try_push(entry) {
                    Push::Accepted => return Offer::Accepted,
                    Push::Full => {
                        first_full.get_or_insert(member);
                    }
                    Push::Closed => {}
                }
            }
            let Some(member) = first_full else {
                return Offer::Gone;
            };
            return match member.policy {
                SlowConsumerPolicy::Block { timeout } => Offer::Blocked { timeout },
                SlowConsumerPolicy::DropOldest => match member.queue.push_drop_oldest(entry) {
                    Some(true) => Offer::DroppedOldest(Arc::clone(member)),
                    Some(false) => Offer::Accepted,
                    // The member left after it was found full, so the entry is still here:
                    // offer it to the others again rather than lose it while some of them
                    // are open. Only another thread's unsubscribe can get in between.
                    None if entry.is_some() => continue,
                    None => Offer::Gone,
                },
                SlowConsumerPolicy::Fail => Offer::Rejected(Arc::clone(member)),
            };
        }
    }

    /// Puts `entry` in the retry lane of a member, round-robin, where it holds an in-flight
    /// slot. With an `origin`, the entry already holds a slot there (a redelivery) and the
    /// slot moves with it; without one (a queued message of a member that left) it takes a
    /// new one. Only members with a free slot are chosen, and the origin, which keeps its
    /// slot; if there is none (every member is full and the origin left or was not given),
    /// any member takes it past its limit rather than lose it. Gives the entry back if no
    /// member is left.
    pub(super) fn place_retry(
        &self,
        origin: Option<&Arc<Member>>,
        entry: Entry,
    ) -> Result<Arc<Member>, Entry> {
        self.with_members(|members| self.place_retry_in(members, origin, entry))
    }

    fn place_retry_in(
        &self,
        members: &[Arc<Member>],
        origin: Option<&Arc<Member>>,
        entry: Entry,
    ) -> Result<Arc<Member>, Entry> {
        let count = members.len();
        if count == 0 {
            return Err(entry);
        }
        let start = self.start(count);
        let mut entry = entry;
        for past_limit in [false, true] {
            for step in 0..count {
                let member = &members[wrap(start + step, count)];
                let stays = origin.is_some_and(|origin| Arc::ptr_eq(member, origin));
                // The slot is held before the push, so that the stream never delivers the
                // entry unaccounted.
                if !stays {
                    if past_limit {
                        member.hold_slot();
                    } else if !member.try_hold_slot() {
                        continue;
                    }
                }
                match member.queue.push_retry(entry) {
                    Ok(()) => {
                        if let Some(origin) = origin.filter(|_| !stays) {
                            origin.release_slot();
                        }
                        return Ok(Arc::clone(member));
                    }
                    Err(back) => {
                        if !stays {
                            member.release_slot();
                        }
                        entry = back;
                    }
                }
            }
        }
        Err(entry)
    }
}

/// `at % count` for `at < 2 * count`, without a division on the hot path.
fn wrap(at: usize, count: usize) -> usize {
    if at >= count { at - count } else { at }
}
