//! One TCP connection, one session: reads request lines (bounded) into the gateway's inbox
//! and writes replies back, one JSON line each, through the session's bounded queue.

use std::sync::Arc;

use bytes::BytesMut;
use switchyard_core::{AckSink, Acker, NackCause};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt, BufWriter},
    net::{
        TcpStream,
        tcp::{OwnedReadHalf, OwnedWriteHalf},
    },
    sync::{OwnedSemaphorePermit, mpsc, watch},
    time::Instant,
};
use tokio_util::{
    codec::{Decoder, LinesCodec, LinesCodecError},
    sync::CancellationToken,
};

use super::{Settings, sessions::Sessions, wire};
use crate::gateway::{ErrorCategory, InboxSender, UserError, reply::ReplyTo};

/// How much is read from the socket at a time.
const READ_CHUNK: usize = 8 * 1024;

/// What the connection needs from its channel.
pub(super) struct Connection {
    pub(super) channel: Arc<str>,
    pub(super) session: String,
    pub(super) settings: Settings,
    pub(super) inbox: InboxSender,
    pub(super) sessions: Arc<Sessions>,
    /// Stops the reader: cancelled by the channel's shutdown, or when the session is
    /// evicted.
    pub(super) shutdown: CancellationToken,
    /// The session's reply queue, also registered in `sessions` for the gateway's replies.
    pub(super) replies: mpsc::Sender<String>,
}

/// Counts the connection's requests that the gateway has not answered yet; an ack or a
/// nack of a request (which the gateway settles once its replies are queued) counts it
/// down.
struct Pending(Arc<watch::Sender<usize>>);

impl AckSink for Pending {
    fn ack(&self) {
        self.0
            .send_modify(|pending| *pending = pending.saturating_sub(1));
    }

    fn nack(&self, _cause: NackCause) {
        self.ack();
    }
}

/// Serves the connection until the client closes it (and every request was answered), an
/// I/O error, the channel's shutdown, or the session's eviction (`stop_writing`, with the
/// reader's token). `permit` is the connection's slot under the channel's connection limit.
pub(super) async fn serve(
    connection: Connection,
    stream: TcpStream,
    replies: mpsc::Receiver<String>,
    stop_writing: CancellationToken,
    permit: OwnedSemaphorePermit,
) {
    let channel = Arc::clone(&connection.channel);
    let (read, write) = stream.into_split();
    let ((), discarded) = tokio::join!(
        connection.read_loop(read),
        write_loop(write, replies, stop_writing)
    );
    if discarded > 0 {
        // The channel had accepted these replies, so their requests were acked, but the
        // client never got them: the session was evicted (its warning says why) or the
        // socket failed. Counted, so that no reply is lost without a trace.
        metrics::counter!(
            "switchyard_gateway_replies_undelivered_total",
            "channel" => channel.to_string()
        )
        .increment(discarded as u64);
        tracing::debug!(
            channel = %channel,
            discarded,
            "connection closed before its queued replies were written"
        );
    }
    drop(permit);
}

/// Writes queued reply lines until every sender of the queue is gone, flushing whenever the
/// queue runs empty; then closes the writing side. Returns how many replies it discarded:
/// when `stop` is cancelled (the session was evicted), it returns at once, dropping the
/// line it was writing and every queued one, and the socket closes; when a write fails,
/// what is left cannot be written either.
async fn write_loop(
    write: OwnedWriteHalf,
    mut replies: mpsc::Receiver<String>,
    stop: CancellationToken,
) -> usize {
    let mut write = BufWriter::new(write);
    loop {
        let line = tokio::select! {
            biased;
            () = stop.cancelled() => return replies.len(),
            line = replies.recv() => line,
        };
        let Some(line) = line else { break };
        let written = async {
            write.write_all(line.as_bytes()).await?;
            if replies.is_empty() {
                write.flush().await?;
            }
            Ok::<(), std::io::Error>(())
        };
        let written = tokio::select! {
            biased;
            () = stop.cancelled() => return 1 + replies.len(),
            written = written => written,
        };
        if let Err(err) = written {
            tracing::debug!(error = %err, "connection write failed");
            return 1 + replies.len();
        }
    }
    if let Err(err) = write.shutdown().await {
        tracing::debug!(error = %err, "connection close failed");
    }
    0
}

