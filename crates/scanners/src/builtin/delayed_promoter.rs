//! The delayed promoter: makes scheduled messages visible in their topic when they are due.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use switchyard_core::Result;

use crate::{Config, DelayedStore, Error, Partition, ScanContext, ScanReport, Scanner};

use super::common::{Common, batch_setters, common_setters};

/// Moves every scheduled message that is due into its topic.
///
/// A message scheduled for time `t` is never visible before `t`, and is visible within one
/// [interval](DelayedPromoterBuilder::interval) after it, since jitter only shortens
/// intervals (as long as the scan keeps up: a backlog larger than
/// `batch_size × max_batches` per partition takes more ticks). Promotion is idempotent:
/// two promoters racing over one store move each message once.
///
/// ```
/// use switchyard_scanners::{DelayedPromoter, MemoryStore, Scanner};
///
/// let store = MemoryStore::builder(16).build()?;
/// let promoter = DelayedPromoter::builder(store).build()?;
/// assert_eq!(promoter.interval(), std::time::Duration::from_millis(750));
/// # Ok::<(), switchyard_scanners::Error>(())
/// ```
pub struct DelayedPromoter {
    store: Arc<dyn DelayedStore>,
    common: Common,
}

impl DelayedPromoter {
    /// A builder over `store`, named `delayed_promoter`, with the default
    /// [interval](Config::DEFAULT_DELAYED_PROMOTER_INTERVAL) of 750 ms.
    pub fn builder(store: impl DelayedStore + 'static) -> DelayedPromoterBuilder {
        DelayedPromoterBuilder {
            store: Arc::new(store),
            common: Common::new(
                "delayed_promoter",
                Config::DEFAULT_DELAYED_PROMOTER_INTERVAL,
            ),
        }
    }
}

impl std::fmt::Debug for DelayedPromoter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DelayedPromoter")
            .field("common", &self.common)
            .finish_non_exhaustive()
    }
}

/// Builds a [`DelayedPromoter`]; created by [`DelayedPromoter::builder`].
#[must_use = "a builder does nothing until `build` is called"]
pub struct DelayedPromoterBuilder {
    store: Arc<dyn DelayedStore>,
    common: Common,
}

common_setters!(DelayedPromoterBuilder);
batch_setters!(DelayedPromoterBuilder);

impl DelayedPromoterBuilder {
    /// Checks the settings and builds the promoter.
    pub fn build(self) -> std::result::Result<DelayedPromoter, Error> {
        self.common.validate()?;
        Ok(DelayedPromoter {
            store: self.store,
            common: self.common,
        })
    }
}

impl std::fmt::Debug for DelayedPromoterBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DelayedPromoterBuilder")
            .field("common", &self.common)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Scanner for DelayedPromoter {
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
        let mut report = ScanReport::new();
        for _ in 0..self.common.max_batches {
            if ctx.is_cancelled() {
                break;
            }
            let due = self
                .store
                .due(partition, ctx.now(), self.common.batch_size)
                .await?;
            if due.is_empty() {
                break;
            }
            report.add_examined(due.len() as u64);
            match self.store.promote(partition, &due, ctx.now()).await {
                Ok(promoted) => {
                    report.add_acted(promoted);
                    // A short batch was the last; a batch that moved nothing (another
                    // promoter won it) is left to the next tick rather than read again.
                    if due.len() < self.common.batch_size || promoted == 0 {
                        break;
                    }
                }
                Err(error) => {
                    report.add_error(&error);
                    break;
                }
            }
        }
        Ok(report)
    }
}
