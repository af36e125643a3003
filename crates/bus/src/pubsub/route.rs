//! [`Routed`] and [`RouteView`]: the targets a published topic goes to, exact ones first,
//! owned (kept by a publish that waits) or borrowed from the tables (the common case).

use std::sync::Arc;

use switchyard_routing::pattern::Match;

use super::target::Target;

/// The targets a topic is delivered to, owned: what a blocked publish keeps.
#[derive(Default)]
pub(super) struct Routed {
    pub(super) exact: Option<Arc<[Arc<Target>]>>,
    pub(super) patterns: Vec<Arc<Target>>,
}

impl Routed {
    pub(super) fn view(&self) -> RouteView<'_> {
        RouteView {
            exact: self.exact.as_ref(),
            indexed: &[],
            patterns: &self.patterns,
        }
    }

    /// Puts `target` at position `at` in place of the one there.
    pub(super) fn replace(&mut self, at: usize, target: Arc<Target>) {
        let exact_len = self.exact.as_ref().map_or(0, |exact| exact.len());
        match at.checked_sub(exact_len) {
            // The exact list is the topic table's, shared: changed in a copy.
            None => {
                let mut exact = self.exact.as_deref().unwrap_or_default().to_vec();
                exact[at] = target;
                self.exact = Some(exact.into());
            }
            Some(at) => {
                if let Some(slot) = self.patterns.get_mut(at) {
                    *slot = target;
                }
            }
        }
    }

    /// Every target, exact ones first.
    #[cfg(test)]
    pub(super) fn iter(&self) -> impl ExactSizeIterator<Item = &Arc<Target>> {
        let exact: &[Arc<Target>] = self.exact.as_deref().unwrap_or_default();
        Targets {
            exact: exact.iter(),
            patterns: self.patterns.iter(),
        }
    }

    #[cfg(test)]
    pub(super) fn is_empty(&self) -> bool {
        self.view().is_empty()
    }
}

/// The targets a topic is delivered to, borrowed from the tables.
#[derive(Clone, Copy)]
pub(super) struct RouteView<'a> {
    pub(super) exact: Option<&'a Arc<[Arc<Target>]>>,
    /// Matches in the pattern index, as the index returned them: no copy per publish.
    pub(super) indexed: &'a [Match<'a, Arc<Target>>],
    /// Other pattern targets: the delta's, or all of them in a [`Routed`].
    pub(super) patterns: &'a [Arc<Target>],
}

impl RouteView<'_> {
    /// Whether there is no target.
    pub(super) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `target` is one of the targets.
    pub(super) fn contains(&self, target: &Arc<Target>) -> bool {
        (0..self.len()).any(|at| self.get(at).is_some_and(|found| Arc::ptr_eq(found, target)))
    }

    /// The number of targets.
    pub(super) fn len(&self) -> usize {
        self.exact.map_or(0, |exact| exact.len()) + self.indexed.len() + self.patterns.len()
    }

    /// The target at `at`: exact ones, then indexed patterns, then the others.
    pub(super) fn get(&self, at: usize) -> Option<&Arc<Target>> {
        let exact: &[Arc<Target>] = self.exact.map_or(&[], |exact| exact);
        let Some(at) = at.checked_sub(exact.len()) else {
            return exact.get(at);
        };
        match at.checked_sub(self.indexed.len()) {
            None => self.indexed.get(at).map(|found| found.value),
            Some(at) => self.patterns.get(at),
        }
    }

    /// The same targets, owned, at the same positions: a publish that blocked at one goes on
    /// from there. A removed target is kept (it takes nothing): leaving it out would move
    /// the ones after it.
    pub(super) fn to_owned(self) -> Routed {
        let indexed = self.indexed.iter().map(|found| Arc::clone(found.value));
        Routed {
            exact: self.exact.cloned(),
            patterns: indexed.chain(self.patterns.iter().cloned()).collect(),
        }
    }
}

#[cfg(test)]
struct Targets<'a> {
    exact: std::slice::Iter<'a, Arc<Target>>,
    patterns: std::slice::Iter<'a, Arc<Target>>,
}

#[cfg(test)]
impl<'a> Iterator for Targets<'a> {
    type Item = &'a Arc<Target>;

    fn next(&mut self) -> Option<Self::Item> {
        self.exact.next().or_else(|| self.patterns.next())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let len = self.exact.len() + self.patterns.len();
        (len, Some(len))
    }
}

#[cfg(test)]
impl ExactSizeIterator for Targets<'_> {}
