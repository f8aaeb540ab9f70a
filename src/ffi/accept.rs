//! `wskit_accept`: the upgrade request seen by the accept callback, and its decision.

use std::ffi::c_char;

use crate::net::{AcceptRequest, Decision};

use super::ctx::nul_terminated;
use super::status::{fail_with, wskit_status};

/// A request header as seen by the accept callback: NUL-terminated name and value, with their
/// lengths. Borrowed from the `wskit_accept` it came from.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct wskit_header {
    /// The header name as received (case preserved).
    pub name: *const c_char,
    /// Length of `name` in bytes.
    pub name_len: usize,
    /// The value, trimmed.
    pub value: *const c_char,
    /// Length of `value` in bytes.
    pub value_len: usize,
}

/// An upgrade request handed to the accept callback: read it with the getters, decide with
/// `wskit_accept_select_subprotocol`, `wskit_accept_add_header` or `wskit_accept_reject`.
/// Borrowed: valid only during the accept callback, and every pointer obtained from it too.
/// Loop thread only.
///
/// Methods: `wskit_accept_conn`, `wskit_accept_listener`, `wskit_accept_path`, `wskit_accept_query`,
/// `wskit_accept_origin`, `wskit_accept_peer`, `wskit_accept_headers`, `wskit_accept_header`,
/// `wskit_accept_subprotocol_count`, `wskit_accept_subprotocol_at`,
/// `wskit_accept_select_subprotocol`, `wskit_accept_add_header`, `wskit_accept_reject`.
#[derive(Debug)]
pub struct wskit_accept {
    conn: u64,
    listener: u32,
    path: Vec<u8>,
    query: Option<Vec<u8>>,
    origin: Option<Vec<u8>>,
    peer: Vec<u8>,
    /// NUL-terminated copies that `headers` points into.
    header_storage: Vec<(Vec<u8>, Vec<u8>)>,
    headers: Vec<wskit_header>,
    offered: Vec<Vec<u8>>,
    offered_names: Vec<String>,
    selected: Option<String>,
    extra_headers: Vec<(String, String)>,
    reject: Option<(u16, Vec<u8>)>,
}

impl wskit_accept {
    pub(crate) fn new(request: &AcceptRequest<'_>, selected: Option<String>) -> Self {
        let r = request.request;
        let header_storage: Vec<(Vec<u8>, Vec<u8>)> = r
            .headers
            .iter()
            .map(|(n, v)| (nul_terminated(n.as_bytes()), nul_terminated(v.as_bytes())))
            .collect();
        let headers = header_storage
            .iter()
            .map(|(n, v)| wskit_header {
                name: n.as_ptr().cast(),
                name_len: n.len() - 1,
                value: v.as_ptr().cast(),
                value_len: v.len() - 1,
            })
            .collect();
        Self {
            conn: request.conn.as_u64(),
            listener: request.listener.as_u32(),
            path: nul_terminated(r.path.as_bytes()),
            query: r.query.as_ref().map(|q| nul_terminated(q.as_bytes())),
            origin: r.origin.as_ref().map(|o| nul_terminated(o.as_bytes())),
            peer: nul_terminated(request.peer.map(|p| p.to_string()).unwrap_or_default().as_bytes()),
            header_storage,
            headers,
            offered: r
                .subprotocols
                .iter()
                .map(|s| nul_terminated(s.as_bytes()))
                .collect(),
            offered_names: r.subprotocols.clone(),
            selected,
            extra_headers: Vec::new(),
            reject: None,
        }
    }
}

/// The decision recorded in `handle`.
pub(crate) fn decide(handle: wskit_accept) -> Decision {
    match handle.reject {
        Some((status, body)) => Decision::Reject {
            status,
            headers: handle.extra_headers,
            body,
        },
        None => Decision::Accept {
            subprotocol: handle.selected,
            headers: handle.extra_headers,
        },
    }
}

fn ptr_of(bytes: &[u8]) -> *const c_char {
    bytes.as_ptr().cast()
}

