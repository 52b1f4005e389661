//! Output that log content cannot use to drive the terminal. Records carry
//! whatever their sources wrote, escape sequences included (an `ESC ]`
//! sequence can retitle a window, rewrite the screen or, on some terminals,
//! plant text to be run). Every control character but newline and tab is
//! printed as a visible `\u001b`-style escape instead: readable as text, and
//! valid inside a JSON string, where serde_json leaves DEL and C1 controls
//! raw.

use std::io::{self, Write};

/// Wraps a writer so control characters reach it escaped.
pub struct TerminalSafe<W: Write> {
    inner: W,
}

/// Standard output, made terminal-safe.
pub fn stdout() -> TerminalSafe<io::StdoutLock<'static>> {
    TerminalSafe {
        inner: io::stdout().lock(),
    }
}

/// Standard error, made terminal-safe.
pub fn stderr() -> TerminalSafe<io::StderrLock<'static>> {
    TerminalSafe {
        inner: io::stderr().lock(),
    }
}

impl<W: Write> TerminalSafe<W> {
    fn write_text(&mut self, text: &str) -> io::Result<()> {
        let mut plain = 0;
        for (at, c) in text.char_indices() {
            if c.is_control() && c != '\n' && c != '\t' {
                self.inner.write_all(&text.as_bytes()[plain..at])?;
                write!(self.inner, "\\u{:04x}", u32::from(c))?;
                plain = at + c.len_utf8();
            }
        }
        self.inner.write_all(&text.as_bytes()[plain..])
    }
}

impl<W: Write> Write for TerminalSafe<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // Bytes that are not UTF-8 pass as they are; only text can hold a
        // control character, C1 ones included.
        for chunk in buf.utf8_chunks() {
            self.write_text(chunk.valid())?;
            self.inner.write_all(chunk.invalid())?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(bytes: &[u8]) -> String {
        let mut safe = TerminalSafe { inner: Vec::new() };
        safe.write_all(bytes).expect("write to memory");
        String::from_utf8_lossy(&safe.inner).into_owned()
    }

    #[test]
    fn escape_sequences_are_shown_not_obeyed() {
        let line = "login failed\u{1b}]0;pwned\u{7}\u{1b}[2J\r\u{9b}31m\u{7f} done\n\tnext";
        assert_eq!(
            shown(line.as_bytes()),
            "login failed\\u001b]0;pwned\\u0007\\u001b[2J\\u000d\\u009b31m\\u007f done\n\tnext"
        );
    }

    #[test]
    fn json_with_controls_serde_leaves_raw_stays_json() {
        let value = serde_json::json!({ "body": "a\u{9b}31m\u{7f}\u{1b}b" });
        let text = shown(value.to_string().as_bytes());
        let back: serde_json::Value = serde_json::from_str(&text).expect("still JSON");
        assert_eq!(back, value);
        assert!(!text.chars().any(char::is_control), "{text:?}");
    }

    #[test]
    fn bytes_that_are_not_utf8_still_lose_their_controls() {
        assert_eq!(
            shown(b"\xff\x1b[31mred\xc2\x9b\n"),
            "\u{fffd}\\u001b[31mred\\u009b\n"
        );
    }

    #[test]
    fn plain_text_passes_unchanged() {
        let text = "401 invalid_token for kid=k2 (naïve café, 東京)\n";
        assert_eq!(shown(text.as_bytes()), text);
    }
}
