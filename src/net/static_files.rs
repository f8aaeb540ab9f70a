//! The file system half of serving a directory: safe resolution under the root (no `..`, no
//! symlink that leads out of it, `index.html` for directories) and the response a request gets
//! (200, 206, 304, 404, 405, 416). The pure half (decoding, ranges, dates, types) is
//! `proto::http::resource`; streaming the file is the loop's (`context/http.rs`).

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use crate::proto::http::HttpRequest;
use crate::proto::http::resource::{
    PathError, RangeRequest, content_type, decode_path, http_date, not_modified_since, parse_range,
};

/// What a request for a static file is answered with.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Body,
}

#[derive(Debug)]
pub(crate) enum Body {
    /// A small generated body (errors, redirects).
    Bytes(Vec<u8>),
    /// `len` bytes of `file` from `start`.
    File { file: File, start: u64, len: u64 },
}

/// Answers `request` from the directory `root` (already canonical).
pub(crate) fn answer(root: &Path, request: &HttpRequest) -> Answer {
    if request.method != "GET" && request.method != "HEAD" {
        let mut answer = text(405, "method not allowed");
        answer.headers.push(("Allow".into(), "GET, HEAD".into()));
        return answer;
    }
    let segments = match decode_path(&request.path) {
        Ok(segments) => segments,
        Err(PathError::Malformed) => return text(400, "bad path"),
        Err(PathError::Traversal) => return not_found(),
    };
    let (path, file, meta, is_dir) = match resolve(root, &segments) {
        Ok(found) => found,
        Err(err) if err.kind() == io::ErrorKind::PermissionDenied => return text(403, "forbidden"),
        Err(_) => return not_found(),
    };
    if is_dir && !request.path.ends_with('/') {
        // Relative links in index.html resolve against the directory only with the slash.
        let mut location = format!("{}/", request.path);
        if let Some(query) = &request.query {
            location.push('?');
            location.push_str(query);
        }
        let mut answer = text(301, "moved");
        answer.headers.push(("Location".into(), location));
        return answer;
    }
    let len = meta.len();
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let mut headers = vec![
        ("Content-Type".to_string(), content_type(name)),
        ("Accept-Ranges".to_string(), "bytes".to_string()),
    ];
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
    if let Some(modified) = modified.map(|d| d.as_secs()) {
        headers.push(("Last-Modified".to_string(), http_date(modified)));
        if let Some(since) = request.header("If-Modified-Since") {
            if not_modified_since(since, modified) {
                return Answer {
                    status: 304,
                    headers,
                    body: Body::Bytes(Vec::new()),
                };
            }
        }
    }
    let (status, start, part) = match request.header("Range").map(|r| parse_range(r, len)) {
        None | Some(RangeRequest::Whole) => (200, 0, len),
        Some(RangeRequest::Part { start, end }) => {
            headers.push(("Content-Range".to_string(), format!("bytes {start}-{end}/{len}")));
            (206, start, end - start + 1)
        }
        Some(RangeRequest::Unsatisfiable) => {
            let mut answer = text(416, "range not satisfiable");
            answer
                .headers
                .push(("Content-Range".into(), format!("bytes */{len}")));
            return answer;
        }
    };
    Answer {
        status,
        headers,
        body: Body::File {
            file,
            start,
            len: part,
        },
    }
}

/// The regular file `segments` names under `root`, opened, with its metadata and whether it
/// was a directory (then it is its `index.html`). Symlinks are followed only as long as they stay
/// inside the root. One open and one fstat per file (the hot path of a static server).
fn resolve(root: &Path, segments: &[String]) -> io::Result<(PathBuf, File, std::fs::Metadata, bool)> {
    let mut path = root.to_path_buf();
    path.extend(segments);
    let real = inside(root, &path)?;
    let (file, meta) = open(&real)?;
    if meta.is_dir() {
        let index = inside(root, &real.join("index.html"))?;
        let (file, meta) = open(&index)?;
        if !meta.is_file() {
            return Err(io::ErrorKind::NotFound.into());
        }
        return Ok((index, file, meta, true));
    }
    if !meta.is_file() {
        return Err(io::ErrorKind::NotFound.into());
    }
    Ok((real, file, meta, false))
}

fn open(path: &Path) -> io::Result<(File, std::fs::Metadata)> {
    let file = File::open(path)?;
    let meta = file.metadata()?;
    Ok((file, meta))
}

