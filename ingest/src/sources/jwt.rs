//! JWTs found in traces: decoded (header and claims only, never verified)
//! into fields, and never stored raw.

use std::sync::LazyLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use regex::Regex;
use serde_json::Value;

use super::RecordDraft;

static JWT: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*").ok()
});

const HEADER_CLAIMS: &[&str] = &["kid", "alg", "typ"];
const BODY_CLAIMS: &[&str] = &["iss", "aud", "exp", "nbf", "iat", "azp", "scope"];

/// Finds JWTs in the body and string fields, adds their decoded header and
/// claims as `jwt_*` fields, and replaces each token with `<jwt>`.
pub(crate) fn decode_and_strip_jwts(draft: &mut RecordDraft) {
    let Some(pattern) = JWT.as_ref() else { return };
    let mut decoded = Vec::new();
    let mut strip = |text: &str| -> Option<String> {
        if !pattern.is_match(text) {
            return None;
        }
        for token in pattern.find_iter(text) {
            decoded.extend(decode(token.as_str()));
        }
        Some(pattern.replace_all(text, "<jwt>").into_owned())
    };
    if let Some(body) = strip(&draft.body) {
        draft.body = body;
    }
    for value in draft.fields.values_mut() {
        strip_nested(value, &mut strip);
    }
    for (name, value) in decoded {
        draft.fields.entry(format!("jwt_{name}")).or_insert(value);
    }
}

/// Strips tokens from every string inside `value`, however deeply nested
/// (Kong puts them in `request.headers.authorization`).
fn strip_nested(value: &mut Value, strip: &mut impl FnMut(&str) -> Option<String>) {
    match value {
        Value::String(text) => {
            if let Some(stripped) = strip(text) {
                *text = stripped;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| strip_nested(item, strip)),
        Value::Object(map) => map.values_mut().for_each(|item| strip_nested(item, strip)),
        _ => {}
    }
}

fn decode(token: &str) -> Vec<(String, Value)> {
    let mut parts = token.split('.');
    let (Some(header), Some(claims)) = (parts.next(), parts.next()) else {
        return Vec::new();
    };
    let object = |part: &str| -> Option<serde_json::Map<String, Value>> {
        let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
        match serde_json::from_slice(&bytes).ok()? {
            Value::Object(map) => Some(map),
            _ => None,
        }
    };
    let mut out = Vec::new();
    for (part, names) in [(header, HEADER_CLAIMS), (claims, BODY_CLAIMS)] {
        if let Some(map) = object(part) {
            for name in names {
                if let Some(value) = map.get(*name) {
                    out.push((name.to_string(), value.clone()));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(header: &str, claims: &str) -> String {
        format!(
            "{}.{}.c2lnbmF0dXJl",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims)
        )
    }

    #[test]
    fn claims_become_fields_and_the_token_is_removed() {
        let jwt = token(
            r#"{"alg":"RS256","kid":"sig-2026-11b"}"#,
            r#"{"iss":"https://auth.example","aud":"api","exp":1795183501,"nbf":1795183000,"sub":"user-1"}"#,
        );
        let mut draft = RecordDraft {
            body: format!("rejected bearer {jwt} for /userinfo"),
            ..RecordDraft::default()
        };
        draft.fields.insert(
            "authorization".into(),
            Value::String(format!("Bearer {jwt}")),
        );
        decode_and_strip_jwts(&mut draft);
        assert_eq!(draft.body, "rejected bearer <jwt> for /userinfo");
        assert_eq!(draft.fields["authorization"], "Bearer <jwt>");
        assert_eq!(draft.fields["jwt_kid"], "sig-2026-11b");
        assert_eq!(draft.fields["jwt_alg"], "RS256");
        assert_eq!(draft.fields["jwt_exp"], 1795183501);
        assert!(
            !draft.fields.contains_key("jwt_sub"),
            "subject claims are personal data and not copied"
        );
    }

    #[test]
    fn garbage_that_looks_like_a_token_is_stripped_without_fields() {
        let mut draft = RecordDraft {
            body: "x eyJhbGciOi.eyJzdWIiOi.zz y".into(),
            ..RecordDraft::default()
        };
        decode_and_strip_jwts(&mut draft);
        assert_eq!(draft.body, "x <jwt> y");
        assert!(draft.fields.is_empty());
    }
}
