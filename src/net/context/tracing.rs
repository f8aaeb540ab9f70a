//! The trace hook's glue: installing a tracer, handing it handshake bytes and frame headers.

use crate::net::id::ConnId;
use crate::net::trace::{Direction, TraceEvent, Tracer};

use super::Context;

impl Context {
    /// Installs a tracer that sees handshakes and frame headers (see [`Tracer`]); `None` removes it.
    /// Without one, tracing costs nothing.
    pub fn set_tracer(&mut self, tracer: Option<Box<dyn Tracer>>) {
        let enabled = tracer.is_some();
        self.tracer = tracer;
        for id in self.conns.ids() {
            if let Some(connection) = self.conns.get_mut(id).and_then(|c| c.endpoint.connection()) {
                connection.set_frame_log(enabled);
            }
        }
    }

    /// Hands recorded frame headers of `id` to the tracer.
    pub(super) fn drain_frame_log(&mut self, id: ConnId) {
        let Some(tracer) = self.tracer.as_mut() else {
            return;
        };
        let Some(connection) = self.conns.get_mut(id).and_then(|c| c.endpoint.connection()) else {
            return;
        };
        for record in connection.take_frame_log() {
            let direction = if record.sent {
                Direction::Sent
            } else {
                Direction::Received
            };
            let h = record.header;
            let event = TraceEvent::Frame {
                direction,
                opcode: h.opcode,
                fin: h.fin,
                rsv: h.rsv,
                len: h.payload_len,
            };
            tracer.trace(id, &event);
        }
    }

    pub(super) fn trace_output(&mut self, id: ConnId) {
        if let Some(tracer) = self.tracer.as_mut() {
            if let Some(conn) = self.conns.get(id) {
                let out = conn.endpoint.output();
                if !out.is_empty() {
                    tracer.trace(
                        id,
                        &TraceEvent::Handshake {
                            direction: Direction::Sent,
                            bytes: out,
                        },
                    );
                }
            }
        }
    }
}