/// `path` with every symlink resolved, if that stays under `root`.
fn inside(root: &Path, path: &Path) -> io::Result<PathBuf> {
    let real = path.canonicalize()?;
    if !real.starts_with(root) {
        return Err(io::ErrorKind::NotFound.into());
    }
    Ok(real)
}

fn not_found() -> Answer {
    text(404, "not found")
}

fn text(status: u16, message: &str) -> Answer {
    Answer {
        status,
        headers: vec![("Content-Type".into(), "text/plain; charset=utf-8".into())],
        body: Body::Bytes(format!("{message}\n").into_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str, headers: &[(&str, &str)]) -> HttpRequest {
        HttpRequest {
            method: "GET".into(),
            path: path.into(),
            minor_version: 1,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            ..HttpRequest::default()
        }
    }

    fn tree() -> (PathBuf, PathBuf) {
        let base = std::env::temp_dir().join(format!(
            "wskit-static-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&base);
        let root = base.join("root");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("index.html"), "<h1>hi</h1>").unwrap();
        std::fs::write(root.join("a.txt"), "0123456789").unwrap();
        std::fs::write(base.join("secret.txt"), "secret").unwrap();
        std::os::unix::fs::symlink(base.join("secret.txt"), root.join("escape.txt")).unwrap();
        std::os::unix::fs::symlink(root.join("a.txt"), root.join("sub/inside.txt")).unwrap();
        (root.canonicalize().unwrap(), base)
    }

    #[test]
    fn resolution_stays_inside_the_root() {
        let (root, base) = tree();
        assert_eq!(answer(&root, &get("/a.txt", &[])).status, 200);
        assert_eq!(answer(&root, &get("/", &[])).status, 200, "index.html");
        assert_eq!(
            answer(&root, &get("/sub", &[])).status,
            404,
            "no index.html in sub"
        );
        assert_eq!(
            answer(&root, &get("/sub/inside.txt", &[])).status,
            200,
            "symlink inside the root"
        );
        assert_eq!(
            answer(&root, &get("/escape.txt", &[])).status,
            404,
            "symlink out of the root"
        );
        for probe in [
            "/../secret.txt",
            "/%2e%2e/secret.txt",
            "/sub/%2E%2E/%2e%2e/secret.txt",
            "/missing",
        ] {
            assert_eq!(answer(&root, &get(probe, &[])).status, 404, "{probe}");
        }
        assert_eq!(answer(&root, &get("/%252e%252e/secret.txt", &[])).status, 404);
        assert_eq!(answer(&root, &get("/a.txt%00.html", &[])).status, 400);
        let abs = format!("/{}", base.join("secret.txt").display());
        assert_eq!(
            answer(&root, &get(&abs, &[])).status,
            404,
            "absolute paths stay under the root"
        );
        let _ = std::fs::remove_dir_all(base);
    }

    #[test]
    fn ranges_conditions_and_methods() {
        let (root, base) = tree();
        let part = answer(&root, &get("/a.txt", &[("Range", "bytes=2-4")]));
        assert_eq!(part.status, 206);
        assert!(matches!(part.body, Body::File { start: 2, len: 3, .. }));
        assert!(
            part.headers
                .iter()
                .any(|(n, v)| n == "Content-Range" && v == "bytes 2-4/10")
        );
        assert_eq!(
            answer(&root, &get("/a.txt", &[("Range", "bytes=10-")])).status,
            416
        );
        let whole = answer(&root, &get("/a.txt", &[]));
        let modified = whole
            .headers
            .iter()
            .find(|(n, _)| n == "Last-Modified")
            .unwrap()
            .1
            .clone();
        assert_eq!(
            answer(&root, &get("/a.txt", &[("If-Modified-Since", &modified)])).status,
            304
        );
        let old = "Mon, 01 Jan 1990 00:00:00 GMT";
        assert_eq!(
            answer(&root, &get("/a.txt", &[("If-Modified-Since", old)])).status,
            200
        );
        let mut post = get("/a.txt", &[]);
        post.method = "POST".into();
        let refused = answer(&root, &post);
        assert_eq!(refused.status, 405);
        assert!(
            refused
                .headers
                .iter()
                .any(|(n, v)| n == "Allow" && v == "GET, HEAD")
        );
        let _ = std::fs::remove_dir_all(base);
    }
}
