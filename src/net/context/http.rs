//! Plain HTTP on a listener: delivering requests to `on_http_request`, the application's answers
//! (whole, streamed, later, from other threads), streaming static files under write
//! backpressure, and the keep-alive timer.
//!
//! While a request is out, nothing more is read from its connection (`ACCEPT_PENDING` means
//! "waiting for the application's answer" for HTTP as for upgrades); the bytes of pipelined
//! requests wait in the endpoint (at most one read) and are parsed once the response ends.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

use crate::net::error::{Error, Result};
use crate::net::handler::{Handler, HttpRequestInfo};
use crate::net::id::{ConnId, ListenerId};
use crate::net::static_files::{self, Body};
use crate::proto::handshake::HandshakeError;
use crate::proto::http::{HttpConnection, HttpRequest, RespondError};

use super::{ACCEPT_PENDING, Context, Origin, PULL_BUFFERED, WANTS_WRITABLE, millis, not_found};

/// Bytes of a file read per refill of the output (the output holds at most the low-water mark
/// plus this much of a file).
const FILE_CHUNK: usize = 64 << 10;

/// A file being streamed as a response body.
pub(super) struct FileSend {
    pub(super) conn: ConnId,
    file: File,
    left: u64,
}

impl Context {
    /// A plain HTTP request of `id` arrived: hand it to the handler (reading stops until the
    /// response ends).
    pub(super) fn handle_http(&mut self, handler: &mut dyn Handler, id: ConnId, request: HttpRequest) {
        let Some(conn) = self.conns.get_mut(id) else {
            return;
        };
        let Origin::Accepted(index) = conn.origin else {
            return;
        };
        // Nothing more is read until the answer ends. The response may take as long as it takes
        // (a large download): a timer firing meanwhile is not re-armed (`http_timer`); the
        // keep-alive timer starts when it ends.
        conn.flags |= ACCEPT_PENDING;
        let peer = conn.socket.as_ref().and_then(|s| s.peer_addr().ok());
        let info = HttpRequestInfo {
            conn: id,
            listener: ListenerId(index + 1),
            request: &request,
            peer,
        };
        handler.on_http_request(self, &info);
    }

    /// True while an HTTP request of `conn` waits for its answer to begin.
    pub fn is_http_pending(&self, conn: ConnId) -> bool {
        self.conns
            .get(conn)
            .and_then(|c| c.endpoint.http_ref())
            .is_some_and(|h| h.is_answering() && !h.has_begun())
    }

    fn http_conn(&mut self, conn: ConnId) -> Result<&mut HttpConnection> {
        let entry = self.conns.get_mut(conn).ok_or_else(not_found)?;
        entry
            .endpoint
            .http()
            .ok_or(Error::InvalidState("not a plain HTTP connection"))
    }

