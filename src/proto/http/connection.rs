//! One HTTP/1.1 server connection, sans-I/O: feed bytes, pull requests one at a time, answer each
//! (whole or streamed) before the next is read, take the bytes to send.
//!
//! Pipelining: requests are read in order and the next one is parsed only once the previous
//! response has ended, so responses go out in request order by construction; the bytes of
//! pipelined requests wait in the connection (the event loop stops reading meanwhile, which
//! bounds them to one read).

use super::HttpError;
use super::chunked::{ChunkedDecoder, LAST_CHUNK, encode_chunk};
use super::request::{BodyFraming, HttpLimits, HttpRequest, parse_head};
use super::response::{Framing, RespondError, check_response, status_has_no_body, write_error, write_head};

/// What [`HttpConnection::next_event`] found.
#[derive(Debug)]
pub enum HttpEvent {
    /// A whole request: answer it with [`HttpConnection::respond`] or
    /// [`HttpConnection::begin`] / [`HttpConnection::write`] / [`HttpConnection::end`].
    Request(HttpRequest),
    /// The next request asks to upgrade to WebSocket: take its bytes with
    /// [`HttpConnection::take_input`] and hand them to the handshake.
    Upgrade,
    /// The request stream is broken: an error response is queued and the connection closes once
    /// it is written.
    Failed(HttpError),
}

/// An HTTP/1.1 server connection (see the module documentation).
#[derive(Debug)]
pub struct HttpConnection {
    limits: HttpLimits,
    received: Vec<u8>,
    out: Vec<u8>,
    reading: Reading,
    answer: Answer,
    /// Close once the current response is written; read no further requests.
    closing: bool,
    /// The event loop's keep-alive deadline (in its own clock; 0 before the first response
    /// ended). Kept here for the loop, never read by this layer.
    pub idle_deadline: u64,
}

#[derive(Debug)]
enum Reading {
    Head,
    Body(Box<PendingBody>),
}

#[derive(Debug)]
struct PendingBody {
    request: HttpRequest,
    body: BodyLeft,
}

#[derive(Debug)]
enum BodyLeft {
    Length(u64),
    Chunked(ChunkedDecoder),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// No request is out.
    None,
    /// A request is out; its response has not begun.
    Awaiting(Framed),
    /// The response head is queued; the body follows.
    Streaming(Framed, Body),
}

/// What the request says about its response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Framed {
    head_only: bool,
    keep_alive: bool,
    minor_version: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    Length(u64),
    Chunked,
    UntilClose,
    /// HEAD: the body is dropped.
    Discard,
}

impl HttpConnection {
    /// A connection with these limits and nothing received yet.
    pub fn new(limits: HttpLimits) -> Self {
        Self {
            limits,
            received: Vec::new(),
            out: Vec::new(),
            reading: Reading::Head,
            answer: Answer::None,
            closing: false,
            idle_deadline: 0,
        }
    }

    /// A connection that starts with bytes already received.
    pub fn with_input(limits: HttpLimits, input: Vec<u8>) -> Self {
        let mut conn = Self::new(limits);
        conn.received = input;
        conn
    }

    /// Feeds received bytes (ignored once the connection is closing).
    pub fn receive(&mut self, input: &[u8]) {
        if !self.closing {
            self.received.extend_from_slice(input);
        }
    }

