//! The configuration error that middleware builders return from `build()`.

/// A middleware setting that `build()` (or a validating constructor) rejected.
///
/// Messages name the setting and never carry outside text.
///
/// ```
/// use switchyard_routing::middleware::{ConfigError, retry::RetryLayer};
///
/// let err = RetryLayer::builder().max_attempts(0).build().unwrap_err();
/// assert_eq!(err, ConfigError::Zero { setting: "max_attempts" });
/// assert_eq!(err.to_string(), "`max_attempts` must not be zero");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A count or a duration that must be positive is zero.
    #[error("`{setting}` must not be zero")]
    Zero {
        /// The setting, as its builder method is named.
        setting: &'static str,
    },

    /// A setting is outside its valid range.
    #[error("`{setting}` {reason}")]
    OutOfRange {
        /// The setting, as its builder method is named.
        setting: &'static str,
        /// What the valid range is.
        reason: &'static str,
    },

    /// None of several settings, one of which is needed, was given.
    #[error("one of {settings} must be set")]
    MissingOneOf {
        /// The settings, as their builder methods are named.
        settings: &'static str,
    },

    /// A text setting that must say something is empty.
    #[error("`{setting}` must not be empty")]
    Empty {
        /// The setting, as its builder method is named.
        setting: &'static str,
    },
}

/// Fails with [`ConfigError::Zero`] when `value` is zero.
pub(crate) fn non_zero<T: PartialEq + Default>(
    setting: &'static str,
    value: T,
) -> Result<T, ConfigError> {
    if value == T::default() {
        Err(ConfigError::Zero { setting })
    } else {
        Ok(value)
    }
}
