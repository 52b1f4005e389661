use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// Splits log text into words of letters, digits and `_`, so identifiers
/// such as `invalid_token` or `kid_not_found` stay one term while paths,
/// key=value pairs and punctuation split. A hand-written scanner: the regex
/// tokenizer spent most of the indexing time rebuilding its automaton.
#[derive(Clone, Default)]
pub(crate) struct LogTokenizer {
    token: Token,
}

pub(crate) struct LogTokenStream<'a> {
    text: &'a str,
    cursor: usize,
    token: &'a mut Token,
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

impl Tokenizer for LogTokenizer {
    type TokenStream<'a> = LogTokenStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> LogTokenStream<'a> {
        self.token.reset();
        LogTokenStream {
            text,
            cursor: 0,
            token: &mut self.token,
        }
    }
}

impl TokenStream for LogTokenStream<'_> {
    fn advance(&mut self) -> bool {
        let rest = &self.text[self.cursor..];
        let Some(start) = rest.find(is_word) else {
            self.cursor = self.text.len();
            return false;
        };
        let word = &rest[start..];
        let length = word.find(|c: char| !is_word(c)).unwrap_or(word.len());
        let from = self.cursor + start;
        self.cursor = from + length;
        self.token.text.clear();
        self.token.text.push_str(&self.text[from..self.cursor]);
        self.token.offset_from = from;
        self.token.offset_to = self.cursor;
        self.token.position = self.token.position.wrapping_add(1);
        true
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        let mut tokenizer = LogTokenizer::default();
        let mut stream = tokenizer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        out
    }

    #[test]
    fn identifiers_stay_whole_and_punctuation_splits() {
        assert_eq!(
            words("GET /userinfo 401 invalid_token kid=k-2"),
            ["GET", "userinfo", "401", "invalid_token", "kid", "k", "2"]
        );
        assert_eq!(words("  "), Vec::<String>::new());
        assert_eq!(words("né→ok"), ["né", "ok"]);
    }
}
