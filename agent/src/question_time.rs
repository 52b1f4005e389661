//! Times named in a question ("since 14:05", "~4:30pm IST", "around 2pm",
//! "at 2026-11-20 14:05 UTC"), read in the zone the asker names.

use std::sync::OnceLock;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use ingest::NamedZone;
use regex::Regex;

/// The instant a question refers to, resolved against the span of the
/// tenant's data: a time without a date means the latest day on which it
/// falls within the data. A zone the asker names (`UTC`, `CET`, `IST`,
/// `ET`, `+05:30`) is applied; a time with none is read as UTC.
pub fn question_time(
    question: &str,
    first: DateTime<Utc>,
    last: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let date = question
        .split(|c: char| c.is_whitespace() || c == ',' || c == 'T')
        .find_map(|token| NaiveDate::parse_from_str(token, "%Y-%m-%d").ok());
    let named = named_time(question)?;
    let instant = |day: NaiveDate| {
        let offset = named.zone.map_or(0, |zone| zone.offset_minutes(day));
        day.and_time(named.time).and_utc() - Duration::minutes(i64::from(offset))
    };
    if let Some(date) = date {
        return Some(instant(date));
    }
    // The local day may be a day after or before the UTC one.
    let mut day = last.date_naive().succ_opt()?;
    while day >= first.date_naive().pred_opt()? {
        let candidate = instant(day);
        if candidate <= last && candidate >= first - Duration::hours(1) {
            return Some(candidate);
        }
        day = day.pred_opt()?;
    }
    None
}

/// A clock time and the zone it was given in.
struct NamedTime {
    time: NaiveTime,
    zone: Option<NamedZone>,
}

/// The first clock time in `question`: `14:05`, `4:30pm`, `2pm`, each with
/// an optional zone after it. A bare number is no time.
fn named_time(question: &str) -> Option<NamedTime> {
    static TIME: OnceLock<Option<Regex>> = OnceLock::new();
    let pattern = TIME
        .get_or_init(|| {
            Regex::new(
                r"(?i)(?:^|[^\d:.])(\d{1,2})(?::(\d{2}))?(?::\d{2})?(?:\s*(am|pm|a\.m\.|p\.m\.))?(?:\s*([A-Za-z]{1,4}\b|[+-]\d{2}:?\d{2}\b))?",
            )
            .ok()
        })
        .as_ref()?;
    for found in pattern.captures_iter(question) {
        let hour: u32 = found.get(1)?.as_str().parse().ok()?;
        let minute: Option<u32> = found.get(2).and_then(|m| m.as_str().parse().ok());
        let meridiem = found.get(3).map(|m| m.as_str().to_lowercase());
        // "2pm" is a time; "2" or "503" is not.
        if minute.is_none() && meridiem.is_none() {
            continue;
        }
        let hour = match meridiem.as_deref() {
            Some(m) if m.starts_with('p') && hour < 12 => hour + 12,
            Some(m) if m.starts_with('a') && hour == 12 => 0,
            _ => hour,
        };
        let Some(time) = NaiveTime::from_hms_opt(hour, minute.unwrap_or(0), 0) else {
            continue;
        };
        let zone = found.get(4).and_then(|z| NamedZone::parse(z.as_str()));
        return Some(NamedTime { time, zone });
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
        assert_eq!(
            question_time("authn 503s since the 2.31 rollout", first, last),
            None
        );
    }

    #[test]
    fn twelve_hour_clocks_and_named_zones_are_read() {
        let (first, last) = (at("2026-09-03T00:00:00Z"), at("2026-09-03T23:59:00Z"));
        let check = |question: &str, expected: &str| {
            assert_eq!(
                question_time(question, first, last),
                Some(at(expected)),
                "{question}"
            );
        };
        check(
            "app users can't log in since ~4:30pm IST",
            "2026-09-03T11:00:00Z",
        );
        check("failing since ~16:00 UTC", "2026-09-03T16:00:00Z");
        check(
            "enterprise users can't log in since ~2pm",
            "2026-09-03T14:00:00Z",
        );
        check("hangs since ~06:05 CET", "2026-09-03T05:05:00Z");
        check("slow since ~4am ET", "2026-09-03T08:00:00Z");
        check(
            "can't reach the api since ~8:35pm CT",
            "2026-09-03T01:35:00Z",
        );
        check("errors since 09:15 +05:30", "2026-09-03T03:45:00Z");
        check("down at 12:10am", "2026-09-03T00:10:00Z");
    }

    #[test]
    fn generic_us_zones_follow_daylight_saving_time() {
        let winter = NaiveDate::from_ymd_opt(2026, 1, 15).expect("date");
        let summer = NaiveDate::from_ymd_opt(2026, 7, 15).expect("date");
        assert_eq!(NamedZone::UsGeneric(-300).offset_minutes(winter), -300);
        assert_eq!(NamedZone::UsGeneric(-300).offset_minutes(summer), -240);
    }
}
