//! TLS (wss://) with rustls: configurations and the non-blocking stream the loop reads and writes.
//!
//! Crypto provider: `ring` (small, builds with only a C compiler, fast on x86-64 and ARM); the
//! alternative, aws-lc-rs, needs cmake and roughly doubles build time for little gain here.
//! Client trust: the operating system's store (`rustls-native-certs`, e.g. /etc/ssl/certs), or a CA
//! bundle you pass, or — for local testing only — no verification at all.

use std::fmt;
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::Arc;

use mio::net::{TcpStream, UnixStream};
use mio::{Interest, Registry, Token};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{CertificateError, ClientConfig, RootCertStore, ServerConfig};

use super::error::{Error, Result};

/// Certificate chain and key of a wss:// listener (see `ListenOptions::tls`).
#[derive(Clone)]
pub struct TlsServerConfig {
    pub(crate) inner: Arc<ServerConfig>,
}

impl fmt::Debug for TlsServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TlsServerConfig { .. }")
    }
}

impl TlsServerConfig {
    /// Loads a PEM certificate chain (leaf first) and a PEM private key (PKCS#8, RSA or EC).
    pub fn from_pem_files(cert_chain: impl AsRef<Path>, private_key: impl AsRef<Path>) -> Result<Self> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|e| Error::Tls(format!("cannot read {}: {e}", path.display())))
        };
        Self::from_pem(&read(cert_chain.as_ref())?, &read(private_key.as_ref())?)
    }

    /// Like [`TlsServerConfig::from_pem_files`], from memory.
    pub fn from_pem(cert_chain_pem: &[u8], private_key_pem: &[u8]) -> Result<Self> {
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_chain_pem)
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| Error::Tls(format!("bad certificate PEM: {e}")))?;
        if chain.is_empty() {
            return Err(Error::Tls("no certificate in the PEM data".into()));
        }
        let key = PrivateKeyDer::from_pem_slice(private_key_pem)
            .map_err(|e| Error::Tls(format!("bad private key PEM (PKCS#8, RSA or EC expected): {e}")))?;
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Tls(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| Error::Tls(format!("certificate and key do not form a usable pair: {e}")))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            inner: Arc::new(config),
        })
    }

    /// Uses a rustls configuration built by the caller.
    pub fn from_rustls(config: Arc<ServerConfig>) -> Self {
        Self { inner: config }
    }
}

/// How a wss:// client verifies servers (see `ConnectOptions::tls`).
#[derive(Clone)]
pub struct TlsClientConfig {
    pub(crate) inner: Arc<ClientConfig>,
}

impl fmt::Debug for TlsClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TlsClientConfig { .. }")
    }
}

impl TlsClientConfig {
    /// Verifies servers against the operating system's trust store (the default for wss://).
    pub fn system_roots() -> Result<Self> {
        let found = rustls_native_certs::load_native_certs();
        let mut roots = RootCertStore::empty();
        let (added, _) = roots.add_parsable_certificates(found.certs);
        if added == 0 {
            let why = found
                .errors
                .first()
                .map(|e| e.to_string())
                .unwrap_or_else(|| "none found".into());
            return Err(Error::Tls(format!(
                "no trusted root certificates in the system store ({why}); install ca-certificates or pass a CA bundle"
            )));
        }
        Ok(Self::with_roots(roots))
    }

    /// Verifies servers against these CA certificates only (PEM, one or more).
    pub fn with_ca_pem(ca_pem: &[u8]) -> Result<Self> {
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(ca_pem) {
            let cert = cert.map_err(|e| Error::Tls(format!("bad CA PEM: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| Error::Tls(format!("unusable CA certificate: {e}")))?;
        }
        if roots.is_empty() {
            return Err(Error::Tls("no certificate in the CA PEM data".into()));
        }
        Ok(Self::with_roots(roots))
    }

    /// Like [`TlsClientConfig::with_ca_pem`], from a file.
    pub fn with_ca_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let pem =
            std::fs::read(path).map_err(|e| Error::Tls(format!("cannot read {}: {e}", path.display())))?;
        Self::with_ca_pem(&pem)
    }

    /// DANGER: accepts any certificate for any name — anyone on the path can read and change the
    /// traffic. For local testing against self-signed certificates only; never in production.
    pub fn dangerous_skip_verification_for_testing_only() -> Self {
        let config = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("ring supports the default versions")
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification))
            .with_no_client_auth();
        Self::finish(config)
    }

