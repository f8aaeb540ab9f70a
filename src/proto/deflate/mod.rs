//! permessage-deflate (RFC 7692): negotiation of its four parameters and the per-message codec.
//!
//! # Negotiation
//! - Server: [`DeflateConfig::accept_offers`] takes the client's `Sec-WebSocket-Extensions`
//!   elements (all headers merged) and returns the parameters of the first acceptable
//!   `permessage-deflate` offer and the element to answer with. An offer with a malformed, duplicate
//!   or unknown parameter, or one wskit cannot honour (`server_max_window_bits=8`, which zlib cannot
//!   compress with), is declined and the next one is tried.
//! - Client: [`DeflateConfig::offer`] is the element to send; [`DeflateConfig::validate_response`]
//!   checks the server's answer against it and fails the handshake
//!   ([`HandshakeError::InvalidExtension`]) on anything RFC 7692 forbids.
//!
//! # Memory
//! A codec's state (zlib's window and hash tables) is allocated when a message needs it. Where no
//! context takeover was negotiated for a direction, it is released after every message (or handed
//! to a [`DeflatePool`] that an event loop owns), so an idle connection holds no codec state at all.
//! With context takeover it must be kept: its size is set by the window bits.

mod codec;

pub use codec::DeflatePool;
pub(crate) use codec::{DeflateState, InflateError};

use super::config::Role;
use super::handshake::HandshakeError;
use super::handshake::split_list;

/// The extension's name in `Sec-WebSocket-Extensions`.
pub const EXTENSION_NAME: &str = "permessage-deflate";

/// Smallest window zlib compresses with (RFC 7692 allows 8, which zlib silently raises to 9 for
/// raw deflate; wskit therefore never agrees to compress with 8).
const MIN_COMPRESS_BITS: u8 = 9;

/// The application's compression policy for one endpoint (either role).
///
/// Defaults (once enabled; `ClientOptions::deflate` and [`DeflateConfig::DISABLED`] leave it off):
/// context takeover allowed both ways; 12-bit windows (4 KiB) both ways; memory level 5; level 6;
/// messages under 64 bytes sent uncompressed. The windows and memory level are Python
/// `websockets`' memory-saving defaults: most of the ratio of 15/8 on JSON-like text for a fraction
/// of the state. With takeover the state stays for the connection's life (see
/// `benches/deflate_memory.rs` for the measured bytes); a server that wants idle connections to
/// cost no codec state sets both `no_context_takeover` wishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeflateConfig {
    /// Offer (client) or accept (server) permessage-deflate at all.
    pub enabled: bool,
    /// Ask that the server reset its compressor after each message (`server_no_context_takeover`).
    pub server_no_context_takeover: bool,
    /// Ask that the client reset its compressor after each message (`client_no_context_takeover`).
    pub client_no_context_takeover: bool,
    /// Largest window (log2 bytes, 9-15) the server may compress with (`server_max_window_bits`).
    pub server_max_window_bits: u8,
    /// Largest window (log2 bytes, 9-15) the client may compress with (`client_max_window_bits`).
    pub client_max_window_bits: u8,
    /// Compression level, 0-9 (zlib's; 6 is zlib's default, 1 fastest).
    pub level: u8,
    /// zlib's memory level for the compressor, 1-9 (zlib's default is 8): sizes the symbol and
    /// pending buffers (2^(mem_level+8) bytes). zlib-rs, like zlib-ng, keeps a fixed 128 KiB hash
    /// table whatever this is. Default 5, as in Python `websockets`.
    pub mem_level: u8,
    /// Messages shorter than this are sent uncompressed (RSV1 clear): below a few dozen bytes the
    /// deflate framing costs more than it saves.
    pub min_size: usize,
    /// With context takeover, hand the codecs back to the loop's [`DeflatePool`] between messages
    /// and keep only the window's worth of history they would need (at most 2^window_bits bytes
    /// each way, fewer when fewer were sent): the next message takes a codec from the pool and
    /// primes it with that history (`deflateSetDictionary`), which gives the peer exactly the same
    /// stream. An idle connection then holds a few KiB instead of zlib-rs's ~160 KiB compressor
    /// and its decompressor; each message pays a codec reset (zlib clears its 128 KiB hash table)
    /// and re-hashing the history, a few microseconds. Directions without context takeover pool
    /// their codecs whatever this says. On in [`DeflateConfig::SERVER`], off in
    /// [`DeflateConfig::CLIENT`] (a client holds few connections and keeps its codecs hot).
    pub compact_idle: bool,
}

