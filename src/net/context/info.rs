//! What the application may ask about a connection: user data, subprotocol, peer, state.

use std::net::SocketAddr;

use crate::net::error::{Error, Result};
use crate::net::id::ConnId;

use super::{CLOSE_REPORTED, Context, not_found};

impl Context {
    /// Attaches a value to the connection (e.g. an index into the host's own tables).
    pub fn set_user_data(&mut self, conn: ConnId, value: u64) -> Result<()> {
        self.conns.get_mut(conn).ok_or_else(not_found)?.user_data = value;
        Ok(())
    }

    /// The value set by [`Context::set_user_data`] (0 by default).
    pub fn user_data(&self, conn: ConnId) -> Result<u64> {
        Ok(self.conns.get(conn).ok_or_else(not_found)?.user_data)
    }

    /// The negotiated subprotocol, once open.
    pub fn subprotocol(&self, conn: ConnId) -> Result<Option<&str>> {
        let entry = self.conns.get(conn).ok_or_else(not_found)?;
        Ok(entry.subprotocol.as_deref().map(|s| &**s))
    }

    /// The peer's address.
    pub fn peer_addr(&self, conn: ConnId) -> Result<SocketAddr> {
        let entry = self.conns.get(conn).ok_or_else(not_found)?;
        let socket = entry
            .socket
            .as_ref()
            .ok_or(Error::InvalidState("not connected yet"))?;
        Ok(socket.tcp().peer_addr()?)
    }

    /// True once the connection's handshake completed (until it is closed).
    pub fn is_open(&self, conn: ConnId) -> bool {
        self.conns
            .get(conn)
            .is_some_and(|c| c.endpoint.is_open() && !c.has(CLOSE_REPORTED))
    }
}