/// What the reader found next.
enum Event {
    Line(String),
    Overlong,
    NotUtf8,
}

impl Connection {
    async fn read_loop(self, mut read: OwnedReadHalf) {
        let mut codec = LinesCodec::new_with_max_length(self.settings.max_line_bytes);
        let mut buffer = BytesMut::with_capacity(READ_CHUNK);
        let pending = Arc::new(watch::Sender::new(0_usize));
        let mut at_eof = false;
        loop {
            let decoded = if at_eof {
                codec.decode_eof(&mut buffer)
            } else {
                codec.decode(&mut buffer)
            };
            let event = match decoded {
                Ok(Some(line)) => Event::Line(line),
                Err(LinesCodecError::MaxLineLengthExceeded) => Event::Overlong,
                // Decoding does no I/O: its only I/O error is a line that is not UTF-8.
                Err(LinesCodecError::Io(_)) => Event::NotUtf8,
                Ok(None) if at_eof => break,
                Ok(None) => {
                    buffer.reserve(READ_CHUNK);
                    let read = tokio::select! {
                        biased;
                        () = self.shutdown.cancelled() => break,
                        read = read.read_buf(&mut buffer) => read,
                    };
                    match read {
                        Ok(0) => at_eof = true,
                        Ok(_) => {}
                        Err(err) => {
                            tracing::debug!(error = %err, "connection read failed");
                            break;
                        }
                    }
                    continue;
                }
            };
            if !self.handle(event, &pending).await {
                break;
            }
        }
        // Stay until every request of this connection is answered, so that a client that
        // only closed its writing side still gets its replies.
        let mut unanswered = pending.subscribe();
        tokio::select! {
            biased;
            () = self.shutdown.cancelled() => {}
            _ = unanswered.wait_for(|pending| *pending == 0) => {}
        }
        // The session's queue closes once the gateway holds no sender either; the writer
        // then drains it and closes the connection.
        self.sessions.remove(&self.session);
    }

    /// Handles one read event. Returns `false` when the connection must stop reading.
    async fn handle(&self, event: Event, pending: &Arc<watch::Sender<usize>>) -> bool {
        let received_at = Instant::now();
        let line = match event {
            Event::Line(line) => line,
            Event::Overlong => {
                let detail = format!(
                    "line longer than {} bytes; it was discarded",
                    self.settings.max_line_bytes
                );
                return self
                    .reply_error(&UserError::bad_request(&detail), received_at)
                    .await;
            }
            Event::NotUtf8 => {
                let error = UserError::bad_request("line is not valid UTF-8");
                return self.reply_error(&error, received_at).await;
            }
        };
        let message = match wire::decode(&line, self.settings.limits) {
            Ok(Some(message)) => message,
            Ok(None) => return true,
            Err(error) => return self.reply_error(&error, received_at).await,
        };
        pending.send_modify(|pending| *pending += 1);
        let message = message.with_acker(Acker::new(Pending(Arc::clone(pending))));
        match self.inbox.send(self.session.clone(), message).await {
            Ok(()) => true,
            // The gateway takes no more: say so, and count the message down.
            Err(closed) => {
                closed.into_message().nack();
                let error =
                    UserError::new(ErrorCategory::Unavailable, "the gateway is shutting down");
                self.reply_error(&error, received_at).await
            }
        }
    }

    /// Queues an error reply for this session. Returns `false` if the connection is gone
    /// or stopping.
    async fn reply_error(&self, error: &UserError, received_at: Instant) -> bool {
        let reply_to = ReplyTo {
            channel: &self.channel,
            session: &self.session,
            request_id: None,
            correlation_id: None,
        };
        let reply = reply_to.stamp(error.to_message(), received_at.elapsed());
        let line = wire::encode(&reply);
        tokio::select! {
            biased;
            () = self.shutdown.cancelled() => false,
            sent = self.replies.send(line) => sent.is_ok(),
        }
    }
}