impl Default for DeflateConfig {
    /// [`DeflateConfig::CLIENT`].
    fn default() -> Self {
        Self::CLIENT
    }
}

/// What the handshake agreed on: the effective parameters of both directions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeflateParams {
    /// The server resets its compressor after each message.
    pub server_no_context_takeover: bool,
    /// The client resets its compressor after each message.
    pub client_no_context_takeover: bool,
    /// Window (log2 bytes) the server compresses with at most, 8-15.
    pub server_max_window_bits: u8,
    /// Window (log2 bytes) the client compresses with at most, 8-15.
    pub client_max_window_bits: u8,
}

impl DeflateParams {
    /// The parameters without any restriction (what an offer of plain `permessage-deflate` means).
    pub const UNRESTRICTED: Self = Self {
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: 15,
        client_max_window_bits: 15,
    };

    /// `(window bits, no context takeover)` of what `role` sends.
    pub(crate) fn sending(&self, role: Role) -> (u8, bool) {
        match role {
            Role::Server => (self.server_max_window_bits, self.server_no_context_takeover),
            Role::Client => (self.client_max_window_bits, self.client_no_context_takeover),
        }
    }

    /// `(window bits, no context takeover)` of what `role` receives.
    pub(crate) fn receiving(&self, role: Role) -> (u8, bool) {
        match role {
            Role::Server => (self.client_max_window_bits, self.client_no_context_takeover),
            Role::Client => (self.server_max_window_bits, self.server_no_context_takeover),
        }
    }

    /// The `Sec-WebSocket-Extensions` element that states these parameters (a server's answer).
    pub fn response_element(&self) -> String {
        let mut s = String::from(EXTENSION_NAME);
        if self.server_no_context_takeover {
            s.push_str("; server_no_context_takeover");
        }
        if self.client_no_context_takeover {
            s.push_str("; client_no_context_takeover");
        }
        if self.server_max_window_bits < 15 {
            s.push_str(&format!(
                "; server_max_window_bits={}",
                self.server_max_window_bits
            ));
        }
        if self.client_max_window_bits < 15 {
            s.push_str(&format!(
                "; client_max_window_bits={}",
                self.client_max_window_bits
            ));
        }
        s
    }
}

/// The parameters of one `permessage-deflate` element as written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeflateOffer {
    /// `server_no_context_takeover` present.
    pub server_no_context_takeover: bool,
    /// `client_no_context_takeover` present.
    pub client_no_context_takeover: bool,
    /// `server_max_window_bits=N`.
    pub server_max_window_bits: Option<u8>,
    /// `client_max_window_bits` (`Some(None)`: without a value, only allowed in an offer).
    pub client_max_window_bits: Option<Option<u8>>,
}

/// Parses one `Sec-WebSocket-Extensions` element whose name is `permessage-deflate` (any case).
/// Returns `Ok(None)` for another extension, and an error naming the problem for a malformed,
/// duplicate or unknown parameter. Values may be quoted (RFC 7692 7.1: `client_max_window_bits="10"`).
pub fn parse_element(element: &str) -> Result<Option<DeflateOffer>, String> {
    let mut parts = element.split(';');
    let name = parts.next().unwrap_or("").trim_matches([' ', '\t']);
    if !name.eq_ignore_ascii_case(EXTENSION_NAME) {
        return Ok(None);
    }
    let mut offer = DeflateOffer::default();
    for part in parts {
        let part = part.trim_matches([' ', '\t']);
        let (key, value) = match part.split_once('=') {
            Some((k, v)) => (k.trim_matches([' ', '\t']), Some(v.trim_matches([' ', '\t']))),
            None => (part, None),
        };
        let value = value.map(unquote).transpose()?;
        let dup = || format!("duplicate parameter '{key}'");
        match key.to_ascii_lowercase().as_str() {
            "server_no_context_takeover" | "client_no_context_takeover" => {
                if value.is_some() {
                    return Err(format!("parameter '{key}' takes no value"));
                }
                let flag = if key.eq_ignore_ascii_case("server_no_context_takeover") {
                    &mut offer.server_no_context_takeover
                } else {
                    &mut offer.client_no_context_takeover
                };
                if *flag {
                    return Err(dup());
                }
                *flag = true;
            }
            "server_max_window_bits" => {
                if offer.server_max_window_bits.is_some() {
                    return Err(dup());
                }
                let value = value.ok_or_else(|| format!("parameter '{key}' needs a value"))?;
                offer.server_max_window_bits = Some(window_bits(key, value)?);
            }
            "client_max_window_bits" => {
                if offer.client_max_window_bits.is_some() {
                    return Err(dup());
                }
                offer.client_max_window_bits = Some(value.map(|v| window_bits(key, v)).transpose()?);
            }
            "" => return Err("empty parameter".into()),
            _ => return Err(format!("unknown parameter '{key}'")),
        }
    }
    Ok(Some(offer))
}

