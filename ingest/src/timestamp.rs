//! Timestamps from the formats we read, normalized to UTC.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDateTime, Utc};

use crate::zone_name::NamedZone;

const NAIVE_FORMATS: &[&str] = &[
    "%Y-%m-%dT%H:%M:%S%.f",
    // Redis and others: `18 Jun 2026 05:32:25.602`.
    "%d %b %Y %H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y/%m/%d %H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
];

/// Parses one timestamp: RFC 3339, ISO 8601 without zone (taken as UTC),
/// the access-log form `20/Nov/2026:14:05:01 +0000`, or Unix epoch seconds
/// or milliseconds.
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    parse_timestamp_in(text, FixedOffset::east_opt(0)?)
}

/// Like [`parse_timestamp`], with zone-less times read in `zone`.
pub fn parse_timestamp_in(text: &str, zone: FixedOffset) -> Option<DateTime<Utc>> {
    let text = text.trim().trim_matches(|c| c == '[' || c == ']');
    let zoned = DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%d/%b/%Y:%H:%M:%S %z"))
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f %z"))
        // ISO 8601 with a basic offset (`+0000`), as journalctl writes it.
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z"));
    if let Ok(ts) = zoned {
        return plausible(ts.with_timezone(&Utc));
    }
    if let Some(naive) = naive_time(text) {
        return plausible(naive.checked_sub_offset(zone)?.and_utc());
    }
    // A local time followed by the zone's name: `2026-01-20 10:10 PST`.
    if let Some((clock, name)) = text.rsplit_once(' ')
        && name.chars().all(|c| c.is_ascii_alphabetic())
        && let Some(named) = NamedZone::parse(name)
        && let Some(naive) = naive_time(clock)
    {
        let offset = FixedOffset::east_opt(named.offset_minutes(naive.date()) * 60)?;
        return plausible(naive.checked_sub_offset(offset)?.and_utc());
    }
    parse_epoch(text)
}

/// A date and time without a zone, in one of [`NAIVE_FORMATS`].
fn naive_time(text: &str) -> Option<NaiveDateTime> {
    // log4j and Python logging write a comma before the milliseconds.
    let dotted = text.replace(',', ".");
    NAIVE_FORMATS
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(&dotted, format).ok())
}

/// Years a log line can honestly carry; anything else is a misread number
/// that would drag every time window away from the real data.
fn plausible(ts: DateTime<Utc>) -> Option<DateTime<Utc>> {
    (1980..=2200).contains(&ts.year()).then_some(ts)
}

/// Unix time in seconds, milliseconds, microseconds or nanoseconds, told
/// apart by the number of integer digits (10, 13, 16, 19).
fn parse_epoch(text: &str) -> Option<DateTime<Utc>> {
    let (integer, fraction) = text.split_once('.').unwrap_or((text, ""));
    if integer.is_empty()
        || !integer.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let value: i64 = integer.parse().ok()?;
    let nanos = match integer.len() {
        10 => value.checked_mul(1_000_000_000)?,
        13 => value.checked_mul(1_000_000)?,
        16 => value.checked_mul(1_000)?,
        19 => value,
        _ => return None,
    };
    plausible(DateTime::from_timestamp_nanos(nanos))
}

/// Finds a timestamp at the start of a line (one or two whitespace-separated
/// tokens) and returns it with the rest of the line.
pub fn leading_timestamp(line: &str, zone: FixedOffset) -> Option<(DateTime<Utc>, &str)> {
    let mut ends = line
        .char_indices()
        .filter(|(_, c)| c.is_whitespace())
        .map(|(i, _)| i)
        .chain(std::iter::once(line.len()));
    let first = ends.next()?;
    let second = ends.find(|&i| i > first + 1);
    // Prefer the longer prefix so "2026-11-20 14:05:01" wins over "2026-11-20".
    for end in [second, Some(first)].into_iter().flatten() {
        let head = &line[..end];
        if !head.starts_with(|c: char| c.is_ascii_digit() || c == '[') {
            continue;
        }
        if head.len() < 10 {
            continue;
        }
        if let Some(ts) = parse_timestamp_in(head, zone) {
            return Some((ts, line[end..].trim_start()));
        }
    }
    None
}

/// Tokens from the start of a line searched for a timestamp that does not
/// lead it (`h2 2026-03-23T22:30:00Z app/…`, `1:M 18 Jun 2026 05:32:25 *`).
const SEARCHED_TOKENS: usize = 6;
/// Longest timestamp, in whitespace-separated tokens (`18 Jun 2026 05:32:25`).
const MAX_TIMESTAMP_TOKENS: usize = 4;

/// Finds a written timestamp (a date, not a bare number) among the first
/// tokens of a line, wherever it starts, and returns it with the line
/// around it (the tokens before it, then the rest); the longest span that
/// parses wins at each start. Failing that, a time leading a trailing
/// comment (` # 2026-01-20 10:10 PST`) dates the line, which is returned
/// whole.
pub fn find_timestamp(line: &str, zone: FixedOffset) -> Option<(DateTime<Utc>, String)> {
    find_leading_tokens(line, zone).or_else(|| {
        // A time in a trailing comment annotates the line it ends: a
        // transcript's `$ kubectl describe hpa x   # 2026-01-20 10:10 PST`.
        let (_, comment) = line.split_once(" # ")?;
        let (ts, _) = find_leading_tokens(comment, zone)?;
        Some((ts, line.trim().to_string()))
    })
}

