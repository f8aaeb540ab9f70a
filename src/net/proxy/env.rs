//! The proxy environment variables, as curl reads them: `http_proxy` for ws://, `https_proxy`
//! for wss://, then `all_proxy`; `no_proxy` for the exceptions. The lowercase name wins over the
//! uppercase one; empty values count as unset.

/// Reads one variable of the process environment.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The value of `name` (lowercase) or of its uppercase form, if set and not empty.
pub fn lookup(getenv: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    [name.to_string(), name.to_ascii_uppercase()]
        .iter()
        .filter_map(|n| getenv(n))
        .map(|v| v.trim().to_string())
        .find(|v| !v.is_empty())
}

/// The proxy URL the environment gives for a `ws` (`secure` false) or `wss` target.
pub fn proxy_for(getenv: &dyn Fn(&str) -> Option<String>, secure: bool) -> Option<String> {
    let scheme_var = if secure { "https_proxy" } else { "http_proxy" };
    lookup(getenv, scheme_var).or_else(|| lookup(getenv, "all_proxy"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn scheme_variable_then_all_proxy_lower_before_upper() {
        let e = env(&[
            ("http_proxy", "http://a:1"),
            ("HTTPS_PROXY", "http://b:2"),
            ("ALL_PROXY", "socks5://c:3"),
        ]);
        assert_eq!(proxy_for(&e, false).as_deref(), Some("http://a:1"));
        assert_eq!(proxy_for(&e, true).as_deref(), Some("http://b:2"));
        let e = env(&[
            ("https_proxy", "http://lower:1"),
            ("HTTPS_PROXY", "http://upper:2"),
        ]);
        assert_eq!(proxy_for(&e, true).as_deref(), Some("http://lower:1"));
        assert_eq!(proxy_for(&e, false), None);
        let e = env(&[("http_proxy", ""), ("all_proxy", "socks5h://c:3")]);
        assert_eq!(proxy_for(&e, false).as_deref(), Some("socks5h://c:3"));
        assert_eq!(
            lookup(&env(&[("NO_PROXY", " x ")]), "no_proxy").as_deref(),
            Some("x")
        );
    }
}
