//! The layer rule, checked: `proto` uses neither `net` nor `ffi`; `net` does not use `ffi`.
//!
//! Two checks per source file of a layer:
//! - the text (comments and doc links included) never contains `crate::net` or `crate::ffi`;
//! - the code (comments and literals blanked) never names a forbidden module through any path: a
//!   single import, a grouped one (`use crate::{net, proto}`, `use crate::{self, net::X}`, nested
//!   groups, over several lines), a relative one (`use super::super::net`, resolved against the
//!   file's module and the inline `mod` blocks around it), or a path in an expression
//!   (`crate::net::Context::new()`). Globs of the crate root (`use crate::*`) and renames of it
//!   (`use crate as root`, `extern crate self as wskit`) are refused too, since they would hide a
//!   use.
//!
//! A file's module is read from its path (`src/proto/connection/decode.rs` is
//! `crate::proto::connection::decode`). A `#[path]` module (`connection_tests.rs`, really
//! `connection::tests`) is read one level shallower than it is, so `super` resolves one level too
//! high there: that can only flag a path that would not compile anyway (`proto` has no `net`).

use std::fs;
use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a source file under `src/`, without `crate`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).expect("a file under src/");
    let mut path: Vec<String> = relative
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if path.last().is_some_and(|last| last == "mod" || last == "lib") {
        path.pop();
    }
    path
}

/// `source` with comments, string literals and char literals replaced by spaces (newlines kept,
/// so line numbers stay right).
fn blank_comments_and_literals(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let blank = |out: &mut String, c: char| out.push(if c == '\n' { '\n' } else { ' ' });
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let starts_token = i == 0 || !ident(chars[i - 1]);
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                blank(&mut out, chars[i]);
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, chars[i]);
                    i += 1;
                }
            }
        } else if c == 'r' && starts_token && matches!(next, Some('"' | '#')) && {
            let hashes = chars[i + 1..].iter().take_while(|&&h| h == '#').count();
            chars.get(i + 1 + hashes) == Some(&'"')
        } {
            // Raw string: r"..." or r#"..."#.
            let hashes = chars[i + 1..].iter().take_while(|&&h| h == '#').count();
            let body = i + 1 + hashes + 1;
            let mut j = body;
            while j < chars.len() {
                if chars[j] == '"'
                    && chars[j + 1..].iter().take(hashes).filter(|&&h| h == '#').count() == hashes
                {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            for &skipped in &chars[i..j.min(chars.len())] {
                blank(&mut out, skipped);
            }
            i = j;
        } else if c == '"' {
            blank(&mut out, c);
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' && i + 1 < chars.len() {
                    blank(&mut out, chars[i]);
                    i += 1;
                }
                blank(&mut out, chars[i]);
                i += 1;
            }
            if i < chars.len() {
                blank(&mut out, chars[i]);
                i += 1;
            }
        } else if c == '\'' && (next == Some('\\') || chars.get(i + 2) == Some(&'\'')) {
            // A char literal ('x', '\n', '\''); a lifetime ('a) has no closing quote.
            blank(&mut out, c);
            i += 1;
            if chars.get(i) == Some(&'\\') {
                blank(&mut out, '\\');
                i += 1;
            }
            blank(&mut out, chars[i]);
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                blank(&mut out, chars[i]);
                i += 1;
            }
            if i < chars.len() {
                blank(&mut out, chars[i]);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    PathSep,
    Punct(char),
}

/// Tokens with their line numbers (1-based).
fn tokens(code: &str) -> Vec<(Token, usize)> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c.is_alphanumeric() || c == '_' {
            // Raw identifiers (r#net) name the same thing as plain ones.
            if c == 'r'
                && chars.get(i + 1) == Some(&'#')
                && chars.get(i + 2).is_some_and(|n| n.is_alphabetic() || *n == '_')
            {
                i += 2;
            }
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            out.push((Token::Ident(word), line));
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            out.push((Token::PathSep, line));
            i += 2;
        } else {
            out.push((Token::Punct(c), line));
            i += 1;
        }
    }
    out
}

