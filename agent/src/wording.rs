//! How answers write times relative to the onset, measured levels, and
//! excerpts that keep what matters.

use crate::answer::excerpt;

/// `12 min before the onset`, `at the onset`, `2 min after the onset`.
pub(crate) fn relation_to_onset(lead: i64) -> String {
    match lead {
        0 => "at the onset".to_string(),
        l if l > 0 => format!("{l} min before the onset"),
        l => format!("{} min after the onset", -l),
    }
}

/// A level as a reader would write it: three significant digits.
pub(crate) fn readable(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return format!("{value}");
    }
    let digits = (2 - value.abs().log10().floor() as i32).max(0) as usize;
    let text = format!("{value:.digits$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// Who wrote a record: its service, and the host it ran on when that is
/// another name (`lacpd on edge-fra-rtr1`): a daemon's name alone does
/// not say which machine is failing.
pub(crate) fn source_of(record: &ingest::Record) -> String {
    match record.host.as_deref() {
        Some(host) if !host.is_empty() && !host.eq_ignore_ascii_case(&record.service) => {
            format!("{} on {host}", record.service)
        }
        _ => record.service.clone(),
    }
}

/// `text` with its long opaque tokens shortened (`MAC=0a:1b:2c:3d…`,
/// a request id, a hash): a quote has room for what a line says, and the
/// cited record keeps every byte. A token is opaque when its value (after
/// any `key=`) is at least [`OPAQUE_MIN_CHARS`] of hex digits and
/// separators only, with a hex letter; words, paths, addresses and times
/// stay whole.
pub(crate) fn compact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let (token, after) = rest.split_at(end);
        out.push_str(&compact_token(token));
        let spaces = after.len() - after.trim_start().len();
        out.push_str(&after[..spaces]);
        rest = &after[spaces..];
    }
    out
}

fn compact_token(token: &str) -> String {
    let (key, value) = match token.split_once('=') {
        Some((key, value)) => (&token[..key.len() + 1], value),
        None => ("", token),
    };
    let core = value.trim_matches(|c: char| "\"'()[]{},;".contains(c));
    // An IPv6 address is hex and colons too, and names a place.
    if core.parse::<std::net::Ipv6Addr>().is_ok() {
        return token.to_string();
    }
    // A hex letter tells an id from an address or a time of digits.
    let opaque = core.chars().count() >= OPAQUE_MIN_CHARS
        && core
            .chars()
            .all(|c| c.is_ascii_hexdigit() || ":-._".contains(c))
        && core.chars().any(|c| c.is_ascii_alphabetic());
    if !opaque {
        return token.to_string();
    }
    let kept: String = core.chars().take(OPAQUE_KEPT_CHARS).collect();
    format!("{key}{}", value.replacen(core, &format!("{kept}…"), 1))
}

/// `text` as an answer quotes it: opaque tokens shortened ([`compact`]),
/// then cut to `max_chars`.
pub(crate) fn quote(text: &str, max_chars: usize) -> String {
    excerpt(&compact(text), max_chars)
}

/// Length from which a hex-and-separators token is shortened in quotes.
const OPAQUE_MIN_CHARS: usize = 16;
/// Characters of a shortened opaque token kept.
const OPAQUE_KEPT_CHARS: usize = 8;

/// `text` cut to about `max_chars` so that it still shows `focus`, the
/// value that makes it relevant: its head, then the part around `focus`
/// when that lies beyond the cut. Without `focus` in it, as [`excerpt`].
pub(crate) fn excerpt_showing(text: &str, focus: &str, max_chars: usize) -> String {
    // ASCII lower-casing keeps byte offsets, so a match indexes `text`.
    let found = (!focus.is_empty())
        .then(|| text.to_ascii_lowercase().find(&focus.to_ascii_lowercase()))
        .flatten();
    let Some(at) = found else {
        return excerpt(text, max_chars);
    };
    let at = text[..at].chars().count();
    if at + focus.chars().count() <= max_chars {
        return excerpt(text, max_chars);
    }
    let half = max_chars / 2;
    let head: String = text.chars().take(half).collect();
    let from = at.saturating_sub(half / 4).max(half);
    let around: String = text.chars().skip(from).take(half).collect();
    let more = text.chars().count() > from + half;
    format!("{head}…{around}{}", if more { "…" } else { "" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_opaque_tokens_are_shortened_and_words_kept() {
        assert_eq!(
            compact(
                "IN=ens5 MAC=0a:1b:2c:3d:4e:5f:0a:9f:8e:7d:6c:5b:08:00 SRC=10.250.0.1 PROTO=ICMP"
            ),
            "IN=ens5 MAC=0a:1b:2c… SRC=10.250.0.1 PROTO=ICMP"
        );
        assert_eq!(
            compact("request \"7e85db04-792e-4f0a-b58c-4f17925a6988\" failed  twice"),
            "request \"7e85db04…\" failed  twice"
        );
        // Commits, addresses, words and URLs stay as they are.
        for kept in [
            "commit a3f9c21 reverted",
            "dial tcp 203.0.113.40:443: i/o timeout",
            "url=https://sso-api.wingtiptoys.example/as/token.oauth2",
            "from fe80::1ff:fe23:4567:890a refused",
        ] {
            assert_eq!(compact(kept), kept);
        }
    }

    #[test]
    fn an_excerpt_keeps_its_focus_when_the_cut_would_lose_it() {
        let text = format!(
            "RevokeIngress {{{}\"cidr\":\"10.30.3.0/24\",\"description\":\"app-c\"}}",
            "x".repeat(300)
        );
        let cut = excerpt_showing(&text, "10.30.3.0/24", 100);
        assert!(cut.starts_with("RevokeIngress"), "{cut}");
        assert!(
            cut.contains("10.30.3.0/24\",\"description\":\"app-c"),
            "{cut}"
        );
        assert!(cut.chars().count() <= 102, "{cut}");
        // A focus inside the head, or absent, cuts as a plain excerpt.
        assert_eq!(excerpt_showing(&text, "Revoke", 20), excerpt(&text, 20));
        assert_eq!(excerpt_showing(&text, "absent", 20), excerpt(&text, 20));
        let short = "port 5432 opened";
        assert_eq!(excerpt_showing(short, "5432", 100), short);
    }

    #[test]
    fn levels_read_with_three_significant_digits() {
        assert_eq!(readable(0.021_33), "0.0213");
        assert_eq!(readable(0.68), "0.68");
        assert_eq!(readable(57_565_793.0), "57565793");
        assert_eq!(readable(4.954), "4.95");
        assert_eq!(readable(12.0), "12");
    }
}
