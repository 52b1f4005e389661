use regex::Regex;

/// A plain-text log layout described by a header format string, the LogHub
/// convention: `<Date> <Time> <Level> \[<Process>\] <Component>: <Content>`.
///
/// `<Name>` is a field; the text between fields is a regular expression in
/// which runs of spaces match any whitespace. `<Content>` is the message.
#[derive(Clone, Debug)]
pub struct HeaderFormat {
    regex: Regex,
    fields: Vec<String>,
}

/// A header format string that is not usable.
#[derive(Clone, Debug, thiserror::Error)]
#[error("bad header format {format:?}: {reason}")]
pub struct HeaderFormatError {
    format: String,
    reason: String,
}

impl HeaderFormat {
    /// Compiles a header format string. It must name a `<Content>` field.
    pub fn parse(format: &str) -> Result<Self, HeaderFormatError> {
        let error = |reason: String| HeaderFormatError {
            format: format.to_string(),
            reason,
        };
        let field = Regex::new(r"<([^<>]+)>").map_err(|e| error(e.to_string()))?;
        let spaces = Regex::new(" +").map_err(|e| error(e.to_string()))?;
        let mut pattern = String::from("^");
        let mut fields = Vec::new();
        let mut last = 0;
        for capture in field.captures_iter(format) {
            let (Some(whole), Some(name)) = (capture.get(0), capture.get(1)) else {
                continue;
            };
            pattern.push_str(&spaces.replace_all(&format[last..whole.start()], r"\s+"));
            let group: String = name
                .as_str()
                .chars()
                .filter(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if group.is_empty() || fields.contains(&group) {
                return Err(error(format!(
                    "field <{}> is empty or repeated",
                    name.as_str()
                )));
            }
            pattern.push_str(&format!("(?P<{group}>.*?)"));
            fields.push(group);
            last = whole.end();
        }
        pattern.push_str(&spaces.replace_all(&format[last..], r"\s+"));
        pattern.push('$');
        if !fields.iter().any(|f| f == "Content") {
            return Err(error("no <Content> field".into()));
        }
        let regex = Regex::new(&pattern).map_err(|e| error(e.to_string()))?;
        Ok(HeaderFormat { regex, fields })
    }

    /// The header fields and the content of `line`, or `None` when the line
    /// does not have this layout.
    pub fn split<'a>(&self, line: &'a str) -> Option<Vec<(&str, &'a str)>> {
        let captures = self.regex.captures(line)?;
        Some(
            self.fields
                .iter()
                .filter_map(|name| captures.name(name).map(|m| (name.as_str(), m.as_str())))
                .collect(),
        )
    }

    /// Just the `<Content>` of `line`.
    pub fn content<'a>(&self, line: &'a str) -> Option<&'a str> {
        self.regex
            .captures(line)?
            .name("Content")
            .map(|m| m.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loghub_formats_split_lines() {
        let hadoop =
            HeaderFormat::parse(r"<Date> <Time> <Level> \[<Process>\] <Component>: <Content>")
                .expect("format");
        let fields = hadoop
            .split("2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: Created MRAppMaster for application appattempt_1")
            .expect("matches");
        assert_eq!(fields[2], ("Level", "INFO"));
        assert_eq!(fields[3], ("Process", "main"));
        assert_eq!(
            fields[5],
            (
                "Content",
                "Created MRAppMaster for application appattempt_1"
            )
        );
        let thunderbird = HeaderFormat::parse(r"<Label> <Timestamp> <Date> <User> <Month> <Day> <Time> <Location> <Component>(\[<PID>\])?: <Content>").expect("format");
        assert_eq!(
            thunderbird.content("- 1131566461 2005.11.09 dn228 Nov 9 12:01:01 dn228/dn228 crond(pam_unix)[2915]: session closed for user root"),
            Some("session closed for user root")
        );
        assert!(hadoop.content("no header here").is_none());
    }

    #[test]
    fn formats_without_content_are_rejected() {
        assert!(HeaderFormat::parse("<Date> <Time>").is_err());
        assert!(HeaderFormat::parse("<Date> <Date> <Content>").is_err());
    }
}
