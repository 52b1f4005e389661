//! Incident key times from a report's timeline. Postmortems rarely label
//! their times ("Detected: 14:07"); they tell a timeline of entries
//! (`### 13:44`, `- 08:42:33 account created`, `13:14 EDT (17:14 UTC): …`,
//! a bare `1:03` over its text), under date headings, in the zone the
//! timeline names. This reads those entries, dates carried forward, and
//! picks each key time by what its entry says, in the vocabulary incident
//! reports share: the fault is the first failure before anyone noticed, the
//! detection the first notice (or the first failure seen after the fault),
//! the declaration an incident declared, the resolution the last entry that
//! says service is back (a fix is only taken when nothing says so).

use std::sync::OnceLock;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use regex::Regex;

use crate::NamedZone;

/// A time earlier than the previous entry's by more than this, with no
/// date of its own, is on the next day (entries may be a little out of
/// order; a timeline that crosses midnight goes back by most of a day).
const ROLLOVER_HOURS: i64 = 6;
/// Longest bare (unmarked) line read as an entry stamp with its text.
const MAX_BARE_STAMP_LINE: usize = 80;

/// One dated entry of a timeline.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Entry {
    /// Line the entry starts on (1-based).
    pub line: u64,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// What the entry says.
    pub text: String,
}

/// The key times a timeline states.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct KeyTimes {
    pub fault: Option<DateTime<Utc>>,
    pub detected: Option<DateTime<Utc>>,
    pub declared: Option<DateTime<Utc>>,
    pub resolved: Option<DateTime<Utc>>,
}

/// A date and time written at the start of a line, and what follows it.
#[derive(Debug, PartialEq)]
struct Stamp<'a> {
    year: Option<i32>,
    month_day: Option<(u32, u32)>,
    time: Option<NaiveTime>,
    zone: Option<NamedZone>,
    /// A UTC time given beside the local one: `13:14 EDT (17:14 UTC)`.
    utc_time: Option<NaiveTime>,
    rest: &'a str,
}

