//! The server's upgrade decision: the Origin allowlist, the accept hook, and answering the request.

use crate::net::error::Error;
use crate::net::handler::{AcceptRequest, Decision, Handler, OpenInfo};
use crate::net::id::{ConnId, ListenerId};
use crate::proto::Role;
use crate::proto::handshake::AcceptOptions;

use super::{AWAITING_PONG, Context, Deferred, Origin};

impl Context {
    pub(super) fn handle_request(&mut self, handler: &mut dyn Handler, id: ConnId) {
        let Some(conn) = self.conns.get(id) else { return };
        let Origin::Accepted(index) = conn.origin else {
            return;
        };
        let Some(request) = conn.endpoint.request().cloned() else {
            return;
        };
        let peer = conn.socket.as_ref().and_then(|s| s.tcp().peer_addr().ok());
        let listener = self.listeners[index as usize]
            .as_ref()
            .expect("listeners are never removed");
        let allowed = &listener.options.allowed_origins;
        let decision = match &request.origin {
            Some(origin)
                if !allowed.is_empty() && !allowed.iter().any(|a| a.eq_ignore_ascii_case(origin)) =>
            {
                Decision::reject(403, "origin not allowed")
            }
            _ => {
                let accept = AcceptRequest {
                    conn: id,
                    listener: ListenerId(index + 1),
                    request: &request,
                    peer,
                };
                handler.on_accept(self, &accept)
            }
        };
        let Some(conn) = self.conns.get_mut(id) else {
            return;
        };
        match decision {
            Decision::Accept { subprotocol, headers } => {
                let options = AcceptOptions {
                    subprotocol: subprotocol.as_deref(),
                    extensions: &[],
                    headers: &headers,
                };
                if let Err(err) = conn.endpoint.accept(&options) {
                    // The application's answer was invalid (e.g. a subprotocol not offered).
                    let _ = conn.endpoint.reject(500, &[], b"invalid accept decision");
                    self.mark_dirty(id);
                    self.deferred
                        .push_back(Deferred::Error(Some(id), Error::Handshake(err)));
                    return;
                }
                conn.subprotocol = subprotocol.as_deref().map(|s| Box::new(Box::from(s)));
                conn.flags &= !AWAITING_PONG;
                self.trace_output(id);
                self.opened(id);
                self.mark_dirty(id);
                let info = OpenInfo {
                    role: Role::Server,
                    listener: Some(ListenerId(index + 1)),
                    subprotocol: subprotocol.as_deref(),
                    path: &request.path,
                    query: request.query.as_deref(),
                    headers: &request.headers,
                    peer,
                };
                handler.on_open(self, id, &info);
            }
            Decision::Reject {
                status,
                headers,
                body,
            } => {
                if let Err(err) = conn.endpoint.reject(status, &headers, &body) {
                    let _ = conn.endpoint.reject(500, &[], b"invalid reject decision");
                    self.deferred
                        .push_back(Deferred::Error(Some(id), Error::Handshake(err)));
                }
                self.trace_output(id);
                self.mark_dirty(id);
            }
        }
    }
}