    /// The next request, once the previous one is answered and this one is complete; `None`
    /// while waiting (for bytes or for the response).
    pub fn next_event(&mut self) -> Option<HttpEvent> {
        loop {
            if self.closing || self.answer != Answer::None {
                return None;
            }
            match &mut self.reading {
                Reading::Head => {
                    let (head, used) = match parse_head(&self.received, &self.limits.head) {
                        Ok(Some(parsed)) => parsed,
                        Ok(None) => return None,
                        Err(err) => return Some(self.fail(err)),
                    };
                    if head.upgrade {
                        return Some(HttpEvent::Upgrade);
                    }
                    self.received.drain(..used);
                    let body = match head.framing {
                        BodyFraming::Length(n) if n > self.limits.max_body_bytes as u64 => {
                            return Some(self.fail(HttpError::BodyTooLarge));
                        }
                        BodyFraming::Length(n) => BodyLeft::Length(n),
                        BodyFraming::Chunked => BodyLeft::Chunked(ChunkedDecoder::default()),
                    };
                    if head.expects_continue && body_expected(&body) {
                        self.out.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
                    }
                    self.reading = Reading::Body(Box::new(PendingBody {
                        request: head.request,
                        body,
                    }));
                }
                Reading::Body(pending) => {
                    let done = match &mut pending.body {
                        BodyLeft::Length(left) => {
                            let n = (*left).min(self.received.len() as u64) as usize;
                            pending.request.body.extend_from_slice(&self.received[..n]);
                            self.received.drain(..n);
                            *left -= n as u64;
                            *left == 0
                        }
                        BodyLeft::Chunked(decoder) => {
                            let max_trailer = self.limits.head.max_header_bytes;
                            match decoder.decode(&self.received, &mut pending.request.body, max_trailer) {
                                Ok((used, done)) => {
                                    self.received.drain(..used);
                                    if pending.request.body.len() > self.limits.max_body_bytes {
                                        return Some(self.fail(HttpError::BodyTooLarge));
                                    }
                                    done
                                }
                                Err(err) => return Some(self.fail(err)),
                            }
                        }
                    };
                    if !done {
                        return None;
                    }
                    let Reading::Body(pending) = std::mem::replace(&mut self.reading, Reading::Head) else {
                        unreachable!("matched above")
                    };
                    let request = pending.request;
                    self.answer = Answer::Awaiting(Framed {
                        head_only: request.is_head(),
                        keep_alive: request.keep_alive(),
                        minor_version: request.minor_version,
                    });
                    return Some(HttpEvent::Request(request));
                }
            }
        }
    }

    fn fail(&mut self, err: HttpError) -> HttpEvent {
        write_error(&mut self.out, err.status(), &err.to_string());
        self.closing = true;
        self.received = Vec::new();
        self.reading = Reading::Head;
        HttpEvent::Failed(err)
    }

