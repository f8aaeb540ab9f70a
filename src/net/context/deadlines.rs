//! Deadlines: the switch to the ping and idle timers at open, and firing due handshake, close,
//! ping/pong and idle timers. A connection has one timer: while open it is due at the earlier of
//! its next ping (or pong deadline) and its idle deadline.

use crate::net::error::Error;
use crate::net::handler::Handler;
use crate::net::id::ConnId;
use crate::proto::State;

use super::{AWAITING_EOF, AWAITING_PONG, Context, Lost, Origin, PAUSED, millis};

/// The close code and reason of `ConnectionOptions::idle_timeout`.
pub(super) const IDLE_CLOSE_CODE: u16 = crate::proto::close::GOING_AWAY;
const IDLE_CLOSE_REASON: &str = "idle timeout";

impl Context {
    /// The handshake completed: switch the deadline to the ping or idle timer (or none).
    pub(super) fn opened(&mut self, id: ConnId) {
        let (ping, idle) = self
            .options_of(id)
            .map_or((None, None), |o| (o.ping_interval, o.idle_timeout));
        let now = self.now_ms;
        let tracing = self.tracer.is_some();
        let Some(conn) = self.conns.get_mut(id) else {
            return;
        };
        if let Some(connection) = conn.endpoint.connection() {
            connection.set_frame_log(tracing);
        }
        conn.last_read_ms = now as u32;
        conn.last_message_ms = now as u32;
        let deadline = conn.set_deadline(earliest(
            ping.map(|interval| now + millis(interval)),
            idle.map(|timeout| now + millis(timeout)),
        ));
        if deadline != 0 {
            self.timers.push(deadline, id);
        }
        // The handshake deadline just went stale. Once stale entries are most of the heap, drop
        // them, so 10k idle connections do not keep 10k dead timers (16 B each) until they fire.
        self.stale_timers += 1;
        if self.stale_timers > 256 && self.stale_timers * 2 > self.timers.len() {
            let conns = &self.conns;
            self.timers
                .retain(|deadline, conn| conns.get(conn).is_some_and(|c| c.deadline_is(deadline)));
            self.stale_timers = 0;
        }
    }

    /// Data arrived while a pong was awaited: the next ping is due one interval from now (or the
    /// idle deadline, if earlier), not at the pong deadline the timer waits for.
    #[cold]
    #[inline(never)]
    pub(super) fn ping_answered(&mut self, id: ConnId) {
        let Ok(options) = self.options_of(id).copied() else {
            return;
        };
        let Some(interval) = options.ping_interval else {
            return;
        };
        let now = self.now_ms;
        let Some(conn) = self.conns.get_mut(id) else {
            return;
        };
        let open = conn
            .endpoint
            .connection()
            .is_some_and(|c| c.state() == State::Open);
        if !open || conn.has(AWAITING_EOF) {
            return; // a closing deadline stays as it is
        }
        let quiet = u64::from((now as u32).wrapping_sub(conn.last_message_ms));
        let idle_due = options
            .idle_timeout
            .map(|timeout| now - quiet.min(now) + millis(timeout));
        let deadline = conn.set_deadline(earliest(Some(now + millis(interval)), idle_due));
        self.timers.push(deadline, id);
    }

    pub(super) fn fire_timers(&mut self, handler: &mut dyn Handler) -> usize {
        let mut fired = 0;
        while let Some((deadline, id)) = self.timers.pop_due(self.now_ms) {
            let Ok(options) = self.options_of(id).copied() else {
                continue;
            };
            let Some(conn) = self.conns.get_mut(id) else {
                continue;
            };
            if !conn.deadline_is(deadline) {
                continue; // moved or cleared
            }
            fired += 1;
            conn.set_deadline(0);
            if super::reconnect::waiting(&conn.origin) {
                self.retry_now(id);
                continue;
            }
            if conn.endpoint.is_http() {
                if self.http_timer(id) {
                    self.drop_conn(
                        id,
                        Some(Lost {
                            initiated_locally: true,
                        }),
                    );
                }
                continue;
            }
            if !conn.endpoint.is_open() {
                if super::proxy::proxy_pending(conn) {
                    self.fail_client(id, Error::Proxy(crate::net::ProxyError::Timeout));
                } else if matches!(conn.origin, Origin::Client(_)) {
                    self.fail_client(id, Error::Timeout("opening handshake"));
                } else {
                    // Slowloris, or an accept decision still pending: reported (1006) only if its
                    // user data was set.
                    self.drop_conn(
                        id,
                        Some(Lost {
                            initiated_locally: true,
                        }),
                    );
                }
                continue;
            }
            let state = conn.endpoint.connection().map_or(State::Closed, |c| c.state());
            if state != State::Open || conn.has(AWAITING_EOF) {
                // Closing handshake (or the wait for the server's FIN) timed out.
                self.drop_conn(
                    id,
                    Some(Lost {
                        initiated_locally: true,
                    }),
                );
                continue;
            }
            if conn.flow & PAUSED != 0 {
                // Reading is paused (flow control): the silence is this end's, not the peer's, and
                // a pong would wait behind the unread data. Count from now.
                conn.flags &= !AWAITING_PONG;
                conn.last_read_ms = self.now_ms as u32;
                conn.last_message_ms = self.now_ms as u32;
            }
            let now = self.now_ms;
            // The time (ms since start) of a u32 stamp at most 49 days old.
            let at = |stamp: u32| now - u64::from((now as u32).wrapping_sub(stamp)).min(now);
            let idle_due = options
                .idle_timeout
                .map(|timeout| at(conn.last_message_ms) + millis(timeout));
            if idle_due.is_some_and(|due| due <= now) {
                // No whole message for `idle_timeout`: a slow or silent peer (see the option).
                self.defer_error(
                    Some(id),
                    Error::Timeout("no message from peer within idle_timeout"),
                );
                let _ = self.close_conn(id, IDLE_CLOSE_CODE, IDLE_CLOSE_REASON);
                continue;
            }
            let mut ping_due = None;
            if let Some(interval) = options.ping_interval {
                // While a pong is awaited, `last_read_ms` is when the ping went out (a read clears
                // `AWAITING_PONG` and sets it again).
                let due = if conn.has(AWAITING_PONG) {
                    at(conn.last_read_ms) + millis(options.pong_timeout)
                } else {
                    at(conn.last_read_ms) + millis(interval)
                };
                if due > now {
                    ping_due = Some(due);
                } else if conn.has(AWAITING_PONG) {
                    self.defer_error(Some(id), Error::Timeout("no pong from peer"));
                    self.drop_conn(
                        id,
                        Some(Lost {
                            initiated_locally: true,
                        }),
                    );
                    continue;
                } else {
                    if let Some(connection) = conn.endpoint.connection() {
                        let _ = connection.sender().ping(b"");
                    }
                    conn.flags |= AWAITING_PONG;
                    conn.last_read_ms = now as u32;
                    ping_due = Some(now + millis(options.pong_timeout));
                    self.mark_dirty(id);
                }
            }
            let Some(conn) = self.conns.get_mut(id) else {
                continue;
            };
            let deadline = conn.set_deadline(earliest(ping_due, idle_due));
            if deadline != 0 {
                self.timers.push(deadline, id);
            }
        }
        fired + self.deliver_deferred(handler)
    }
}

/// The earlier of two optional deadlines; 0 (no timer) when neither is set.
fn earliest(a: Option<u64>, b: Option<u64>) -> u64 {
    match (a, b) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b).unwrap_or(0),
    }
}