/// One path written in the code, flattened out of its use tree.
#[derive(Debug)]
struct WrittenPath {
    segments: Vec<String>,
    /// `as name` (or `as _`) follows it.
    renamed: bool,
    line: usize,
}

/// Parses a path or use tree starting at `tokens[i]` (an identifier); returns the flattened paths
/// and the index after the tree.
fn parse_tree(
    tokens: &[(Token, usize)],
    mut i: usize,
    prefix: &[String],
    out: &mut Vec<WrittenPath>,
) -> usize {
    let mut segments = prefix.to_vec();
    let line = tokens[i].1;
    loop {
        match tokens.get(i) {
            Some((Token::Ident(word), _)) => {
                segments.push(word.clone());
                i += 1;
            }
            Some((Token::Punct('*'), _)) => {
                segments.push("*".into());
                out.push(WrittenPath {
                    segments,
                    renamed: false,
                    line,
                });
                return i + 1;
            }
            Some((Token::Punct('{'), _)) => {
                i += 1;
                loop {
                    match tokens.get(i) {
                        None => return i,
                        Some((Token::Punct('}'), _)) => return i + 1,
                        Some((Token::Punct(','), _)) => i += 1,
                        Some((Token::Ident(_) | Token::Punct('*') | Token::Punct('{'), _)) => {
                            i = parse_tree(tokens, i, &segments, out);
                        }
                        Some(_) => i += 1,
                    }
                }
            }
            _ => break,
        }
        if tokens.get(i).map(|t| &t.0) != Some(&Token::PathSep) {
            break;
        }
        i += 1;
    }
    let renamed = matches!(tokens.get(i), Some((Token::Ident(word), _)) if word == "as");
    if renamed {
        i += 2; // `as name`: the new name is no path
    }
    out.push(WrittenPath {
        segments,
        renamed,
        line,
    });
    i
}

/// Where `path`, written inside `module`, points: the absolute module path without `crate`, or
/// `None` when it does not start at the crate (an external crate, a local name, a path that climbs
/// above the root).
fn resolve(module: &[String], path: &[String]) -> Option<Vec<String>> {
    let (mut base, rest) = match path.first().map(String::as_str) {
        Some("crate") => (Vec::new(), &path[1..]),
        Some("self" | "super") => (module.to_vec(), path),
        _ => return None,
    };
    let mut rest = rest.iter().peekable();
    while let Some(segment) = rest.peek() {
        match segment.as_str() {
            "self" => {}
            "super" => {
                base.pop()?;
            }
            _ => break,
        }
        rest.next();
    }
    // `self` inside a group (`use crate::{self, ...}`) means the group's own path.
    base.extend(rest.filter(|s| *s != "self").cloned());
    Some(base)
}

