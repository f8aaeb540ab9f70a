//! The pure half of serving files: decoding a request path into safe segments, `Range`,
//! HTTP dates for `Last-Modified` / `If-Modified-Since`, and content types. The file system half
//! (opening, symlink checks, streaming) is in `net`. Times are seconds since the Unix epoch:
//! this layer reads no clock and no file time itself.

/// Why a request path cannot name a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathError {
    /// A bad percent-escape, non-UTF-8 after decoding, or a NUL or backslash. 400.
    Malformed,
    /// A `..` segment (also when percent-encoded): it would leave the root. 404, so a probe
    /// learns nothing.
    Traversal,
}

/// Decodes `path` (percent-decoding exactly once) into its segments, dropping empty and `.`
/// segments. `%252e` stays the literal `%2e`; `%2e%2e` is `..` and refused.
pub fn decode_path(path: &str) -> Result<Vec<String>, PathError> {
    let bytes = path.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or(PathError::Malformed)?;
            let hex = std::str::from_utf8(hex).map_err(|_| PathError::Malformed)?;
            let value = u8::from_str_radix(hex, 16).map_err(|_| PathError::Malformed)?;
            decoded.push(value);
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    let decoded = String::from_utf8(decoded).map_err(|_| PathError::Malformed)?;
    if decoded.contains(['\0', '\\']) {
        return Err(PathError::Malformed);
    }
    let mut segments = Vec::new();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            ".." => return Err(PathError::Traversal),
            s => segments.push(s.to_string()),
        }
    }
    Ok(segments)
}

/// What a `Range` header asks of a representation of `len` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// No usable single byte range: send the whole representation (200). Multiple ranges and
    /// other units end up here too (allowed by RFC 9110 14.2).
    Whole,
    /// Bytes `start..=end` (206).
    Part {
        /// First byte.
        start: u64,
        /// Last byte (inclusive).
        end: u64,
    },
    /// The range lies outside the representation (416).
    Unsatisfiable,
}

/// Reads a `Range` header value for a representation of `len` bytes.
pub fn parse_range(value: &str, len: u64) -> RangeRequest {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return RangeRequest::Whole;
    };
    if spec.contains(',') {
        return RangeRequest::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeRequest::Whole;
    };
    let number = |s: &str| -> Option<u64> {
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match (first.trim(), last.trim()) {
        ("", suffix) => match number(suffix) {
            Some(0) => RangeRequest::Unsatisfiable,
            Some(_) if len == 0 => RangeRequest::Unsatisfiable,
            Some(n) => RangeRequest::Part {
                start: len.saturating_sub(n),
                end: len - 1,
            },
            None => RangeRequest::Whole,
        },
        (start, end) => {
            let Some(start) = number(start) else {
                return RangeRequest::Whole;
            };
            let end = if end.is_empty() {
                u64::MAX
            } else {
                match number(end) {
                    Some(end) if end >= start => end,
                    _ => return RangeRequest::Whole,
                }
            };
            if start >= len {
                return RangeRequest::Unsatisfiable;
            }
            RangeRequest::Part {
                start,
                end: end.min(len - 1),
            }
        }
    }
}

const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `secs` (since the Unix epoch) as an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub fn http_date(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        DAYS[(days % 7) as usize],
        day,
        MONTHS[(month - 1) as usize],
        year,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Reads an IMF-fixdate (the form every current client sends) as seconds since the Unix epoch;
/// other forms give `None` (the condition is then ignored, as RFC 9110 13.1.3 allows for invalid
/// dates).
pub fn parse_http_date(value: &str) -> Option<u64> {
    let rest = value.trim().get(5..)?; // "Sun, "
    let mut parts = rest.split(' ');
    let day: u32 = parts.next()?.parse().ok()?;
    let month = parts.next()?;
    let month = MONTHS.iter().position(|m| *m == month)? as u32 + 1;
    let year: i64 = parts.next()?.parse().ok()?;
    let mut hms = parts.next()?.split(':').map(|p| p.parse::<u64>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    if parts.next()? != "GMT"
        || parts.next().is_some()
        || h > 23
        || m > 59
        || s > 60
        || !(1..=31).contains(&day)
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(u64::try_from(days).ok()? * 86_400 + h * 3600 + m * 60 + s)
}

/// Days since 1970-01-01 to (year, month, day) (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = (i64::from(month) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// True if a representation modified at `modified` (whole seconds since the Unix epoch: the
/// header has no more precision) is unchanged since the client's `If-Modified-Since` value.
pub fn not_modified_since(if_modified_since: &str, modified: u64) -> bool {
    parse_http_date(if_modified_since).is_some_and(|since| modified <= since)
}

/// The `Content-Type` for a file name (text types in UTF-8), `application/octet-stream` when
/// unknown.
pub fn content_type(name: &str) -> String {
    let mime = mime_guess::from_path(name).first_or_octet_stream();
    if mime.type_() == mime_guess::mime::TEXT || mime.subtype() == mime_guess::mime::JAVASCRIPT {
        format!("{}; charset=utf-8", mime.essence_str())
    } else {
        mime.essence_str().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_decode_once_and_never_climb() {
        assert_eq!(decode_path("/a/./b//c.txt").unwrap(), ["a", "b", "c.txt"]);
        assert_eq!(decode_path("/hello%20world").unwrap(), ["hello world"]);
        assert_eq!(
            decode_path("/%252e%252e/x").unwrap(),
            ["%2e%2e", "x"],
            "decoded once only"
        );
        for traversal in [
            "/../etc/passwd",
            "/a/../../x",
            "/%2e%2e/x",
            "/%2E%2e%2fetc",
            "/a/%2e%2e",
        ] {
            assert_eq!(decode_path(traversal), Err(PathError::Traversal), "{traversal}");
        }
        for bad in ["/a%00b", "/%zz", "/%4", "/a\\..\\b", "/%ff%fe", "/a%5c..%5cb"] {
            assert_eq!(decode_path(bad), Err(PathError::Malformed), "{bad}");
        }
        assert_eq!(decode_path("/").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn single_ranges() {
        use RangeRequest::*;
        assert_eq!(parse_range("bytes=0-9", 100), Part { start: 0, end: 9 });
        assert_eq!(parse_range("bytes=90-", 100), Part { start: 90, end: 99 });
        assert_eq!(parse_range("bytes=90-1000", 100), Part { start: 90, end: 99 });
        assert_eq!(parse_range("bytes=-10", 100), Part { start: 90, end: 99 });
        assert_eq!(parse_range("bytes=-1000", 100), Part { start: 0, end: 99 });
        assert_eq!(parse_range("bytes=100-", 100), Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 100), Unsatisfiable);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), Whole);
        assert_eq!(parse_range("items=0-1", 100), Whole);
        assert_eq!(parse_range("bytes=5-1", 100), Whole);
        assert_eq!(parse_range("bytes=x-1", 100), Whole);
    }

    #[test]
    fn http_dates_round_trip() {
        assert_eq!(http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        for secs in [0u64, 951_782_400, 1_709_251_199, 4_102_444_800] {
            assert_eq!(parse_http_date(&http_date(secs)), Some(secs));
        }
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("garbage"), None);
        let modified = 784_111_777;
        assert!(not_modified_since("Sun, 06 Nov 1994 08:49:37 GMT", modified));
        assert!(!not_modified_since("Sun, 06 Nov 1994 08:49:36 GMT", modified));
    }

    #[test]
    fn content_types() {
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("app.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("a.png"), "image/png");
        assert_eq!(content_type("noext"), "application/octet-stream");
    }
}
