//! The Bridge: the `net::Handler` of a C context. It turns each `net` event into a `wskit_event`
//! and either calls the C callback of its kind or queues it (queue mode).
//!
//! - Callback mode fills the event on the stack; message, fragment, ping and pong events point
//!   straight into `net`'s buffers (no allocation per message, one look-up of the mode and the
//!   callback). Rarer events (listen, accept, open, writable, close, error, rejected) own their
//!   strings (each NUL-terminated).
//! - Queue mode stores [`OwnedEvent`]s and counts their bytes against the bound (see `queue.rs`).
//! - Panics: a panic in this code (a wskit bug) unwinds through `net::Context::poll`, which is
//!   panic-safe (it resets its state and aborts the connection being read), to the `ffi_fn!`
//!   boundary of `wskit_ctx_poll` (`WSKIT_ERR_PANIC`), whose poll guard resets this context's
//!   `in_poll` and `active`: the context stays usable.

use std::ffi::c_void;
use std::net::SocketAddr;

use crate::net::{
    self, AcceptRequest, ConnId, Context, Decision, Fragment, Handler, HttpRequestInfo, ListenerId, Message,
    OpenInfo, ReconnectDecision, ReconnectEvent, UndeliveredReason,
};
use crate::proto::CloseInfo;
use crate::proto::MessageKind;
use crate::proto::handshake::HandshakeError;

use super::callbacks::Slot;
use super::ctx::{Mode, wskit_ctx};
use super::event::{OwnedEvent, wskit_event, wskit_event_kind};
use super::queue::{QUEUE_ACCEPT_EVENTS, QUEUE_CLOSE, QUEUE_HTTP_EVENTS};
use super::status::wskit_status;

use wskit_event_kind::*;

/// The handler a context polls with.
pub(crate) struct Bridge<'a> {
    pub(crate) ffi: &'a wskit_ctx,
}