crate::ffi_fn! {
    /// The id the connection will have once open (valid for sending after the open event).
    ///
    /// Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG`.
    fn wskit_accept_conn(acc: *const wskit_accept, out_conn: *mut u64) -> wskit_status {
        let acc = try_ref!(acc);
        non_null!(out_conn);
        write_out!(out_conn, acc.conn);
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// The listener the request came to.
    ///
    /// Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG`.
    fn wskit_accept_listener(acc: *const wskit_accept, out_listener: *mut u32) -> wskit_status {
        let acc = try_ref!(acc);
        non_null!(out_listener);
        write_out!(out_listener, acc.listener);
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// The request path (starts with `/`, without the query), NUL-terminated, borrowed from `acc`.
    ///
    /// Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG`.
    fn wskit_accept_path(acc: *const wskit_accept, out: *mut *const c_char) -> wskit_status {
        let acc = try_ref!(acc);
        non_null!(out);
        write_out!(out, ptr_of(&acc.path));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// The request query without `?`, NUL-terminated, borrowed from `acc`; `*out` is NULL when the
    /// target has no query.
    ///
    /// Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG`.
    fn wskit_accept_query(acc: *const wskit_accept, out: *mut *const c_char) -> wskit_status {
        let acc = try_ref!(acc);
        non_null!(out);
        write_out!(out, acc.query.as_deref().map_or(std::ptr::null(), ptr_of));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// The `Origin` header, NUL-terminated, borrowed from `acc`; `*out` is NULL when absent
    /// (non-browser clients).
    ///
    /// Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG`.
    fn wskit_accept_origin(acc: *const wskit_accept, out: *mut *const c_char) -> wskit_status {
        let acc = try_ref!(acc);
        non_null!(out);
        write_out!(out, acc.origin.as_deref().map_or(std::ptr::null(), ptr_of));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// The client's address as text (`"127.0.0.1:53012"`, `""` if unknown), borrowed from `acc`.
    ///
    /// Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG`.
    fn wskit_accept_peer(acc: *const wskit_accept, out: *mut *const c_char) -> wskit_status {
        let acc = try_ref!(acc);
        non_null!(out);
        write_out!(out, ptr_of(&acc.peer));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// All request headers in order, as an array of `*out_count` `wskit_header`s borrowed from
    /// `acc`.
    ///
    /// Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG`.
    fn wskit_accept_headers(acc: *const wskit_accept, out: *mut *const wskit_header, out_count: *mut usize) -> wskit_status {
        let acc = try_ref!(acc);
        non_null!(out);
        non_null!(out_count);
        write_out!(out, acc.headers.as_ptr());
        write_out!(out_count, acc.headers.len());
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// The value of the first request header named `name` (case-insensitive), NUL-terminated,
    /// borrowed from `acc`.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_UTF8` (name) or
    /// `WSKIT_ERR_NOT_FOUND` (no such header; `*out` untouched).
    fn wskit_accept_header(acc: *const wskit_accept, name: *const c_char, out: *mut *const c_char) -> wskit_status {
        let acc = try_ref!(acc);
        let name = try_str!(name);
        non_null!(out);
        let found = acc
            .header_storage
            .iter()
            .find(|(n, _)| n[..n.len() - 1].eq_ignore_ascii_case(name.as_bytes()));
        match found {
            Some((_, value)) => {
                write_out!(out, ptr_of(value));
                wskit_status::WSKIT_OK
            }
            None => fail_with(wskit_status::WSKIT_ERR_NOT_FOUND, "no such request header"),
        }
    }
}

crate::ffi_fn! {
    /// The number of subprotocols the client offered.
    ///
    /// Returns `WSKIT_OK` or `WSKIT_ERR_NULL_ARG`.
    fn wskit_accept_subprotocol_count(acc: *const wskit_accept, out_count: *mut usize) -> wskit_status {
        let acc = try_ref!(acc);
        non_null!(out_count);
        write_out!(out_count, acc.offered.len());
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// The `index`th offered subprotocol (in the client's order), NUL-terminated, borrowed from
    /// `acc`.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` or `WSKIT_ERR_INVALID_ARG` (index out of range).
    fn wskit_accept_subprotocol_at(acc: *const wskit_accept, index: usize, out: *mut *const c_char) -> wskit_status {
        let acc = try_ref!(acc);
        non_null!(out);
        match acc.offered.get(index) {
            Some(name) => {
                write_out!(out, ptr_of(name));
                wskit_status::WSKIT_OK
            }
            None => fail_with(wskit_status::WSKIT_ERR_INVALID_ARG, "subprotocol index out of range"),
        }
    }
}

crate::ffi_fn! {
    /// Accepts selecting `name`, which must be one the client offered (replaces the default
    /// selection). The string is copied.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_UTF8` or
    /// `WSKIT_ERR_INVALID_ARG` (not offered).
    fn wskit_accept_select_subprotocol(acc: *mut wskit_accept, name: *const c_char) -> wskit_status {
        let acc = try_mut!(acc);
        let name = try_str!(name);
        if !acc.offered_names.iter().any(|o| o == name) {
            return fail_with(wskit_status::WSKIT_ERR_INVALID_ARG, "the client did not offer this subprotocol");
        }
        acc.selected = Some(name.to_string());
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Adds a header to the response (101 when accepting, or the rejection), e.g. `Set-Cookie`.
    /// Both strings are copied. Headers the handshake sets itself are refused when the response is
    /// written (the request then fails with 500 and an error event).
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG`, `WSKIT_ERR_INVALID_UTF8` or
    /// `WSKIT_ERR_INVALID_ARG` (CR/LF, or an empty name).
    fn wskit_accept_add_header(acc: *mut wskit_accept, name: *const c_char, value: *const c_char) -> wskit_status {
        let acc = try_mut!(acc);
        let name = try_str!(name);
        let value = try_str!(value);
        if name.is_empty() || name.contains(['\r', '\n', ':']) || value.contains(['\r', '\n']) {
            return fail_with(wskit_status::WSKIT_ERR_INVALID_ARG, "invalid header name or value");
        }
        acc.extra_headers.push((name.to_string(), value.to_string()));
        wskit_status::WSKIT_OK
    }
}

crate::ffi_fn! {
    /// Rejects the request with HTTP `status` (200-599, not 101) and the NUL-terminated plain-text
    /// `body` (optional: NULL for an empty body; copied). The connection is closed after the
    /// response is written; no open or close event is delivered for it.
    ///
    /// Returns `WSKIT_OK`, `WSKIT_ERR_NULL_ARG` (acc), `WSKIT_ERR_INVALID_UTF8` (body) or
    /// `WSKIT_ERR_INVALID_ARG` (status).
    fn wskit_accept_reject(acc: *mut wskit_accept, status: u16, body: *const c_char) -> wskit_status {
        let acc = try_mut!(acc);
        let body = if body.is_null() { "" } else { try_str!(body) };
        if !(200..=599).contains(&status) {
            return fail_with(wskit_status::WSKIT_ERR_INVALID_ARG, "status must be 200-599");
        }
        acc.reject = Some((status, body.as_bytes().to_vec()));
        wskit_status::WSKIT_OK
    }
}