    /// Answers the HTTP request of `conn` with `status` (200-599), `headers` and `body`
    /// (`Content-Length` and `Connection` are set here; a HEAD request gets the head only).
    /// Fails with [`Error::InvalidState`] when no request of `conn` waits for an answer,
    /// [`Error::InvalidArgument`] for a bad status or header (a reserved one: `Content-Length`,
    /// `Transfer-Encoding`, `Connection`), [`Error::NotFound`] for an unknown id.
    pub fn http_respond(
        &mut self,
        conn: ConnId,
        status: u16,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<()> {
        self.http_conn(conn)?
            .respond(status, headers, body)
            .map_err(respond_error)?;
        self.http_answered(conn);
        Ok(())
    }

    /// Starts a streamed answer: the head now, the body with [`Context::http_write`], the end
    /// with [`Context::http_end`]. With `length` the response has `Content-Length` (exactly that
    /// many bytes must follow); without, it is chunked (close-delimited for HTTP/1.0 clients).
    pub fn http_begin(
        &mut self,
        conn: ConnId,
        status: u16,
        headers: &[(String, String)],
        length: Option<u64>,
    ) -> Result<()> {
        self.http_conn(conn)?
            .begin(status, headers, length)
            .map_err(respond_error)?;
        self.mark_dirty(conn);
        Ok(())
    }

    /// Appends a piece of the body begun with [`Context::http_begin`]. When the connection's
    /// queue is over `max_buffered` it fails with [`Error::WouldBlock`] (nothing is queued) and
    /// `on_writable` follows once the queue drains to the low-water mark.
    pub fn http_write(&mut self, conn: ConnId, data: &[u8]) -> Result<()> {
        let max = self.options_of(conn)?.max_buffered;
        let entry = self.conns.get_mut(conn).ok_or_else(not_found)?;
        let Some(http) = entry.endpoint.http() else {
            return Err(Error::InvalidState("not a plain HTTP connection"));
        };
        let queued = http.output().len();
        if queued > 0 && queued + data.len() > max {
            entry.flags |= WANTS_WRITABLE;
            return Err(Error::WouldBlock);
        }
        http.write(data).map_err(respond_error)?;
        self.mark_dirty(conn);
        Ok(())
    }

    /// Ends the body begun with [`Context::http_begin`]; the next request of the connection is
    /// read then. Ending short of the announced length fails with [`Error::InvalidArgument`] and
    /// closes the connection once its output is written (the client would wait for the rest).
    pub fn http_end(&mut self, conn: ConnId) -> Result<()> {
        let result = self.http_conn(conn)?.end().map_err(respond_error);
        if !matches!(result, Err(Error::InvalidState(_))) {
            self.http_answered(conn);
        }
        result
    }

    /// Answers the HTTP request of `conn` from the listener's `static_dir`: the file (200, or 206
    /// for a single `Range`; 304 when unchanged since `If-Modified-Since`), streamed from disk as
    /// the socket takes it, or 301/400/403/404/405/416. Fails with [`Error::InvalidState`] when the
    /// listener has no `static_dir` or no request waits.
    pub fn serve_static(&mut self, conn: ConnId, request: &HttpRequest) -> Result<()> {
        let entry = self.conns.get(conn).ok_or_else(not_found)?;
        let Origin::Accepted(index) = entry.origin else {
            return Err(Error::InvalidState("not a plain HTTP connection"));
        };
        let root = self.listeners[index as usize]
            .as_ref()
            .and_then(|l| l.options.static_dir.clone())
            .ok_or(Error::InvalidState("the listener has no static_dir"))?;
        let answer = static_files::answer(&root, request);
        match answer.body {
            Body::Bytes(body) => self.http_respond(conn, answer.status, &answer.headers, &body),
            Body::File { mut file, start, len } => {
                self.http_begin(conn, answer.status, &answer.headers, Some(len))?;
                let nothing_to_send = self.http_conn(conn)?.body_left() == Some(0);
                if nothing_to_send || len == 0 {
                    return self.http_end(conn);
                }
                let seeked = if start > 0 {
                    file.seek(SeekFrom::Start(start)).map(drop)
                } else {
                    Ok(())
                };
                if let Err(err) = seeked {
                    self.abort_http(conn);
                    return Err(Error::Io(err));
                }
                self.files.push(FileSend {
                    conn,
                    file,
                    left: len,
                });
                // The first piece now, so that a small file leaves with its head in one write.
                self.refill_file(conn, usize::MAX);
                self.mark_dirty(conn);
                Ok(())
            }
        }
    }

    /// What the default [`Handler::on_http_request`] does: [`Context::serve_static`] when the
    /// listener has a `static_dir`, otherwise the response an invalid upgrade request gets
    /// (405 with `Allow: GET` for other methods, 505 for HTTP/1.0, else 400), closing the
    /// connection.
    pub fn http_serve_default(&mut self, conn: ConnId, request: &HttpRequest) -> Result<()> {
        let entry = self.conns.get(conn).ok_or_else(not_found)?;
        if let Origin::Accepted(index) = entry.origin {
            let has_dir = self.listeners[index as usize]
                .as_ref()
                .is_some_and(|l| l.options.static_dir.is_some());
            if has_dir {
                return self.serve_static(conn, request);
            }
        }
        let err = not_an_upgrade(request);
        let mut headers = vec![(
            "Content-Type".to_string(),
            "text/plain; charset=utf-8".to_string(),
        )];
        match err.http_status() {
            405 => headers.push(("Allow".into(), "GET".into())),
            _ => headers.push(("Upgrade".into(), "websocket".into())),
        }
        self.http_conn(conn)?.close_after_response();
        self.http_respond(conn, err.http_status(), &headers, format!("{err}\n").as_bytes())
    }

    /// The response of `conn` ended (or was refused and closes): start the keep-alive timer and
    /// read the next request.
    fn http_answered(&mut self, conn: ConnId) {
        self.mark_dirty(conn);
        let Ok(keep_alive) = self.listener_of(conn).map(|l| l.options.http_keep_alive) else {
            return;
        };
        let now = self.now_ms;
        let reading_now = self.reading == Some(conn);
        let Some(entry) = self.conns.get_mut(conn) else {
            return;
        };
        let Some(http) = entry.endpoint.http() else { return };
        if http.is_answering() || http.is_closing() {
            return;
        }
        let buffered = http.has_input();
        entry.flags &= !ACCEPT_PENDING;
        // One timer entry per connection, however many requests it serves: an entry still in
        // the heap that is due no later than this deadline is moved on when it fires (a later
        // one, the first request's handshake deadline, is replaced).
        http.idle_deadline = now + millis(keep_alive);
        let idle_deadline = http.idle_deadline;
        if entry.deadline_unset_or_after(idle_deadline) {
            let deadline = entry.set_deadline(idle_deadline);
            self.timers.push(deadline, conn);
        }
        if !reading_now {
            // Read on: pipelined requests already received first, then the socket.
            if buffered {
                entry.flags |= PULL_BUFFERED;
            }
            self.unread.push(conn);
        }
    }

    /// The timer of a plain HTTP connection fired. Returns true if the connection is to be
    /// dropped: its first request is not complete in time (`handshake_timeout`), or it stayed
    /// idle for `http_keep_alive` after a response. While a request is being answered there is no
    /// timer; a later keep-alive deadline re-arms it.
    pub(super) fn http_timer(&mut self, conn: ConnId) -> bool {
        let now = self.now_ms;
        let Some(entry) = self.conns.get_mut(conn) else {
            return false;
        };
        let Some(http) = entry.endpoint.http_ref() else {
            return false;
        };
        if http.is_answering() {
            entry.set_deadline(0);
            return false;
        }
        let idle_deadline = http.idle_deadline;
        if idle_deadline == 0 || idle_deadline <= now {
            return true;
        }
        let deadline = entry.set_deadline(idle_deadline);
        self.timers.push(deadline, conn);
        false
    }

    fn listener_of(&self, conn: ConnId) -> Result<&super::Listener> {
        let entry = self.conns.get(conn).ok_or_else(not_found)?;
        let Origin::Accepted(index) = entry.origin else {
            return Err(Error::InvalidState("not a plain HTTP connection"));
        };
        self.listeners[index as usize].as_ref().ok_or_else(not_found)
    }

    /// Feeds the next piece of a streamed file into the output of `conn` once the output is down
    /// to the low-water mark (so a large file never sits in memory), ending the response at the
    /// end of the file.
    pub(super) fn refill_file(&mut self, conn: ConnId, low_water: usize) {
        let Some(index) = self.files.iter().position(|f| f.conn == conn) else {
            return;
        };
        let Some(entry) = self.conns.get_mut(conn) else {
            self.files.swap_remove(index);
            return;
        };
        let Some(http) = entry.endpoint.http() else { return };
        if http.output().len() > low_water {
            return;
        }
        let send = &mut self.files[index];
        let want = (send.left as usize).min(FILE_CHUNK);
        self.file_buf.resize(FILE_CHUNK, 0);
        let n = match send.file.read(&mut self.file_buf[..want]) {
            Ok(0) | Err(_) => {
                // The file shrank or failed under us: the announced length cannot be kept.
                self.files.swap_remove(index);
                return self.abort_http(conn);
            }
            Ok(n) => n,
        };
        send.left -= n as u64;
        let done = send.left == 0;
        if http.write(&self.file_buf[..n]).is_err() {
            self.files.swap_remove(index);
            return self.abort_http(conn);
        }
        if done {
            self.files.swap_remove(index);
            let _ = http.end();
            self.http_answered(conn);
        }
        self.mark_dirty(conn);
    }

    fn abort_http(&mut self, conn: ConnId) {
        self.drop_conn(conn, None);
    }

    /// The peer of an HTTP connection sent FIN: keep it to finish the response in progress (or
    /// write what is queued), then close. Returns false if there is nothing to finish.
    pub(super) fn http_peer_closed(&mut self, conn: ConnId) -> bool {
        let Some(entry) = self.conns.get_mut(conn) else {
            return false;
        };
        let Some(http) = entry.endpoint.http() else {
            return false;
        };
        if !http.is_answering() && http.output().is_empty() {
            return false;
        }
        http.peer_closed();
        entry.flags |= ACCEPT_PENDING;
        true
    }
}

/// The handshake error a plain request would have got before HTTP was served (the default
/// answer without `static_dir`).
fn not_an_upgrade(request: &HttpRequest) -> HandshakeError {
    if request.method != "GET" {
        HandshakeError::MethodNotAllowed(request.method.clone())
    } else if request.minor_version == 0 {
        HandshakeError::UnsupportedHttpVersion
    } else {
        HandshakeError::InvalidUpgrade(request.header("Upgrade").map(str::to_string))
    }
}

fn respond_error(err: RespondError) -> Error {
    match err {
        RespondError::NoRequest => {
            Error::InvalidState("no HTTP request of this connection waits for an answer")
        }
        RespondError::AlreadyBegun => Error::InvalidState("the HTTP response was already begun"),
        RespondError::NotBegun => Error::InvalidState("no HTTP response was begun (http_begin)"),
        other => Error::InvalidArgument(other.to_string()),
    }
}
