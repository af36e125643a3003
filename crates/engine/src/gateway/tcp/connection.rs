//! One TCP connection, one session: reads request lines (bounded) into the gateway's inbox
//! and writes replies back, one JSON line each, through the session's bounded queue.

use std::{
    collections::VecDeque,
    io::IoSlice,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use bytes::BytesMut;
use switchyard_core::{AckSink, Acker, NackCause, deadline::deadline};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
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

use super::{
    Settings,
    idle::{IdleConnections, LastActive},
    reply_line::ReplyLine,
    sessions::{Session, Sessions},
    slow::SlowReaders,
    wire,
};
use crate::gateway::{ErrorCategory, InboxSender, UserError, reply::ReplyTo};

/// How much is read from the socket at a time.
const READ_CHUNK: usize = 8 * 1024;

/// The most queued lines handed to the socket in one (vectored) write.
const WRITE_BATCH: usize = 64;

/// What the connection needs from its channel.
pub(super) struct Connection {
    pub(super) channel: Arc<str>,
    pub(super) session: String,
    pub(super) settings: Settings,
    pub(super) inbox: InboxSender,
    pub(super) sessions: Arc<Sessions>,
    /// Queues the reader's own error replies under the slow-reader rule.
    pub(super) slow: Arc<SlowReaders>,
    /// Closes the connection once it is idle.
    pub(super) idle: Arc<IdleConnections>,
    /// Stops the reader before its next request: cancelled by the channel's shutdown, or
    /// when the session is evicted.
    pub(super) shutdown: CancellationToken,
    /// The session as registered in `sessions` for the gateway's replies: its reply queue,
    /// and what tells whether its client reads.
    pub(super) open: Session,
}

/// Counts the connection's requests that the gateway has not answered yet; an ack or a
/// nack of a request (which the gateway settles once its replies are queued) counts it
/// down. The reader reads no further while it is at the connection's cap.
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
/// I/O error, the channel's shutdown, the session's eviction (`stop_writing`, with the
/// reader's token), or the connection staying idle for the channel's idle timeout (which
/// evicts it too). `permit` is the connection's slot under the channel's connection limit;
/// `written` counts the bytes the socket took.
///
/// Whatever way it ends (aborted with the channel included), each reply line it did not
/// write counts itself as undelivered when it is dropped: see [`ReplyLine`].
pub(super) async fn serve(
    connection: Connection,
    stream: TcpStream,
    replies: mpsc::Receiver<ReplyLine>,
    stop_writing: CancellationToken,
    written: Arc<AtomicU64>,
    permit: OwnedSemaphorePermit,
) {
    let (read, write) = stream.into_split();
    let pending = Arc::new(watch::Sender::new(0_usize));
    let active = LastActive::new();
    let idle = Arc::clone(&connection.idle);
    let sessions = Arc::clone(&connection.sessions);
    let session = connection.session.clone();
    let stop_reading = connection.shutdown.clone();
    let writer_stop = WriterStop {
        evicted: stop_writing.clone(),
        stopping: stop_reading.clone(),
        stall_timeout: connection.settings.slow_reader_timeout,
    };
    let serving = async {
        tokio::join!(
            connection.read_loop(read, Arc::clone(&pending), &active),
            write_loop(write, replies, writer_stop, written, &active)
        )
    };
    tokio::pin!(serving);
    tokio::select! {
        biased;
        _ = &mut serving => {}
        () = idle.idle(pending.subscribe(), &active) => {
            // Closed as the slow-reader rule closes a connection, and counted by whoever
            // takes the session out of the table: a slow-reader eviction on another thread
            // may have, and counted it as its own. A session the reader removed itself (it
            // saw the client close its side, while the writer still waits on the socket)
            // no eviction can reach any more, so closing it is this rule's alone.
            let evicted = sessions.evict(&session);
            let orphaned = !evicted && !stop_writing.is_cancelled();
            if orphaned {
                stop_reading.cancel();
                stop_writing.cancel();
            }
            if evicted || orphaned {
                idle.count_closed();
            }
            serving.await;
        }
    }
    drop(permit);
}

/// What ends a connection's writer before its queue closes.
struct WriterStop {
    /// Cancelled when the session is evicted: the writer returns at once.
    evicted: CancellationToken,
    /// The reader's token, cancelled at the channel's shutdown (or an eviction): from then
    /// on a write that gets no byte out for `stall_timeout` ends the writer.
    stopping: CancellationToken,
    /// The channel's slow-reader timeout.
    stall_timeout: Duration,
}

impl WriterStop {
    /// Resolves once the connection is stopping and a whole `stall_timeout` has passed
    /// since then, or since this call if it was stopping already: created afresh for each
    /// write, it measures a stretch in which the socket takes not one byte.
    async fn stalled(&self) {
        self.stopping.cancelled().await;
        // Saturating: a slow-reader timeout of `Duration::MAX` means "as long as it takes".
        tokio::time::sleep_until(deadline(Instant::now(), self.stall_timeout)).await;
    }
}

/// Writes queued reply lines until every sender of the queue is gone, then closes the
/// writing side. When the session is evicted it returns at once, dropping the lines it was
/// writing and every queued one, and the socket closes; when a write fails, what is left
/// is dropped too. Each line counts as delivered once the socket took its last byte; each
/// dropped before that counts itself as undelivered.
///
/// At the channel's shutdown it still writes what is queued, for a client that reads; a
/// write that gets no byte out for the
/// [slow-reader timeout](super::TcpJsonChannelBuilder::slow_reader_timeout) from then on
/// means a client that does not read, and ends it as an eviction does. Without that, a
/// writer blocked on such a client would hold up the channel's stop until the gateway
/// aborted it.
async fn write_loop(
    mut write: OwnedWriteHalf,
    mut replies: mpsc::Receiver<ReplyLine>,
    stop: WriterStop,
    progress: Arc<AtomicU64>,
    active: &LastActive,
) {
    // The lines being written, the first of which has `offset` bytes written already: what
    // is queued goes out in one vectored write, without copying the lines.
    let mut batch = VecDeque::with_capacity(WRITE_BATCH);
    let mut offset = 0;
    loop {
        let line = tokio::select! {
            biased;
            () = stop.evicted.cancelled() => return,
            line = replies.recv() => line,
        };
        let Some(line) = line else { break };
        batch.push_back(line);
        while batch.len() < WRITE_BATCH
            && let Ok(line) = replies.try_recv()
        {
            batch.push_back(line);
        }
        while !batch.is_empty() {
            let written = {
                let slices: Vec<IoSlice<'_>> = batch
                    .iter()
                    .enumerate()
                    .map(|(at, line)| {
                        let bytes = line.as_bytes();
                        IoSlice::new(if at == 0 { &bytes[offset..] } else { bytes })
                    })
                    .collect();
                tokio::select! {
                    biased;
                    () = stop.evicted.cancelled() => return,
                    () = stop.stalled() => {
                        tracing::debug!(
                            "connection write stalled while stopping: its client does not \
                             read, its replies are discarded"
                        );
                        return;
                    }
                    written = write.write_vectored(&slices) => written,
                }
            };
            let mut written = match written {
                Ok(0) => {
                    tracing::debug!("connection write failed: the socket took no bytes");
                    return;
                }
                Ok(written) => written,
                Err(err) => {
                    tracing::debug!(error = %err, "connection write failed");
                    return;
                }
            };
            progress.fetch_add(
                u64::try_from(written).unwrap_or(u64::MAX),
                Ordering::Relaxed,
            );
            active.touch();
            // Every line whose last byte the socket took is delivered.
            while let Some(first) = batch.front() {
                let left = first.as_bytes().len() - offset;
                if written < left {
                    offset += written;
                    break;
                }
                written -= left;
                offset = 0;
                if let Some(line) = batch.pop_front() {
                    line.written();
                }
            }
        }
    }
    if let Err(err) = write.shutdown().await {
        tracing::debug!(error = %err, "connection close failed");
    }
}

/// What the reader found next.
enum Event {
    Line(String),
    Overlong,
    NotUtf8,
}

impl Connection {
    /// Reads requests until the client closes its side, a read fails, or the connection
    /// stops; `pending` counts its unanswered requests, and each read is recorded in
    /// `active`.
    async fn read_loop(
        self,
        mut read: OwnedReadHalf,
        pending: Arc<watch::Sender<usize>>,
        active: &LastActive,
    ) {
        let mut codec = LinesCodec::new_with_max_length(self.settings.max_line_bytes);
        let mut buffer = BytesMut::with_capacity(READ_CHUNK);
        let mut at_eof = false;
        loop {
            // Before each request, not only when more bytes are needed: lines already read
            // from the socket must not reach the gateway once the connection is evicted.
            if self.shutdown.is_cancelled() {
                break;
            }
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
                        Ok(_) => active.touch(),
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
        if !self.wait_for_a_free_slot(pending).await {
            return false;
        }
        pending.send_modify(|pending| *pending += 1);
        let message = message.with_acker(Acker::new(Pending(Arc::clone(pending))));
        let sent = tokio::select! {
            biased;
            // Stopped while waiting for room in the inbox: the request is dropped unsent
            // (its acker counts it down), and the reader stops.
            () = self.shutdown.cancelled() => return false,
            sent = self.inbox.send(self.session.clone(), message) => sent,
        };
        match sent {
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

    /// Waits until fewer than
    /// [`max_in_flight_per_connection`](super::TcpJsonChannelBuilder::max_in_flight_per_connection)
    /// requests of this connection are unanswered. Returns `false` if the connection stops
    /// meanwhile.
    ///
    /// Meanwhile the reader reads nothing from the socket: a client that pipelines more
    /// than its share fills its socket's buffers and TCP pushes back on it, rather than its
    /// requests filling the gateway's inbox and taking every permit of its concurrency
    /// limit, ahead of every other connection's. Only the reader counts requests up, so
    /// the count cannot pass the cap between this check and the reader's next request.
    async fn wait_for_a_free_slot(&self, pending: &watch::Sender<usize>) -> bool {
        let cap = self.settings.max_in_flight_per_connection;
        if *pending.borrow() < cap {
            return true;
        }
        let mut answered = pending.subscribe();
        tokio::select! {
            biased;
            () = self.shutdown.cancelled() => false,
            // The sender lives as long as the reader, so the wait ends only with an answer.
            freed = answered.wait_for(|pending| *pending < cap) => freed.is_ok(),
        }
    }

    /// Queues an error reply for this session, under the same
    /// [slow-reader rule](super#slow-readers) as the gateway's replies: a client that sends
    /// bad lines and reads none of their replies is closed, rather than parking this reader
    /// for good. Returns `false` if the connection is gone or stopping.
    async fn reply_error(&self, error: &UserError, received_at: Instant) -> bool {
        let slot = tokio::select! {
            biased;
            () = self.shutdown.cancelled() => return false,
            slot = self.slow.reserve(&self.session, &self.open) => slot,
        };
        let Ok(slot) = slot else { return false };
        let reply_to = ReplyTo {
            channel: &self.channel,
            session: &self.session,
            request_id: None,
            correlation_id: None,
        };
        let reply = reply_to.stamp(error.to_message(), received_at.elapsed());
        slot.send(ReplyLine::new(wire::encode(&reply), &self.channel));
        true
    }
}
