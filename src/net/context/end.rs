//! How a connection ends: the peer's FIN or a socket error, and freeing the slot with its one
//! close report.

use std::io;

use crate::net::error::Error;
use crate::net::id::ConnId;
use crate::net::tls::{describe as describe_tls, tls_failure};
use crate::proto::close;

use super::{CLOSE_REPORTED, Closed, Context, Deferred, HELD, Lost, Origin};

impl Context {
    /// The peer closed the TCP connection (or it failed).
    pub(super) fn peer_closed(&mut self, id: ConnId, error: Option<io::Error>) {
        let Some(conn) = self.conns.get_mut(id) else {
            return;
        };
        let is_client = matches!(conn.origin, Origin::Client(_));
        if let Some(tls) = error.as_ref().and_then(tls_failure) {
            let host = match &conn.origin {
                Origin::Client(link) => Some(link.url.host.clone()),
                Origin::Accepted(_) => None,
            };
            let err = Error::Tls(describe_tls(tls, host.as_deref()));
            if is_client && !conn.endpoint.is_open() {
                return self.fail_client(id, err);
            }
            if conn.endpoint.is_open() {
                self.defer_error(Some(id), err);
            }
            return self.drop_conn(
                id,
                Some(Lost {
                    initiated_locally: false,
                }),
            );
        }
        if !conn.endpoint.is_open() {
            if is_client {
                let detail = error.map_or_else(|| "connection closed by peer".to_string(), |e| e.to_string());
                let err = Error::Handshake(crate::proto::handshake::HandshakeError::MalformedResponse(
                    format!("no handshake response: {detail}"),
                ));
                self.fail_client(id, err);
            } else if error.is_none() && self.http_peer_closed(id) {
                // A plain HTTP client that finished sending still gets its response.
            } else {
                // Reported (1006) only if its user data was set while its decision was pending.
                self.drop_conn(
                    id,
                    Some(Lost {
                        initiated_locally: false,
                    }),
                );
            }
            return;
        }
        if let Some(err) = error {
            self.defer_error(Some(id), Error::Io(err));
        }
        self.drop_conn(
            id,
            Some(Lost {
                initiated_locally: false,
            }),
        );
    }

    /// Closes the socket and frees the slot, and reports the close if it was not reported yet and
    /// should be: the connection was open, or is a client, or has user data (set during
    /// `on_accept`: then it gets its one `on_close` even though it never opened). `report` says how
    /// to report a drop without a closing handshake (unless the protocol layer knows better).
    pub(super) fn drop_conn(&mut self, id: ConnId, report: Option<Lost>) {
        if self.reconnect_instead(id) {
            return; // the slot stays, waiting for a retry (see reconnect.rs)
        }
        let Some(mut conn) = self.conns.remove(id) else {
            return;
        };
        if let Some(mut socket) = conn.socket.take() {
            let _ = socket.deregister(self.poll.registry());
        }
        if conn.flow & HELD != 0 {
            self.held.retain(|(held, _)| *held != id);
        }
        if !self.files.is_empty() {
            self.files.retain(|f| f.conn != id);
        }
        if let Origin::Accepted(index) = conn.origin {
            if let Some(Some(listener)) = self.listeners.get_mut(index as usize) {
                listener.active -= 1;
            }
        }
        self.reclaim_when_empty();
        let open = conn.endpoint.is_open();
        let is_client = matches!(conn.origin, Origin::Client(_));
        let reportable = open || is_client || conn.user_data != 0;
        if conn.has(CLOSE_REPORTED) || !reportable {
            return;
        }
        // A server connection that never opened was rejected, failed its handshake, timed out or
        // was dropped by this end unless the caller says the peer left.
        let report = match report {
            None if !open && !is_client => Some(Lost {
                initiated_locally: true,
            }),
            report => report,
        };
        let lost = conn.endpoint.connection().and_then(|c| c.connection_lost());
        let (code, reason, clean, initiated_locally) = match (lost, report) {
            // The protocol layer failed the connection before: report that failure.
            (Some(info), _) if info.code != close::ABNORMAL_CLOSURE => (
                info.code,
                info.reason.to_owned(),
                info.clean,
                info.initiated_locally,
            ),
            (_, Some(Lost { initiated_locally })) => {
                (close::ABNORMAL_CLOSURE, String::new(), false, initiated_locally)
            }
            _ => return,
        };
        self.deferred.push_back(Deferred::Closed(Closed {
            conn: id,
            code,
            reason,
            clean,
            initiated_locally,
            user_data: conn.user_data,
        }));
    }
}
