//! A message encoded once for many connections (broadcast, pub/sub fan-out): the server's
//! unmasked frame is the same bytes for every connection, and so is the compressed frame for every
//! connection that negotiated permessage-deflate without context takeover on its sending side
//! with the same window, level and memory level (uWebSockets' shared compressor). Each encoding is
//! made on first use and reused after.

use super::error::SendError;
use super::frame::encode_frame;
use super::opcode::MessageKind;
use super::utf8;

/// A whole message prepared for [`crate::proto::Sender::send_prepared`].
#[derive(Debug, Clone)]
pub struct PreparedMessage {
    kind: MessageKind,
    data: Vec<u8>,
    /// The uncompressed, unmasked frame.
    plain: Option<Vec<u8>>,
    /// Compressed (RSV1), unmasked frames by compressor key (window bits, level, memory level).
    compressed: Vec<((u8, u8, u8), Vec<u8>)>,
}

impl PreparedMessage {
    /// Prepares `data` as a message of `kind`; text must be UTF-8 ([`SendError::InvalidUtf8`]).
    pub fn new(kind: MessageKind, data: &[u8]) -> Result<Self, SendError> {
        if kind == MessageKind::Text {
            utf8::validate(data).map_err(|_| SendError::InvalidUtf8)?;
        }
        Ok(Self {
            kind,
            data: data.to_vec(),
            plain: None,
            compressed: Vec::new(),
        })
    }

    /// Text or binary.
    pub fn kind(&self) -> MessageKind {
        self.kind
    }

    /// The payload.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// How many times the payload was compressed so far (one per distinct compressor key).
    pub fn compressions(&self) -> usize {
        self.compressed.len()
    }

    /// The uncompressed server frame.
    pub(crate) fn plain_frame(&mut self) -> &[u8] {
        let (kind, data) = (self.kind, &self.data);
        self.plain.get_or_insert_with(|| {
            let mut frame = Vec::with_capacity(data.len() + 10);
            encode_frame(&mut frame, true, kind.opcode(), data, None);
            frame
        })
    }

    /// The compressed server frame for `key`, made with `compress` (payload in, compressed
    /// payload out) the first time.
    pub(crate) fn compressed_frame(
        &mut self,
        key: (u8, u8, u8),
        compress: impl FnOnce(&[u8], &mut Vec<u8>),
    ) -> &[u8] {
        let index = match self.compressed.iter().position(|(k, _)| *k == key) {
            Some(index) => index,
            None => {
                let mut payload = Vec::new();
                compress(&self.data, &mut payload);
                let mut frame = Vec::with_capacity(payload.len() + 10);
                encode_frame(&mut frame, true, self.kind.opcode(), &payload, None);
                frame[0] |= super::sender::RSV1 << 4;
                self.compressed.push((key, frame));
                self.compressed.len() - 1
            }
        };
        &self.compressed[index].1
    }
}
