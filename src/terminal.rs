//! Output that log content cannot use to drive the terminal. Records carry
//! whatever their sources wrote, escape sequences included (an `ESC ]`
//! sequence can retitle a window, rewrite the screen or, on some terminals,
//! plant text to be run). Every control character but newline and tab is
//! printed as a visible `\x..` / `\u{..}` escape instead.

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

impl<W: Write> Write for TerminalSafe<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // `write!` hands over whole `str` pieces, so a buffer that is not
        // UTF-8 came from elsewhere: only its ASCII controls are escaped.
        match std::str::from_utf8(buf) {
            Ok(text) => {
                let mut plain = 0;
                for (at, c) in text.char_indices() {
                    if c.is_control() && c != '\n' && c != '\t' {
                        self.inner.write_all(&buf[plain..at])?;
                        write!(self.inner, "{}", c.escape_default())?;
                        plain = at + c.len_utf8();
                    }
                }
                self.inner.write_all(&buf[plain..])?;
            }
            Err(_) => {
                for byte in buf {
                    if byte.is_ascii_control() && *byte != b'\n' && *byte != b'\t' {
                        write!(self.inner, "\\x{byte:02x}")?;
                    } else {
                        self.inner.write_all(&[*byte])?;
                    }
                }
            }
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
        let line = "login failed\u{1b}]0;pwned\u{7}\u{1b}[2J\r\u{9b}31m done\n\tnext";
        assert_eq!(
            shown(line.as_bytes()),
            "login failed\\u{1b}]0;pwned\\u{7}\\u{1b}[2J\\r\\u{9b}31m done\n\tnext"
        );
    }

    #[test]
    fn bytes_that_are_not_utf8_still_lose_their_controls() {
        assert_eq!(shown(b"\xff\x1b[31mred\n"), "\u{fffd}\\x1b[31mred\n");
    }

    #[test]
    fn plain_text_passes_unchanged() {
        let text = "401 invalid_token for kid=k2 (naïve café, 東京)\n";
        assert_eq!(shown(text.as_bytes()), text);
    }
}