fn regex(cell: &'static OnceLock<Option<Regex>>, pattern: &str) -> Option<&'static Regex> {
    cell.get_or_init(|| Regex::new(pattern).ok()).as_ref()
}

const MONTHS: &str = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec";

fn month_number(name: &str) -> Option<u32> {
    let prefix = name.get(..3)?.to_ascii_lowercase();
    MONTHS
        .split('|')
        .position(|m| m == prefix)
        .and_then(|i| u32::try_from(i + 1).ok())
}

/// Reads a stamp at the start of `text`: a date (`2019-03-25`, `Sep 27
/// 2017`, `July 23`, `15 May`, `19. April,`), a time (`13:06`, `4:19`,
/// `08:44:55`, `5:00 PM`, `7:01am`, `~13:30-13:45`), a zone after it and a
/// UTC time in parentheses. At least a date or a time.
fn stamp(text: &str) -> Option<Stamp<'_>> {
    static STAMP: OnceLock<Option<Regex>> = OnceLock::new();
    let pattern = regex(
        &STAMP,
        &format!(
            r"(?ix)^[~≈]?\s*
            (?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s+)?
            (?:
               (?P<iso>\d{{4}}-\d{{2}}-\d{{2}})
              |(?P<mon1>(?:{MONTHS})[a-z]*)\.?\s+(?P<day1>\d{{1,2}})(?:st|nd|rd|th)?\b,?(?:\s+(?P<year1>\d{{4}})\b)?
              |(?P<day2>\d{{1,2}})(?:st|nd|rd|th)?\.?\s+(?P<mon2>(?:{MONTHS})[a-z]*)\.?,?(?:\s+(?P<year2>\d{{4}})\b)?
            )?
            [,\s]*(?:at\s+)?~?
            (?:
               (?P<h>\d{{1,2}}):(?P<m>\d{{2}})(?::\d{{2}}(?:\.\d+)?)?(?:\s*(?P<ampm>[ap]\.?m\b\.?))?
            )?
            (?:\s*[-–]\s*~?\d{{1,2}}:\d{{2}}(?:\s*[ap]\.?m\b\.?)?)?"
        ),
    )?;
    let found = pattern.captures(text)?;
    let (mut year, mut month_day) = (None, None);
    if let Some(iso) = found.name("iso") {
        let date = NaiveDate::parse_from_str(iso.as_str(), "%Y-%m-%d").ok()?;
        year = Some(date.year());
        month_day = Some((date.month(), date.day()));
    } else if let Some(day) = found.name("day1").or(found.name("day2")) {
        let month = found.name("mon1").or(found.name("mon2"))?;
        let month = month_number(month.as_str())?;
        let day: u32 = day.as_str().parse().ok().filter(|d| (1..=31).contains(d))?;
        month_day = Some((month, day));
        year = found
            .name("year1")
            .or(found.name("year2"))
            .and_then(|y| y.as_str().parse().ok());
    }
    let time = match (found.name("h"), found.name("m")) {
        (Some(h), Some(m)) => {
            let mut hour: u32 = h.as_str().parse().ok()?;
            let minute: u32 = m.as_str().parse().ok()?;
            match found.name("ampm").map(|a| a.as_str().to_ascii_lowercase()) {
                Some(a) if a.starts_with('p') && hour < 12 => hour += 12,
                Some(a) if a.starts_with('a') && hour == 12 => hour = 0,
                _ => {}
            }
            Some(NaiveTime::from_hms_opt(hour, minute, 0)?)
        }
        _ => None,
    };
    if time.is_none() && month_day.is_none() {
        return None;
    }
    let mut rest = &text[found.get(0)?.end()..];
    let mut zone = None;
    if time.is_some() {
        static ZONE: OnceLock<Option<Regex>> = OnceLock::new();
        let after = regex(
            &ZONE,
            r"^\s*\(?([A-Za-z]{1,5}(?:\s?[+\-−]\s?\d{1,2}(?::\d{2})?)?)\)?\b",
        )?;
        if let Some(named) = after.captures(rest)
            && let Some(parsed) = named.get(1).and_then(|z| NamedZone::parse(z.as_str()))
        {
            zone = Some(parsed);
            rest = &rest[named.get(0).map_or(0, |m| m.end())..];
        }
    }
    let mut utc_time = None;
    static BESIDE: OnceLock<Option<Regex>> = OnceLock::new();
    let beside = regex(
        &BESIDE,
        r"(?i)^\s*\(\s*(\d{1,2}):(\d{2})\s*(utc|gmt|z)?\s*\)",
    )?;
    if time.is_some()
        && let Some(found) = beside.captures(rest)
    {
        if found.get(3).is_some() {
            let hour = found.get(1).and_then(|h| h.as_str().parse().ok());
            let minute = found.get(2).and_then(|m| m.as_str().parse().ok());
            utc_time = hour
                .zip(minute)
                .and_then(|(h, m)| NaiveTime::from_hms_opt(h, m, 0));
        }
        rest = &rest[found.get(0).map_or(0, |m| m.end())..];
    }
    let rest = rest.trim_start_matches(|c: char| {
        c.is_whitespace() || matches!(c, '-' | '–' | '—' | ':' | ',' | '*' | '_' | '|')
    });
    Some(Stamp {
        year,
        month_day,
        time,
        zone,
        utc_time,
        rest: rest.trim_end(),
    })
}

/// Whether `text` is nothing but a weekday name (`2025-07-26 Saturday`).
fn only_weekday(text: &str) -> bool {
    let word = text
        .trim_matches(|c: char| !c.is_alphabetic())
        .to_ascii_lowercase();
    ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .any(|d| word.starts_with(d) && word.ends_with("day"))
}