    /// Uses a rustls configuration built by the caller.
    pub fn from_rustls(config: Arc<ClientConfig>) -> Self {
        Self { inner: config }
    }

    fn with_roots(roots: RootCertStore) -> Self {
        let config = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("ring supports the default versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        Self::finish(config)
    }

    fn finish(mut config: ClientConfig) -> Self {
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Self {
            inner: Arc::new(config),
        }
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Says in words why a TLS handshake failed (what a user can act on).
pub(crate) fn describe(err: &rustls::Error, host: Option<&str>) -> String {
    match err {
        rustls::Error::InvalidCertificate(cert) => {
            let why = match cert {
                CertificateError::UnknownIssuer => {
                    "issued by an unknown or untrusted authority (unknown issuer)".into()
                }
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => "expired".to_string(),
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                    "not valid yet".to_string()
                }
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                    format!(
                        "not valid for host name {:?} (hostname mismatch)",
                        host.unwrap_or("?")
                    )
                }
                CertificateError::Revoked => "revoked".to_string(),
                CertificateError::BadSignature => "badly signed".to_string(),
                CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext { .. }
                | CertificateError::UnsupportedSignatureAlgorithmContext { .. } => {
                    "signed with an algorithm or key that does not match its issuer (not signed by a trusted \
                     authority)"
                        .to_string()
                }
                // webpki reports some reasons only as text (e.g. a CA certificate used as a server's
                // own certificate: generate a leaf, or add basicConstraints=CA:FALSE).
                CertificateError::Other(other) if format!("{other:?}").contains("CaUsedAsEndEntity") => {
                    "a CA certificate (CA:TRUE) used as the server's own certificate; use a leaf \
                     certificate (basicConstraints CA:FALSE)"
                        .to_string()
                }
                other => format!("{other:?}"),
            };
            format!("server certificate rejected: {why}")
        }
        other => other.to_string(),
    }
}

/// A rustls error carried through `io::Error` from the stream to the loop.
#[derive(Debug)]
pub(crate) struct TlsFailure(pub(crate) rustls::Error);

impl fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for TlsFailure {}

/// A socket, plain or wrapped in TLS, or a Unix domain socket, or none yet (a client still
/// resolving). One enum instead of `Option<Stream>`: the compiler finds no niche for the option,
/// and the extra 8 bytes would sit in every connection.
pub(crate) enum Stream {
    None,
    Plain(TcpStream),
    Tls(Box<TlsStream>),
    /// A Unix domain socket (`Context::listen_unix`, `ws+unix:` URLs); never with TLS.
    Unix(UnixStream),
    /// TLS inside TLS: a wss:// target through an https:// proxy.
    Nested(Box<NestedTls>),
}

/// A rustls connection over a byte transport: the TCP socket, or (for TLS inside an https://
/// proxy's tunnel) the proxy's own TLS stream.
pub(crate) struct TlsOver<T> {
    transport: T,
    tls: rustls::Connection,
}

/// TLS over the TCP socket (wss://).
pub(crate) type TlsStream = TlsOver<TcpStream>;

/// A wss:// target's TLS whose records are the plaintext of an https:// proxy's TLS.
pub(crate) type NestedTls = TlsOver<TlsStream>;

impl Stream {
    /// The stream, if there is one.
    pub(crate) fn as_ref(&self) -> Option<&Stream> {
        match self {
            Stream::None => None,
            stream => Some(stream),
        }
    }

    /// The stream, if there is one.
    pub(crate) fn as_mut(&mut self) -> Option<&mut Stream> {
        match self {
            Stream::None => None,
            stream => Some(stream),
        }
    }

