//! Partitions and the router that maps a key to its partition with a stable hash.

use std::{fmt, num::NonZeroU32, sync::Arc};

use switchyard_core::Message;
use xxhash_rust::xxh3::xxh3_64;

use crate::Error;

/// The family that scanners use unless they name another.
pub const DEFAULT_FAMILY: &str = "default";

/// The number of partitions of the [default family](DEFAULT_FAMILY) unless configured.
pub const DEFAULT_PARTITIONS: u32 = 16;

/// One partition of a family: its index, and how many partitions the family has.
///
/// Cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Partition {
    family: Arc<str>,
    index: u32,
    count: u32,
}

impl Partition {
    /// Partition `index` of a family of `count` partitions, or `None` if `index` is out of
    /// range. Scanners are given their partitions; stores and tests make them directly.
    pub fn new(family: &str, index: u32, count: u32) -> Option<Self> {
        (index < count).then(|| Self {
            family: family.into(),
            index,
            count,
        })
    }

    /// The family's name.
    pub fn family(&self) -> &str {
        &self.family
    }

    /// The index, in `0..count`.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// How many partitions the family has.
    pub fn count(&self) -> u32 {
        self.count
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.family, self.index)
    }
}

/// The partition of `key` among `count` partitions: XXH3-64 (seed 0) of the key's bytes,
/// modulo `count`.
///
/// The hash is fixed by this function, not by a per-process `RandomState`: the same key
/// lands in the same partition on every process, every run and every platform. Changing it
/// moves data between partitions; a pinned table in the tests catches that.
///
/// ```
/// use std::num::NonZeroU32;
/// use switchyard_scanners::partition_of;
///
/// let count = NonZeroU32::new(16).unwrap();
/// assert_eq!(partition_of(b"flow-42", count), partition_of(b"flow-42", count));
/// assert!(partition_of(b"flow-42", count) < 16);
/// ```
pub fn partition_of(key: &[u8], count: NonZeroU32) -> u32 {
    // The remainder is below `count`, which is a u32.
    (xxh3_64(key) % u64::from(count.get())) as u32
}

/// Maps keys to partitions, with a partition count for each family.
///
/// Families are fixed when the router is built. Every scanner runs over every partition
/// of its family, and the data of one key (a flow id, a message's partition key) lives in
/// the one partition that [`partition`](Self::partition) names.
///
/// ```
/// use switchyard_scanners::PartitionRouter;
///
/// let router = PartitionRouter::builder().family("flow", 32).family("budget", 4).build()?;
/// let partition = router.partition("flow", "flow-42")?;
/// assert_eq!(partition.count(), 32);
/// assert_eq!(router.partitions("budget")?.count(), 4);
/// # Ok::<(), switchyard_scanners::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionRouter {
    // A handful of families, fixed by configuration: a vector beats a map.
    families: Vec<(Arc<str>, NonZeroU32)>,
}

impl PartitionRouter {
    /// A builder with no families.
    pub fn builder() -> PartitionRouterBuilder {
        PartitionRouterBuilder::default()
    }

    /// How many partitions `family` has, if it is known.
    pub fn count(&self, family: &str) -> Option<u32> {
        self.find(family).map(|(_, count)| count.get())
    }

    /// Every family and its partition count, in the order they were declared.
    pub fn families(&self) -> impl ExactSizeIterator<Item = (&str, u32)> + '_ {
        self.families
            .iter()
            .map(|(name, count)| (&**name, count.get()))
    }

    /// The partition of `key` in `family`; see [`partition_of`] for the hash.
    pub fn partition(&self, family: &str, key: impl AsRef<[u8]>) -> Result<Partition, Error> {
        let (name, count) = self.known(family)?;
        Ok(Partition {
            family: name.clone(),
            index: partition_of(key.as_ref(), *count),
            count: count.get(),
        })
    }

    /// The partition of `message` in `family`: by its `partitionkey` attribute, or by its
    /// `id` when it has none, so that unkeyed messages spread evenly.
    pub fn partition_of_message(
        &self,
        family: &str,
        message: &Message,
    ) -> Result<Partition, Error> {
        let attributes = message.attributes();
        let key = attributes
            .partition_key()
            .or_else(|| attributes.id())
            .unwrap_or_default();
        self.partition(family, key)
    }

    /// Every partition of `family`, in index order.
    pub fn partitions(
        &self,
        family: &str,
    ) -> Result<impl ExactSizeIterator<Item = Partition> + use<>, Error> {
        let (name, count) = self.known(family)?;
        let name = name.clone();
        let count = count.get();
        Ok((0..count).map(move |index| Partition {
            family: name.clone(),
            index,
            count,
        }))
    }

    fn find(&self, family: &str) -> Option<&(Arc<str>, NonZeroU32)> {
        self.families.iter().find(|(name, _)| &**name == family)
    }

    fn known(&self, family: &str) -> Result<&(Arc<str>, NonZeroU32), Error> {
        self.find(family).ok_or_else(|| Error::UnknownFamily {
            family: family.to_owned(),
        })
    }
}

impl Default for PartitionRouter {
    /// One family, [`DEFAULT_FAMILY`], with [`DEFAULT_PARTITIONS`] partitions.
    fn default() -> Self {
        let count = NonZeroU32::new(DEFAULT_PARTITIONS).unwrap_or(NonZeroU32::MIN);
        Self {
            families: vec![(DEFAULT_FAMILY.into(), count)],
        }
    }
}

/// Builds a [`PartitionRouter`]; created by [`PartitionRouter::builder`].
#[derive(Debug, Default, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct PartitionRouterBuilder {
    families: Vec<(String, u32)>,
}

impl PartitionRouterBuilder {
    /// Declares `family` with `partitions` partitions. Declaring a family again replaces
    /// its count.
    pub fn family(mut self, family: impl Into<String>, partitions: u32) -> Self {
        let family = family.into();
        match self.families.iter_mut().find(|(name, _)| *name == family) {
            Some(entry) => entry.1 = partitions,
            None => self.families.push((family, partitions)),
        }
        self
    }

    /// Builds the router. Fails with [`Error::ZeroPartitions`] for a family with no
    /// partitions, and with [`Error::InvalidConfig`] for an empty family name or no family.
    pub fn build(self) -> Result<PartitionRouter, Error> {
        if self.families.is_empty() {
            return Err(Error::InvalidConfig {
                field: "families",
                reason: "at least one family is needed",
            });
        }
        let families = self
            .families
            .into_iter()
            .map(|(name, count)| {
                if name.is_empty() {
                    return Err(Error::InvalidConfig {
                        field: "families",
                        reason: "a family name must not be empty",
                    });
                }
                let count = NonZeroU32::new(count).ok_or_else(|| Error::ZeroPartitions {
                    family: name.clone(),
                })?;
                Ok((Arc::from(name), count))
            })
            .collect::<Result<_, _>>()?;
        Ok(PartitionRouter { families })
    }
}

#[cfg(test)]
mod tests;
