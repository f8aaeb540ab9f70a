//! Deadlines: the switch to the ping timer at open, and firing due handshake, close and ping/pong
//! timers.

use crate::net::error::Error;
use crate::net::handler::Handler;
use crate::net::id::ConnId;
use crate::proto::State;

use super::{AWAITING_EOF, AWAITING_PONG, Context, Lost, Origin, PAUSED, millis};

impl Context {
    /// The handshake completed: switch the deadline to the ping timer (or none).
    pub(super) fn opened(&mut self, id: ConnId) {
        let ping = self.options_of(id).ok().and_then(|o| o.ping_interval);
        let now = self.now_ms;
        let tracing = self.tracer.is_some();
        let Some(conn) = self.conns.get_mut(id) else {
            return;
        };
        if let Some(connection) = conn.endpoint.connection() {
            connection.set_frame_log(tracing);
        }
        conn.last_read_ms = now as u32;
        conn.deadline_ms = ping.map_or(0, |interval| now + millis(interval));
        if conn.deadline_ms != 0 {
            self.timers.push(conn.deadline_ms, id);
        }
        // The handshake deadline just went stale. Once stale entries are most of the heap, drop
        // them, so 10k idle connections do not keep 10k dead timers (16 B each) until they fire.
        self.stale_timers += 1;
        if self.stale_timers > 256 && self.stale_timers * 2 > self.timers.len() {
            let conns = &self.conns;
            self.timers
                .retain(|deadline, conn| conns.get(conn).is_some_and(|c| c.deadline_ms == deadline));
            self.stale_timers = 0;
        }
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
            if conn.deadline_ms != deadline {
                continue; // moved or cleared
            }
            fired += 1;
            conn.deadline_ms = 0;
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
                if matches!(conn.origin, Origin::Client(_)) {
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
            let Some(interval) = options.ping_interval else {
                continue;
            };
            if conn.flow & PAUSED != 0 {
                // Reading is paused (flow control): the silence is this end's, not the peer's, and
                // a pong would wait behind the unread data. Count from now.
                conn.flags &= !AWAITING_PONG;
                conn.last_read_ms = self.now_ms as u32;
            }
            if conn.has(AWAITING_PONG) {
                self.defer_error(Some(id), Error::Timeout("no pong from peer"));
                self.drop_conn(
                    id,
                    Some(Lost {
                        initiated_locally: true,
                    }),
                );
                continue;
            }
            let silent_for = u64::from((self.now_ms as u32).wrapping_sub(conn.last_read_ms));
            let due = self.now_ms - silent_for.min(self.now_ms) + millis(interval);
            if due > self.now_ms {
                conn.deadline_ms = due;
            } else {
                if let Some(connection) = conn.endpoint.connection() {
                    let _ = connection.sender().ping(b"");
                }
                conn.flags |= AWAITING_PONG;
                conn.deadline_ms = self.now_ms + millis(options.pong_timeout);
                self.mark_dirty(id);
            }
            let deadline = self.conns.get(id).map_or(0, |c| c.deadline_ms);
            self.timers.push(deadline, id);
        }
        fired + self.deliver_deferred(handler)
    }
}