fn unquote(value: &str) -> Result<&str, String> {
    match value.strip_prefix('"') {
        Some(rest) => rest
            .strip_suffix('"')
            .filter(|inner| !inner.contains(['"', '\\']))
            .ok_or_else(|| format!("malformed quoted value {value}")),
        None => Ok(value),
    }
}

/// RFC 7692 7.1.2: `1*DIGIT` with no leading zero, 8-15.
fn window_bits(key: &str, value: &str) -> Result<u8, String> {
    let ok = !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) && !value.starts_with('0');
    match value.parse::<u8>() {
        Ok(bits @ 8..=15) if ok => Ok(bits),
        _ => Err(format!("invalid value '{value}' for '{key}' (8-15)")),
    }
}

impl DeflateConfig {
    /// Disabled: neither offered nor accepted.
    pub const DISABLED: Self = Self {
        enabled: false,
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: 15,
        client_max_window_bits: 15,
        level: 6,
        mem_level: 5,
        min_size: 0,
        compact_idle: false,
    };

    /// The recommended server policy (`net::ListenOptions::default` uses it): enabled, and both
    /// `server_no_context_takeover` and `client_no_context_takeover` asked for (RFC 7692 lets a
    /// server add either to its answer whatever the client offered). Without context takeover
    /// neither direction keeps codec state between messages: an event loop lends a compressor and
    /// a decompressor from one [`DeflatePool`] for each message and takes them back after it, so
    /// an idle compressed connection costs what an uncompressed one costs (zlib-rs's compressor
    /// alone is about 150 KiB at 12-bit windows, because of its fixed 128 KiB hash table, so
    /// keeping it per connection would cost more than the connection itself). For the same reason
    /// the windows are left at 15 bits and the memory level at zlib's 8: their state lives only in
    /// the few pooled codecs, so the best ratio costs nothing per connection. Messages under 64
    /// bytes are sent uncompressed.
    pub const SERVER: Self = Self {
        enabled: true,
        server_no_context_takeover: true,
        client_no_context_takeover: true,
        server_max_window_bits: 15,
        client_max_window_bits: 15,
        level: 6,
        mem_level: 8,
        min_size: 64,
        compact_idle: true,
    };

    /// The client policy (`net::ConnectOptions::default` and [`DeflateConfig::default`] use it):
    /// offers permessage-deflate with context takeover allowed both ways (better ratio for a
    /// stream of similar messages; a client holds few connections, so keeping the state is
    /// affordable) and 12-bit windows with memory level 5, Python `websockets`' memory-saving
    /// settings. A server that asks for no context takeover (as [`DeflateConfig::SERVER`] does)
    /// makes the client pool its codecs too.
    pub const CLIENT: Self = Self {
        enabled: true,
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: 12,
        client_max_window_bits: 12,
        level: 6,
        mem_level: 5,
        min_size: 64,
        compact_idle: false,
    };

    fn server_bits(&self) -> u8 {
        self.server_max_window_bits.clamp(MIN_COMPRESS_BITS, 15)
    }

    fn client_bits(&self) -> u8 {
        self.client_max_window_bits.clamp(MIN_COMPRESS_BITS, 15)
    }

    /// Client: the element to offer, e.g.
    /// `permessage-deflate; client_max_window_bits=12; server_max_window_bits=12`. `None` when
    /// disabled.
    pub fn offer(&self) -> Option<String> {
        if !self.enabled {
            return None;
        }
        let mut s = String::from(EXTENSION_NAME);
        if self.server_no_context_takeover {
            s.push_str("; server_no_context_takeover");
        }
        if self.client_no_context_takeover {
            s.push_str("; client_no_context_takeover");
        }
        if self.server_bits() < 15 {
            s.push_str(&format!("; server_max_window_bits={}", self.server_bits()));
        }
        // Always sent: it tells the server that this client can honour a limit it picks.
        if self.client_bits() < 15 {
            s.push_str(&format!("; client_max_window_bits={}", self.client_bits()));
        } else {
            s.push_str("; client_max_window_bits");
        }
        Some(s)
    }

