//! Time zones as people write them in incident reports and questions:
//! abbreviations (`CET`, `IST`, `PST`), `UTC+1` / `GMT+2`, offsets
//! (`+05:30`), read literally rather than through daylight-saving rules.

use chrono::{Datelike, NaiveDate, Weekday};

/// A zone someone named.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NamedZone {
    /// A fixed offset from UTC, in minutes (`CET`, `IST`, `+05:30`).
    Fixed(i32),
    /// A North American zone named without saying standard or daylight
    /// (`ET`, `CT`, `MT`, `PT`): its standard offset, an hour more while
    /// US daylight saving time is in force.
    UsGeneric(i32),
}

impl NamedZone {
    /// Minutes east of UTC on `day`.
    pub fn offset_minutes(self, day: NaiveDate) -> i32 {
        match self {
            NamedZone::Fixed(minutes) => minutes,
            NamedZone::UsGeneric(standard) => standard + if us_daylight(day) { 60 } else { 0 },
        }
    }

    /// The zone `text` names: an abbreviation (case-insensitive), `UTC+1`,
    /// `GMT-5`, `+05:30` or `-0800`. Abbreviations are read literally (CET
    /// is +1 even in summer, as a writer who means summer time writes
    /// CEST), and `GMT+2` is two hours east, as people mean it (not the
    /// POSIX-inverted `Etc/GMT+2`).
    pub fn parse(text: &str) -> Option<NamedZone> {
        let text = text.trim();
        if let Some(sign) = text.chars().next().filter(|c| *c == '+' || *c == '-') {
            let digits: String = text.chars().filter(char::is_ascii_digit).collect();
            let hours: i32 = digits.get(..2)?.parse().ok()?;
            let minutes: i32 = digits.get(2..4)?.parse().ok()?;
            let total = hours * 60 + minutes;
            return Some(NamedZone::Fixed(if sign == '-' { -total } else { total }));
        }
        let lower = text.to_ascii_lowercase();
        for base in ["utc", "gmt"] {
            if let Some(rest) = lower.strip_prefix(base).filter(|r| !r.is_empty()) {
                return relative_hours(rest).map(NamedZone::Fixed);
            }
        }
        named(&lower)
    }
}

/// `+1`, `-5`, `+5:30` after `UTC`/`GMT`: minutes east.
fn relative_hours(rest: &str) -> Option<i32> {
    let (sign, number) = match rest.trim_start().chars().next()? {
        '+' => (1, &rest.trim_start()[1..]),
        '-' | '\u{2212}' => (-1, rest.trim_start().trim_start_matches(['-', '\u{2212}'])),
        _ => return None,
    };
    let (hours, minutes) = number
        .trim()
        .split_once(':')
        .unwrap_or((number.trim(), "0"));
    let hours: i32 = hours.parse().ok().filter(|h| *h <= 14)?;
    let minutes: i32 = minutes.parse().ok().filter(|m| *m < 60)?;
    Some(sign * (hours * 60 + minutes))
}

fn named(name: &str) -> Option<NamedZone> {
    let hours = |h: i32| Some(NamedZone::Fixed(h * 60));
    match name {
        "utc" | "gmt" | "z" => hours(0),
        "bst" | "cet" | "wat" => hours(1),
        "cest" | "eet" | "sast" => hours(2),
        "eest" | "msk" => hours(3),
        "ist" => Some(NamedZone::Fixed(330)),
        "sgt" | "hkt" | "awst" => hours(8),
        "jst" | "kst" => hours(9),
        "aest" => hours(10),
        "aedt" => hours(11),
        "nzst" => hours(12),
        "edt" => hours(-4),
        "est" | "cdt" => hours(-5),
        "cst" | "mdt" => hours(-6),
        "mst" | "pdt" => hours(-7),
        "pst" => hours(-8),
        "et" => Some(NamedZone::UsGeneric(-300)),
        "ct" => Some(NamedZone::UsGeneric(-360)),
        "mt" => Some(NamedZone::UsGeneric(-420)),
        "pt" => Some(NamedZone::UsGeneric(-480)),
        _ => None,
    }
}

/// US daylight saving time: from the second Sunday of March to the first
/// Sunday of November (by date; the hour of the switch is ignored).
fn us_daylight(day: NaiveDate) -> bool {
    let nth_sunday = |month: u32, n: u8| {
        NaiveDate::from_weekday_of_month_opt(day.year(), month, Weekday::Sun, n)
    };
    match (nth_sunday(3, 2), nth_sunday(11, 1)) {
        (Some(start), Some(end)) => day >= start && day < end,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abbreviations_offsets_and_relative_names_are_read_literally() {
        let day = NaiveDate::from_ymd_opt(2022, 6, 2).expect("day");
        let minutes = |text: &str| NamedZone::parse(text).map(|z| z.offset_minutes(day));
        assert_eq!(minutes("CET"), Some(60), "literal, even in June");
        assert_eq!(minutes("pst"), Some(-480));
        assert_eq!(minutes("IST"), Some(330));
        assert_eq!(minutes("GMT+2"), Some(120), "east, as people mean it");
        assert_eq!(minutes("UTC+1"), Some(60));
        assert_eq!(minutes("UTC-5:30"), Some(-330));
        assert_eq!(minutes("+05:30"), Some(330));
        assert_eq!(minutes("-0800"), Some(-480));
        assert_eq!(minutes("ET"), Some(-240), "US daylight time in June");
        assert_eq!(minutes("Zurich"), None);
    }
}
