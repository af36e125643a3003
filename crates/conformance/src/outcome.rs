//! What a scenario and a whole run report: `Outcome` and `Report`.

use std::fmt;

/// How a scenario ended, when it did not fail. A failure is a panic that names what was
/// observed, so that it fails the transport's test where it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[must_use = "a not-applicable scenario must be reported, not ignored"]
pub enum Outcome {
    /// Every check of the scenario held.
    Passed,
    /// The scenario does not apply to the transport's [`Features`](crate::Features); the
    /// reason names the missing feature.
    NotApplicable(&'static str),
}

/// What [`run_all`](crate::run_all) found: the scenarios that passed and those that did not
/// apply, by name, in the order they ran.
///
/// ```
/// use switchyard_conformance::{Outcome, Report};
///
/// let mut report = Report::default();
/// report.record("publish_subscribe", Outcome::Passed);
/// report.record("reconnect", Outcome::NotApplicable("needs restart_service"));
/// assert_eq!(report.passed(), ["publish_subscribe"]);
/// assert_eq!(report.not_applicable(), [("reconnect", "needs restart_service")]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    passed: Vec<&'static str>,
    not_applicable: Vec<(&'static str, &'static str)>,
}

impl Report {
    /// Adds the outcome of scenario `name`.
    pub fn record(&mut self, name: &'static str, outcome: Outcome) {
        match outcome {
            Outcome::Passed => self.passed.push(name),
            Outcome::NotApplicable(reason) => self.not_applicable.push((name, reason)),
        }
    }

    /// The scenarios that passed.
    pub fn passed(&self) -> &[&'static str] {
        &self.passed
    }

    /// The scenarios that did not apply, each with the reason.
    pub fn not_applicable(&self) -> &[(&'static str, &'static str)] {
        &self.not_applicable
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "passed ({}):", self.passed.len())?;
        for name in &self.passed {
            write!(f, " {name}")?;
        }
        write!(f, "\nnot applicable ({}):", self.not_applicable.len())?;
        for (name, reason) in &self.not_applicable {
            write!(f, "\n  {name}: {reason}")?;
        }
        Ok(())
    }
}
