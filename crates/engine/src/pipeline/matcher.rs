//! [`Matcher`]: the engine's source matcher, with an allocation-free path for the default.

use std::{any::Any, borrow::Cow, fmt, sync::Arc};

use switchyard_core::Message;
use switchyard_routing::router::{SourceMatcher, TypePrefix};

/// Picks the router key of a message.
///
/// [`SourceMatcher::source`] returns an owned `String`, one allocation per message. The
/// default, [`TypePrefix`], only ever borrows a prefix of the type, so it is recognised and
/// run without that allocation; any other matcher is called as it is.
#[derive(Clone, Default)]
pub(crate) enum Matcher {
    #[default]
    TypePrefix,
    Custom(Arc<dyn SourceMatcher>),
}

impl Matcher {
    pub(crate) fn new<M: SourceMatcher + 'static>(matcher: M) -> Self {
        if (&matcher as &dyn Any).is::<TypePrefix>() {
            Matcher::TypePrefix
        } else {
            Matcher::Custom(Arc::new(matcher))
        }
    }

    /// The router key of `message`, as [`TypePrefix`] or the custom matcher says.
    pub(crate) fn source<'m>(&self, message: &'m Message) -> Option<Cow<'m, str>> {
        match self {
            Matcher::TypePrefix => {
                let message_type = message.attributes().message_type()?;
                // A byte scan: `split('.')` builds a searcher per call, on a short string.
                let end = message_type
                    .bytes()
                    .position(|byte| byte == b'.')
                    .unwrap_or(message_type.len());
                // `.` is ASCII, so `end` is a character boundary.
                let prefix = &message_type[..end];
                Some(Cow::Borrowed(prefix))
            }
            Matcher::Custom(matcher) => matcher.source(message).map(Cow::Owned),
        }
    }
}

impl fmt::Debug for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Matcher::TypePrefix => "TypePrefix",
            Matcher::Custom(_) => "Custom",
        })
    }
}

#[cfg(test)]
mod tests;
