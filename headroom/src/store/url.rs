//! Store URLs: the forms [`open`](super::open) and [`open_async`](super::open_async) accept, read
//! before anything is opened so a typo is told apart from a store that is down.

use std::path::PathBuf;

/// A store URL, read but not opened.
///
/// ```
/// use headroom::store::{parse_url, StoreUrl};
/// assert_eq!(parse_url("memory:")?, StoreUrl::Memory);
/// assert_eq!(parse_url("sqlite:/tmp/o.sqlite3")?, StoreUrl::Sqlite("/tmp/o.sqlite3".into()));
/// assert!(matches!(parse_url("redis://127.0.0.1:6379/2")?, StoreUrl::Redis(_)));
/// let err = parse_url("bogus:xx").unwrap_err();
/// assert!(matches!(err, headroom::Error::InvalidStoreUrl { .. }));
/// # Ok::<(), headroom::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// `memory:`.
    Memory,
    /// `sqlite:PATH` (or `sqlite://PATH`).
    Sqlite(PathBuf),
    /// `redis://[USER[:PASSWORD]@]HOST[:PORT][/DB]`, kept whole for the Redis client.
    Redis(String),
}

/// Reads `url` as one of the [`URL_FORMS`](super::URL_FORMS); an error names the forms, so it is a usage error
/// (nothing was tried), unlike a store that cannot be reached.
pub fn parse_url(url: &str) -> Result<StoreUrl, crate::Error> {
    let bad = |why: &str| crate::Error::InvalidStoreUrl {
        url: url.to_string(),
        reason: why.to_string(),
    };
    if url == "memory:" || url == "memory" {
        return Ok(StoreUrl::Memory);
    }
    if let Some(path) = url.strip_prefix("sqlite:") {
        let path = path.strip_prefix("//").unwrap_or(path);
        if path.is_empty() {
            return Err(bad("sqlite: needs the path of a file"));
        }
        return Ok(StoreUrl::Sqlite(PathBuf::from(path)));
    }
    if url.starts_with("rediss://") {
        return Err(bad("TLS Redis (rediss://) is not built in"));
    }
    if let Some(rest) = url.strip_prefix("redis://") {
        let rest = rest.split_once('?').map_or(rest, |(before, _)| before);
        let (authority, db) = rest.split_once('/').unwrap_or((rest, ""));
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
        let (host, port) = match host_port.rsplit_once(':') {
            // `[::1]` is a host alone; `[::1]:6379` a host and a port.
            Some((host, port)) if !host_port.ends_with(']') => (host, Some(port)),
            _ => (host_port, None),
        };
        if host.is_empty() {
            return Err(bad("redis:// needs a host"));
        }
        if port.is_some_and(|p| p.parse::<u16>().is_err()) {
            return Err(bad("the port must be a number up to 65535"));
        }
        if !db.is_empty() && db.parse::<u32>().is_err() {
            return Err(bad("the database must be a number"));
        }
        return Ok(StoreUrl::Redis(url.to_string()));
    }
    Err(bad("unknown scheme"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_form_parses_and_typos_do_not() {
        for good in [
            "memory:",
            "memory",
            "sqlite:relative/o.sqlite3",
            "sqlite:///abs/o.sqlite3",
            "redis://localhost",
            "redis://127.0.0.1:6390",
            "redis://:secret@cache.internal:6379/3",
            "redis://user:pw@[::1]:6379/0?protocol=resp3",
            "redis://[::1]",
        ] {
            assert!(parse_url(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "bogus:xx",
            "memory:x",
            "sqlite:",
            "redis://",
            "redis://host:port",
            "redis://host:6379/db",
            "rediss://host:6379",
            "/tmp/o.sqlite3",
            "postgres://db",
        ] {
            let err = parse_url(bad).unwrap_err().to_string();
            assert!(err.contains("sqlite:PATH"), "{bad}: {err}");
        }
    }
}
