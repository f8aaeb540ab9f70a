//! Tracing from C: `wskit_ctx_set_tracer` over `net::Context::set_tracer` (handshake bytes and
//! every frame header, both directions), like the frame view of a browser's developer tools.

use std::ffi::c_void;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::net::{ConnId, Direction, TraceEvent, Tracer};

use super::ctx::wskit_ctx;
use super::status::wskit_status;

/// What a `wskit_trace` describes.
/// cbindgen:prefix-with-name=false
#[repr(u32)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum wskit_trace_kind {
    /// Bytes of the HTTP upgrade request or response (`data`/`len`; received bytes may include
    /// the start of the first frames).
    WSKIT_TRACE_HANDSHAKE = 1,
    /// A frame header: `opcode`, `fin`, `rsv`, `payload_len`.
    WSKIT_TRACE_FRAME = 2,
}

/// Which way traced bytes went.
/// cbindgen:prefix-with-name=false
#[repr(u32)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum wskit_trace_direction {
    /// From the peer.
    WSKIT_TRACE_RECEIVED = 1,
    /// To the peer.
    WSKIT_TRACE_SENT = 2,
}

/// One traced item, valid only during the tracer call.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct wskit_trace {
    /// The connection.
    pub conn: u64,
    /// Handshake bytes or a frame header.
    pub kind: wskit_trace_kind,
    /// Received or sent.
    pub direction: wskit_trace_direction,
    /// FRAME: the opcode (0 continuation, 1 text, 2 binary, 8 close, 9 ping, 10 pong).
    pub opcode: u8,
    /// FRAME: the FIN bit.
    pub fin: bool,
    /// FRAME: RSV1-3 (RSV1 = 0b100).
    pub rsv: u8,
    /// FRAME: the payload length.
    pub payload_len: u64,
    /// HANDSHAKE: the bytes (not NUL-terminated: use `len`); FRAME: NULL.
    pub data: *const u8,
    /// Length of `data`.
    pub len: usize,
}

/// The tracer callback: `user_data` as given to `wskit_ctx_set_tracer`, and the item.
pub type wskit_trace_fn = Option<unsafe extern "C" fn(user_data: *mut c_void, trace: *const wskit_trace)>;

/// A C tracer inside `net`.
struct CTracer {
    f: unsafe extern "C" fn(*mut c_void, *const wskit_trace),
    user_data: *mut c_void,
    /// The context's `in_tracer` flag: set during the C call so calls back into the context are
    /// refused.
    in_tracer: Arc<AtomicBool>,
}

// SAFETY: `net::Tracer` is `Send` because a `net::Context` may move to another thread. The tracer
// is only ever called by its context, on the thread driving it (the loop thread); `user_data` is
// the application's pointer, which it gave for exactly those calls (documented: the callback runs
// on whichever thread drives the context). `f` is a plain function pointer.
unsafe impl Send for CTracer {}

impl Tracer for CTracer {
    fn trace(&mut self, conn: ConnId, event: &TraceEvent<'_>) {
        let direction = |d: Direction| match d {
            Direction::Received => wskit_trace_direction::WSKIT_TRACE_RECEIVED,
            Direction::Sent => wskit_trace_direction::WSKIT_TRACE_SENT,
        };
        let item = match *event {
            TraceEvent::Handshake { direction: d, bytes } => wskit_trace {
                conn: conn.as_u64(),
                kind: wskit_trace_kind::WSKIT_TRACE_HANDSHAKE,
                direction: direction(d),
                opcode: 0,
                fin: false,
                rsv: 0,
                payload_len: 0,
                data: bytes.as_ptr(),
                len: bytes.len(),
            },
            TraceEvent::Frame {
                direction: d,
                opcode,
                fin,
                rsv,
                len,
            } => wskit_trace {
                conn: conn.as_u64(),
                kind: wskit_trace_kind::WSKIT_TRACE_FRAME,
                direction: direction(d),
                opcode: opcode as u8,
                fin,
                rsv,
                payload_len: len,
                data: std::ptr::null(),
                len: 0,
            },
        };
        self.in_tracer.store(true, Ordering::Relaxed);
        // SAFETY: a C function pointer registered with `wskit_ctx_set_tracer`; `item` and the bytes
        // it points to are valid for the call.
        unsafe { (self.f)(self.user_data, &item) };
        self.in_tracer.store(false, Ordering::Relaxed);
    }
}

crate::ffi_fn! {
    /// Sets (or, with `fn` NULL, removes) the tracer: `fn` is called with every handshake's bytes
    /// and every frame header, both directions, on every connection of the context. Off (the
    /// default) costs nothing. The tracer runs on the loop thread, inside whichever wskit call
    /// moves the bytes (`wskit_ctx_poll`, `wskit_ctx_flush`, a send, ...); it must not call wskit
    /// functions on the same context (they return `WSKIT_ERR_REENTRANT`). `user_data` is passed
    /// back as is. Loop thread only; may be called from a callback.
    ///
    /// Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG`.
    fn wskit_ctx_set_tracer(ctx: *mut wskit_ctx, tracer: wskit_trace_fn, user_data: *mut c_void) -> wskit_status {
        let ctx = try_ctx!(ctx);
        let boxed = tracer.map(|f| {
            Box::new(CTracer {
                f,
                user_data,
                in_tracer: ctx.in_tracer.clone(),
            }) as Box<dyn Tracer>
        });
        ctx.with_net(|net| net.set_tracer(boxed));
        wskit_status::WSKIT_OK
    }
}
