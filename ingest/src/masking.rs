//! Masking of obviously variable tokens (numbers, ids, hex, IPs, emails).

use sha2::{Digest, Sha256};

use crate::TemplateRef;

/// A URL path with its variable segments (ids, numbers) masked as `<*>`.
pub(crate) fn mask_route(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            // Short segments with a digit are versions (`v1`), not ids.
            let all_digits = !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit());
            if all_digits || (segment.len() > 3 && is_variable(segment)) {
                "<*>"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

impl TemplateRef {
    /// The template with this text; its id is a hash of the text.
    pub fn from_text(text: String) -> Self {
        let digest = Sha256::digest(text.as_bytes());
        let hex: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
        TemplateRef {
            id: format!("t-{hex}"),
            text,
        }
    }
}

pub(crate) fn mask_token(token: &str) -> std::borrow::Cow<'_, str> {
    // Brackets and quotes around a token stay; the inside is judged.
    let inner = token.trim_start_matches(['(', '[', '{', '"', '\'']);
    let prefix = &token[..token.len() - inner.len()];
    let core = inner.trim_end_matches([')', ']', '}', '"', '\'', ',', ';', ':']);
    let suffix = &inner[core.len()..];
    // Keep `key=` of key=value pairs; judge only the value.
    if let Some((key, value)) = core.split_once('=')
        && !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '.')
    {
        return if is_variable(value) {
            format!("{prefix}{key}=<*>{suffix}").into()
        } else {
            token.into()
        };
    }
    if is_variable(core) {
        format!("{prefix}<*>{suffix}").into()
    } else {
        token.into()
    }
}

fn is_variable(token: &str) -> bool {
    let core = token.trim_matches(|c: char| "\"'()[]{},;:".contains(c));
    if core.is_empty() {
        return false;
    }
    let has_digit = core.bytes().any(|b| b.is_ascii_digit());
    let is_hex = core.len() >= 8 && core.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    let is_email = core.contains('@') && core.contains('.');
    let is_path_with_id = core.contains('/') && has_digit;
    has_digit || is_hex || is_email || is_path_with_id
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(message: &str, expected: &str) {
        let masked: Vec<String> = message
            .split_whitespace()
            .map(|t| mask_token(t).into_owned())
            .collect();
        assert_eq!(masked.join(" "), expected, "{message}");
    }

    #[test]
    fn variable_tokens_are_masked() {
        check(
            "JWT validation failed: kid=k-2026-11b not found for client 0oa1x2",
            "JWT validation failed: kid=<*> not found for client <*>",
        );
        check("user alice@example.com from 10.0.0.7", "user <*> from <*>");
        check(
            "request 3f9a2c1d-aaaa-bbbb-cccc-1234567890ab done",
            "request <*> done",
        );
        check("connection pool exhausted", "connection pool exhausted");
        check(
            "within 5000 ms (pool=20 active=20 waiting=41)",
            "within <*> ms (pool=<*> active=<*> waiting=<*>)",
        );
    }

    #[test]
    fn routes_keep_their_fixed_segments() {
        assert_eq!(
            mask_route("/api/v1/orders/8812/items"),
            "/api/v1/orders/<*>/items"
        );
        assert_eq!(mask_route("/userinfo"), "/userinfo");
    }

    #[test]
    fn template_ids_hash_the_text() {
        let a = TemplateRef::from_text("timeout after <*> ms".into());
        assert_eq!(a, TemplateRef::from_text("timeout after <*> ms".into()));
        assert_ne!(a.id, TemplateRef::from_text("timeout after ms".into()).id);
    }
}
