//! permessage-deflate (RFC 7692) from C: the policy setters of `wskit_config` and the parameters a
//! connection negotiated (`wskit_conn_deflate_params`).
//!
//! A config serves both roles, and the roles have different defaults (`DeflateConfig::SERVER`
//! for listeners, `DeflateConfig::CLIENT` for client connections), so the setters record
//! overrides that are applied on top of the role's default when the config is used.

use crate::net::ConnId;
use crate::proto::{DeflateConfig, DeflateParams};

use super::config::{set, wskit_config};
use super::ctx::wskit_ctx;
use super::status::wskit_status;

/// What the `wskit_config_set_deflate*` setters changed; unset fields keep the role's default.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct DeflateOverrides {
    enabled: Option<bool>,
    no_context_takeover: Option<(bool, bool)>,
    max_window_bits: Option<(u8, u8)>,
    level: Option<(u8, u8)>,
    min_size: Option<usize>,
    compact_idle: Option<bool>,
}

impl DeflateOverrides {
    /// The role's default policy with these overrides applied.
    pub(crate) fn apply(&self, mut policy: DeflateConfig) -> DeflateConfig {
        if let Some(enabled) = self.enabled {
            policy.enabled = enabled;
        }
        if let Some((server, client)) = self.no_context_takeover {
            policy.server_no_context_takeover = server;
            policy.client_no_context_takeover = client;
        }
        if let Some((server, client)) = self.max_window_bits {
            policy.server_max_window_bits = server;
            policy.client_max_window_bits = client;
        }
        if let Some((level, mem_level)) = self.level {
            policy.level = level;
            policy.mem_level = mem_level;
        }
        if let Some(min_size) = self.min_size {
            policy.min_size = min_size;
        }
        if let Some(compact_idle) = self.compact_idle {
            policy.compact_idle = compact_idle;
        }
        policy
    }
}

/// The permessage-deflate parameters a connection's handshake agreed on
/// (`wskit_conn_deflate_params`). "Server" and "client" name the two directions, as in RFC 7692:
/// `server_*` applies to what the server sends, `client_*` to what the client sends.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct wskit_deflate_params {
    /// Whether permessage-deflate was negotiated at all. When false the other fields are 0.
    pub negotiated: bool,
    /// The server resets its compressor after every message.
    pub server_no_context_takeover: bool,
    /// The client resets its compressor after every message.
    pub client_no_context_takeover: bool,
    /// LZ77 window of the server's compressor, 8 to 15 bits.
    pub server_max_window_bits: u8,
    /// LZ77 window of the client's compressor, 8 to 15 bits.
    pub client_max_window_bits: u8,
}

impl From<Option<DeflateParams>> for wskit_deflate_params {
    fn from(params: Option<DeflateParams>) -> Self {
        let Some(p) = params else {
            return Self::default();
        };
        Self {
            negotiated: true,
            server_no_context_takeover: p.server_no_context_takeover,
            client_no_context_takeover: p.client_no_context_takeover,
            server_max_window_bits: p.server_max_window_bits,
            client_max_window_bits: p.client_max_window_bits,
        }
    }
}

fn window_bits_problem(server: u8, client: u8) -> Option<&'static str> {
    let valid = |bits: u8| (8..=15).contains(&bits);
    (!valid(server) || !valid(client)).then_some("window bits must be 8 to 15")
}

fn level_problem(level: u8, mem_level: u8) -> Option<&'static str> {
    if level > 9 {
        Some("deflate level must be 0 to 9")
    } else if !(1..=9).contains(&mem_level) {
        Some("deflate memory level must be 1 to 9")
    } else {
        None
    }
}

crate::ffi_fn! {
    /// Turns permessage-deflate (RFC 7692) on or off. On: a listener answers the first acceptable
    /// offer of each request, a client offers it. Default on in both roles:
    /// - listeners ask for no context takeover both ways, so each message borrows a compressor or
    ///   decompressor from one pool per context and an idle compressed connection holds no codec
    ///   state (15-bit windows, level 6, memory level 8: their cost is the pool's, not each
    ///   connection's);
    /// - clients offer context takeover with 12-bit windows and memory level 5 (Python
    ///   `websockets`' memory-saving settings), and pool their codecs too when the server asks for
    ///   no context takeover.
    ///
    /// Messages under the minimum size (`wskit_config_set_deflate_min_size`, default 64 bytes) go
    /// uncompressed. The inflated size counts against `wskit_config_set_max_message_size` while
    /// inflating (1009 past it: a decompression bomb never grows memory past the limit), and
    /// invalid compressed data closes with 1007. Any thread, on a config no other thread uses.
    ///
    /// Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG` (config NULL).
    fn wskit_config_set_deflate(config: *mut wskit_config, enabled: bool) -> wskit_status {
        // SAFETY: this function's contract (config NULL or a live config) is `set`'s.
        unsafe { set(config, None, |c| c.deflate.enabled = Some(enabled)) }
    }
}

crate::ffi_fn! {
    /// Context takeover: `server` true asks (listener) or offers (client) that the server reset
    /// its compressor after every message, `client` the same for the client's compressor. Without
    /// takeover a direction keeps no codec state between messages (its codecs come from the
    /// context's pool), at some cost in ratio for streams of similar messages. Default: listeners
    /// true, true; clients false, false (a listener that asks wins either way).
    ///
    /// Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG` (config NULL).
    fn wskit_config_set_deflate_no_context_takeover(config: *mut wskit_config, server: bool, client: bool) -> wskit_status {
        // SAFETY: this function's contract (config NULL or a live config) is `set`'s.
        unsafe { set(config, None, |c| c.deflate.no_context_takeover = Some((server, client))) }
    }
}

