//! Opening handshake (RFC 6455 section 4): client request/response, server request parsing, URLs.
