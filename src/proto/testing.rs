//! Test helpers: an in-memory client/server pair and chunked feeding. Compiled only for tests.

use super::{Config, Connection, OwnedEvent, Role};

/// A fixed mask (the one in RFC 6455 5.7) so client output is deterministic.
pub fn rfc_mask() -> [u8; 4] {
    [0x37, 0xfa, 0x21, 0x3d]
}

/// A config with deterministic masks.
pub fn test_config() -> Config {
    Config {
        mask_source: rfc_mask,
        ..Config::default()
    }
}

/// Feeds `bytes` in pieces of `piece` bytes and collects every event.
pub fn feed_chunked(conn: &mut Connection, bytes: &[u8], piece: usize) -> Vec<OwnedEvent> {
    let mut events = Vec::new();
    for chunk in bytes.chunks(piece.max(1)) {
        let mut chunk = chunk.to_vec();
        let mut incoming = conn.receive(&mut chunk);
        while let Some(event) = incoming.next_event() {
            events.push(event.to_owned());
        }
    }
    events
}

/// Feeds all of `bytes` at once.
pub fn feed(conn: &mut Connection, bytes: &[u8]) -> Vec<OwnedEvent> {
    feed_chunked(conn, bytes, bytes.len())
}

/// A connected client and server.
pub struct Pipe {
    pub client: Connection,
    pub server: Connection,
}

impl Pipe {
    pub fn new(config: Config) -> Self {
        Self {
            client: Connection::new(Role::Client, config),
            server: Connection::new(Role::Server, config),
        }
    }

    /// Moves the client's output to the server; returns the server's events.
    pub fn client_to_server(&mut self) -> Vec<OwnedEvent> {
        let bytes = self.client.take_output();
        feed(&mut self.server, &bytes)
    }

    /// Moves the server's output to the client; returns the client's events.
    pub fn server_to_client(&mut self) -> Vec<OwnedEvent> {
        let bytes = self.server.take_output();
        feed(&mut self.client, &bytes)
    }
}
