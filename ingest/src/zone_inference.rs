//! Zones of files whose timestamps carry none, inferred by aligning their
//! time span with the spans of the files of the same ingest that do.
//!
//! A clock's zone cannot be read from a time like `2026/10/27 20:35:41`,
//! but the files gathered for one incident cover one stretch of time: an
//! nginx error log written in local time lies hours away from the access log
//! beside it (which states `-0500`) until it is read in that zone. Among the
//! whole-quarter-hour offsets a clock can have, the one that makes the file's
//! span overlap a zoned file's span best is taken, when that overlap is
//! substantial and clearly better than reading the file as UTC.

use chrono::{DateTime, Duration, FixedOffset, Utc};

/// Offsets tried: every quarter hour from UTC-12 to UTC+14, the range of
/// the zones in use.
const OFFSET_STEP_MINUTES: i32 = 15;
const WESTMOST_MINUTES: i32 = -12 * 60;
const EASTMOST_MINUTES: i32 = 14 * 60;
/// Overlap (intersection over union of two spans) below which two files are
/// not taken to record the same stretch of time.
const MIN_ALIGNMENT: f64 = 0.5;
/// Reading as UTC stays unless the best offset aligns this much better: a
/// file that already lines up with its neighbours is left alone.
const UTC_KEPT_WITHIN: f64 = 0.9;
/// Added to the end of every span, so that a span of one instant still has
/// a length to overlap with.
const SPAN_PAD: Duration = Duration::minutes(1);

/// The first and last time seen in a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TimeSpan {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl TimeSpan {
    fn of(times: &[DateTime<Utc>]) -> Option<TimeSpan> {
        Some(TimeSpan {
            start: *times.iter().min()?,
            end: *times.iter().max()?,
        })
    }

    fn shifted(self, by: Duration) -> TimeSpan {
        TimeSpan {
            start: self.start + by,
            end: self.end + by,
        }
    }

    /// Intersection over union of the two (padded) spans, 0 to 1.
    fn alignment(self, other: TimeSpan) -> f64 {
        let (a_end, b_end) = (self.end + SPAN_PAD, other.end + SPAN_PAD);
        let overlap = (a_end.min(b_end) - self.start.max(other.start)).num_seconds();
        let union = (a_end.max(b_end) - self.start.min(other.start)).num_seconds();
        if overlap <= 0 || union <= 0 {
            0.0
        } else {
            overlap as f64 / union as f64
        }
    }
}

/// What a sample of a file's lines says about its times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SampledTimes {
    /// Most timed lines state their zone (or are epoch times).
    Zoned(TimeSpan),
    /// Most timed lines carry no zone; the span reads them as UTC.
    Zoneless(TimeSpan),
}

/// Classifies sampled lines by reading each in two zones: a time that moves
/// with the zone it is read in was written without one.
pub(crate) fn sample_times<'l>(
    lines: impl Iterator<Item = &'l str>,
    time_in: impl Fn(&str, FixedOffset) -> Option<DateTime<Utc>>,
) -> Option<SampledTimes> {
    let (utc, east) = (FixedOffset::east_opt(0)?, FixedOffset::east_opt(3600)?);
    let (mut zoned, mut zoneless) = (Vec::new(), Vec::new());
    for line in lines {
        let Some(as_utc) = time_in(line, utc) else {
            continue;
        };
        if time_in(line, east) == Some(as_utc) {
            zoned.push(as_utc);
        } else {
            zoneless.push(as_utc);
        }
    }
    if zoneless.len() > zoned.len() {
        TimeSpan::of(&zoneless).map(SampledTimes::Zoneless)
    } else {
        TimeSpan::of(&zoned).map(SampledTimes::Zoned)
    }
}

