use std::fmt;
use std::path::Path;

use crate::sources::looks_like_access_log;

/// An input format. Detected from the file name and first lines, or set by
/// the user (`--format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// One JSON object per line: generic logs, Okta and Auth0 events, change records.
    JsonLines,
    /// nginx / Envoy / Kong combined access log.
    AccessLog,
    /// Timestamp-prefixed text lines.
    PlainText,
    /// Terraform HCL.
    Terraform,
    /// YAML, JSON, TOML or nginx.conf read as configuration documents.
    ConfigDocument,
}

impl Format {
    /// Every format, for `--format` help and parsing.
    pub const ALL: [Format; 5] = [
        Format::JsonLines,
        Format::AccessLog,
        Format::PlainText,
        Format::Terraform,
        Format::ConfigDocument,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::JsonLines => "jsonl",
            Format::AccessLog => "access-log",
            Format::PlainText => "text",
            Format::Terraform => "terraform",
            Format::ConfigDocument => "config",
        }
    }

    /// Parses a name produced by [`Format::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Guesses the format from the path (without `.gz`) and the first
    /// non-empty line. `None` means the content is not text we can read.
    pub fn detect(path: &Path, first_line: Option<&str>) -> Option<Self> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        let extension = name.rsplit_once('.').map(|(_, e)| e).unwrap_or_default();
        match extension {
            "tf" => return Some(Format::Terraform),
            "yaml" | "yml" | "toml" | "conf" => return Some(Format::ConfigDocument),
            _ => {}
        }
        let line = first_line?.trim_start();
        if line.starts_with('{') {
            // A pretty-printed JSON document starts with a lone brace.
            let complete = serde_json::from_str::<serde_json::Value>(line).is_ok();
            return Some(if complete {
                Format::JsonLines
            } else {
                Format::ConfigDocument
            });
        }
        if extension == "json" {
            return Some(Format::ConfigDocument);
        }
        if looks_like_access_log(line) {
            return Some(Format::AccessLog);
        }
        Some(Format::PlainText)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(path: &str, first: Option<&str>, expected: Option<Format>) {
        assert_eq!(Format::detect(Path::new(path), first), expected, "{path}");
    }

    #[test]
    fn detection_by_name_and_content() {
        check("infra/main.tf", None, Some(Format::Terraform));
        check(
            "gw/kong.yaml",
            Some("_format_version: 3"),
            Some(Format::ConfigDocument),
        );
        check("a.log.gz", Some(r#"{"msg":"x"}"#), Some(Format::JsonLines));
        check("a.json", Some("{"), Some(Format::ConfigDocument));
        check(
            "access.log",
            Some(r#"1.2.3.4 - - [20/Nov/2026:14:05:03 +0000] "GET / HTTP/1.1" 200 1 "-" "-""#),
            Some(Format::AccessLog),
        );
        check(
            "server.log",
            Some("2026-11-20 INFO up"),
            Some(Format::PlainText),
        );
        check("empty.log", None, None);
        for format in Format::ALL {
            assert_eq!(Format::from_name(format.name()), Some(format));
        }
    }
}
