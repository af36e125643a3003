//! The gateway's errors: [`GatewayError`] for its operations and [`InboxClosed`] for a
//! channel whose message could not enter the inbox.

use std::{fmt, time::Duration};

use switchyard_core::Message;

/// What can go wrong when configuring the gateway, registering channels or sending through
/// them.
///
/// Messages name channels and settings, never outside text: channel names are chosen by
/// the application, and still redacted and bounded where they may not be (a name that
/// matches no channel, or breaks the rules); wrapped errors are rendered through
/// [`switchyard_core::report`], which redacts credentials.
///
/// ```
/// use switchyard_engine::gateway::GatewayError;
///
/// let err = GatewayError::UnknownChannel { channel: "telegram".into() };
/// assert_eq!(err.to_string(), "no channel named `telegram` is registered");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// No channel of that name is registered.
    #[error("no channel named `{channel}` is registered")]
    UnknownChannel {
        /// The name that matched nothing, redacted and cut to
        /// [`MAX_CHANNEL_NAME_LEN`](super::MAX_CHANNEL_NAME_LEN) characters.
        channel: String,
    },

    /// A channel of that name is already registered.
    #[error("a channel named `{channel}` is already registered")]
    DuplicateChannel {
        /// The name.
        channel: String,
    },

    /// The gateway already holds as many channels as it is configured for.
    #[error("the gateway already holds its limit of {limit} channels")]
    TooManyChannels {
        /// The configured limit.
        limit: usize,
    },

    /// A channel name breaks the naming rules.
    #[error("invalid channel name {name:?}: {reason}")]
    InvalidChannelName {
        /// The rejected name, redacted and cut to
        /// [`MAX_CHANNEL_NAME_LEN`](super::MAX_CHANNEL_NAME_LEN) characters.
        name: String,
        /// Which rule it breaks.
        reason: &'static str,
    },

    /// A setting given to a builder is invalid.
    #[error("invalid gateway setting `{setting}`: {reason}")]
    InvalidConfig {
        /// The setting, as its builder method is named.
        setting: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// The gateway is shutting down and takes no new channel.
    #[error("the gateway is shutting down")]
    ShuttingDown,

    /// The gateway was built outside a Tokio runtime, so it could not start its dispatcher.
    #[error("the gateway must be built inside a Tokio runtime")]
    NoRuntime,

    /// A channel failed to start.
    #[error("channel `{channel}` failed to start: {}", .source.report())]
    ChannelStart {
        /// The channel.
        channel: String,
        /// The channel's error.
        source: switchyard_core::Error,
    },

    /// A channel refused an outgoing message.
    #[error("channel `{channel}` failed to send: {}", .source.report())]
    Send {
        /// The channel.
        channel: String,
        /// The channel's error.
        source: switchyard_core::Error,
    },

    /// A channel did not accept an outgoing message within the configured send timeout.
    #[error("channel `{channel}` did not accept the message within {after:?}")]
    SendTimeout {
        /// The channel.
        channel: String,
        /// The send timeout.
        after: Duration,
    },

    /// A socket operation failed, such as binding a listener.
    #[error("cannot {operation}: {source}")]
    Io {
        /// What was being done.
        operation: &'static str,
        /// The operating system's error.
        source: std::io::Error,
    },
}

/// A message that could not enter the gateway's inbox because the gateway stopped taking
/// messages (it is shutting down, or the channel was unregistered). The message is given
/// back so that the channel can answer its sender.
///
/// ```
/// use switchyard_core::Message;
/// use switchyard_engine::gateway::InboxClosed;
///
/// let err = InboxClosed::new(Message::new("hi"));
/// assert_eq!(err.to_string(), "the gateway inbox is closed");
/// assert_eq!(err.into_message().payload(), "hi");
/// ```
#[derive(thiserror::Error)]
#[error("the gateway inbox is closed")]
pub struct InboxClosed {
    message: Message,
}

impl InboxClosed {
    /// The error for `message`, which could not be delivered.
    pub fn new(message: Message) -> Self {
        Self { message }
    }

    /// The message that was not delivered.
    pub fn message(&self) -> &Message {
        &self.message
    }

    /// Takes the message back.
    pub fn into_message(self) -> Message {
        self.message
    }
}

impl fmt::Debug for InboxClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InboxClosed")
            .field("message", &self.message)
            .finish()
    }
}