/// The zone a line states for the times around it: "All times in PST",
/// "_all times are in UTC_", "(times in BST)", "Times are in both
/// Eastern Daylight Time (EDT) and UTC": the first zone named after
/// "times … in".
fn stated_zone(line: &str) -> Option<NamedZone> {
    let lower = line.to_ascii_lowercase();
    let at = lower.find("times")?;
    let after = &line[at..];
    let in_at = after.to_ascii_lowercase().find(" in ")?;
    if in_at > 20 {
        return None;
    }
    after[in_at + 4..]
        .split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | '_' | '*' | ',' | ';'))
        .map(|w| w.trim_end_matches(['.', ':']))
        .filter(|w| !w.is_empty())
        .take(8)
        .find_map(|word| {
            // Names of zones are written in capitals; "in" or "both" never are.
            (word.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                || word.starts_with(['+', '-']))
            .then(|| NamedZone::parse(word))
            .flatten()
        })
}

/// A heading or line naming a timeline (not a follow-up one).
fn names_timeline(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.contains("timeline") && !lower.contains("follow")
}

/// An entry being read.
struct Open {
    line: u64,
    local: NaiveDateTime,
    zone: Option<NamedZone>,
    utc_time: Option<NaiveTime>,
    text: String,
    /// Started as a list item: untimed prose after a blank line ends it.
    listed: bool,
}

impl Open {
    fn finish(self, default_zone: NamedZone) -> Entry {
        let zone = self.zone.unwrap_or(default_zone);
        let offset = Duration::minutes(i64::from(zone.offset_minutes(self.local.date())));
        let mut at = (self.local - offset).and_utc();
        if let Some(utc_time) = self.utc_time {
            // The stated UTC time wins; its date is the one nearest the
            // local reading (a late evening in New York is the next UTC day).
            let local_as_utc = self.local.and_utc();
            at = [-1i64, 0, 1]
                .iter()
                .filter_map(|days| {
                    self.local
                        .date()
                        .checked_add_signed(Duration::days(*days))
                        .map(|d| d.and_time(utc_time).and_utc())
                })
                .min_by_key(|candidate| (*candidate - local_as_utc).num_minutes().abs())
                .unwrap_or(at);
        }
        Entry {
            line: self.line,
            at,
            text: self.text.trim().to_string(),
        }
    }
}