    /// Takes the stream out, leaving none.
    pub(crate) fn take(&mut self) -> Option<Stream> {
        match std::mem::replace(self, Stream::None) {
            Stream::None => None,
            stream => Some(stream),
        }
    }

    /// An accepted stream (plain TCP or Unix), wrapped in TLS when the listener has a
    /// configuration (TCP only).
    pub(crate) fn server(self, config: Option<&TlsServerConfig>) -> io::Result<Self> {
        Ok(match (self, config) {
            (stream, None) => stream,
            (Stream::Plain(tcp), Some(config)) => {
                let tls = rustls::ServerConnection::new(config.inner.clone()).map_err(tls_error)?;
                Stream::Tls(Box::new(TlsStream {
                    transport: tcp,
                    tls: tls.into(),
                }))
            }
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "TLS needs a TCP socket",
                ));
            }
        })
    }

    pub(crate) fn client(tcp: TcpStream, config: Option<&TlsClientConfig>, host: &str) -> io::Result<Self> {
        Ok(match config {
            None => Stream::Plain(tcp),
            Some(config) => {
                let name = ServerName::try_from(host.to_owned()).map_err(|e| {
                    io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!("invalid TLS server name {host:?}: {e}"),
                    )
                })?;
                let tls = rustls::ClientConnection::new(config.inner.clone(), name).map_err(tls_error)?;
                Stream::Tls(Box::new(TlsStream {
                    transport: tcp,
                    tls: tls.into(),
                }))
            }
        })
    }

    /// TLS with a wss:// target inside the TLS of an https:// proxy's tunnel: the target's
    /// records are the plaintext of the proxy's TLS.
    pub(crate) fn nested_client(
        outer: Box<TlsStream>,
        config: &TlsClientConfig,
        host: &str,
    ) -> io::Result<Self> {
        let name = ServerName::try_from(host.to_owned()).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("invalid TLS server name {host:?}: {e}"),
            )
        })?;
        let inner = rustls::ClientConnection::new(config.inner.clone(), name).map_err(tls_error)?;
        Ok(Stream::Nested(Box::new(NestedTls {
            transport: *outer,
            tls: inner.into(),
        })))
    }

    /// Registers the socket with the loop. Only called on a stream that exists (`as_ref`/`as_mut`
    /// give those).
    pub(crate) fn register(
        &mut self,
        registry: &Registry,
        token: Token,
        interest: Interest,
    ) -> io::Result<()> {
        match self {
            Stream::Plain(tcp) => registry.register(tcp, token, interest),
            Stream::Tls(tls) => registry.register(&mut tls.transport, token, interest),
            Stream::Nested(nested) => registry.register(&mut nested.transport.transport, token, interest),
            Stream::Unix(unix) => registry.register(unix, token, interest),
            Stream::None => unreachable!("no socket"),
        }
    }

    /// Changes the socket's interest. Only called on a stream that exists.
    pub(crate) fn reregister(
        &mut self,
        registry: &Registry,
        token: Token,
        interest: Interest,
    ) -> io::Result<()> {
        match self {
            Stream::Plain(tcp) => registry.reregister(tcp, token, interest),
            Stream::Tls(tls) => registry.reregister(&mut tls.transport, token, interest),
            Stream::Nested(nested) => registry.reregister(&mut nested.transport.transport, token, interest),
            Stream::Unix(unix) => registry.reregister(unix, token, interest),
            Stream::None => unreachable!("no socket"),
        }
    }

    /// Removes the socket from the loop (no-op without a socket).
    pub(crate) fn deregister(&mut self, registry: &Registry) -> io::Result<()> {
        match self {
            Stream::Plain(tcp) => registry.deregister(tcp),
            Stream::Tls(tls) => registry.deregister(&mut tls.transport),
            Stream::Nested(nested) => registry.deregister(&mut nested.transport.transport),
            Stream::Unix(unix) => registry.deregister(unix),
            Stream::None => Ok(()),
        }
    }

    /// The peer's IP address; a Unix socket has none (`Unsupported`).
    pub(crate) fn peer_addr(&self) -> io::Result<std::net::SocketAddr> {
        match self {
            Stream::Plain(tcp) => tcp.peer_addr(),
            Stream::Tls(tls) => tls.transport.peer_addr(),
            Stream::Nested(nested) => nested.transport.transport.peer_addr(),
            Stream::Unix(_) => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "a Unix socket connection has no IP address",
            )),
            Stream::None => Err(io::ErrorKind::NotConnected.into()),
        }
    }

    /// After a non-blocking connect: `Ok(true)` once connected, `Ok(false)` while in progress.
    pub(crate) fn connect_done(&self) -> io::Result<bool> {
        let peer = match self {
            Stream::Plain(tcp) => tcp.peer_addr().map(drop),
            Stream::Tls(tls) => tls.transport.peer_addr().map(drop),
            Stream::Nested(nested) => nested.transport.transport.peer_addr().map(drop),
            Stream::Unix(unix) => unix.peer_addr().map(drop),
            Stream::None => return Ok(false),
        };
        match peer {
            Ok(()) => Ok(true),
            Err(err) if err.kind() == io::ErrorKind::NotConnected => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// The socket's pending error (`SO_ERROR`).
    pub(crate) fn take_error(&self) -> io::Result<Option<io::Error>> {
        match self {
            Stream::Plain(tcp) => tcp.take_error(),
            Stream::Tls(tls) => tls.transport.take_error(),
            Stream::Nested(nested) => nested.transport.transport.take_error(),
            Stream::Unix(unix) => unix.take_error(),
            Stream::None => Ok(None),
        }
    }

    /// Turns Nagle off (TCP only).
    pub(crate) fn set_nodelay(&self) {
        match self {
            Stream::Plain(tcp) => drop(tcp.set_nodelay(true)),
            Stream::Tls(tls) => drop(tls.transport.set_nodelay(true)),
            Stream::Nested(nested) => drop(nested.transport.transport.set_nodelay(true)),
            Stream::Unix(_) | Stream::None => {}
        }
    }

    /// Shuts the socket down (best effort).
    pub(crate) fn shutdown(&self, how: std::net::Shutdown) {
        let _ = match self {
            Stream::Plain(tcp) => tcp.shutdown(how),
            Stream::Tls(tls) => tls.transport.shutdown(how),
            Stream::Nested(nested) => nested.transport.transport.shutdown(how),
            Stream::Unix(unix) => unix.shutdown(how),
            Stream::None => Ok(()),
        };
    }

    /// True for plain TCP (no TLS layer buffering records in between).
    pub(crate) fn is_plain(&self) -> bool {
        matches!(self, Stream::Plain(_))
    }

    /// Reads plaintext. `Ok(0)` is the end of the stream. Plain TCP is inlined into the read
    /// loop; the other transports take one call more.
    #[inline]
    pub(crate) fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(tcp) => tcp.read(buf),
            other => other.read_other(buf),
        }
    }

    #[inline(never)]
    fn read_other(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(tcp) => tcp.read(buf),
            Stream::Tls(tls) => tls.read(buf),
            Stream::Unix(unix) => unix.read(buf),
            Stream::Nested(nested) => nested.read(buf),
            Stream::None => Err(io::ErrorKind::NotConnected.into()),
        }
    }

    /// Writes plaintext; returns how much was taken. Plain TCP inlined, as for [`Stream::read`].
    #[inline]
    pub(crate) fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(tcp) => tcp.write(data),
            other => other.write_other(data),
        }
    }

    #[inline(never)]
    fn write_other(&mut self, data: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(tcp) => tcp.write(data),
            Stream::Tls(tls) => tls.write(data),
            Stream::Unix(unix) => unix.write(data),
            Stream::Nested(nested) => nested.write(data),
            Stream::None => Err(io::ErrorKind::NotConnected.into()),
        }
    }

    /// Writes pending TLS records (handshake messages, alerts, encrypted data) as far as the socket
    /// takes them.
    #[inline]
    pub(crate) fn flush_tls(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(_) | Stream::Unix(_) | Stream::None => Ok(()),
            Stream::Tls(_) | Stream::Nested(_) => self.flush_records(),
        }
    }

    #[inline(never)]
    fn flush_records(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(_) | Stream::Unix(_) | Stream::None => Ok(()),
            Stream::Tls(tls) => tls.flush(),
            Stream::Nested(nested) => nested.flush(),
        }
    }

    /// True while TLS records wait to be written.
    pub(crate) fn wants_write(&self) -> bool {
        match self {
            Stream::Plain(_) | Stream::Unix(_) | Stream::None => false,
            Stream::Tls(tls) => tls.tls.wants_write(),
            Stream::Nested(nested) => nested.tls.wants_write() || nested.transport.tls.wants_write(),
        }
    }

    /// Sends TLS close_notify (best effort) before the socket is closed.
    pub(crate) fn close_notify(&mut self) {
        match self {
            Stream::Tls(tls) => {
                tls.tls.send_close_notify();
                let _ = tls.flush();
            }
            Stream::Nested(nested) => {
                nested.tls.send_close_notify();
                let _ = nested.flush();
                nested.transport.tls.send_close_notify();
                let _ = nested.transport.flush();
            }
            _ => {}
        }
    }
}

