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
