//! The retention trimmer: drops the entries of each topic beyond its count or age, and
//! reports what it dropped.

use std::{
    sync::Arc,
    time::{Duration, SystemTime},
};

use async_trait::async_trait;
use switchyard_core::{Result, redact};

use crate::{
    Config, Error, Partition, Retention, RetentionStore, ScanContext, ScanReport, Scanner, Trim,
};

use super::common::{Common, common_setters};

/// What the trimmer dropped from one topic of one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicTrim {
    topic: String,
    by_count: u64,
    by_age: u64,
}

impl TopicTrim {
    /// The topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Entries dropped because the topic held more than its count.
    pub fn by_count(&self) -> u64 {
        self.by_count
    }

    /// Entries dropped because they were older than the topic's age.
    pub fn by_age(&self) -> u64 {
        self.by_age
    }

    /// Every entry dropped.
    pub fn total(&self) -> u64 {
        self.by_count + self.by_age
    }
}

/// Trims every topic of every partition to its [`Retention`]: a per-topic one where
/// configured, the default one otherwise; a topic with neither is left alone.
///
/// Each scan reports topics examined and entries dropped, and logs each topic it trimmed.
/// [`trim_partition`](Self::trim_partition) returns the same per topic.
///
/// ```
/// use std::time::Duration;
/// use switchyard_scanners::{MemoryStore, Retention, RetentionTrimmer};
///
/// let store = MemoryStore::builder(16).build()?;
/// let trimmer = RetentionTrimmer::builder(store)
///     .default_retention(Retention::new().max_age(Duration::from_secs(7 * 24 * 3600)))
///     .topic("audit", Retention::new())
///     .topic("clicks", Retention::new().max_len(100_000))
///     .build()?;
/// assert_eq!(trimmer.retention_of("audit"), None, "audit keeps everything");
/// # Ok::<(), switchyard_scanners::Error>(())
/// ```
pub struct RetentionTrimmer {
    store: Arc<dyn RetentionStore>,
    common: Common,
    default: Retention,
    topics: Vec<(String, Retention)>,
}

impl RetentionTrimmer {
    /// A builder over `store`, named `retention_trimmer`, with the default
    /// [interval](Config::DEFAULT_RETENTION_TRIMMER_INTERVAL) of 60 s, that keeps
    /// everything until told otherwise.
    pub fn builder(store: impl RetentionStore + 'static) -> RetentionTrimmerBuilder {
        RetentionTrimmerBuilder {
            store: Arc::new(store),
            common: Common::new(
                "retention_trimmer",
                Config::DEFAULT_RETENTION_TRIMMER_INTERVAL,
            ),
            default: Retention::new(),
            topics: Vec::new(),
        }
    }

    /// The retention that applies to `topic`, or `None` if it keeps everything.
    pub fn retention_of(&self, topic: &str) -> Option<Retention> {
        let retention = self
            .topics
            .iter()
            .find(|(name, _)| name == topic)
            .map_or(self.default, |(_, r)| *r);
        (retention != Retention::new()).then_some(retention)
    }

    /// Trims every topic of `partition` as of `now`, and says what it dropped from each
    /// topic that has a retention.
    pub async fn trim_partition(
        &self,
        partition: &Partition,
        now: SystemTime,
    ) -> Result<Vec<TopicTrim>> {
        let mut trimmed = Vec::new();
        for topic in self.store.topics(partition).await? {
            let Some(retention) = self.retention_of(&topic) else {
                continue;
            };
            let mut by_count = 0;
            if let Some(keep) = retention.len_limit() {
                by_count = self
                    .store
                    .trim(partition, &topic, Trim::MaxLen(keep))
                    .await?;
            }
            let mut by_age = 0;
            // An age reaching back before the epoch drops nothing.
            if let Some(cutoff) = retention.age_limit().and_then(|age| now.checked_sub(age)) {
                by_age = self
                    .store
                    .trim(partition, &topic, Trim::MinTime(cutoff))
                    .await?;
            }
            trimmed.push(TopicTrim {
                topic,
                by_count,
                by_age,
            });
        }
        Ok(trimmed)
    }
}

impl std::fmt::Debug for RetentionTrimmer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetentionTrimmer")
            .field("common", &self.common)
            .field("default", &self.default)
            .field("topics", &self.topics)
            .finish_non_exhaustive()
    }
}

/// Builds a [`RetentionTrimmer`]; created by [`RetentionTrimmer::builder`].
#[must_use = "a builder does nothing until `build` is called"]
pub struct RetentionTrimmerBuilder {
    store: Arc<dyn RetentionStore>,
    common: Common,
    default: Retention,
    topics: Vec<(String, Retention)>,
}

common_setters!(RetentionTrimmerBuilder);

impl RetentionTrimmerBuilder {
    /// Sets the retention of every topic without one of its own.
    pub fn default_retention(mut self, retention: Retention) -> Self {
        self.default = retention;
        self
    }

    /// Sets `topic`'s own retention; [`Retention::new`] keeps all of it. Setting a topic
    /// again replaces its retention.
    pub fn topic(mut self, topic: impl Into<String>, retention: Retention) -> Self {
        let topic = topic.into();
        match self.topics.iter_mut().find(|(name, _)| *name == topic) {
            Some(entry) => entry.1 = retention,
            None => self.topics.push((topic, retention)),
        }
        self
    }

    /// Checks the settings and builds the trimmer. A zero count or age is an
    /// [`Error::InvalidConfig`].
    pub fn build(self) -> std::result::Result<RetentionTrimmer, Error> {
        self.common.validate()?;
        self.default.validate()?;
        for (_, retention) in &self.topics {
            retention.validate()?;
        }
        Ok(RetentionTrimmer {
            store: self.store,
            common: self.common,
            default: self.default,
            topics: self.topics,
        })
    }
}

impl std::fmt::Debug for RetentionTrimmerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetentionTrimmerBuilder")
            .field("common", &self.common)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Scanner for RetentionTrimmer {
    fn name(&self) -> &str {
        &self.common.name
    }

    fn interval(&self) -> Duration {
        self.common.interval
    }

    fn family(&self) -> &str {
        &self.common.family
    }

    async fn scan(&self, partition: &Partition, ctx: &ScanContext) -> Result<ScanReport> {
        let trimmed = self.trim_partition(partition, ctx.now()).await?;
        let mut report = ScanReport::new();
        report.add_examined(trimmed.len() as u64);
        for topic in &trimmed {
            report.add_acted(topic.total());
            if topic.total() > 0 {
                tracing::info!(
                    %partition,
                    topic = %redact(topic.topic()),
                    by_count = topic.by_count(),
                    by_age = topic.by_age(),
                    "trimmed topic",
                );
            }
        }
        Ok(report)
    }
}