impl<T: Read + Write> TlsOver<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.tls.reader().read(buf) {
                Ok(n) => return Ok(n),
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                Err(err) => return Err(err),
            }
            match self.tls.read_tls(&mut self.transport) {
                Ok(0) => {
                    // Transport closed: let the reader say whether it was clean; nothing more will come.
                    return match self.tls.reader().read(buf) {
                        Ok(n) => Ok(n),
                        Err(err) if err.kind() == io::ErrorKind::WouldBlock => Ok(0),
                        Err(err) if err.kind() == io::ErrorKind::UnexpectedEof => Ok(0),
                        Err(err) => Err(err),
                    };
                }
                Ok(_) => {
                    if let Err(err) = self.tls.process_new_packets() {
                        let _ = self.flush(); // deliver the alert
                        return Err(tls_error(err));
                    }
                    match self.flush() {
                        Ok(()) => {}
                        Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                        Err(err) => return Err(err),
                    }
                }
                Err(err) => return Err(err),
            }
        }
    }

    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let taken = self.tls.writer().write(data)?;
        match self.flush() {
            Ok(()) => {}
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
            Err(err) => return Err(err),
        }
        if taken == 0 && !data.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        Ok(taken)
    }

    /// Writes pending records into the transport, then flushes the transport itself (a no-op for
    /// TCP; for the proxy's TLS, its own records).
    fn flush(&mut self) -> io::Result<()> {
        while self.tls.wants_write() {
            match self.tls.write_tls(&mut self.transport) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(_) => {}
                Err(err) => return Err(err),
            }
        }
        self.transport.flush()
    }
}

/// A TLS stream is itself a byte transport: the proxy's TLS carries the target's records.
impl<T: Read + Write> Read for TlsOver<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        TlsOver::read(self, buf)
    }
}

impl<T: Read + Write> Write for TlsOver<T> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        TlsOver::write(self, data)
    }

    fn flush(&mut self) -> io::Result<()> {
        TlsOver::flush(self)
    }
}

fn tls_error(err: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, TlsFailure(err))
}

/// The rustls error inside an `io::Error` from a [`Stream`], if any.
pub(crate) fn tls_failure(err: &io::Error) -> Option<&rustls::Error> {
    err.get_ref()
        .and_then(|inner| inner.downcast_ref::<TlsFailure>())
        .map(|f| &f.0)
}

#[derive(Debug)]
struct NoVerification;

impl rustls::client::danger::ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> std::result::Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &provider().signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &provider().signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        provider().signature_verification_algorithms.supported_schemes()
    }
}
