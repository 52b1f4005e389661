//! How answers write times relative to the onset and measured levels.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_read_with_three_significant_digits() {
        assert_eq!(readable(0.021_33), "0.0213");
        assert_eq!(readable(0.68), "0.68");
        assert_eq!(readable(57_565_793.0), "57565793");
        assert_eq!(readable(4.954), "4.95");
        assert_eq!(readable(12.0), "12");
    }
}
