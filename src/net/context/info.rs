//! What the application may ask about a connection: user data, subprotocol, request and response
//! information, peer, state.

use std::net::SocketAddr;

use crate::net::config::KeepHeaders;
use crate::net::error::{Error, Result};
use crate::net::id::ConnId;
use crate::proto::DeflateParams;

use super::{CLOSE_REPORTED, Conn, Context, Kept, Origin, not_found};

impl Context {
    /// Attaches a value to the connection (e.g. an index into the host's own tables, or a pointer).
    ///
    /// A connection whose user data is not zero gets exactly one `on_close`, even if it never
    /// opens (set it during `on_accept`, then the request is rejected, times out while pending or
    /// the peer leaves: `on_close` reports 1006), and [`Context::user_data`] returns the value
    /// during that `on_close` on every path, so what it refers to can always be freed there (see
    /// [`crate::net::Handler::on_close`]).
    pub fn set_user_data(&mut self, conn: ConnId, value: u64) -> Result<()> {
        self.conns.get_mut(conn).ok_or_else(not_found)?.user_data = value;
        Ok(())
    }

    /// The value set by [`Context::set_user_data`] (0 by default). Also answers during the
    /// connection's `on_close`, and during an `on_error` delivered after its slot was freed.
    pub fn user_data(&self, conn: ConnId) -> Result<u64> {
        match self.conns.get(conn) {
            Some(entry) => Ok(entry.user_data),
            None => match self.departed {
                Some((id, value)) if id == conn => Ok(value),
                _ => Err(Error::NotFound),
            },
        }
    }

    /// The negotiated subprotocol, once open.
    pub fn subprotocol(&self, conn: ConnId) -> Result<Option<&str>> {
        let entry = self.conns.get(conn).ok_or_else(not_found)?;
        Ok(entry.details.as_ref().and_then(|d| d.subprotocol.as_deref()))
    }

    /// The permessage-deflate parameters the handshake agreed on (`None`: not negotiated, or not
    /// open yet). See `ListenOptions::deflate` and `ConnectOptions::deflate`.
    pub fn deflate_params(&self, conn: ConnId) -> Result<Option<DeflateParams>> {
        let entry = self.conns.get(conn).ok_or_else(not_found)?;
        Ok(entry.endpoint.deflate_params())
    }

    /// The request path: for a client, its URL's; for a server connection, the request's while
    /// its accept decision is pending, and after the handshake if `ListenOptions::keep_request` is
    /// set (else [`Error::Unavailable`]). [`Error::InvalidState`] before the request arrived.
    pub fn path(&self, conn: ConnId) -> Result<&str> {
        let entry = self.conns.get(conn).ok_or_else(not_found)?;
        if let Origin::Client(link) = &entry.origin {
            return Ok(&link.url.path);
        }
        if let Some(request) = entry.endpoint.request() {
            return Ok(&request.path);
        }
        let (path, _) = kept_request(entry)?;
        Ok(path)
    }

    /// The request query, without `?` (`None` if the target had none); available as
    /// [`Context::path`] is.
    pub fn query(&self, conn: ConnId) -> Result<Option<&str>> {
        let entry = self.conns.get(conn).ok_or_else(not_found)?;
        if let Origin::Client(link) = &entry.origin {
            return Ok(link.url.query.as_deref());
        }
        if let Some(request) = entry.endpoint.request() {
            return Ok(request.query.as_deref());
        }
        let (_, query) = kept_request(entry)?;
        Ok(query)
    }

    /// The headers, in order, as received: a server connection's request headers (all of them
    /// while its accept decision is pending; after the handshake those `ListenOptions::keep_headers`
    /// keeps), a client's response headers (those `ConnectOptions::keep_headers` keeps, by default
    /// all). [`Error::Unavailable`] when nothing is kept, [`Error::InvalidState`] before the
    /// request or response arrived.
    pub fn headers(&self, conn: ConnId) -> Result<&[(String, String)]> {
        let entry = self.conns.get(conn).ok_or_else(not_found)?;
        if let Some(request) = entry.endpoint.request() {
            return Ok(&request.headers);
        }
        kept_headers(entry, self.keep_headers(entry))
    }

    /// A header by name (case-insensitive; the first if repeated), from the headers
    /// [`Context::headers`] returns: `Ok(None)` if it is absent, [`Error::Unavailable`] if headers of
    /// that name are not kept.
    pub fn header(&self, conn: ConnId, name: &str) -> Result<Option<&str>> {
        let entry = self.conns.get(conn).ok_or_else(not_found)?;
        if let Some(request) = entry.endpoint.request() {
            return Ok(request.header(name));
        }
        let keep = self.keep_headers(entry);
        let headers = kept_headers(entry, keep)?;
        if !keep.keeps(name) {
            return Err(unavailable(entry));
        }
        Ok(headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str()))
    }

    /// The peer's address. A Unix socket connection has none: [`Error::InvalidState`] (see
    /// [`Context::unix_path`]).
    pub fn peer_addr(&self, conn: ConnId) -> Result<SocketAddr> {
        let entry = self.conns.get(conn).ok_or_else(not_found)?;
        let socket = entry
            .socket
            .as_ref()
            .ok_or(Error::InvalidState("not connected yet"))?;
        if matches!(socket, crate::net::tls::Stream::Unix(_)) {
            return Err(Error::InvalidState("a Unix socket connection has no IP address"));
        }
        Ok(socket.peer_addr()?)
    }

    /// True once the connection's handshake completed (until it is closed).
    pub fn is_open(&self, conn: ConnId) -> bool {
        self.conns
            .get(conn)
            .is_some_and(|c| c.endpoint.is_open() && !c.has(CLOSE_REPORTED))
    }

    fn keep_headers<'a>(&'a self, entry: &'a Conn) -> &'a KeepHeaders {
        self.origin_options(entry).1
    }
}

fn kept(entry: &Conn) -> Result<Option<&Kept>> {
    if !entry.endpoint.is_open() {
        return Err(Error::InvalidState("the handshake has not completed"));
    }
    Ok(entry.details.as_ref().and_then(|d| d.kept.as_deref()))
}

fn kept_request(entry: &Conn) -> Result<(&str, Option<&str>)> {
    match kept(entry)?.and_then(|k| k.request.as_ref()) {
        Some((path, query)) => Ok((path, query.as_deref())),
        None => Err(Error::Unavailable("ListenOptions::keep_request")),
    }
}

fn kept_headers<'a>(entry: &'a Conn, keep: &KeepHeaders) -> Result<&'a [(String, String)]> {
    match kept(entry)?.and_then(|k| k.headers.as_deref()) {
        Some(headers) if !keep.is_none() => Ok(headers),
        _ => Err(unavailable(entry)),
    }
}

/// The error for headers that were not kept, naming the option that keeps them.
fn unavailable(entry: &Conn) -> Error {
    match entry.origin {
        Origin::Accepted(_) => Error::Unavailable("ListenOptions::keep_headers"),
        Origin::Client(_) => Error::Unavailable("ConnectOptions::keep_headers"),
    }
}