/// The dated entries of every timeline section of a Markdown report
/// (follow-up timelines left out). `date` is the day assumed until the
/// timeline names one; `zone` the zone of times when it names none.
pub(crate) fn timeline(text: &str, date: Option<NaiveDate>, zone: NamedZone) -> Vec<Entry> {
    let mut entries = Vec::new();
    let mut section: Option<usize> = None;
    let mut section_zone: Option<NamedZone> = None;
    let mut day = date;
    let mut last_local: Option<NaiveDateTime> = None;
    let mut open: Option<Open> = None;
    let mut in_code = false;
    let mut previous_blank = true;
    let close = |open: &mut Option<Open>, entries: &mut Vec<Entry>, zone: NamedZone| {
        if let Some(entry) = open.take() {
            entries.push(entry.finish(zone));
        }
    };
    for (index, raw) in text.lines().enumerate() {
        let number = index as u64 + 1;
        let trimmed = raw.trim();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        let current_zone = section_zone.unwrap_or(zone);
        let heading = trimmed
            .starts_with('#')
            .then(|| trimmed.trim_start_matches('#'))
            .filter(|text| text.starts_with(' ') && !text.trim().is_empty())
            .map(|text| (trimmed.len() - text.len(), text.trim()));
        if let Some((level, title)) = heading {
            close(&mut open, &mut entries, current_zone);
            previous_blank = true;
            if names_timeline(title) {
                section = Some(level);
                section_zone = stated_zone(title);
                continue;
            }
            let Some(top) = section else { continue };
            match stamp(title) {
                Some(found) if found.time.is_some() => {
                    open = start(&found, number, &mut day, &mut last_local, false);
                    if let Some(open) = &mut open {
                        open.text.push_str(found.rest);
                    }
                }
                Some(found) if found.rest.is_empty() || only_weekday(found.rest) => {
                    set_day(&found, &mut day);
                }
                _ if level <= top => section = None,
                _ => {}
            }
            continue;
        }
        if section.is_none() {
            continue;
        }
        if trimmed.is_empty() {
            previous_blank = true;
            if let Some(open) = &mut open {
                open.text.push('\n');
            }
            continue;
        }
        if entries.is_empty()
            && open.is_none()
            && section_zone.is_none()
            && let Some(named) = stated_zone(trimmed)
        {
            section_zone = Some(named);
            previous_blank = false;
            continue;
        }
        let listed = trimmed
            .strip_prefix(['-', '*', '+'])
            .filter(|rest| rest.starts_with(' '))
            .map(str::trim_start)
            .or_else(|| {
                let digits = trimmed.chars().take_while(char::is_ascii_digit).count();
                trimmed[digits..]
                    .strip_prefix(". ")
                    .filter(|_| digits > 0 && digits < 3)
            });
        let unindented = !raw.starts_with([' ', '\t']);
        let candidate = listed.or((unindented && previous_blank).then_some(trimmed));
        let stamped = candidate
            .map(|text| text.trim_start_matches(['*', '_']))
            .and_then(stamp);
        match stamped {
            Some(found)
                if found.time.is_some()
                    && (listed.is_some()
                        || found.rest.is_empty()
                        || trimmed.len() <= MAX_BARE_STAMP_LINE) =>
            {
                close(&mut open, &mut entries, current_zone);
                if section_zone.is_none() {
                    section_zone = found.zone;
                }
                open = start(&found, number, &mut day, &mut last_local, listed.is_some());
                if let Some(open) = &mut open {
                    open.text.push_str(found.rest);
                }
            }
            Some(found)
                if found.month_day.is_some()
                    && (found.rest.is_empty() || only_weekday(found.rest)) =>
            {
                close(&mut open, &mut entries, current_zone);
                set_day(&found, &mut day);
            }
            _ => {
                if let Some(date) = labelled_date(trimmed) {
                    close(&mut open, &mut entries, current_zone);
                    day = Some(date);
                } else if open.as_ref().is_some_and(|o| {
                    o.listed && previous_blank && unindented && !trimmed.starts_with('>')
                }) {
                    // Untimed prose between list items belongs to no entry.
                    close(&mut open, &mut entries, current_zone);
                } else if let Some(open) = &mut open {
                    open.text.push(' ');
                    open.text.push_str(trimmed);
                }
            }
        }
        previous_blank = false;
    }
    close(&mut open, &mut entries, section_zone.unwrap_or(zone));
    entries
}

/// `**Date: 2023-11-22**`: a short line naming the day of what follows.
fn labelled_date(line: &str) -> Option<NaiveDate> {
    let cleaned = line.trim_matches(|c: char| c == '*' || c == '_' || c.is_whitespace());
    let (label, value) = cleaned.split_once(':')?;
    if !label.trim().eq_ignore_ascii_case("date") {
        return None;
    }
    let found = stamp(value.trim().trim_matches('*'))?;
    let (month, day) = found.month_day?;
    NaiveDate::from_ymd_opt(found.year?, month, day)
}

/// Makes `found` the current day (the year carried when it names none).
fn set_day(found: &Stamp<'_>, day: &mut Option<NaiveDate>) {
    let Some((month, day_of_month)) = found.month_day else {
        return;
    };
    let Some(year) = found.year.or(day.map(|d| d.year())) else {
        return;
    };
    if let Some(date) = NaiveDate::from_ymd_opt(year, month, day_of_month) {
        *day = Some(date);
    }
}