/// The offset a zoneless file's times were written in, and the zoned file
/// they then line up with; `None` when UTC fits as well or nothing fits.
pub(crate) fn aligned_offset(
    file: TimeSpan,
    references: &[(String, TimeSpan)],
) -> Option<(FixedOffset, &str)> {
    let best_reference = |shift_minutes: i32| {
        let shifted = file.shifted(Duration::minutes(i64::from(-shift_minutes)));
        references
            .iter()
            .map(|(name, span)| (shifted.alignment(*span), name.as_str()))
            .max_by(|a, b| a.0.total_cmp(&b.0))
    };
    let as_utc = best_reference(0).map_or(0.0, |(score, _)| score);
    let mut offsets: Vec<i32> = (WESTMOST_MINUTES / OFFSET_STEP_MINUTES
        ..=EASTMOST_MINUTES / OFFSET_STEP_MINUTES)
        .map(|step| step * OFFSET_STEP_MINUTES)
        .collect();
    // Nearer offsets first, so that an exact tie keeps the smaller shift.
    offsets.sort_by_key(|minutes| minutes.abs());
    let mut best: Option<(f64, i32, &str)> = None;
    for minutes in offsets {
        if let Some((score, name)) = best_reference(minutes)
            && best.is_none_or(|(top, _, _)| score > top)
        {
            best = Some((score, minutes, name));
        }
    }
    let (score, minutes, name) = best?;
    if minutes == 0 || score < MIN_ALIGNMENT || as_utc >= UTC_KEPT_WITHIN * score {
        return None;
    }
    Some((FixedOffset::east_opt(minutes * 60)?, name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(hour: u32, minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 10, 28, hour, minute, 0)
            .single()
            .expect("valid time")
    }

    fn span(from: (u32, u32), to: (u32, u32)) -> TimeSpan {
        TimeSpan {
            start: at(from.0, from.1),
            end: at(to.0, to.1),
        }
    }

    /// A stand-in parser: `Z` marks a zoned time, anything else is local.
    fn time_in(line: &str, zone: FixedOffset) -> Option<DateTime<Utc>> {
        let (hour, rest) = line.split_once(':')?;
        let minute: u32 = rest.trim_end_matches('Z').parse().ok()?;
        let utc = at(hour.parse().ok()?, minute);
        Some(if rest.ends_with('Z') {
            utc
        } else {
            utc - Duration::seconds(i64::from(zone.local_minus_utc()))
        })
    }

    #[test]
    fn a_time_that_moves_with_the_zone_it_is_read_in_is_zoneless() {
        let zoned = ["10:00Z", "11:30Z", "no time here"];
        assert_eq!(
            sample_times(zoned.into_iter(), time_in),
            Some(SampledTimes::Zoned(span((10, 0), (11, 30))))
        );
        let local = ["10:00", "11:30", "12:00Z"];
        assert_eq!(
            sample_times(local.into_iter(), time_in),
            Some(SampledTimes::Zoneless(span((10, 0), (11, 30))))
        );
        assert_eq!(sample_times(["no time"].into_iter(), time_in), None);
    }

    #[test]
    fn a_local_log_west_of_utc_lines_up_with_its_zoned_neighbour() {
        // An error log written at UTC-5 beside the access log that says so.
        let references = vec![("edge/access.log".to_string(), span((0, 50), (2, 45)))];
        let (offset, with) = aligned_offset(
            span((19, 50), (21, 45)).shifted(Duration::days(-1)),
            &references,
        )
        .expect("aligned");
        assert_eq!(offset.local_minus_utc(), -5 * 3600);
        assert_eq!(with, "edge/access.log");
    }

    #[test]
    fn a_local_log_east_of_utc_by_half_an_hour_lines_up_too() {
        // An application log at UTC+5:30 among UTC services.
        let references = vec![
            ("changes.jsonl".to_string(), span((1, 0), (9, 0))),
            ("api.jsonl".to_string(), span((9, 30), (11, 30))),
        ];
        let (offset, with) = aligned_offset(span((15, 0), (17, 0)), &references).expect("aligned");
        assert_eq!(offset.local_minus_utc(), 5 * 3600 + 30 * 60);
        assert_eq!(with, "api.jsonl");
    }

    #[test]
    fn a_log_that_already_lines_up_or_lines_up_with_nothing_stays_utc() {
        let references = vec![("api.jsonl".to_string(), span((9, 30), (11, 30)))];
        assert_eq!(aligned_offset(span((9, 35), (11, 20)), &references), None);
        // A short excerpt has no span to align.
        assert_eq!(aligned_offset(span((16, 0), (16, 0)), &references), None);
        assert_eq!(aligned_offset(span((9, 0), (10, 0)), &[]), None);
    }
}