    /// Server: picks the first acceptable `permessage-deflate` offer among `elements` (the client's
    /// extension elements in order, all headers merged). Returns the agreed parameters and the
    /// element to put in the response, or `None` (disabled, not offered, or no acceptable offer).
    pub fn accept_offers<'a>(
        &self,
        elements: impl IntoIterator<Item = &'a str>,
    ) -> Option<(DeflateParams, String)> {
        if !self.enabled {
            return None;
        }
        for element in elements {
            let Ok(Some(offer)) = parse_element(element) else {
                continue;
            };
            if let Some(params) = self.accept(&offer) {
                return Some((params, params.response_element()));
            }
        }
        None
    }

    /// Server: the parameters for one offer, or `None` if it cannot be honoured.
    pub fn accept(&self, offer: &DeflateOffer) -> Option<DeflateParams> {
        let server_max_window_bits = match offer.server_max_window_bits {
            Some(bits) if bits < MIN_COMPRESS_BITS => return None,
            Some(bits) => bits.min(self.server_bits()),
            None => self.server_bits(),
        };
        let client_max_window_bits = match offer.client_max_window_bits {
            // The client cannot be limited unless it said it can honour a limit.
            None => 15,
            Some(None) => self.client_bits(),
            Some(Some(bits)) => bits.min(self.client_bits()),
        };
        Some(DeflateParams {
            server_no_context_takeover: offer.server_no_context_takeover || self.server_no_context_takeover,
            client_no_context_takeover: offer.client_no_context_takeover || self.client_no_context_takeover,
            server_max_window_bits,
            client_max_window_bits,
        })
    }

    /// Client: checks the server's accepted elements against [`DeflateConfig::offer`]. `Ok(None)`:
    /// the server declined compression. An error fails the handshake.
    pub fn validate_response<'a>(
        &self,
        elements: impl IntoIterator<Item = &'a str>,
    ) -> Result<Option<DeflateParams>, HandshakeError> {
        let fail = |why: String| Err(HandshakeError::InvalidExtension(why));
        let mut found = None;
        for element in elements {
            let offer = match parse_element(element) {
                Ok(None) => continue,
                Ok(Some(offer)) => offer,
                Err(why) => return fail(format!("{EXTENSION_NAME}: {why}")),
            };
            if !self.enabled {
                return Err(HandshakeError::UnexpectedExtension(EXTENSION_NAME.into()));
            }
            if found.is_some() {
                return fail(format!("{EXTENSION_NAME} accepted twice"));
            }
            found = Some(offer);
        }
        let Some(answer) = found else { return Ok(None) };
        if self.server_no_context_takeover && !answer.server_no_context_takeover {
            return fail(format!(
                "{EXTENSION_NAME}: server_no_context_takeover was requested but not confirmed"
            ));
        }
        let server_max_window_bits = match answer.server_max_window_bits {
            Some(bits) if bits > self.server_bits() => {
                return fail(format!(
                    "{EXTENSION_NAME}: server_max_window_bits={bits} exceeds the offered {}",
                    self.server_bits()
                ));
            }
            Some(bits) => bits,
            None if self.server_bits() < 15 => {
                return fail(format!(
                    "{EXTENSION_NAME}: server_max_window_bits={} was requested but not confirmed",
                    self.server_bits()
                ));
            }
            None => 15,
        };
        let client_max_window_bits = match answer.client_max_window_bits {
            None => self.client_bits(),
            Some(None) => return fail(format!("{EXTENSION_NAME}: client_max_window_bits needs a value")),
            Some(Some(bits)) if bits < MIN_COMPRESS_BITS => {
                return fail(format!(
                    "{EXTENSION_NAME}: client_max_window_bits={bits} is not supported (9-15)"
                ));
            }
            Some(Some(bits)) => bits.min(self.client_bits()),
        };
        Ok(Some(DeflateParams {
            server_no_context_takeover: answer.server_no_context_takeover,
            client_no_context_takeover: answer.client_no_context_takeover || self.client_no_context_takeover,
            server_max_window_bits,
            client_max_window_bits,
        }))
    }
}

/// Splits raw header values (e.g. [`crate::proto::handshake::Request::extensions`] elements or
/// whole header values) into elements.
pub fn elements<'a>(values: impl IntoIterator<Item = &'a String>) -> Vec<&'a str> {
    values.into_iter().flat_map(|v| split_list(v)).collect()
}

#[cfg(test)]
mod tests;