/// Opens an entry at `found`'s date and time: its own date, else the
/// current day, moved to the next when the clock went back past
/// [`ROLLOVER_HOURS`].
fn start(
    found: &Stamp<'_>,
    line: u64,
    day: &mut Option<NaiveDate>,
    last_local: &mut Option<NaiveDateTime>,
    listed: bool,
) -> Option<Open> {
    let time = found.time?;
    let dated = found.month_day.is_some();
    set_day(found, day);
    let mut local = (*day)?.and_time(time);
    if !dated
        && let Some(last) = *last_local
        && local < last - Duration::hours(ROLLOVER_HOURS)
    {
        local += Duration::days(1);
        *day = Some(local.date());
    }
    *last_local = Some(local);
    Some(Open {
        line,
        local,
        zone: found.zone,
        utc_time: found.utc_time,
        text: String::new(),
        listed,
    })
}

/// What an entry says, in the classes of incident vocabulary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Says {
    notice: bool,
    failure: bool,
    start: bool,
    outside_production: bool,
    declared: bool,
    restored: bool,
    fixed: bool,
}

/// Cue patterns, as (class, pattern). Whole words, case-insensitive.
fn cues() -> Option<&'static [(Cue, Regex)]> {
    static CUES: OnceLock<Option<Vec<(Cue, Regex)>>> = OnceLock::new();
    CUES.get_or_init(|| {
        [
            (
                Cue::Notice,
                r"\b(?:notic(?:e|ed|es|ing)|report(?:s|ed|ing)?|alert(?:s|ed)?|fires|fired|ticket|receiv(?:e|es|ed)|e-?mails?|e-?mailed|paged|notif(?:y|ies|ied)|informed|escalat\w*|flagged|brought to (?:the |our )?attention)\b",
            ),
            (
                Cue::Failure,
                r"(?:\b(?:errors?|erroring|fail(?:s|ed|ing|ures?)?|broken|down|outages?|unavailable|unusable|unresponsive|inaccessible|forbidden|timed? ?out|timeouts?|crash\w*|oom\w*|killed|drops?|dropped|dropping|degraded|stuck|backlog\w*|hung|hangs?|trouble|problems?|zero|(?:not|stopped) (?:successfully )?(?:start|launch|work|respond)\w*)\b|\b0 ?%|n't (?:be )?(?:start|launch|work|respond)\w*)",
            ),
            (
                Cue::Start,
                r"\b(?:(?:start|beginning) of (?:the )?(?:incident|outage|problem|impact|issue)|(?:incident|outage|problem|impact|issue|errors?|failures?) (?:starts?|started|begins?|began)|begins? to (?:drop|fail|degrade|error)\w*|start(?:s|ed)? (?:failing|dropping|erroring))\b",
            ),
            (
                Cue::OutsideProduction,
                r"\b(?:staging|sandbox|test environment|dev environment)\b",
            ),
            (
                Cue::Declared,
                r"\b(?:incident (?:is |was |has been )?(?:officially )?declared|declar(?:e|es|ed|ing) (?:an |the |a )?incident)\b",
            ),
            (
                Cue::Restored,
                r"\b(?:resolved|restored|recovered|back to (?:normal|working|100 ?%)|return(?:s|ed)? (?:back )?to (?:normal|100 ?%|working)|(?:is|are) (?:now )?back|(?:working|okay|ok|fine|usable|available|healthy|online|normally) again|resum(?:e|es|ed)|(?:incident|outage|problem|issue)s? (?:ends|ended|is over|was over|goes away|went away)|(?:outage|incident) to an end|clos(?:e|es|ed) the incident|incident (?:is |was )?closed|self-?heal\w*|mitigated)\b",
            ),
            (Cue::Fixed, r"\b(?:fix|fixed|fixes|hotfix|hot-fix|patch|patched)\b"),
        ]
        .into_iter()
        .map(|(cue, pattern)| Regex::new(&format!("(?i){pattern}")).map(|r| (cue, r)))
        .collect::<Result<Vec<_>, _>>()
        .ok()
    })
    .as_deref()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cue {
    Notice,
    Failure,
    Start,
    OutsideProduction,
    Declared,
    Restored,
    Fixed,
}

