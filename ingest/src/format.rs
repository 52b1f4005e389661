use std::fmt;
use std::path::Path;

use crate::sources::{looks_like_access_log, looks_like_change_log, looks_like_syslog};

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
    /// Syslog, RFC 5424 or RFC 3164.
    Syslog,
    /// Plain text described by a LogHub-style header format string.
    Header,
    /// Terraform HCL.
    Terraform,
    /// A whole JSON document: Kubernetes events, Terraform plan, incident
    /// exports, arrays of events, or configuration.
    JsonDocument,
    /// YAML, TOML or nginx.conf read as configuration documents.
    ConfigDocument,
    /// Postmortems and runbooks in Markdown.
    Markdown,
    /// `git log` output or unified diffs.
    ChangeLog,
}

impl Format {
    /// Every format, for `--format` help and parsing.
    pub const ALL: [Format; 10] = [
        Format::JsonLines,
        Format::AccessLog,
        Format::PlainText,
        Format::Syslog,
        Format::Header,
        Format::Terraform,
        Format::JsonDocument,
        Format::ConfigDocument,
        Format::Markdown,
        Format::ChangeLog,
    ];

    /// True for formats read line by line (streamed, checkpointed per batch).
    pub fn is_line_based(self) -> bool {
        matches!(
            self,
            Format::JsonLines
                | Format::AccessLog
                | Format::PlainText
                | Format::Syslog
                | Format::Header
        )
    }

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::JsonLines => "jsonl",
            Format::AccessLog => "access-log",
            Format::PlainText => "text",
            Format::Syslog => "syslog",
            Format::Header => "header",
            Format::Terraform => "terraform",
            Format::JsonDocument => "json",
            Format::ConfigDocument => "config",
            Format::Markdown => "markdown",
            Format::ChangeLog => "changes",
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
            "md" | "markdown" => return Some(Format::Markdown),
            "diff" | "patch" => return Some(Format::ChangeLog),
            _ => {}
        }
        let line = first_line?.trim_start();
        if line.starts_with('{') {
            // A pretty-printed JSON document starts with a lone brace.
            // A query response is one document even when written on one line.
            let complete = serde_json::from_str::<serde_json::Value>(line)
                .is_ok_and(|value| !crate::sources::is_query_response(&value));
            return Some(if complete {
                Format::JsonLines
            } else {
                Format::JsonDocument
            });
        }
        // `[2026-11-20 14:05:01] ...` is a log line; a JSON array opens with `[`, `[{` or `["`.
        let opens_array = line == "["
            || line.starts_with("[{")
            || line.starts_with("[\"")
            || line.starts_with("[]");
        if opens_array || extension == "json" {
            return Some(Format::JsonDocument);
        }
        if looks_like_change_log(line) {
            return Some(Format::ChangeLog);
        }
        if looks_like_syslog(line) {
            return Some(Format::Syslog);
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
        check("a.json", Some("{"), Some(Format::JsonDocument));
        check(
            "metrics/p99.json",
            Some(r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#),
            Some(Format::JsonDocument),
        );
        check("events.json", Some("["), Some(Format::JsonDocument));
        check(
            "events.log",
            Some(r#"[{"a":1},"#),
            Some(Format::JsonDocument),
        );
        check(
            "app.log",
            Some("[2026-11-20 14:05:01,123] ERROR x"),
            Some(Format::PlainText),
        );
        check(
            "mail.log",
            Some("From alice: hello"),
            Some(Format::PlainText),
        );
        check("pm.md", Some("# Postmortem"), Some(Format::Markdown));
        check(
            "git.log",
            Some("commit 3f9a2c1d4e5b6a7c8d9e0f1a2b3c4d5e6f7a8b9c"),
            Some(Format::ChangeLog),
        );
        check(
            "messages",
            Some("<34>1 2026-11-20T14:05:01Z host app - - - hi"),
            Some(Format::Syslog),
        );
        check(
            "messages",
            Some("Nov 20 14:05:01 host sshd[1]: hi"),
            Some(Format::Syslog),
        );
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
