//! `wskit_ctx_stats`: what a context holds, for tests, soak runs and memory diagnostics.

use super::ctx::wskit_ctx;
use super::status::wskit_status;

/// What `wskit_ctx_stats` reports. New fields are only ever appended.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct wskit_stats {
    /// Connection slots in use (any state: handshake, open, closing).
    pub connections: usize,
    /// Listening sockets.
    pub listeners: usize,
    /// Timer entries, live and stale (0 once no connection is left).
    pub timer_entries: usize,
    /// Drained send buffers kept for reuse (at most 64; 0 once no connection is left).
    pub pooled_buffers: usize,
    /// Their capacity in bytes.
    pub pooled_bytes: usize,
    /// Connections whose reading paused in the middle of a read, with the rest of it held.
    pub held_inputs: usize,
    /// Bytes held for them (at most one read buffer each).
    pub held_bytes: usize,
    /// Events waiting for delivery at the next `wskit_ctx_poll`.
    pub pending_events: usize,
    /// Listeners backing off after `accept` ran out of file descriptors.
    pub accept_backoffs: usize,
}

crate::ffi_fn! {
    /// Fills `out` with the context's counters (see `wskit_stats`). Cheap (no connection is
    /// visited). Loop thread only; may be called from a callback.
    ///
    /// Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG` (ctx or out NULL).
    fn wskit_ctx_stats(ctx: *const wskit_ctx, out: *mut wskit_stats) -> wskit_status {
        let ctx = try_ctx!(ctx);
        non_null!(out);
        let s = ctx.with_net(|net| net.stats());
        write_out!(out, wskit_stats {
            connections: s.connections,
            listeners: s.listeners,
            timer_entries: s.timer_entries,
            pooled_buffers: s.pooled_buffers,
            pooled_bytes: s.pooled_bytes,
            held_inputs: s.held_inputs,
            held_bytes: s.held_bytes,
            pending_events: s.pending_events,
            accept_backoffs: s.accept_backoffs,
        });
        wskit_status::WSKIT_OK
    }
}