#[cfg(test)]
thread_local! {
    /// Test hook: the next message event panics inside the bridge.
    pub(crate) static PANIC_ON_MESSAGE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

impl<'a> Bridge<'a> {
    pub(crate) fn new(ffi: &'a wskit_ctx) -> Self {
        Self { ffi }
    }

    fn ctx_ptr(&self) -> *mut wskit_ctx {
        std::ptr::from_ref(self.ffi).cast_mut()
    }

    /// Calls the C callback of `event.kind`, if one is set, with `ctx` reachable for the calls it
    /// makes.
    #[inline]
    fn call(&self, ctx: &mut Context, event: &wskit_event) {
        let slot = self.ffi.state.borrow().callbacks.get(event.kind);
        self.call_slot(ctx, slot, event);
    }

    /// Calls `slot` (if set) with `event`.
    #[inline]
    fn call_slot(&self, ctx: &mut Context, slot: Slot, event: &wskit_event) {
        let Some((f, user_data)) = slot else {
            return;
        };
        let ctx_ptr = self.ctx_ptr();
        let previous = self.ffi.set_active(std::ptr::from_mut(ctx));
        // SAFETY: a C function pointer registered with `wskit_ctx_on_<kind>`; `event` and what it
        // points to stay valid for the call, and `active` lets the callback's wskit calls reach
        // `ctx` (see ctx.rs).
        unsafe { f(user_data, ctx_ptr, event) };
        self.ffi.set_active(previous);
    }

    /// Delivers an owned event: queued (queue mode) or shown to its callback (callback mode).
    fn deliver(&self, ctx: &mut Context, event: OwnedEvent) {
        let mode = self.ffi.state.borrow().mode;
        match mode {
            Mode::Queue => self.push(ctx, event),
            Mode::Callbacks => {
                let mut headers = Vec::new();
                let view = event.view(&mut headers);
                self.call(ctx, &view);
            }
            Mode::Unset => {}
        }
    }

    /// Queues `event`, applying the overflow policy to data events.
    fn push(&self, ctx: &mut Context, event: OwnedEvent) {
        let mut state = self.ffi.state.borrow_mut();
        let queue = &mut state.queue;
        let size = event.counted();
        let is_data = matches!(
            event.kind,
            WSKIT_EVENT_MESSAGE | WSKIT_EVENT_FRAGMENT | WSKIT_EVENT_PING | WSKIT_EVENT_PONG
        );
        if is_data && queue.flags & QUEUE_CLOSE != 0 && queue.bytes.saturating_add(size) > queue.max_bytes {
            queue.overflows += 1;
            drop(state);
            // Already closing (an earlier overflow) is fine: the event is dropped either way.
            let _ = ctx.close(ConnId::from_u64(event.conn), 1013, "event queue full");
            return;
        }
        queue.push(event);
    }

    fn user_data(ctx: &Context, conn: ConnId) -> u64 {
        ctx.user_data(conn).unwrap_or(0)
    }

    /// Message, fragment, ping and pong: borrowed data, no allocation in callback mode, one look
    /// at the state (mode and callback together).
    #[inline(always)]
    fn data_event(
        &self,
        ctx: &mut Context,
        conn: ConnId,
        kind: wskit_event_kind,
        flags: (bool, bool, bool),
        data: &[u8],
    ) {
        let (is_text, first, last) = flags;
        let (mode, slot) = {
            let state = self.ffi.state.borrow();
            (state.mode, state.callbacks.get(kind))
        };
        match mode {
            Mode::Callbacks => {
                if slot.is_none() {
                    return;
                }
                let event = wskit_event {
                    kind,
                    conn: conn.as_u64(),
                    conn_user_data: Self::user_data(ctx, conn) as usize as *mut c_void,
                    is_text,
                    first,
                    last,
                    data: data.as_ptr(),
                    len: data.len(),
                    ..wskit_event::empty(kind)
                };
                self.call_slot(ctx, slot, &event);
            }
            Mode::Queue => {
                let mut owned = OwnedEvent::new(kind).with_data(data);
                owned.conn = conn.as_u64();
                owned.user_data = Self::user_data(ctx, conn);
                owned.is_text = is_text;
                owned.first = first;
                owned.last = last;
                self.push(ctx, owned);
            }
            Mode::Unset => {}
        }
    }
}

fn addr_event(listener: ListenerId, addr: SocketAddr) -> OwnedEvent {
    let mut event = OwnedEvent::new(WSKIT_EVENT_LISTEN).with_data(addr.to_string().as_bytes());
    event.listener = listener.as_u32();
    event.code = u32::from(addr.port());
    event
}

impl Handler for Bridge<'_> {
    fn should_pause(&self) -> bool {
        let mut state = self.ffi.state.borrow_mut();
        state.mode == Mode::Queue && state.queue.should_pause()
    }

    fn on_listen(&mut self, ctx: &mut Context, listener: ListenerId, addr: SocketAddr) {
        self.deliver(ctx, addr_event(listener, addr));
    }

    fn on_listen_unix(&mut self, ctx: &mut Context, listener: ListenerId, path: &std::path::Path) {
        use std::os::unix::ffi::OsStrExt;
        let mut event = OwnedEvent::new(WSKIT_EVENT_LISTEN).with_data(path.as_os_str().as_bytes());
        event.listener = listener.as_u32();
        self.deliver(ctx, event);
    }

    fn on_accept(&mut self, ctx: &mut Context, request: &AcceptRequest<'_>) -> Decision {
        let (mode, has_callback, accept_events) = {
            let state = self.ffi.state.borrow();
            (
                state.mode,
                state.callbacks.get(WSKIT_EVENT_ACCEPT).is_some(),
                state.queue.flags & QUEUE_ACCEPT_EVENTS != 0,
            )
        };
        let deliver = match mode {
            Mode::Callbacks => has_callback,
            Mode::Queue => accept_events,
            Mode::Unset => false,
        };
        if !deliver {
            return request.accept_default();
        }
        let r = request.request;
        let mut event = OwnedEvent::new(WSKIT_EVENT_ACCEPT)
            .with_subprotocol(request.default_subprotocol())
            .with_path(&r.path, r.query.as_deref())
            .with_peer(request.peer)
            .with_headers(r.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        event.conn = request.conn.as_u64();
        event.listener = request.listener.as_u32();
        event.user_data = Bridge::user_data(ctx, request.conn);
        if mode == Mode::Queue {
            // Queue mode: every request waits for wskit_conn_accept / wskit_conn_reject.
            self.push(ctx, event);
            return Decision::Defer;
        }
        let previous = self
            .ffi
            .state
            .borrow_mut()
            .deciding
            .replace((request.conn.as_u64(), false));
        let mut headers = Vec::new();
        let view = event.view(&mut headers);
        self.call(ctx, &view);
        let deciding = std::mem::replace(&mut self.ffi.state.borrow_mut().deciding, previous);
        if deciding.is_some_and(|(_, deferred)| deferred) {
            Decision::Defer
        } else {
            // An answer given inside the callback (wskit_conn_accept/reject) wins over this.
            request.accept_default()
        }
    }

    fn on_http_request(&mut self, ctx: &mut Context, request: &HttpRequestInfo<'_>) {
        let deliver = {
            let state = self.ffi.state.borrow();
            match state.mode {
                Mode::Callbacks => state.callbacks.get(WSKIT_EVENT_HTTP_REQUEST).is_some(),
                Mode::Queue => state.queue.flags & QUEUE_HTTP_EVENTS != 0,
                Mode::Unset => false,
            }
        };
        let r = request.request;
        if !deliver {
            let _ = ctx.http_serve_default(request.conn, r);
            return;
        }
        let conn = request.conn.as_u64();
        {
            // Keep the head for `wskit_http_serve_static`; forget heads of connections gone
            // unanswered so the map stays as small as the requests in flight.
            let mut state = self.ffi.state.borrow_mut();
            if state.http_requests.len() >= 64 {
                state
                    .http_requests
                    .retain(|c, _| ctx.is_http_pending(ConnId::from_u64(*c)));
            }
            state.http_requests.insert(conn, r.clone_head());
        }
        let mut event = OwnedEvent::new(WSKIT_EVENT_HTTP_REQUEST)
            .with_subprotocol(Some(&r.method))
            .with_path(&r.path, r.query.as_deref())
            .with_peer(request.peer)
            .with_headers(r.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())))
            .with_data(&r.body);
        event.conn = conn;
        event.listener = request.listener.as_u32();
        event.code = 10 + u32::from(r.minor_version);
        event.user_data = Bridge::user_data(ctx, request.conn);
        self.deliver(ctx, event);
    }

    fn on_open(&mut self, ctx: &mut Context, conn: ConnId, info: &OpenInfo<'_>) {
        if self.ffi.state.borrow().mode == Mode::Unset {
            return;
        }
        let mut event = OwnedEvent::new(WSKIT_EVENT_OPEN)
            .with_subprotocol(info.subprotocol)
            .with_path(info.path, info.query)
            .with_peer(info.peer)
            .with_headers(info.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        event.conn = conn.as_u64();
        event.listener = info.listener.map_or(0, ListenerId::as_u32);
        event.user_data = Bridge::user_data(ctx, conn);
        self.deliver(ctx, event);
    }

    #[inline]
    fn on_message(&mut self, ctx: &mut Context, conn: ConnId, message: Message<'_>) {
        #[cfg(test)]
        if PANIC_ON_MESSAGE.with(|p| p.replace(false)) {
            panic!("test hook: panic in the bridge");
        }
        let is_text = matches!(message, Message::Text(_));
        self.data_event(
            ctx,
            conn,
            WSKIT_EVENT_MESSAGE,
            (is_text, false, false),
            message.as_bytes(),
        );
    }

    fn on_fragment(&mut self, ctx: &mut Context, conn: ConnId, fragment: Fragment<'_>) {
        let flags = (fragment.kind == MessageKind::Text, fragment.first, fragment.last);
        self.data_event(ctx, conn, WSKIT_EVENT_FRAGMENT, flags, fragment.data);
    }

    fn on_ping(&mut self, ctx: &mut Context, conn: ConnId, payload: &[u8]) {
        self.data_event(ctx, conn, WSKIT_EVENT_PING, (false, false, false), payload);
    }

    fn on_pong(&mut self, ctx: &mut Context, conn: ConnId, payload: &[u8]) {
        self.data_event(ctx, conn, WSKIT_EVENT_PONG, (false, false, false), payload);
    }

    fn on_writable(&mut self, ctx: &mut Context, conn: ConnId) {
        let mut event = OwnedEvent::new(WSKIT_EVENT_WRITABLE);
        event.conn = conn.as_u64();
        event.user_data = Bridge::user_data(ctx, conn);
        self.deliver(ctx, event);
    }

    fn on_close(&mut self, ctx: &mut Context, conn: ConnId, info: &CloseInfo<'_>) {
        let mut event = OwnedEvent::new(WSKIT_EVENT_CLOSE).with_data(info.reason.as_bytes());
        event.conn = conn.as_u64();
        event.user_data = Bridge::user_data(ctx, conn);
        event.code = u32::from(info.code);
        event.clean = info.clean;
        // The strings handed out for this connection live until its close event is consumed:
        // kept with the queued event, or dropped after the callback.
        event.keep = self.ffi.state.borrow_mut().conn_strings.remove(&conn.as_u64());
        self.deliver(ctx, event);
    }

    fn on_error(&mut self, ctx: &mut Context, conn: Option<ConnId>, error: &net::Error) {
        let user_data = conn.map_or(0, |c| Bridge::user_data(ctx, c));
        let conn = conn.map_or(0, ConnId::as_u64);
        if let net::Error::Handshake(HandshakeError::Rejected {
            status,
            headers,
            body,
            ..
        }) = error
        {
            let mut event = OwnedEvent::new(WSKIT_EVENT_REJECTED)
                .with_data(body)
                .with_headers(headers.iter().map(|(n, v)| (n.as_str(), v.as_str())));
            event.conn = conn;
            event.user_data = user_data;
            event.code = u32::from(*status);
            self.deliver(ctx, event);
        }
        let status = wskit_status::from(error);
        let proxy_headers = super::proxy::error_headers(error);
        let mut event = OwnedEvent::new(WSKIT_EVENT_ERROR)
            .with_data(error.to_string().as_bytes())
            .with_headers(proxy_headers.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        event.conn = conn;
        event.user_data = user_data;
        event.code = status as u32;
        self.deliver(ctx, event);
    }

    fn on_reconnect(
        &mut self,
        ctx: &mut Context,
        conn: ConnId,
        event: &ReconnectEvent<'_>,
    ) -> ReconnectDecision {
        // The callback reshapes or stops through wskit_conn_reconnect_delay / _stop_reconnect.
        let mut event = super::reconnect::reconnect_event(ctx, conn, event);
        // The strings handed out for the connection that dropped (subprotocol, headers, ...) live
        // until this event is consumed; the next connection gets fresh copies.
        event.keep = self.ffi.state.borrow_mut().conn_strings.remove(&conn.as_u64());
        self.deliver(ctx, event);
        ReconnectDecision::Proceed
    }

    fn on_undelivered(
        &mut self,
        ctx: &mut Context,
        conn: ConnId,
        message: Message<'_>,
        reason: UndeliveredReason,
    ) {
        let event =
            super::reconnect::undelivered_event(ctx, conn, message.kind(), message.as_bytes(), reason);
        self.deliver(ctx, event);
    }
}
