//! The stable core of Switchyard: the [`Message`], its [`Attributes`], the [ack
//! contract](ack), the one [`Error`] type, and the [`Publisher`], [`Subscriber`] and
//! [`Handler`] traits that every other crate builds on.
//!
//! This crate spawns no task and needs no async runtime; the traits are `async`, but
//! nothing here polls a future. It depends on no other Switchyard crate, and it changes
//! rarely: transports and applications depend on it directly.
//!
//! ```
//! use switchyard_core::{Message, Limits};
//!
//! let message = Message::builder()
//!     .message_type("orders.created")
//!     .destination("kafka://orders")
//!     .payload("{\"order\":7}")
//!     .build()?;
//! assert_eq!(message.attributes().destination(), Some("kafka://orders"));
//! Limits::default().check(&message)?;
//! # Ok::<(), switchyard_core::Error>(())
//! ```

pub mod ack;
pub mod attributes;
pub mod deadline;
mod error;
mod handler;
mod id;
mod limits;
mod message;
mod publisher;
mod redact;
mod subscriber;
mod throttle;

pub use ack::{AckSink, AckSlot, AckState, Acker, NackCause, SlotSink};
pub use attributes::{Attribute, Attributes};
pub use bytes::Bytes;
pub use error::{BoxError, Error, LimitedField, Result, report};
pub use handler::{Handler, HandlerFn, handler_fn};
pub use limits::Limits;
pub use message::{JSON_CONTENT_TYPE, Message, MessageBuilder};
pub use publisher::Publisher;
pub use redact::{REDACTED, panic_text, redact};
pub use subscriber::{MessageStream, Subscriber};
pub use throttle::Throttle;