crate::ffi_fn! {
    /// The largest LZ77 windows, 8 to 15 bits, for the server's and the client's compressor: a
    /// listener never agrees to more, a client offers these. Smaller windows cost less memory per
    /// connection that keeps its context and compress repetitive data a little less well.
    /// Default: listeners 15, 15; clients 12, 12.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (config NULL) or `WSKIT_ERR_INVALID_ARG`.
    fn wskit_config_set_deflate_window_bits(config: *mut wskit_config, server_bits: u8, client_bits: u8) -> wskit_status {
        let problem = window_bits_problem(server_bits, client_bits);
        // SAFETY: this function's contract (config NULL or a live config) is `set`'s.
        unsafe { set(config, problem, |c| c.deflate.max_window_bits = Some((server_bits, client_bits))) }
    }
}

crate::ffi_fn! {
    /// This end's compressor: `level` 0 (store) to 9 (smallest), `mem_level` 1 to 9 (zlib's
    /// memory level: the size of its internal state). Default: listeners 6 and 8, clients 6 and 5.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (config NULL) or `WSKIT_ERR_INVALID_ARG`.
    fn wskit_config_set_deflate_level(config: *mut wskit_config, level: u8, mem_level: u8) -> wskit_status {
        let problem = level_problem(level, mem_level);
        // SAFETY: this function's contract (config NULL or a live config) is `set`'s.
        unsafe { set(config, problem, |c| c.deflate.level = Some((level, mem_level))) }
    }
}

crate::ffi_fn! {
    /// Messages shorter than `bytes` are sent uncompressed (deflate rarely shrinks them, and
    /// skipping it saves the CPU). 0 compresses every message. Default 64.
    ///
    /// Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG` (config NULL).
    fn wskit_config_set_deflate_min_size(config: *mut wskit_config, bytes: usize) -> wskit_status {
        // SAFETY: this function's contract (config NULL or a live config) is `set`'s.
        unsafe { set(config, None, |c| c.deflate.min_size = Some(bytes)) }
    }
}

crate::ffi_fn! {
    /// Idle compaction of directions with context takeover: between messages the connection
    /// hands its compressor and decompressor back to the context's pool and keeps only the last
    /// window's worth of what it sent and received (at most 2^window_bits bytes each); the next
    /// message primes a pooled codec with it, and the peer sees the same stream. An idle
    /// connection with context takeover then holds a few KiB instead of ~160 KiB of zlib state;
    /// each message costs a few microseconds more (a codec reset and re-hashing the history).
    /// Directions without context takeover pool their codecs whatever this says. Default:
    /// listeners true, clients false.
    ///
    /// Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG` (config NULL).
    fn wskit_config_set_deflate_compact_idle(config: *mut wskit_config, enabled: bool) -> wskit_status {
        // SAFETY: this function's contract (config NULL or a live config) is `set`'s.
        unsafe { set(config, None, |c| c.deflate.compact_idle = Some(enabled)) }
    }
}

crate::ffi_fn! {
    /// Writes the permessage-deflate parameters `conn`'s handshake agreed on to `*out`
    /// (`out->negotiated` false: not negotiated, or the connection is not open yet). Loop thread.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_NOT_FOUND`.
    fn wskit_conn_deflate_params(ctx: *const wskit_ctx, conn: u64, out: *mut wskit_deflate_params) -> wskit_status {
        let ctx = try_ctx!(ctx);
        non_null!(out);
        let params = try_net!(ctx.with_net(|net| net.deflate_params(ConnId::from_u64(conn))));
        write_out!(out, wskit_deflate_params::from(params));
        wskit_status::WSKIT_OK
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_change_only_what_was_set() {
        let untouched = DeflateOverrides::default().apply(DeflateConfig::SERVER);
        assert_eq!(untouched, DeflateConfig::SERVER);

        let overrides = DeflateOverrides {
            max_window_bits: Some((10, 9)),
            min_size: Some(0),
            ..DeflateOverrides::default()
        };
        let client = overrides.apply(DeflateConfig::CLIENT);
        assert_eq!(
            (client.server_max_window_bits, client.client_max_window_bits),
            (10, 9)
        );
        assert_eq!(client.min_size, 0);
        assert_eq!(client.level, DeflateConfig::CLIENT.level);
        assert!(client.enabled);

        let off = DeflateOverrides {
            enabled: Some(false),
            ..DeflateOverrides::default()
        };
        assert!(!off.apply(DeflateConfig::CLIENT).enabled);

        let compact = DeflateOverrides {
            compact_idle: Some(true),
            ..DeflateOverrides::default()
        };
        const { assert!(!DeflateConfig::CLIENT.compact_idle) };
        assert!(compact.apply(DeflateConfig::CLIENT).compact_idle);
    }

    #[test]
    fn setters_reject_out_of_range_values() {
        assert!(window_bits_problem(8, 15).is_none());
        assert!(window_bits_problem(7, 15).is_some());
        assert!(window_bits_problem(15, 16).is_some());
        assert!(level_problem(0, 1).is_none());
        assert!(level_problem(10, 8).is_some());
        assert!(level_problem(6, 0).is_some());
    }
}
