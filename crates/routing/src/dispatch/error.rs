//! Errors of registering with, freezing and using a [`DispatchEngine`](super::DispatchEngine).

use super::MessageCategory;
use crate::pattern::PatternError;

/// What can go wrong when building the dispatch registry.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DispatchError {
    /// Registration after [`freeze`](super::DispatchEngine::freeze).
    #[error("the dispatch engine is frozen: register routes and dispatchers before freezing")]
    Frozen,

    /// [`dispatch`](super::DispatchEngine::dispatch) before
    /// [`freeze`](super::DispatchEngine::freeze).
    #[error("the dispatch engine is not frozen yet: call freeze() before dispatching")]
    NotFrozen,

    /// A setting of the engine is outside its valid range (checked by
    /// [`freeze`](super::DispatchEngine::freeze)).
    #[error("`{setting}` {reason}")]
    OutOfRange {
        /// The setting, as its method is named without `with_`.
        setting: &'static str,
        /// What the valid range is.
        reason: &'static str,
    },

    /// Two routes share an id.
    #[error("a route with id `{0}` is already registered")]
    DuplicateRoute(String),

    /// Two dispatchers share an id.
    #[error("a dispatcher with id `{0}` is already registered")]
    DuplicateDispatcher(String),

    /// A route's topic pattern is invalid.
    #[error("route `{route}` has an invalid topic pattern")]
    InvalidPattern {
        /// The route.
        route: String,
        /// What is wrong with the pattern.
        source: PatternError,
    },

    /// A route names a dispatcher that is not registered.
    #[error("route `{route}` names dispatcher `{dispatcher}`, which is not registered")]
    UnknownDispatcher {
        /// The route.
        route: String,
        /// The missing dispatcher.
        dispatcher: String,
    },

    /// A route's category differs from its dispatcher's.
    #[error(
        "route `{route}` is for {route_category} but dispatcher `{dispatcher}` handles \
         {dispatcher_category}"
    )]
    CategoryMismatch {
        /// The route.
        route: String,
        /// The route's category.
        route_category: MessageCategory,
        /// The dispatcher.
        dispatcher: String,
        /// The dispatcher's category.
        dispatcher_category: MessageCategory,
    },

    /// A route's message type is one its dispatcher does not take: it could never dispatch.
    #[error(
        "route `{route}` is for type `{message_type}`, which dispatcher `{dispatcher}` does not take"
    )]
    TypeMismatch {
        /// The route.
        route: String,
        /// The route's message type.
        message_type: String,
        /// The dispatcher.
        dispatcher: String,
    },
}
