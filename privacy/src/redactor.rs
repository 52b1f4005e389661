use std::collections::{BTreeMap, HashMap};
use std::net::{Ipv4Addr, Ipv6Addr};

use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::Category;

/// A pattern and the capture group holding the sensitive part (0: all).
struct Rule {
    category: Category,
    regex: Regex,
    group: usize,
    check: fn(&str) -> bool,
}

/// A rule before compilation: category, pattern, capture group, check.
type RuleSpec = (Category, String, usize, fn(&str) -> bool);

/// Key names whose values are secrets, wherever they appear.
const SECRET_KEYS: &str = r"client_secret|secret|secret_key|aws_secret_access_key|password|passwd|pwd|passphrase|api_key|apikey|api_token|access_token|refresh_token|id_token|auth_token|token|private_key|credentials?|session_?id|sessionid";
/// Key names of auth traces whose values identify a person.
const USER_KEYS: &str =
    r"user_name|username|user_id|userid|alternateId|login|user|sub|displayName|actor_name|email";

/// Detects and pseudonymizes personal data and secrets. Built once; the
/// patterns are compiled at construction, so a filter that exists can run:
/// [`Redactor::new`] is the only fallible step, and callers that cannot get
/// one must not send anything (fail closed).
pub struct Redactor {
    rules: Vec<Rule>,
}

/// The placeholders of one question or conversation: the same entity gets
/// the same placeholder everywhere (`<EMAIL_1>`), and only this session can
/// map them back.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RedactionSession {
    placeholders: HashMap<String, String>,
    originals: HashMap<String, (Category, String)>,
    counters: BTreeMap<Category, usize>,
}

/// Redacted text and what was taken out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redacted {
    /// The text with placeholders.
    pub text: String,
    /// Spans replaced, by category.
    pub counts: BTreeMap<Category, usize>,
}

/// One sensitive span: byte offsets into the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Detection {
    /// What it is.
    pub category: Category,
    /// Start byte.
    pub start: usize,
    /// End byte (exclusive).
    pub end: usize,
}

/// The filter could not run; nothing may be sent.
#[derive(Debug, thiserror::Error)]
#[error("privacy filter: {0}")]
pub struct PrivacyError(String);

impl PrivacyError {
    pub(crate) fn new(reason: &str) -> Self {
        PrivacyError(reason.to_string())
    }
}

fn always(_: &str) -> bool {
    true
}

/// Unspecified and loopback addresses name no one.
fn is_ipv4(text: &str) -> bool {
    text.parse::<Ipv4Addr>()
        .is_ok_and(|ip| !ip.is_unspecified() && !ip.is_loopback())
}

fn is_ipv6(text: &str) -> bool {
    (text.contains("::") || text.matches(':').count() == 7)
        && text
            .parse::<Ipv6Addr>()
            .is_ok_and(|ip| !ip.is_unspecified() && !ip.is_loopback())
}

/// Placeholders and masks already in text are not data.
fn not_placeholder(text: &str) -> bool {
    !(text.starts_with('<') && text.ends_with('>')) && text != "-" && !text.is_empty()
}

fn phone_digits(text: &str) -> bool {
    let digits = text.chars().filter(char::is_ascii_digit).count();
    (10..=15).contains(&digits)
}

