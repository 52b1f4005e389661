//! Times named in a question ("since 14:05", "at 2026-11-20 14:05").

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};

/// The instant a question refers to, resolved against the span of the
/// tenant's data: a bare `HH:MM` means the latest day on which that time
/// falls within the data.
pub fn question_time(
    question: &str,
    first: DateTime<Utc>,
    last: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let date = question
        .split(|c: char| c.is_whitespace() || c == ',' || c == 'T')
        .find_map(|token| NaiveDate::parse_from_str(token, "%Y-%m-%d").ok());
    let time = question
        .split(|c: char| !(c.is_ascii_digit() || c == ':'))
        .find_map(|token| {
            let parts: Vec<&str> = token.split(':').collect();
            (parts.len() >= 2 && parts[0].len() <= 2 && parts[1].len() == 2)
                .then(|| NaiveTime::parse_from_str(&parts[..2].join(":"), "%H:%M").ok())
                .flatten()
        })?;
    if let Some(date) = date {
        return Some(date.and_time(time).and_utc());
    }
    let mut day = last.date_naive();
    while day >= first.date_naive() {
        let candidate = day.and_time(time).and_utc();
        if candidate <= last && candidate >= first - Duration::hours(1) {
            return Some(candidate);
        }
        day = day.pred_opt()?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).expect("ts").to_utc()
    }

    #[test]
    fn bare_time_resolves_to_the_latest_day_in_the_data() {
        let (first, last) = (at("2026-11-19T10:00:00Z"), at("2026-11-20T15:00:00Z"));
        assert_eq!(
            question_time("Why are users getting 401s since 14:05?", first, last),
            Some(at("2026-11-20T14:05:00Z"))
        );
        assert_eq!(
            question_time("what broke at 16:30", first, last),
            Some(at("2026-11-19T16:30:00Z"))
        );
        assert_eq!(
            question_time("errors at 2026-11-19 09:15", first, last),
            Some(at("2026-11-19T09:15:00Z"))
        );
        assert_eq!(question_time("why 401s?", first, last), None);
        assert_eq!(question_time("HTTP 1.1 errors", first, last), None);
    }
}