/// Every place where the code of a file in `module` names one of `forbidden` (top-level modules):
/// `(line, what)`.
fn violations(source: &str, module: &[String], forbidden: &[&str]) -> Vec<(usize, String)> {
    let code = blank_comments_and_literals(source);
    let tokens = tokens(&code);
    let mut found = Vec::new();
    // Inline `mod name { ... }` blocks: (name, brace depth inside them).
    let mut inline_mods: Vec<(String, usize)> = Vec::new();
    let mut depth = 0;
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i].0 {
            Token::Punct('{') => {
                depth += 1;
                i += 1;
            }
            Token::Punct('}') => {
                depth -= 1;
                if inline_mods.last().is_some_and(|(_, d)| *d > depth) {
                    inline_mods.pop();
                }
                i += 1;
            }
            Token::Ident(word) if word == "mod" => {
                if let (Some((Token::Ident(name), _)), Some((Token::Punct('{'), _))) =
                    (tokens.get(i + 1), tokens.get(i + 2))
                {
                    depth += 1;
                    inline_mods.push((name.clone(), depth));
                    i += 3;
                } else {
                    i += 1;
                }
            }
            Token::Ident(word) if word == "extern" => {
                // `extern crate self as wskit;` renames the crate root.
                let next: Vec<_> = tokens[i + 1..].iter().take(3).map(|t| &t.0).collect();
                if next
                    == [
                        &Token::Ident("crate".into()),
                        &Token::Ident("self".into()),
                        &Token::Ident("as".into()),
                    ]
                {
                    found.push((
                        tokens[i].1,
                        "extern crate self as (a rename of the crate root)".into(),
                    ));
                }
                i += 1;
            }
            Token::Ident(word)
                if matches!(word.as_str(), "crate" | "super" | "self")
                    && (i == 0 || tokens[i - 1].0 != Token::PathSep) =>
            {
                let here: Vec<String> = module
                    .iter()
                    .cloned()
                    .chain(inline_mods.iter().map(|(name, _)| name.clone()))
                    .collect();
                let mut paths = Vec::new();
                i = parse_tree(&tokens, i, &[], &mut paths);
                for path in paths {
                    let Some(target) = resolve(&here, &path.segments) else {
                        continue;
                    };
                    let written = path.segments.join("::");
                    match target.first().map(String::as_str) {
                        Some(top) if forbidden.contains(&top) => {
                            found.push((path.line, format!("{written} (crate::{})", target.join("::"))));
                        }
                        Some("*") => found.push((path.line, format!("{written} (a glob of the crate root)"))),
                        None if path.renamed => {
                            found.push((path.line, format!("{written} as (a rename of the crate root)")))
                        }
                        _ => {}
                    }
                }
            }
            _ => i += 1,
        }
    }
    found
}

fn assert_layer_does_not_use(layer: &str, forbidden: &[&str]) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src.join(layer), &mut files);
    assert!(!files.is_empty(), "no sources found for {layer}");
    let mut problems = Vec::new();
    for file in files {
        let text = fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            for module in forbidden {
                let needle = format!("crate::{module}");
                if line.contains(&needle) {
                    problems.push(format!("{}:{}: mentions {needle}: {line}", file.display(), n + 1));
                }
            }
        }
        for (line, what) in violations(&text, &module_of(&src, &file), forbidden) {
            problems.push(format!("{}:{line}: uses {what}", file.display()));
        }
    }
    assert!(
        problems.is_empty(),
        "{layer} must not use {forbidden:?}:\n{}",
        problems.join("\n")
    );
}

#[test]
fn proto_is_pure() {
    assert_layer_does_not_use("proto", &["net", "ffi"]);
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/proto"),
        &mut files,
    );
    for file in files {
        let text = fs::read_to_string(&file).unwrap();
        // Address types (std::net::Ipv6Addr) are plain values; sockets and name lookups are I/O.
        for io in [
            "TcpStream",
            "TcpListener",
            "UdpSocket",
            "ToSocketAddrs",
            "std::fs",
            "std::thread",
            "std::time",
            "mio::",
        ] {
            assert!(
                !text.contains(io),
                "{}: proto must stay sans-I/O but uses {io}",
                file.display()
            );
        }
    }
}

#[test]
fn net_does_not_use_ffi() {
    assert_layer_does_not_use("net", &["ffi"]);
}

