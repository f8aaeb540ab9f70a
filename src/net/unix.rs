//! Unix domain sockets: `ws+unix:` URLs, binding a listening socket file (mode, stale files,
//! removal at close) and non-blocking connects. The event loop treats a Unix connection as it
//! treats plain TCP; only where the socket comes from differs.
//!
//! Decisions (see docs/unix-sockets.md):
//! - A path that starts with `@` names a Linux abstract socket (`@name` is `\0name`): no file, no
//!   mode, nothing to remove. Elsewhere `@` is refused.
//! - The socket file gets the process's umask unless [`UnixListenOptions::mode`] sets a mode; the
//!   mode is set between `bind` and `listen`, so no process can connect before it applies.
//! - An existing path is never removed unless [`UnixListenOptions::remove_stale`] is set, it is a
//!   socket, and a connect to it is refused (no process listens there). Anything else at the path
//!   (a regular file, a directory, a live server) makes `listen_unix` fail.
//! - The file is removed when the listener closes (or the context is dropped), only if it is still
//!   the one this listener created (same device and inode).
//! - `wss+unix:` (TLS over a Unix socket) is refused.

use std::ffi::OsStr;
use std::fmt;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use mio::net::{UnixListener, UnixStream};
use socket2::{Domain, SockAddr, Socket, Type};

use super::error::{Error, Result};

/// How [`crate::net::Context::listen_unix`] creates its socket file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnixListenOptions {
    /// Permission bits of the socket file (e.g. `0o660`: owner and group may connect). `None`
    /// (the default): what the process's umask leaves, as `bind` creates it. Ignored for abstract
    /// sockets.
    pub mode: Option<u32>,
    /// Remove a socket file left at the path by a process that is gone (a connect to it is
    /// refused) and bind again. Default false: an existing path fails with "address in use".
    /// Never removes anything that is not a socket, or a socket a process listens on.
    pub remove_stale: bool,
}

impl UnixListenOptions {
    /// Default options: umask mode, no stale-file removal.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`UnixListenOptions::mode`].
    pub fn mode(mut self, mode: u32) -> Self {
        self.mode = Some(mode);
        self
    }

    /// Sets [`UnixListenOptions::remove_stale`].
    pub fn remove_stale(mut self, remove: bool) -> Self {
        self.remove_stale = remove;
        self
    }
}

/// A `ws+unix:` URL split into the socket path and the `ws://localhost/...` URL of the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnixUrl {
    pub(crate) socket: PathBuf,
    pub(crate) url: String,
}

/// Splits `ws+unix:[//]PATH[:TARGET]` (Node `ws`'s form: `ws+unix:///tmp/app.sock:/chat?x=1`).
/// `None` if the URL is not a `ws+unix:` / `wss+unix:` one.
pub(crate) fn parse_url(url: &str) -> Option<Result<UnixUrl>> {
    let lower = url.get(..9).map(str::to_ascii_lowercase);
    let rest = match lower.as_deref() {
        Some(s) if s.starts_with("ws+unix:") => &url[8..],
        Some("wss+unix:") => {
            return Some(Err(Error::InvalidArgument(
                "wss+unix: TLS over a Unix socket is not supported; use ws+unix:".into(),
            )));
        }
        _ => return None,
    };
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (socket, target) = match rest.split_once(':') {
        Some((socket, target)) => (socket, target),
        None => (rest, ""),
    };
    if socket.is_empty() {
        return Some(Err(Error::InvalidArgument(format!(
            "{url:?}: no socket path (expected ws+unix:///path/to.sock:/request/path)"
        ))));
    }
    let target = if target.is_empty() { "/" } else { target };
    if !target.starts_with('/') {
        return Some(Err(Error::InvalidArgument(format!(
            "{url:?}: the request path after the socket path must start with '/'"
        ))));
    }
    Some(Ok(UnixUrl {
        socket: PathBuf::from(socket),
        url: format!("ws://localhost{target}"),
    }))
}

/// True for `@name` (a Linux abstract socket).
pub(crate) fn is_abstract(path: &Path) -> bool {
    path.as_os_str().as_bytes().first() == Some(&b'@')
}

/// The socket address of `path` (`@name`: abstract, Linux only).
pub(crate) fn sock_addr(path: &Path) -> Result<SockAddr> {
    let bytes = path.as_os_str().as_bytes();
    if bytes.is_empty() {
        return Err(Error::InvalidArgument("empty Unix socket path".into()));
    }
    if bytes.contains(&0) {
        return Err(Error::InvalidArgument(
            "a Unix socket path cannot contain NUL".into(),
        ));
    }
    let addr = if is_abstract(path) {
        if !cfg!(any(target_os = "linux", target_os = "android")) {
            return Err(Error::InvalidArgument(
                "abstract Unix sockets (@name) exist only on Linux".into(),
            ));
        }
        let mut name = Vec::with_capacity(bytes.len());
        name.push(0);
        name.extend_from_slice(&bytes[1..]);
        SockAddr::unix(OsStr::from_bytes(&name))
    } else {
        SockAddr::unix(path)
    };
    addr.map_err(|err| Error::InvalidArgument(format!("Unix socket path {}: {err}", path.display())))
}

/// A listening Unix socket, and the file it created (removed on drop if it is still that file).
pub(crate) struct UnixListenSocket {
    pub(crate) socket: UnixListener,
    pub(crate) path: PathBuf,
    /// Device and inode of the socket file this listener created (`None`: abstract).
    created: Option<(u64, u64)>,
}

impl fmt::Debug for UnixListenSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixListenSocket")
            .field("path", &self.path)
            .finish()
    }
}

impl Drop for UnixListenSocket {
    fn drop(&mut self) {
        remove_created(&self.path, self.created);
    }
}