    /// Answers the request that is out with a whole response.
    pub fn respond(
        &mut self,
        status: u16,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<(), RespondError> {
        let length = if status_has_no_body(status) {
            None
        } else {
            Some(body.len() as u64)
        };
        self.begin(status, headers, length)?;
        self.write(body)?;
        self.end()
    }

    /// Starts the response to the request that is out: the head is queued now, the body follows
    /// with [`HttpConnection::write`] and [`HttpConnection::end`]. With `length` the response
    /// carries `Content-Length` and exactly that many bytes must be written; without it the body
    /// is chunked (or, for an HTTP/1.0 client, ends with the connection). HEAD requests get the
    /// head only (writes are dropped); 204 and 304 have no body.
    pub fn begin(
        &mut self,
        status: u16,
        headers: &[(String, String)],
        length: Option<u64>,
    ) -> Result<(), RespondError> {
        let framed = match self.answer {
            Answer::Awaiting(framed) => framed,
            Answer::Streaming(..) => return Err(RespondError::AlreadyBegun),
            Answer::None => return Err(RespondError::NoRequest),
        };
        check_response(status, headers)?;
        let mut keep_alive = framed.keep_alive && !self.closing;
        let (framing, body) = if status_has_no_body(status) {
            (Framing::None, Body::Length(0))
        } else {
            match length {
                Some(n) => (Framing::Length(n), Body::Length(n)),
                None if framed.minor_version >= 1 => (Framing::Chunked, Body::Chunked),
                None => {
                    keep_alive = false;
                    (Framing::UntilClose, Body::UntilClose)
                }
            }
        };
        let body = if framed.head_only { Body::Discard } else { body };
        // A HEAD response announces the length a GET would have, but "chunked" without a body
        // would be a lie the client would wait on: leave it out.
        let framing = match (framed.head_only, framing) {
            (true, Framing::Chunked | Framing::UntilClose) => Framing::None,
            (_, framing) => framing,
        };
        let connection = match (keep_alive, framed.minor_version) {
            (false, _) => Some("close"),
            (true, 0) => Some("keep-alive"),
            (true, _) => None,
        };
        write_head(&mut self.out, status, headers, framing, connection);
        if !keep_alive {
            self.closing = true;
        }
        self.answer = Answer::Streaming(framed, body);
        Ok(())
    }

    /// Appends a piece of the body of the begun response.
    pub fn write(&mut self, data: &[u8]) -> Result<(), RespondError> {
        let Answer::Streaming(framed, body) = &mut self.answer else {
            return Err(match self.answer {
                Answer::Awaiting(_) => RespondError::NotBegun,
                _ => RespondError::NoRequest,
            });
        };
        let _ = framed;
        match body {
            Body::Length(left) => {
                if data.len() as u64 > *left {
                    return Err(RespondError::BodyTooLong);
                }
                *left -= data.len() as u64;
                self.out.extend_from_slice(data);
            }
            Body::Chunked if !data.is_empty() => encode_chunk(data, &mut self.out),
            Body::Chunked | Body::Discard => {}
            Body::UntilClose => self.out.extend_from_slice(data),
        }
        Ok(())
    }

    /// Ends the begun response; the next request may then be read. Ending before the announced
    /// length was written fails and closes the connection (the client would wait for the rest).
    pub fn end(&mut self) -> Result<(), RespondError> {
        let Answer::Streaming(_, body) = self.answer else {
            return Err(match self.answer {
                Answer::Awaiting(_) => RespondError::NotBegun,
                _ => RespondError::NoRequest,
            });
        };
        self.answer = Answer::None;
        match body {
            Body::Length(left) if left > 0 => {
                self.closing = true;
                return Err(RespondError::BodyTooShort(left));
            }
            Body::Chunked => self.out.extend_from_slice(LAST_CHUNK),
            Body::UntilClose => self.closing = true,
            Body::Length(_) | Body::Discard => {}
        }
        Ok(())
    }

    /// Bytes of the announced body not written yet (`None` without a response in progress or
    /// with an unannounced length).
    pub fn body_left(&self) -> Option<u64> {
        match self.answer {
            Answer::Streaming(_, Body::Length(left)) => Some(left),
            Answer::Streaming(_, Body::Discard) => Some(0),
            _ => None,
        }
    }

    /// True while a request is out and its response has not ended.
    pub fn is_answering(&self) -> bool {
        self.answer != Answer::None
    }

    /// True while a request is out and its response has begun.
    pub fn has_begun(&self) -> bool {
        matches!(self.answer, Answer::Streaming(..))
    }

    /// True when nothing is in progress: no request out, nothing of the next one received.
    pub fn is_idle(&self) -> bool {
        self.answer == Answer::None && matches!(self.reading, Reading::Head) && self.received.is_empty()
    }

    /// True if received bytes wait to be parsed.
    pub fn has_input(&self) -> bool {
        !self.received.is_empty()
    }

    /// Takes the received bytes not parsed yet (the upgrade request, after [`HttpEvent::Upgrade`]).
    pub fn take_input(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.received)
    }

    /// Close the connection after the response to the request that is out (it carries
    /// `Connection: close`).
    pub fn close_after_response(&mut self) {
        self.closing = true;
    }

    /// The peer finished sending: answer what is out, then close.
    pub fn peer_closed(&mut self) {
        self.closing = true;
        self.received = Vec::new();
    }

    /// True once the connection should be closed: it is closing, no response is in progress and
    /// everything is written.
    pub fn should_close_transport(&self) -> bool {
        self.closing && self.answer == Answer::None && self.out.is_empty()
    }

    /// True once no further request will be read.
    pub fn is_closing(&self) -> bool {
        self.closing
    }

    /// Bytes to send.
    pub fn output(&self) -> &[u8] {
        &self.out
    }

    /// Marks the first `n` bytes of the output as sent.
    pub fn consume_output(&mut self, n: usize) {
        self.out.drain(..n.min(self.out.len()));
        if self.out.is_empty() && self.out.capacity() > 64 << 10 {
            self.out = Vec::new();
        }
    }

    /// Takes all the bytes to send.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }
}

fn body_expected(body: &BodyLeft) -> bool {
    match body {
        BodyLeft::Length(n) => *n > 0,
        BodyLeft::Chunked(_) => true,
    }
}

#[cfg(test)]
#[path = "connection_tests.rs"]
mod tests;