fn find_leading_tokens(line: &str, zone: FixedOffset) -> Option<(DateTime<Utc>, String)> {
    let tokens: Vec<(usize, usize)> = token_spans(line)
        .take(SEARCHED_TOKENS + MAX_TIMESTAMP_TOKENS)
        .collect();
    for start in 0..tokens.len().min(SEARCHED_TOKENS) {
        let (from, _) = tokens[start];
        if !line[from..].starts_with(|c: char| c.is_ascii_digit() || c == '[') {
            continue;
        }
        for span in (1..=MAX_TIMESTAMP_TOKENS).rev() {
            let Some(&(_, to)) = tokens.get(start + span - 1) else {
                continue;
            };
            let text = &line[from..to];
            // A bare number inside a line is a count or a size far more often
            // than a Unix time: only a written date counts here.
            let written =
                text.contains(['-', '/', ':']) || text.chars().any(|c| c.is_ascii_alphabetic());
            if text.len() < 10 || !written {
                continue;
            }
            if let Some(ts) = parse_timestamp_in(text, zone) {
                let rest = format!("{} {}", line[..from].trim_end(), line[to..].trim_start());
                return Some((ts, rest.trim().to_string()));
            }
        }
    }
    None
}

/// Byte ranges of the whitespace-separated tokens of `line`.
fn token_spans(line: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut at = 0;
    std::iter::from_fn(move || {
        let rest = &line[at..];
        let start = at + rest.find(|c: char| !c.is_whitespace())?;
        let end = line[start..]
            .find(char::is_whitespace)
            .map_or(line.len(), |e| start + e);
        at = end;
        Some((start, end))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: &str) {
        let ts = parse_timestamp(input).unwrap_or_else(|| panic!("no timestamp in {input:?}"));
        assert_eq!(ts.to_rfc3339(), expected, "{input}");
    }

    #[test]
    fn formats_normalize_to_utc() {
        check("2026-11-20T14:05:01Z", "2026-11-20T14:05:01+00:00");
        check("2026-11-20T15:05:01+01:00", "2026-11-20T14:05:01+00:00");
        check("2026-11-20 14:05:01,250", "2026-11-20T14:05:01.250+00:00");
        check("20/Nov/2026:14:05:01 +0000", "2026-11-20T14:05:01+00:00");
        check("[20/Nov/2026:14:05:01 +0000]", "2026-11-20T14:05:01+00:00");
        check("1795183501", "2026-11-20T14:05:01+00:00");
        check("1795183501000", "2026-11-20T14:05:01+00:00");
        check("1795183501000000", "2026-11-20T14:05:01+00:00");
        assert_eq!(parse_timestamp("GET"), None);
        assert_eq!(
            parse_timestamp("8210266876799999"),
            None,
            "a 16-digit number is microseconds, not year 262143"
        );
        assert_eq!(
            parse_timestamp("12345678901"),
            None,
            "11 digits is no epoch"
        );
        assert_eq!(parse_timestamp("+262142-12-31T23:59:59"), None);
        assert_eq!(parse_timestamp(""), None);
    }

    #[test]
    fn timestamps_not_leading_the_line_are_found() {
        let utc = FixedOffset::east_opt(0).expect("utc");
        let (ts, rest) = find_timestamp(
            "h2 2026-03-23T22:30:00.601521Z app/idp-prod-alb/50dc 185.47.20.48:5956 200",
            utc,
        )
        .expect("ALB");
        assert_eq!(ts.to_rfc3339(), "2026-03-23T22:30:00.601521+00:00");
        assert_eq!(rest, "h2 app/idp-prod-alb/50dc 185.47.20.48:5956 200");
        let (ts, rest) = find_timestamp(
            "1:M 18 Jun 2026 05:32:25.602 * Connection with replica lost.",
            utc,
        )
        .expect("redis");
        assert_eq!(ts.to_rfc3339(), "2026-06-18T05:32:25.602+00:00");
        assert_eq!(rest, "1:M * Connection with replica lost.");
        let (ts, _) = find_timestamp(
            "2026-08-04T15:20:58+0000 ip-10-8-44-12 kubelet[3021]: ok",
            utc,
        )
        .expect("journal");
        assert_eq!(ts.to_rfc3339(), "2026-08-04T15:20:58+00:00");
        assert!(find_timestamp("remember to rotate keys", utc).is_none());
        assert!(
            find_timestamp("6757871 strings with 3912004113 bytes", utc).is_none(),
            "a size is no Unix time"
        );
        assert!(find_timestamp("06:31:07.101877 IP 172.22.14.8 > 10.10.1.12", utc).is_none());
        // A time annotating a transcript's command in a trailing comment.
        let line = "$ kubectl -n identity describe hpa token-issuer   # 2026-01-20 10:10 PST";
        let (ts, rest) = find_timestamp(line, utc).expect("comment");
        assert_eq!(ts.to_rfc3339(), "2026-01-20T18:10:00+00:00");
        assert_eq!(rest, line);
        assert!(find_timestamp("value # not a time", utc).is_none());
    }

    #[test]
    fn leading_timestamp_splits_the_rest() {
        let utc = FixedOffset::east_opt(0).expect("utc");
        let (ts, rest) = leading_timestamp("2026-11-20 14:05:01.5 ERROR jwt: kid not found", utc)
            .expect("timestamp");
        assert_eq!(ts.to_rfc3339(), "2026-11-20T14:05:01.500+00:00");
        assert_eq!(rest, "ERROR jwt: kid not found");
        let (_, rest) = leading_timestamp("2026-11-20T14:05:01Z INFO ok", utc).expect("timestamp");
        assert_eq!(rest, "INFO ok");
        assert!(leading_timestamp("INFO no time here", utc).is_none());
        let paris = FixedOffset::east_opt(3600).expect("offset");
        let (local, _) = leading_timestamp("2026-11-20 15:05:01 INFO x", paris).expect("timestamp");
        assert_eq!(
            local.to_rfc3339(),
            "2026-11-20T14:05:01+00:00",
            "zone-less times are read in the source's zone"
        );
    }
}
