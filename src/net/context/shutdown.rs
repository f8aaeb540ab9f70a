//! Graceful shutdown of the whole context.

use std::time::{Duration, Instant};

use crate::net::error::{Error, Result};
use crate::net::handler::Handler;
use crate::net::id::ListenerId;
use crate::proto::close;

use super::Context;

impl Context {
    /// Starts a graceful shutdown without blocking: stops every listener and closes every open
    /// connection with 1001; connections still in their handshake are dropped. Keep polling until
    /// [`Context::connection_count`] is 0 (the close timeout bounds it).
    pub fn begin_shutdown(&mut self) {
        for index in 0..self.listeners.len() {
            let _ = self.close_listener(ListenerId(index as u32 + 1));
        }
        for id in self.conns.ids() {
            if self.is_open(id) {
                let _ = self.close(id, close::GOING_AWAY, "server shutting down");
            } else if !self.conns.get(id).is_some_and(|c| c.endpoint.is_open()) {
                let _ = self.abort(id);
            }
        }
    }

    /// Graceful shutdown: [`Context::begin_shutdown`], then polls until every connection closed or
    /// `timeout` passed; what is left is dropped (reported as 1006).
    pub fn shutdown(&mut self, handler: &mut dyn Handler, timeout: Duration) -> Result<()> {
        if self.in_poll {
            return Err(Error::Reentrant);
        }
        self.begin_shutdown();
        let end = Instant::now() + timeout;
        while self.conns.len() > 0 {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            self.poll(handler, Some(left.min(Duration::from_millis(50))))?;
        }
        for id in self.conns.ids() {
            let _ = self.abort(id);
        }
        self.poll(handler, Some(Duration::ZERO))?;
        Ok(())
    }
}