impl Redactor {
    /// Compiles every pattern.
    pub fn new() -> Result<Self, PrivacyError> {
        let specs: Vec<RuleSpec> = vec![
            (Category::PrivateKey, r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|\z)".into(), 0, always),
            (Category::Jwt, r"eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*".into(), 0, always),
            (Category::AuthHeader, r#"(?i)\b(?:authorization|proxy-authorization|cookie|set-cookie|x-api-key|x-auth-token)["']?\s*[:=]\s*["']?([^\r\n"']+)"#.into(), 1, not_placeholder),
            (Category::BearerToken, r"(?i)\bbearer\s+([A-Za-z0-9\-._~+/]{8,}=*)".into(), 1, not_placeholder),
            (Category::UrlPassword, r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:([^@\s/]+)@".into(), 1, not_placeholder),
            (Category::AwsKey, r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b".into(), 0, always),
            (Category::GithubToken, r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b".into(), 0, always),
            (Category::SlackToken, r"\b(?:xox[abposr]-[A-Za-z0-9-]{10,}|https://hooks\.slack\.com/services/[A-Za-z0-9/]+)".into(), 0, always),
            (Category::StripeKey, r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}\b".into(), 0, always),
            (Category::GoogleApiKey, r"\bAIza[0-9A-Za-z_-]{35}\b".into(), 0, always),
            (Category::Secret, format!(r#"(?i)(?:^|[^A-Za-z0-9])[A-Za-z0-9_.-]*?(?:{SECRET_KEYS})["']?\s*[:=]\s*(?:"([^"\n]+)"|'([^'\n]+)'|([^\s"',;&}}\]]+))"#), 1, not_placeholder),
            (Category::Email, r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b".into(), 0, always),
            (Category::User, format!(r#"(?:"(?:{USER_KEYS})"\s*:\s*"([^"]+)"|\b(?:{USER_KEYS})=([^\s,;&"']+))"#), 1, not_placeholder),
            (Category::Ipv6, r"(?i)(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}".into(), 0, is_ipv6),
            (Category::Ipv4, r"\b(?:\d{1,3}\.){3}\d{1,3}\b".into(), 0, is_ipv4),
            (Category::Phone, r"(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)[\s.-]?|\b\d{2,4}[\s.-])\d{3,4}[\s.-]\d{3,4}\b".into(), 0, phone_digits),
        ];
        let mut rules = Vec::with_capacity(specs.len());
        for (category, pattern, group, check) in specs {
            let regex =
                Regex::new(&pattern).map_err(|e| PrivacyError(format!("{category:?}: {e}")))?;
            rules.push(Rule {
                category,
                regex,
                group,
                check,
            });
        }
        Ok(Redactor { rules })
    }

    /// The sensitive spans of `text`, in order, without replacing them.
    pub fn detect(&self, text: &str) -> Vec<Detection> {
        self.find(text)
            .into_iter()
            .map(|(start, end, category)| Detection {
                category,
                start,
                end,
            })
            .collect()
    }

    /// Replaces every sensitive span of `text` with the session's placeholder.
    pub fn redact(&self, text: &str, session: &mut RedactionSession) -> Redacted {
        let spans = self.find(text);
        let mut out = String::with_capacity(text.len());
        let mut counts = BTreeMap::new();
        let mut last = 0;
        for (start, end, category) in spans {
            out.push_str(&text[last..start]);
            out.push_str(&session.placeholder(category, &text[start..end]));
            *counts.entry(category).or_insert(0) += 1;
            last = end;
        }
        out.push_str(&text[last..]);
        Redacted { text: out, counts }
    }

    /// Replaces every sensitive span of `text` with a stable pseudonym
    /// keyed by `key`: `<EMAIL:3f9a0c1e>`, the same for the same value
    /// under the same key, in any text. Nothing maps it back; for data at
    /// rest, where grouping by user or address must survive.
    pub fn pseudonymize(&self, text: &str, key: &[u8]) -> String {
        use sha2::{Digest, Sha256};
        let spans = self.find(text);
        if spans.is_empty() {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for (start, end, category) in spans {
            out.push_str(&text[last..start]);
            let mut hasher = Sha256::new();
            hasher.update(key);
            hasher.update(category.label().as_bytes());
            hasher.update([0]);
            hasher.update(&text.as_bytes()[start..end]);
            let digest = hasher.finalize();
            let short: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
            out.push_str(&format!("<{}:{short}>", category.label()));
            last = end;
        }
        out.push_str(&text[last..]);
        out
    }

    /// Non-overlapping sensitive spans, in order. Rules are listed from most
    /// to least specific; an earlier rule's span wins an overlap.
    fn find(&self, text: &str) -> Vec<(usize, usize, Category)> {
        // Disjoint spans by start: the span starting last before `end` is
        // the only one that can overlap [start, end).
        let mut taken: BTreeMap<usize, (usize, Category)> = BTreeMap::new();
        for rule in &self.rules {
            // Capture groups need the slower engines; most text matches no
            // rule, which the fast matcher settles first.
            let spans: Vec<(usize, usize)> = if rule.group == 0 {
                rule.regex
                    .find_iter(text)
                    .map(|m| (m.start(), m.end()))
                    .collect()
            } else if rule.regex.is_match(text) {
                rule.regex
                    .captures_iter(text)
                    .filter_map(|c| (rule.group..c.len()).find_map(|g| c.get(g)))
                    .map(|m| (m.start(), m.end()))
                    .collect()
            } else {
                Vec::new()
            };
            for (start, end) in spans {
                let overlaps = taken
                    .range(..end)
                    .next_back()
                    .is_some_and(|(_, (e, _))| *e > start);
                if overlaps || !(rule.check)(&text[start..end]) {
                    continue;
                }
                taken.insert(start, (end, rule.category));
            }
        }
        taken
            .into_iter()
            .map(|(start, (end, category))| (start, end, category))
            .collect()
    }
}

impl RedactionSession {
    fn placeholder(&mut self, category: Category, value: &str) -> String {
        let key = format!("{}\u{0}{value}", category.label());
        if let Some(existing) = self.placeholders.get(&key) {
            return existing.clone();
        }
        let counter = self.counters.entry(category).or_insert(0);
        *counter += 1;
        let placeholder = format!("<{}_{}>", category.label(), counter);
        self.placeholders.insert(key, placeholder.clone());
        self.originals
            .insert(placeholder.clone(), (category, value.to_string()));
        placeholder
    }

    /// Puts the originals back: for the local user who asked, never for a
    /// channel or a log.
    pub fn rehydrate(&self, text: &str) -> String {
        self.rehydrate_where(text, |_| true)
    }

    /// Puts back people and hosts only; credentials stay placeholders, so
    /// even a model steered into quoting one shows nothing.
    pub fn rehydrate_identities(&self, text: &str) -> String {
        self.rehydrate_where(text, Category::is_identity)
    }

    fn rehydrate_where(&self, text: &str, keep: impl Fn(Category) -> bool) -> String {
        let mut out = text.to_string();
        for (placeholder, (category, original)) in &self.originals {
            if keep(*category) {
                out = out.replace(placeholder, original);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redact(text: &str) -> Redacted {
        Redactor::new()
            .expect("filter")
            .redact(text, &mut RedactionSession::default())
    }

    fn check(text: &str, expected: &str) {
        assert_eq!(redact(text).text, expected, "{text}");
    }

    #[test]
    fn secrets_and_personal_data_are_replaced() {
        check(
            "login by ana@example.com from 203.0.113.9",
            "login by <EMAIL_1> from <IP_1>",
        );
        check(
            "Authorization: Bearer abcdef123456",
            "Authorization: <AUTH_HEADER_1>",
        );
        check(
            "curl -H 'x' postgres://app:hunter2@db:5432/app",
            "curl -H 'x' postgres://app:<URL_PASSWORD_1>@db:5432/app",
        );
        check(
            r#"{"client_secret":"s3cr3t-v@lue","user_name":"ana"}"#,
            r#"{"client_secret":"<SECRET_1>","user_name":"<USER_1>"}"#,
        );
        check("key AKIAIOSFODNN7EXAMPLE used", "key <AWS_KEY_1> used");
        check("peer fe80::1ff:fe23:4567:890a up", "peer <IPV6_1> up");
        check("call +1 415-555-0134 now", "call <PHONE_1> now");
    }

    #[test]
    fn tricky_negatives_stay() {
        for text in [
            "request 3f9a2c1d-aaaa-bbbb-cccc-1234567890ab done",
            "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "version 6.1.7601.23505 installed",
            "at 2026-11-20 14:05:01 took 250 ms",
            "GET /api/v2/orders/1234 503",
            "kid=sig-2026-11b not found",
            "password reset requested",
        ] {
            assert_eq!(redact(text).text, text);
        }
    }

    #[test]
    fn placeholders_are_consistent_and_rehydrate() {
        let filter = Redactor::new().expect("filter");
        let mut session = RedactionSession::default();
        let a = filter.redact("ana@example.com failed, then bob@example.com", &mut session);
        let b = filter.redact("ana@example.com retried", &mut session);
        assert_eq!(a.text, "<EMAIL_1> failed, then <EMAIL_2>");
        assert_eq!(b.text, "<EMAIL_1> retried");
        assert_eq!(session.rehydrate(&b.text), "ana@example.com retried");
        assert_eq!(a.counts[&Category::Email], 2);
        let c = filter.redact(
            "ana@example.com used api_key=sk-live-0123456789",
            &mut session,
        );
        assert_eq!(
            session.rehydrate_identities(&c.text),
            "ana@example.com used api_key=<SECRET_1>"
        );
    }
}