/// A cue right after a negation ("not fixed", "does not resolve", "no
/// errors") says the opposite.
fn negated(before: &str) -> bool {
    before
        .split_whitespace()
        .rev()
        .take(3)
        .any(|w| matches!(w, "not" | "never" | "no" | "without") || w.ends_with("n't"))
}

/// A sentence that only supposes service is back ("appears to have
/// recovered", "believed to be resolved") states no resolution.
fn hedged(sentence: &str) -> bool {
    static HEDGE: OnceLock<Option<Regex>> = OnceLock::new();
    regex(
        &HEDGE,
        r"(?i)\b(?:appear\w*|seem\w*|believ\w*|thought|suspect\w*|hopefully|might|may have)\b",
    )
    .is_some_and(|r| r.is_match(sentence))
}

fn says(text: &str) -> Says {
    let mut says = Says::default();
    let Some(cues) = cues() else {
        return says;
    };
    for sentence in text.split(['.', '!', '?', '\n', ';']) {
        for (cue, pattern) in cues {
            let stated = pattern
                .find_iter(sentence)
                .any(|m| !negated(&sentence[..m.start()].to_ascii_lowercase()));
            let resolution = matches!(cue, Cue::Restored | Cue::Fixed);
            if !stated || resolution && hedged(sentence) {
                continue;
            }
            match cue {
                Cue::Notice => says.notice = true,
                Cue::Failure => says.failure = true,
                Cue::Start => says.start = true,
                Cue::OutsideProduction => says.outside_production = true,
                Cue::Declared => says.declared = true,
                Cue::Restored => says.restored = true,
                Cue::Fixed => says.fixed = true,
            }
        }
    }
    says
}

/// Picks the key times of a timeline by what its entries say.
pub(crate) fn key_times(entries: &[Entry]) -> KeyTimes {
    let said: Vec<Says> = entries.iter().map(|e| says(&e.text)).collect();
    let noticed = said.iter().position(|s| s.notice || s.declared);
    let before_notice = &said[..noticed.unwrap_or(said.len())];
    let fault = before_notice
        .iter()
        .position(|s| s.start || (s.failure && !s.outside_production));
    let detected = match fault {
        Some(fault) => said[fault + 1..]
            .iter()
            .position(|s| s.notice || s.declared || s.failure)
            .map(|i| fault + 1 + i),
        None => noticed,
    };
    let declared = said.iter().position(|s| s.declared);
    let resolved = said
        .iter()
        .rposition(|s| s.restored)
        .or_else(|| said.iter().rposition(|s| s.fixed));
    let at = |index: Option<usize>| index.and_then(|i| entries.get(i)).map(|e| e.at);
    KeyTimes {
        fault: at(fault),
        detected: at(detected),
        declared: at(declared),
        resolved: at(resolved),
    }
}