/// Binds and listens on `path` (see the module's decisions).
pub(crate) fn bind(path: &Path, unix: &UnixListenOptions, backlog: i32) -> Result<UnixListenSocket> {
    let addr = sock_addr(path)?;
    let abstract_name = is_abstract(path);
    let socket = Socket::new(Domain::UNIX, Type::STREAM, None)?;
    if let Err(err) = socket.bind(&addr) {
        if err.kind() != io::ErrorKind::AddrInUse || abstract_name || !unix.remove_stale {
            return Err(in_use(path, err));
        }
        remove_if_stale(path, &addr)?;
        socket.bind(&addr).map_err(|err| in_use(path, err))?;
    }
    let created = if abstract_name {
        None
    } else {
        let meta = std::fs::symlink_metadata(path)?;
        Some((meta.dev(), meta.ino()))
    };
    let ready = (|| -> io::Result<()> {
        if let (Some(mode), false) = (unix.mode, abstract_name) {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o7777))?;
        }
        socket.listen(backlog)?;
        socket.set_nonblocking(true)
    })();
    if let Err(err) = ready {
        remove_created(path, created);
        return Err(Error::Io(io::Error::new(
            err.kind(),
            format!("{}: {err}", path.display()),
        )));
    }
    let std_listener: std::os::unix::net::UnixListener = socket.into();
    Ok(UnixListenSocket {
        socket: UnixListener::from_std(std_listener),
        path: path.to_path_buf(),
        created,
    })
}

/// Removes the socket file at `path` if it is still the one with `created`'s device and inode.
fn remove_created(path: &Path, created: Option<(u64, u64)>) {
    let Some(created) = created else { return };
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        if meta.file_type().is_socket() && (meta.dev(), meta.ino()) == created {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn in_use(path: &Path, err: io::Error) -> Error {
    if err.kind() == io::ErrorKind::AddrInUse {
        Error::Io(io::Error::new(
            err.kind(),
            format!(
                "{}: address in use (a server listens there, or a file is left over: remove it, or set \
                 remove_stale)",
                path.display()
            ),
        ))
    } else {
        Error::Io(io::Error::new(err.kind(), format!("{}: {err}", path.display())))
    }
}

/// Removes the socket file at `path` if nothing listens on it; fails if it is not a socket or a
/// server answers.
fn remove_if_stale(path: &Path, addr: &SockAddr) -> Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    if !meta.file_type().is_socket() {
        return Err(Error::InvalidArgument(format!(
            "{} exists and is not a socket; not removing it",
            path.display()
        )));
    }
    let probe = Socket::new(Domain::UNIX, Type::STREAM, None)?;
    probe.set_nonblocking(true)?;
    match probe.connect(addr) {
        Err(err) if err.kind() == io::ErrorKind::ConnectionRefused => {
            std::fs::remove_file(path)?;
            Ok(())
        }
        // Connected, or the server's backlog is full (EAGAIN): someone listens there.
        _ => Err(Error::Io(io::Error::new(
            io::ErrorKind::AddrInUse,
            format!("{}: a server is listening on this socket", path.display()),
        ))),
    }
}

/// Starts a non-blocking connect to `path`. A Unix connect completes (or fails) at once; a full
/// backlog fails with `WouldBlock` (reported as a failed connect, not retried).
pub(crate) fn connect(path: &Path) -> Result<UnixStream> {
    let addr = sock_addr(path)?;
    let socket = Socket::new(Domain::UNIX, Type::STREAM, None)?;
    socket.set_nonblocking(true)?;
    match socket.connect(&addr) {
        Ok(()) => {}
        Err(err) if err.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(err) => {
            let why = if err.kind() == io::ErrorKind::WouldBlock {
                "the server's backlog is full".to_string()
            } else {
                err.to_string()
            };
            return Err(Error::Connect(format!("{}: {why}", path.display())));
        }
    }
    let std_stream: std::os::unix::net::UnixStream = socket.into();
    Ok(UnixStream::from_std(std_stream))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_node_style_urls() {
        let parsed = parse_url("ws+unix:///tmp/app.sock:/chat?room=1")
            .unwrap()
            .unwrap();
        assert_eq!(parsed.socket, PathBuf::from("/tmp/app.sock"));
        assert_eq!(parsed.url, "ws://localhost/chat?room=1");
        let parsed = parse_url("WS+UNIX:/tmp/a.sock").unwrap().unwrap();
        assert_eq!(parsed.socket, PathBuf::from("/tmp/a.sock"));
        assert_eq!(parsed.url, "ws://localhost/");
        let parsed = parse_url("ws+unix://@wskit-test:/x").unwrap().unwrap();
        assert_eq!(parsed.socket, PathBuf::from("@wskit-test"));
        assert_eq!(parsed.url, "ws://localhost/x");
    }

    #[test]
    fn refuses_bad_unix_urls() {
        assert!(parse_url("ws://localhost/").is_none());
        assert!(matches!(
            parse_url("wss+unix:///tmp/a:/"),
            Some(Err(Error::InvalidArgument(_)))
        ));
        assert!(matches!(
            parse_url("ws+unix://:/x"),
            Some(Err(Error::InvalidArgument(_)))
        ));
        assert!(matches!(
            parse_url("ws+unix:///tmp/a:x"),
            Some(Err(Error::InvalidArgument(_)))
        ));
    }

    #[test]
    fn refuses_bad_paths() {
        assert!(sock_addr(Path::new("")).is_err());
        let long = "/tmp/".to_string() + &"x".repeat(200);
        assert!(matches!(
            sock_addr(Path::new(&long)),
            Err(Error::InvalidArgument(_))
        ));
    }
}