/// The checker itself, on sample code: each sample in a module of `proto`, with the lines it must
/// flag (none for code that is fine).
#[test]
fn the_checker_catches_every_form_and_only_those() {
    let proto = |path: &str| -> Vec<String> { path.split("::").map(str::to_owned).collect() };
    let cases: &[(&str, &str, &[usize])] = &[
        // Single imports and paths in expressions.
        ("proto::frame", "use crate::net::Context;", &[1]),
        ("proto::frame", "use crate::ffi;", &[1]),
        (
            "proto::frame",
            "fn f() { let c = crate::net::Context::new(); }",
            &[1],
        ),
        (
            "proto::frame",
            "fn f() -> crate :: ffi :: Status { todo!() }",
            &[1],
        ),
        ("proto::frame", "pub(crate) use crate::r#net::Context;", &[1]),
        // Grouped imports, nested and over several lines.
        ("proto::frame", "use crate::{net, proto};", &[1]),
        ("proto::frame", "use crate::{self, net::X};", &[1]),
        (
            "proto::frame",
            "use crate::{proto::{a, b}, ffi::{c, d::e}};",
            &[1, 1],
        ),
        ("proto::frame", "use crate::{proto as net, frame as ffi};", &[]),
        ("proto::frame", "use crate::{proto::frame as f, net as n};", &[1]),
        (
            "proto::frame",
            "use crate::{\n    proto::frame,\n    net::{\n        Context,\n    },\n};",
            &[4],
        ),
        ("proto::frame", "pub use crate::{proto::{self, net}};", &[]),
        // Relative paths, from the file's module and from inline modules.
        ("proto::frame", "use super::super::net;", &[1]),
        ("proto::frame", "use super::{super::ffi::Status, opcode};", &[1]),
        (
            "proto::handshake::url",
            "use super::super::super::net::Context;",
            &[1],
        ),
        ("proto::frame", "fn f() { super::super::ffi::run() }", &[1]),
        ("proto", "use self::super::net;", &[1]),
        ("proto", "mod tests {\n    use super::super::net;\n}", &[2]),
        (
            "proto::frame",
            "mod a { mod b {\n use super::super::super::super::net; } }",
            &[2],
        ),
        ("proto::frame", "mod a { }\nuse super::super::net;", &[2]),
        // Hiding the root.
        ("proto::frame", "use crate::*;", &[1]),
        ("proto::frame", "use super::super::*;", &[1]),
        ("proto::frame", "use crate as root;", &[1]),
        ("proto::frame", "use crate::{self as root};", &[1]),
        ("proto::frame", "extern crate self as wskit;", &[1]),
        // Fine: other modules, relative paths that stay inside proto, comments and literals, and
        // the words on their own.
        ("proto::frame", "use crate::proto::{frame, opcode::Opcode};", &[]),
        ("proto::frame", "use crate::proto::net_stats;", &[]),
        (
            "proto::handshake::url",
            "use super::super::frame;\nuse super::net;",
            &[],
        ),
        ("proto", "mod tests { use super::*; }", &[]),
        (
            "proto::frame",
            "mod tests { use super::super::frame; }\nmod net { }",
            &[],
        ),
        (
            "proto::frame",
            "// use crate::net;\n/* crate::ffi /* nested */ crate::net */",
            &[],
        ),
        (
            "proto::frame",
            "const A: &str = \"crate::net\";\nconst B: &str = r#\"crate::{ffi}\"#;",
            &[],
        ),
        (
            "proto::frame",
            "fn f<'a>(x: &'a u8) -> char { let _ = '{'; '\"' }\nuse crate::net;",
            &[2],
        ),
        (
            "proto::frame",
            "pub(crate) fn f(&self) -> Self { self.x; Self::new() }",
            &[],
        ),
        ("proto::frame", "pub(in crate::proto) struct S;", &[]),
        (
            "proto::frame",
            "use std::net::Ipv6Addr;\nuse mio::net::TcpStream;",
            &[],
        ),
    ];
    let mut failures = Vec::new();
    for (module, source, expected) in cases {
        let found: Vec<usize> = violations(source, &proto(module), &["net", "ffi"])
            .into_iter()
            .map(|(line, _)| line)
            .collect();
        if found != *expected {
            failures.push(format!(
                "in {module}: {source:?}: flagged lines {found:?}, expected {expected:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn module_paths_come_from_file_paths() {
    let src = Path::new("/x/src");
    assert_eq!(module_of(src, &src.join("proto/mod.rs")), ["proto"]);
    assert_eq!(
        module_of(src, &src.join("proto/connection.rs")),
        ["proto", "connection"]
    );
    assert_eq!(
        module_of(src, &src.join("proto/connection/decode.rs")),
        ["proto", "connection", "decode"]
    );
}
