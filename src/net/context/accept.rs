//! The server's upgrade decision: the Origin allowlist, the accept hook, answers given later
//! (`Decision::Defer`, then `Context::accept`/`reject`), and what an accepted connection keeps.

use std::net::SocketAddr;

use crate::net::error::{Error, Result};
use crate::net::handler::{AcceptRequest, Decision, Handler, OpenInfo};
use crate::net::id::{ConnId, ListenerId};
use crate::proto::handshake::{AcceptOptions, HandshakeError, Request, write_reject};
use crate::proto::{DeflateConfig, Role};

use super::{
    ACCEPT_PENDING, AWAITING_PONG, Context, Deferred, Details, Kept, Opening, Origin, PULL_BUFFERED,
    not_found,
};

impl Context {
    pub(super) fn handle_request(&mut self, handler: &mut dyn Handler, id: ConnId) {
        let Some(conn) = self.conns.get(id) else { return };
        let Origin::Accepted(index) = conn.origin else {
            return;
        };
        let Some(request) = conn.endpoint.request().cloned() else {
            return;
        };
        let peer = conn.socket.as_ref().and_then(|s| s.peer_addr().ok());
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
                let supported = listener.options.subprotocols.clone();
                let accept = AcceptRequest {
                    conn: id,
                    listener: ListenerId(index + 1),
                    request: &request,
                    peer,
                    supported: &supported,
                };
                self.deciding = Some(id);
                let returned = handler.on_accept(self, &accept);
                self.deciding = None;
                // An answer given through `Context::accept`/`reject` during the call wins.
                self.decided.take().unwrap_or(returned)
            }
        };
        let deflate = self.deflate_policy(index);
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
                let negotiated = match conn.endpoint.accept_with_deflate(&options, &deflate) {
                    Ok(negotiated) => negotiated,
                    Err(err) => {
                        // The application's answer was invalid (e.g. a subprotocol not offered).
                        let _ = conn.endpoint.reject(500, &[], b"invalid accept decision");
                        self.mark_dirty(id);
                        self.defer_error(Some(id), Error::Handshake(err));
                        return;
                    }
                };
                self.accepted(id, index, &request, subprotocol.as_deref());
                let info = OpenInfo {
                    role: Role::Server,
                    listener: Some(ListenerId(index + 1)),
                    subprotocol: subprotocol.as_deref(),
                    path: &request.path,
                    query: request.query.as_deref(),
                    headers: &request.headers,
                    peer,
                    deflate: negotiated,
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
                    self.defer_error(Some(id), Error::Handshake(err));
                }
                self.trace_output(id);
                self.mark_dirty(id);
            }
            Decision::Defer => conn.flags |= ACCEPT_PENDING,
        }
    }

    /// The endpoint accepted `request`: keep what the listener asks for, start the connection's
    /// timers and queue the 101 response for writing.
    fn accepted(&mut self, id: ConnId, listener: u32, request: &Request, subprotocol: Option<&str>) {
        let options = &self.listeners[listener as usize]
            .as_ref()
            .expect("listeners are never removed")
            .options;
        let kept = (options.keep_request || !options.keep_headers.is_none()).then(|| Kept {
            request: options.keep_request.then(|| {
                (
                    Box::from(request.path.as_str()),
                    request.query.as_deref().map(Box::from),
                )
            }),
            headers: options.keep_headers.select(&request.headers),
        });
        let details = Details::new(subprotocol, kept);
        let Some(conn) = self.conns.get_mut(id) else {
            return;
        };
        conn.details = details;
        conn.flags &= !(AWAITING_PONG | ACCEPT_PENDING);
        self.trace_output(id);
        self.opened(id);
        self.mark_dirty(id);
    }

    /// Accepts the upgrade request of `conn`, selecting `subprotocol` (one the client offered) and
    /// adding `headers` to the 101 response.
    ///
    /// - Inside [`Handler::on_accept`] for `conn`: the answer is checked now and applied when
    ///   `on_accept` returns, whose returned `Decision` is then ignored; `on_open` follows at once.
    /// - Later, for a request left pending with [`Decision::Defer`] (from any handler or from
    ///   outside `poll`): the 101 response is queued now and `on_open` is delivered at the next
    ///   `poll`, in order with the other events, followed by anything the client sent meanwhile.
    ///
    /// An invalid answer (a subprotocol the client did not offer, a reserved or malformed header)
    /// fails with [`Error::InvalidArgument`] and leaves the request pending. Fails with
    /// [`Error::InvalidState`] if no request of `conn` waits for a decision (not complete yet,
    /// already answered, or a client connection), [`Error::NotFound`] for a closed or unknown id.
    pub fn accept(
        &mut self,
        conn: ConnId,
        subprotocol: Option<&str>,
        headers: &[(String, String)],
    ) -> Result<()> {
        let options = AcceptOptions {
            subprotocol,
            extensions: &[],
            headers,
        };
        let entry = self.conns.get_mut(conn).ok_or_else(not_found)?;
        let Origin::Accepted(listener) = entry.origin else {
            return Err(no_request());
        };
        let Some(request) = entry.endpoint.request() else {
            return Err(no_request());
        };
        if self.deciding == Some(conn) {
            if self.decided.is_some() {
                return Err(Error::InvalidState("the upgrade request was already answered"));
            }
            request.write_accept(&options, &mut Vec::new()).map_err(invalid)?;
            self.decided = Some(Decision::Accept {
                subprotocol: subprotocol.map(str::to_owned),
                headers: headers.to_vec(),
            });
            return Ok(());
        }
        if !entry.has(ACCEPT_PENDING) {
            return Err(no_request());
        }
        let request = request.clone();
        let deflate = self.deflate_policy(listener);
        let entry = self.conns.get_mut(conn).ok_or_else(not_found)?;
        let negotiated = entry
            .endpoint
            .accept_with_deflate(&options, &deflate)
            .map_err(invalid)?;
        let peer: Option<SocketAddr> = entry.socket.as_ref().and_then(|s| s.peer_addr().ok());
        self.accepted(conn, listener, &request, subprotocol);
        // Read what arrived while the decision was pending (nothing was read meanwhile), and the
        // frames that came with the request.
        if let Some(entry) = self.conns.get_mut(conn) {
            entry.flags |= PULL_BUFFERED;
        }
        self.unread.push(conn);
        self.deferred.push_back(Deferred::Opened(
            conn,
            Box::new(Opening {
                listener: ListenerId(listener + 1),
                request,
                subprotocol: subprotocol.map(str::to_owned),
                peer,
                deflate: negotiated,
            }),
        ));
        Ok(())
    }

    /// Rejects the upgrade request of `conn` with an HTTP `status` (200-599, not 101), extra
    /// `headers` and a `body`; the connection is closed once the response is written. Where it may
    /// be called, and its errors, are as for [`Context::accept`] (a bad status or a reserved or
    /// malformed header fails with [`Error::InvalidArgument`] and leaves the request pending).
    pub fn reject(
        &mut self,
        conn: ConnId,
        status: u16,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<()> {
        let entry = self.conns.get_mut(conn).ok_or_else(not_found)?;
        if entry.endpoint.request().is_none() || !matches!(entry.origin, Origin::Accepted(_)) {
            return Err(no_request());
        }
        if self.deciding == Some(conn) {
            if self.decided.is_some() {
                return Err(Error::InvalidState("the upgrade request was already answered"));
            }
            write_reject(status, headers, body, &mut Vec::new()).map_err(invalid)?;
            self.decided = Some(Decision::Reject {
                status,
                headers: headers.to_vec(),
                body: body.to_vec(),
            });
            return Ok(());
        }
        if !entry.has(ACCEPT_PENDING) {
            return Err(no_request());
        }
        entry.endpoint.reject(status, headers, body).map_err(invalid)?;
        entry.flags &= !ACCEPT_PENDING;
        self.trace_output(conn);
        self.mark_dirty(conn);
        Ok(())
    }

    /// True if the upgrade request of `conn` waits for [`Context::accept`] or [`Context::reject`]:
    /// after [`Decision::Defer`], or inside its `on_accept` until one of them is called.
    pub fn is_accept_pending(&self, conn: ConnId) -> bool {
        let Some(entry) = self.conns.get(conn) else {
            return false;
        };
        if self.deciding == Some(conn) {
            return self.decided.is_none();
        }
        // (`ACCEPT_PENDING` also marks a plain HTTP request waiting for its answer.)
        entry.has(ACCEPT_PENDING) && entry.endpoint.request().is_some()
    }

    /// Delivers the `on_open` of a request accepted after its `on_accept` (the frames that came
    /// with the request follow when `readable` takes the connection from the unread list).
    pub(super) fn deliver_opened(&mut self, handler: &mut dyn Handler, conn: ConnId, opening: &Opening) {
        let info = OpenInfo {
            role: Role::Server,
            listener: Some(opening.listener),
            subprotocol: opening.subprotocol.as_deref(),
            path: &opening.request.path,
            query: opening.request.query.as_deref(),
            headers: &opening.request.headers,
            peer: opening.peer,
            deflate: opening.deflate,
        };
        handler.on_open(self, conn, &info);
    }
}

impl Context {
    /// The permessage-deflate policy of listener `index`.
    fn deflate_policy(&self, index: u32) -> DeflateConfig {
        self.listeners[index as usize]
            .as_ref()
            .expect("listeners are never removed")
            .options
            .deflate
    }
}

fn no_request() -> Error {
    Error::InvalidState("no upgrade request of this connection waits for a decision")
}

/// An invalid answer of the application.
fn invalid(err: HandshakeError) -> Error {
    Error::InvalidArgument(err.to_string())
}