/// The first date written anywhere in `text` with its year (`2017-09-27`,
/// `May 12 2025`, `12 May 2025`), for a report's title or file name.
pub(crate) fn find_date(text: &str) -> Option<NaiveDate> {
    text.char_indices()
        .filter(|(i, c)| {
            c.is_ascii_alphanumeric()
                && text[..*i]
                    .chars()
                    .next_back()
                    .is_none_or(|p| !p.is_ascii_alphanumeric())
        })
        .find_map(|(i, _)| {
            let found = stamp(&text[i..])?;
            let (month, day) = found.month_day?;
            NaiveDate::from_ymd_opt(found.year?, month, day)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).expect("time").to_utc()
    }

    #[test]
    fn stamps_in_the_forms_reports_write_them() {
        let read = |text: &str| {
            let s = stamp(text).expect(text);
            (
                s.year,
                s.month_day,
                s.time.map(|t| t.format("%H:%M").to_string()),
                s.rest.to_string(),
            )
        };
        assert_eq!(
            read("Sep 27 2017 13:06"),
            (
                Some(2017),
                Some((9, 27)),
                Some("13:06".into()),
                String::new()
            )
        );
        assert_eq!(
            read("19. April, 11:00"),
            (None, Some((4, 19)), Some("11:00".into()), String::new())
        );
        assert_eq!(read("2019-03-25 7:01am").2.as_deref(), Some("07:01"));
        assert_eq!(
            read("5:00 PM Incident declared").2.as_deref(),
            Some("17:00")
        );
        assert_eq!(read("~13:30-13:45").2.as_deref(), Some("13:30"));
        assert_eq!(
            read("21:00 - Team alerted").3,
            "Team alerted",
            "a label, not a range"
        );
        assert_eq!(read("08:44:55 account invited").2.as_deref(), Some("08:44"));
        assert_eq!(
            read("14:33, admin receives an email").3,
            "admin receives an email"
        );
        let dual = stamp("13:14 EDT (17:14 UTC): A user emails security").expect("dual");
        assert_eq!(dual.zone, Some(NamedZone::Fixed(-240)));
        assert_eq!(dual.utc_time, NaiveTime::from_hms_opt(17, 14, 0));
        assert_eq!(dual.rest, "A user emails security");
        assert_eq!(read("July 23 4:10 AM").1, Some((7, 23)));
        assert_eq!(read("15 May").1, Some((5, 15)));
        assert!(stamp("May have caused the outage").is_none());
        assert!(stamp("The hub restarted").is_none());
    }

    #[test]
    fn zones_stated_for_a_timeline() {
        assert_eq!(stated_zone("All times in PST"), NamedZone::parse("PST"));
        assert_eq!(
            stated_zone("_all times are in UTC_"),
            NamedZone::parse("UTC")
        );
        assert_eq!(
            stated_zone("Timeline (times in BST)"),
            NamedZone::parse("BST")
        );
        assert_eq!(
            stated_zone("All times in UTC+1 (Zurich time)"),
            Some(NamedZone::Fixed(60))
        );
        assert_eq!(
            stated_zone("Times are in both Eastern Daylight Time (EDT) and UTC."),
            NamedZone::parse("EDT")
        );
        assert_eq!(stated_zone("We spent many times in meetings"), None);
    }

    /// A Google SRE style report: an h2 timeline, h3 time headings, dates
    /// carried forward, a decoy in staging before the fault and a hedged
    /// recovery after the real one.
    #[test]
    fn sre_style_headings_give_fault_detection_and_resolution() {
        let report = "# 2026-03-04 Checkout outage\n\n## Timeline\n\nAll times in CET\n\n### 2026-03-04 09:10\n\nThe new pricing service is deployed to staging; a test request errors once.\n\n### 09:40\n\nDeployed to production. Checkout requests begin to fail with 502.\n\n### 09:52\n\nThe on-call engineer is paged by the error-rate alert.\n\n### 10:20\n\nRollback completes; checkout is back to normal.\n\n### 11:05\n\nThe cache appears to have recovered as well.\n\n## Action items\n\n- 12:00 nothing\n";
        let entries = timeline(report, None, NamedZone::Fixed(0));
        assert_eq!(entries.len(), 5, "{entries:?}");
        let times = key_times(&entries);
        assert_eq!(times.fault, Some(utc("2026-03-04T08:40:00Z")));
        assert_eq!(times.detected, Some(utc("2026-03-04T08:52:00Z")));
        assert_eq!(times.resolved, Some(utc("2026-03-04T09:20:00Z")));
        assert_eq!(times.declared, None);
    }

    /// A PagerDuty/GitLab style list: a dated label, list items with
    /// seconds and a UTC suffix, untimed prose between items, the clock
    /// crossing midnight, an incident declared and closed.
    #[test]
    fn list_timelines_with_prose_between_items_and_midnight() {
        let report = "# Token service incident\n\n## Timeline of events\n\n**Date: 2025-11-30**\n\n- 22:41:07 UTC Login error rate reaches 40 %\n- 22:55 UTC Support receives tickets from three customers\n- 23:02 UTC Incident declared, SEV-2\n\nThe team suspected the database at first.\n\n- 00:10 UTC Signing keys re-published; logins are working again\n- 00:30 UTC Incident closed after monitoring\n";
        let entries = timeline(report, None, NamedZone::Fixed(60));
        assert_eq!(entries.len(), 5, "{entries:?}");
        assert!(
            !entries[2].text.contains("suspected"),
            "prose belongs to no entry"
        );
        let times = key_times(&entries);
        assert_eq!(times.fault, Some(utc("2025-11-30T22:41:00Z")));
        assert_eq!(times.detected, Some(utc("2025-11-30T22:55:00Z")));
        assert_eq!(times.declared, Some(utc("2025-11-30T23:02:00Z")));
        assert_eq!(
            times.resolved,
            Some(utc("2025-12-01T00:30:00Z")),
            "the incident closed, the last word on it"
        );
    }

    /// Dates as day headings under the timeline, bare time lines over
    /// their text, twelve-hour clocks, a local time with its UTC beside it.
    #[test]
    fn day_headings_bare_lines_and_dual_stamps() {
        let report = "# Hub pods dying\n\n## Timeline\n\n_All times in EDT_\n\n## July 22\n\n1:03\nFirst alert fires\n\n5:05\nIncident declared.\n\n## July 23\n\n- 8:07 PM EDT (00:07 UTC): service restored for every hub\n";
        let entries = timeline(
            report,
            NaiveDate::from_ymd_opt(2025, 7, 21),
            NamedZone::Fixed(0),
        );
        assert_eq!(entries.len(), 3, "{entries:?}");
        assert_eq!(entries[0].at, utc("2025-07-22T05:03:00Z"));
        assert_eq!(entries[0].text, "First alert fires");
        let times = key_times(&entries);
        assert_eq!(times.detected, Some(utc("2025-07-22T05:03:00Z")));
        assert_eq!(times.declared, Some(utc("2025-07-22T09:05:00Z")));
        assert_eq!(
            times.resolved,
            Some(utc("2025-07-24T00:07:00Z")),
            "the UTC day after"
        );
    }

    #[test]
    fn negations_and_fixes_rank_below_a_stated_recovery() {
        let entries = |texts: &[&str]| -> Vec<Entry> {
            texts
                .iter()
                .enumerate()
                .map(|(i, t)| Entry {
                    line: i as u64,
                    at: utc("2026-01-01T00:00:00Z") + Duration::minutes(i as i64),
                    text: (*t).to_string(),
                })
                .collect()
        };
        let times = key_times(&entries(&[
            "Users report errors",
            "Service is restored",
            "Root cause fixed the next day",
        ]));
        assert_eq!(times.resolved, Some(utc("2026-01-01T00:01:00Z")));
        let times = key_times(&entries(&[
            "Users report errors",
            "A patch is deployed",
            "The leak is not fixed",
        ]));
        assert_eq!(times.resolved, Some(utc("2026-01-01T00:01:00Z")));
    }

    #[test]
    fn dates_are_found_in_titles_and_file_names() {
        assert_eq!(
            find_date("2017-09-27, Hub 403"),
            NaiveDate::from_ymd_opt(2017, 9, 27)
        );
        assert_eq!(
            find_date("Leap outage, August 12 2025"),
            NaiveDate::from_ymd_opt(2025, 8, 12)
        );
        assert_eq!(
            find_date("mybinder/2019-04-03-ingress-cordoned.md"),
            NaiveDate::from_ymd_opt(2019, 4, 3)
        );
        assert_eq!(find_date("pod limit reached"), None);
    }
}
