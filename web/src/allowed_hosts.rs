//! Which host names a request may ask for: the defence against DNS
//! rebinding, applied before routing in every authentication mode.
//!
//! A page on `attacker.example` whose name is rebound to 127.0.0.1 reaches
//! this server from the victim's browser, but its requests still carry
//! `Host: attacker.example` (the browser cannot forge it). Serving only the
//! names this server is known by (loopback names, the public URL's host and
//! any configured extra) makes such a page unable to read or write.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// Host names (without port, lower case) a request may name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowedHosts {
    names: Vec<String>,
}

impl Default for AllowedHosts {
    /// The loopback names: `localhost`, `127.0.0.1` and `[::1]`.
    fn default() -> Self {
        AllowedHosts {
            names: ["localhost", "127.0.0.1", "[::1]"]
                .map(String::from)
                .to_vec(),
        }
    }
}

impl AllowedHosts {
    /// Adds `host` (a name, an address, or `name:port`; the port is ignored).
    pub fn with(mut self, host: &str) -> Self {
        if let Some(name) = host_name(host)
            && !self.names.contains(&name)
        {
            self.names.push(name);
        }
        self
    }

    /// Adds the host of `url` (`https://oncall.example.com/base`).
    pub fn with_url_host(self, url: &str) -> Self {
        match url
            .parse::<Uri>()
            .ok()
            .and_then(|u| u.host().map(String::from))
        {
            Some(host) => self.with(&host),
            None => self,
        }
    }

    /// Whether a request naming `host` (a `Host` header value) is served.
    pub fn allows(&self, host: &str) -> bool {
        host_name(host).is_some_and(|name| self.names.contains(&name))
    }

    /// The names, for the start-up message.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

/// `Example.COM.:8080` -> `example.com`; `[::1]:80` -> `[::1]`. `None` for a
/// value that is no host at all.
fn host_name(value: &str) -> Option<String> {
    let value = value.trim();
    let name = if value.starts_with('[') {
        &value[..=value.find(']')?]
    } else {
        match value.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            Some(_) => return None,
            None => value,
        }
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    (!name.is_empty() && !name.contains(['/', '@', ' '])).then_some(name)
}

/// The host a request names: its `Host` header, or the URI's authority
/// (HTTP/2 sends `:authority` instead).
fn requested_host<'a>(headers: &'a HeaderMap, uri: &'a Uri) -> Option<&'a str> {
    headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()))
}

/// Refuses with 421 Misdirected Request any request that names no host
/// this server is known by (or none at all).
pub(crate) async fn check_host(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let host = requested_host(request.headers(), request.uri());
    if host.is_some_and(|h| state.allowed_hosts.allows(h)) {
        return next.run(request).await;
    }
    tracing::warn!(
        host = host.unwrap_or("(none)"),
        "request for a host this server does not serve refused"
    );
    (
        StatusCode::MISDIRECTED_REQUEST,
        axum::Json(serde_json::json!({ "error": "unknown host" })),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_and_configured_hosts_pass_others_do_not() {
        let hosts = AllowedHosts::default().with_url_host("https://OnCall.example.com/ui");
        for allowed in [
            "localhost",
            "localhost:8080",
            "127.0.0.1:3000",
            "[::1]:8080",
            "[::1]",
            "oncall.example.com",
            "ONCALL.example.com.:443",
        ] {
            assert!(hosts.allows(allowed), "{allowed}");
        }
        for refused in [
            "attacker.example",
            "attacker.example:8080",
            "127.0.0.2",
            "localhost.attacker.example",
            "oncall.example.com.attacker.example",
            "",
            "localhost:80x",
            "user@localhost",
            "[::1",
        ] {
            assert!(!hosts.allows(refused), "{refused}");
        }
    }

    #[test]
    fn extra_hosts_take_ports_and_case_away() {
        let hosts = AllowedHosts::default().with("Ops.Internal:9000");
        assert!(hosts.allows("ops.internal"));
        assert_eq!(hosts.names().len(), 4);
        assert_eq!(hosts.clone().with("ops.internal").names().len(), 4);
    }
}
