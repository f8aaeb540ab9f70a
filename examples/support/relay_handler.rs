//! A bounded relay (`examples/relay.rs` and `tests/flow_control.rs`): connections to the same path
//! are paired two by two, and every message from one is forwarded to the other. Memory stays
//! bounded whatever the two ends do: when the destination's queue is full (a forward fails with
//! `WouldBlock` at `max_buffered`), the message is kept, the source is paused
//! (`Context::pause_reading`), and the destination's `on_writable` forwards it and resumes the
//! source. TCP then pushes back on the fast sender; nothing is dropped. A connection waiting for
//! its partner is paused too, so what it sends meanwhile waits in TCP. When one end closes, its
//! peer is closed with 1001.

use std::collections::HashMap;

use wskit::net::{ConnId, Context, Error, Handler, Message, OpenInfo};
use wskit::proto::{CloseInfo, MessageKind};

/// Pairs connections by path and forwards between them.
#[derive(Default)]
pub struct Relay {
    /// A connection waiting for a partner, per path.
    waiting: HashMap<String, ConnId>,
    /// Each connection's partner.
    peers: HashMap<ConnId, ConnId>,
    /// Per destination: the message that did not fit, and its paused source.
    blocked: HashMap<ConnId, (MessageKind, Vec<u8>, ConnId)>,
}

impl Relay {
    /// The connections that have a partner (for tests).
    #[allow(dead_code)]
    pub fn paired(&self) -> Vec<ConnId> {
        self.peers.keys().copied().collect()
    }
}

impl Handler for Relay {
    fn on_open(&mut self, ctx: &mut Context, conn: ConnId, info: &OpenInfo<'_>) {
        match self.waiting.remove(info.path) {
            Some(other) => {
                self.peers.insert(conn, other);
                self.peers.insert(other, conn);
                let _ = ctx.resume_reading(other);
            }
            None => {
                // Nobody to relay to yet: read nothing until the partner comes.
                let _ = ctx.pause_reading(conn);
                self.waiting.insert(info.path.to_string(), conn);
            }
        }
    }

    fn on_message(&mut self, ctx: &mut Context, conn: ConnId, message: Message<'_>) {
        let Some(&dest) = self.peers.get(&conn) else {
            return; // the partner left: this connection is being closed
        };
        match ctx.send(dest, message.kind(), message.as_bytes()) {
            Ok(()) => {}
            Err(Error::WouldBlock) => {
                // The destination is full: keep this one and stop reading the source.
                self.blocked
                    .insert(dest, (message.kind(), message.as_bytes().to_vec(), conn));
                let _ = ctx.pause_reading(conn);
            }
            Err(_) => {} // the destination is closing; its close closes the source
        }
    }

    fn on_writable(&mut self, ctx: &mut Context, dest: ConnId) {
        let Some((kind, data, source)) = self.blocked.remove(&dest) else {
            return;
        };
        match ctx.send(dest, kind, &data) {
            Ok(()) => {
                let _ = ctx.resume_reading(source);
            }
            Err(Error::WouldBlock) => {
                self.blocked.insert(dest, (kind, data, source));
            }
            Err(_) => {}
        }
    }

    fn on_close(&mut self, ctx: &mut Context, conn: ConnId, _info: &CloseInfo<'_>) {
        self.waiting.retain(|_, c| *c != conn);
        self.blocked.remove(&conn);
        if let Some(other) = self.peers.remove(&conn) {
            self.peers.remove(&other);
            self.blocked.remove(&other);
            let _ = ctx.close(other, 1001, "peer left");
        }
    }
}
