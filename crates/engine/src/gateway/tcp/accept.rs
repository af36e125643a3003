//! The accept loop of a [`TcpJsonChannel`](super::TcpJsonChannel): takes connections up to
//! the limit, turns the rest away with an error line, and owns every connection's task.

use std::{
    sync::{Arc, atomic::AtomicU64},
    time::Duration,
};

use tokio::{
    net::{TcpListener, TcpStream},
    sync::{Semaphore, mpsc},
    task::JoinSet,
};
use tokio_util::sync::CancellationToken;

use super::{
    Settings,
    connection::{self, Connection},
    idle::IdleConnections,
    sessions::{Session, Sessions},
    slow::SlowReaders,
    wire,
};
use crate::gateway::{ErrorCategory, InboxSender, UserError, reply::ReplyTo};

/// How long to wait before accepting again after `accept` failed, such as when the process
/// is out of file descriptors: retrying at once would spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// What the accept loop needs.
pub(super) struct Acceptor {
    pub(super) channel: Arc<str>,
    pub(super) listener: TcpListener,
    pub(super) inbox: InboxSender,
    pub(super) shutdown: CancellationToken,
    pub(super) settings: Settings,
    pub(super) sessions: Arc<Sessions>,
    pub(super) slow: Arc<SlowReaders>,
    pub(super) idle: Arc<IdleConnections>,
}

/// Accepts connections until the shutdown, then waits for every connection to finish.
///
/// Connection tasks live in a `JoinSet` owned by this future: if the gateway aborts the
/// channel's task because it did not stop in time, dropping the set aborts every
/// connection with it, so nothing outlives the channel.
pub(super) async fn run(acceptor: Acceptor) {
    let Acceptor {
        channel,
        listener,
        inbox,
        shutdown,
        settings,
        sessions,
        slow,
        idle,
    } = acceptor;
    let slots = Arc::new(Semaphore::new(settings.max_connections));
    let mut connections = JoinSet::new();
    let mut next_session: u64 = 0;
    loop {
        let accepted = tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            Some(finished) = connections.join_next(), if !connections.is_empty() => {
                if let Err(err) = finished
                    && err.is_panic()
                {
                    tracing::error!(channel = %channel, "tcp connection task panicked");
                }
                continue;
            }
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(err) => {
                tracing::warn!(channel = %channel, error = %err, "tcp accept failed");
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep(ACCEPT_BACKOFF) => continue,
                }
            }
        };
        let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
            turn_away(&channel, &stream);
            continue;
        };
        next_session += 1;
        let session = next_session.to_string();
        let (replies, queue) = mpsc::channel(settings.reply_queue);
        let stop_reading = shutdown.child_token();
        let stop_writing = CancellationToken::new();
        let written = Arc::new(AtomicU64::new(0));
        let open = Session {
            replies,
            stop_reading: stop_reading.clone(),
            stop_writing: stop_writing.clone(),
            written: Arc::clone(&written),
        };
        sessions.insert(session.clone(), open.clone());
        tracing::debug!(channel = %channel, "tcp connection opened");
        let connection = Connection {
            channel: Arc::clone(&channel),
            session,
            settings,
            inbox: inbox.clone(),
            sessions: Arc::clone(&sessions),
            slow: Arc::clone(&slow),
            idle: Arc::clone(&idle),
            shutdown: stop_reading,
            open,
        };
        connections.spawn(connection::serve(
            connection,
            stream,
            queue,
            stop_writing,
            written,
            permit,
        ));
    }
    drop(listener);
    // Every connection watches the same token: each stops reading, flushes the replies it
    // already queued, and ends.
    while connections.join_next().await.is_some() {}
    tracing::debug!(channel = %channel, "tcp channel stopped");
}

/// Tells a connection over the limit why it is closed, without waiting: the line is small
/// and a fresh socket's send buffer is empty, so one non-blocking write takes it, and if it
/// does not, the client just sees the connection closed.
fn turn_away(channel: &str, stream: &TcpStream) {
    tracing::warn!(channel = %channel, "tcp connection refused: too many connections");
    let error = UserError::new(ErrorCategory::Unavailable, "too many connections");
    let reply_to = ReplyTo {
        channel,
        session: "",
        request_id: None,
        correlation_id: None,
    };
    let line = wire::encode(&reply_to.stamp(error.to_message(), Duration::ZERO));
    if let Err(err) = stream.try_write(line.as_bytes()) {
        tracing::debug!(error = %err, "could not tell a refused connection why");
    }
}
