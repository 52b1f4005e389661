//! Team channels: Slack's slash commands and Events API, and a generic
//! (Mattermost-compatible) outgoing webhook.
//!
//! Slack requests are verified before anything else: HMAC-SHA256 of
//! `v0:timestamp:body` with the signing secret, compared in constant time,
//! within five minutes, each signature accepted once. The request is
//! acknowledged at once and the answer posted later in the thread
//! (`chat.postMessage`) or through `response_url`. Every reply passes the
//! privacy filter (audited as `slack:<channel>` or `webhook:<channel>`);
//! when the filter cannot run, nothing is posted. A channel answers only for
//! the tenant an admin linked it to, with proof of the channel: a Slack link
//! takes effect when its one-time code is sent from that channel (a signed
//! `/oncall link <code>`), and a webhook link is keyed by the token the
//! platform sends, which each tenant registers for its own channel.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use agent::{Answer, Audience};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use hmac::{KeyInit, Mac};
use serde::Deserialize;

use crate::api_error::ApiError;
use crate::ask::answer_and_keep;
use crate::state::AppState;

/// Oldest request timestamp accepted, either way from now.
const REPLAY_WINDOW_SECS: i64 = 5 * 60;
/// Evidence links per reply.
const LINKS_PER_REPLY: usize = 8;
/// Characters of the answer's text per reply (the link has the rest).
const REPLY_TEXT_CHARS: usize = 2500;
/// Deadline of one post to the chat platform.
const POST_TIMEOUT: Duration = Duration::from_secs(10);

/// How the server talks to chat platforms. Secrets come from the
/// environment and are never logged.
pub struct ChatConfig {
    /// Slack app signing secret (`SLACK_SIGNING_SECRET`).
    pub slack_signing_secret: Option<String>,
    /// Bot token for `chat.postMessage` (`SLACK_BOT_TOKEN`).
    pub slack_bot_token: Option<String>,
    /// Slack Web API base, e.g. `https://slack.com/api`.
    pub slack_api_base: String,
    /// Hosts a slash command's `response_url` may name (Slack's own,
    /// `hooks.slack.com`); the server posts to no other, whatever a signed
    /// request says.
    pub slack_response_hosts: Vec<String>,
    /// Where the web UI is, for evidence links.
    pub public_url: String,
    /// The privacy filter; `None` when it failed to start: nothing is sent.
    pub redactor: Option<Arc<privacy::Redactor>>,
    /// Where every outbound reply is recorded.
    pub audit: privacy::AuditLog,
}

/// Signatures seen within the replay window, as the MAC bytes they decode
/// to: one request in another spelling of its signature is still a replay.
#[derive(Default)]
pub(crate) struct ReplayGuard {
    seen: Mutex<HashMap<Vec<u8>, Instant>>,
}

impl ReplayGuard {
    /// True the first time `mac` is seen within the window.
    fn first_time(&self, mac: &[u8]) -> bool {
        let now = Instant::now();
        let window = Duration::from_secs(2 * REPLAY_WINDOW_SECS as u64);
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.retain(|_, at| now.duration_since(*at) < window);
        seen.insert(mac.to_vec(), now).is_none()
    }
}

/// Why a Slack request was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Refused {
    #[error("missing or malformed signature headers")]
    Malformed,
    #[error("timestamp outside the five-minute window")]
    Stale,
    #[error("signature does not match")]
    Forged,
    #[error("request already seen")]
    Replayed,
}

/// The `X-Slack-Signature` Slack sends with a request: `v0=` and the hex
/// HMAC-SHA256, under the app's signing secret, of `v0:{timestamp}:{body}`.
/// For anything that signs requests as Slack does (tests, proxies).
pub fn slack_signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("v0={hex}")
}

/// Checks a Slack request's signature, age and novelty.
pub(crate) fn verify_slack(
    secret: &str,
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
    guard: &ReplayGuard,
) -> Result<(), Refused> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let timestamp = header("x-slack-request-timestamp").ok_or(Refused::Malformed)?;
    let signature = header("x-slack-signature").ok_or(Refused::Malformed)?;
    let sent: i64 = timestamp.parse().map_err(|_| Refused::Malformed)?;
    if (now - sent).abs() > REPLAY_WINDOW_SECS {
        return Err(Refused::Stale);
    }
    let given = signature
        .strip_prefix("v0=")
        .and_then(decode_hex)
        .ok_or(Refused::Malformed)?;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .map_err(|_| Refused::Forged)?;
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    mac.verify_slice(&given).map_err(|_| Refused::Forged)?;
    if !guard.first_time(&given) {
        return Err(Refused::Replayed);
    }
    Ok(())
}

/// The 32 bytes of a SHA-256 MAC written as Slack writes it: 64 lower-case
/// hex digits, nothing else (no sign, no upper case, no padding).
fn decode_hex(text: &str) -> Option<Vec<u8>> {
    const MAC_HEX_DIGITS: usize = 64;
    let digit = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    };
    let bytes = text.as_bytes();
    if bytes.len() != MAC_HEX_DIGITS {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

/// Link syntax of the platform replied to.
#[derive(Clone, Copy)]
enum Markup {
    Slack,
    Markdown,
}

/// The reply: root cause, the answer's text, links to the cited records.
fn reply_text(answer: &Answer, public_url: &str, markup: Markup) -> String {
    let mut reply = String::new();
    if let Some(cause) = &answer.root_cause {
        reply.push_str(&format!(
            "*Likely root cause:* {}\n",
            inert(&cause.statement, markup)
        ));
    }
    let text: String = answer.text.chars().take(REPLY_TEXT_CHARS).collect();
    reply.push_str(&inert(&text, markup));
    let links: Vec<String> = answer
        .citations
        .iter()
        .take(LINKS_PER_REPLY)
        .map(|c| {
            let url = format!("{public_url}/records/{}", c.id);
            match markup {
                Markup::Slack => format!("<{url}|{}>", c.id),
                Markup::Markdown => format!("[{}]({url})", c.id),
            }
        })
        .collect();
    if !links.is_empty() {
        reply.push_str("\nEvidence: ");
        reply.push_str(&links.join(" "));
    }
    reply
}

/// Text from records made inert for the platform: it may quote log lines
/// that carry mentions (`<!channel>`, `<@U1>`), links (`<https://x|Click>`,
/// `[Click](https://x)`) or images. Slack's mrkdwn escapes `&`, `<` and
/// `>`, which leaves no mention or link; for Markdown, the characters that
/// open a link, an image, a mention or an HTML tag are backslash-escaped
/// and bare URLs lose their scheme's `//`, so no client makes them links.
/// The only links in a reply are the ones to our own UI, added after.
fn inert(text: &str, markup: Markup) -> String {
    match markup {
        Markup::Slack => text
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;"),
        Markup::Markdown => {
            let mut out = String::with_capacity(text.len());
            for c in text.chars() {
                if "[]()<>!@`*_|\\".contains(c) {
                    out.push('\\');
                }
                out.push(c);
            }
            out.replace("://", ":\u{200B}//")
        }
    }
}

/// The reply as it may leave the process, or `None` when the filter
/// cannot run (then nothing is sent).
fn filtered(config: &ChatConfig, destination: &str, text: &str) -> Option<String> {
    let mut session = privacy::RedactionSession::default();
    match privacy::prepare_outbound(
        config.redactor.as_deref(),
        &mut session,
        &config.audit,
        destination,
        text,
        None,
    ) {
        Ok(text) => Some(text),
        Err(error) => {
            tracing::error!(%error, destination, "reply not sent: the privacy filter failed");
            None
        }
    }
}

/// Answers `question` for the channel's tenant within its service scope.
async fn answer_for_channel(
    state: &AppState,
    link: &appdb::ChannelRow,
    question: &str,
) -> Option<Answer> {
    let scoped = if link.services.is_empty() {
        question.to_string()
    } else {
        format!("{question} (services: {})", link.services.join(", "))
    };
    match answer_and_keep(state, &link.tenant, Audience::Channel, scoped, None).await {
        Ok((_, answer)) => Some(answer),
        Err(error) => {
            tracing::warn!(%error, channel = %link.channel, "channel question failed");
            None
        }
    }
}

async fn post_json(url: &str, bearer: Option<&str>, body: serde_json::Value) {
    let client = reqwest::Client::new();
    let mut request = client
        .post(url)
        .timeout(POST_TIMEOUT)
        .header("content-type", "application/json; charset=utf-8")
        .body(body.to_string());
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    match request.send().await {
        Ok(response) if response.status().is_success() => {}
        Ok(response) => tracing::warn!(status = %response.status(), "chat post refused"),
        Err(error) => tracing::warn!(%error, "chat post failed"),
    }
}

/// The chat settings and Slack signing secret, when Slack is configured.
fn slack_config(state: &AppState) -> Option<(&ChatConfig, &str)> {
    let config = state.chat.as_deref()?;
    Some((config, config.slack_signing_secret.as_deref()?))
}

/// The answer to a Slack request that cannot be taken: Slack not
/// configured, or a forged, stale or replayed request.
fn refused_slack(state: &AppState, headers: &HeaderMap, body: &[u8]) -> Option<Response> {
    let Some((_, secret)) = slack_config(state) else {
        return Some(ApiError::NotFound.into_response());
    };
    let now = chrono::Utc::now().timestamp();
    verify_slack(secret, headers, body, now, &state.chat_replays)
        .err()
        .map(refuse)
}

fn refuse(reason: Refused) -> Response {
    tracing::warn!(%reason, "Slack request refused");
    (StatusCode::UNAUTHORIZED, reason.to_string()).into_response()
}

fn ephemeral(text: &str) -> Response {
    Json(serde_json::json!({ "response_type": "ephemeral", "text": text })).into_response()
}

const NOT_LINKED: &str = "This channel is not linked to a tenant yet: an admin asks for a code with PUT /api/channels, then sends `/oncall link <code>` here.";

/// Slash command text that links its channel with a claim code.
const LINK_COMMAND: &str = "link ";

/// Where a generic webhook channel's link is kept: the platform's token
/// for it is part of the key, so the token proves the channel, and
/// another tenant naming the same channel id links a different one.
pub(crate) fn webhook_channel(token: &str, channel_id: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(token.as_bytes());
    let prefix: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("webhook:{prefix}:{channel_id}")
}

/// Links the Slack channel a signed `/oncall link <code>` came from, as
/// the admin's claim asked: proof that the claimant can post there.
async fn redeem_link(state: &AppState, channel: &str, code: &str) -> Response {
    match state.db.redeem_claim(code, channel).await {
        Ok(link) => {
            tracing::info!(%channel, tenant = %link.tenant, "channel linked by claim");
            ephemeral(&format!(
                "This channel now answers for tenant {}.",
                inert(&link.tenant, Markup::Slack)
            ))
        }
        Err(appdb::DbError::NotFound) => ephemeral(
            "That code is unknown, expired, made for another channel, or this channel is already another tenant's.",
        ),
        Err(error) => {
            tracing::error!(%error, "channel claim failed");
            ephemeral("Something went wrong; try again.")
        }
    }
}

/// A slash command's form fields.
#[derive(Deserialize)]
struct SlashCommand {
    team_id: String,
    channel_id: String,
    #[serde(default)]
    text: String,
    response_url: String,
}

/// Slack slash command (`/oncall why are logins failing?`): verified,
/// acknowledged at once, answered through `response_url`.
#[utoipa::path(post, path = "/slack/commands",
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "acknowledged"), (status = 401, description = "bad signature, stale or replayed")))]
pub(crate) async fn slack_command(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refusal) = refused_slack(&state, &headers, &body) {
        return refusal;
    }
    let Ok(command) = serde_urlencoded::from_bytes::<SlashCommand>(&body) else {
        return (StatusCode::BAD_REQUEST, "not a slash command").into_response();
    };
    let channel = format!("slack:{}:{}", command.team_id, command.channel_id);
    if let Some(code) = command.text.trim().strip_prefix(LINK_COMMAND) {
        return redeem_link(&state, &channel, code).await;
    }
    let link = match state.db.channel(&channel).await {
        Ok(Some(link)) => link,
        Ok(None) => return ephemeral(NOT_LINKED),
        Err(error) => {
            tracing::error!(%error, "channel lookup failed");
            return ephemeral("Something went wrong; try again.");
        }
    };
    let question = command.text.trim().to_string();
    if question.is_empty() {
        return ephemeral("Ask a question, e.g. `/oncall why are users getting 401s since 14:05?`");
    }
    tokio::spawn(async move {
        let Some(answer) = answer_for_channel(&state, &link, &question).await else {
            return;
        };
        let Some(config) = state.chat.as_deref() else {
            return;
        };
        let Some(host) = response_host(&command.response_url, &config.slack_response_hosts) else {
            tracing::warn!(channel = %link.channel, "response_url names a host that is not Slack's: no reply");
            return;
        };
        let text = reply_text(&answer, &config.public_url, Markup::Slack);
        if let Some(text) = filtered(config, &format!("{} via {host}", link.channel), &text) {
            post_json(
                &command.response_url,
                None,
                serde_json::json!({ "response_type": "in_channel", "text": text }),
            )
            .await;
        }
    });
    Json(serde_json::json!({ "response_type": "in_channel", "text": "Looking into it…" }))
        .into_response()
}

/// The host of `url` when it is an http(s) URL naming one of `allowed`.
fn response_host(url: &str, allowed: &[String]) -> Option<String> {
    let url = reqwest::Url::parse(url).ok()?;
    let host = url.host_str()?.to_ascii_lowercase();
    (matches!(url.scheme(), "https" | "http")
        && url.username().is_empty()
        && allowed.iter().any(|a| a.eq_ignore_ascii_case(&host)))
    .then_some(host)
}

/// Slack Events API envelope.
#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    challenge: String,
    #[serde(default)]
    team_id: String,
    event: Option<SlackEvent>,
}

#[derive(Deserialize)]
struct SlackEvent {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    ts: String,
    thread_ts: Option<String>,
    bot_id: Option<String>,
    subtype: Option<String>,
}

/// The text without leading `<@U…>` mentions.
fn without_mentions(text: &str) -> String {
    let mut rest = text.trim();
    while let Some(after) = rest.strip_prefix("<@") {
        rest = after
            .split_once('>')
            .map_or("", |(_, tail)| tail)
            .trim_start();
    }
    rest.to_string()
}

/// Slack Events API: `app_mention`s, and messages in threads the bot was
/// asked in. Answers in the thread, with the thread's earlier questions as
/// context.
#[utoipa::path(post, path = "/slack/events", request_body(content = String, content_type = "application/json"),
    responses((status = 200, description = "acknowledged, or the url_verification challenge"), (status = 401, description = "bad signature, stale or replayed")))]
pub(crate) async fn slack_events(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refusal) = refused_slack(&state, &headers, &body) {
        return refusal;
    }
    let Ok(envelope) = serde_json::from_slice::<Envelope>(&body) else {
        return (StatusCode::BAD_REQUEST, "not an Events API payload").into_response();
    };
    if envelope.kind == "url_verification" {
        return Json(serde_json::json!({ "challenge": envelope.challenge })).into_response();
    }
    // Slack retries what it thinks we missed; the first delivery is being answered.
    if headers.contains_key("x-slack-retry-num") {
        return StatusCode::OK.into_response();
    }
    let Some(event) = envelope.event else {
        return StatusCode::OK.into_response();
    };
    if event.bot_id.is_some() || event.subtype.is_some() {
        return StatusCode::OK.into_response();
    }
    let channel = format!("slack:{}:{}", envelope.team_id, event.channel);
    tokio::spawn(answer_event(state, channel, event));
    StatusCode::OK.into_response()
}

async fn answer_event(state: AppState, channel: String, event: SlackEvent) {
    let Ok(Some(link)) = state.db.channel(&channel).await else {
        return;
    };
    let thread = event.thread_ts.clone().unwrap_or_else(|| event.ts.clone());
    let earlier = state
        .db
        .thread_questions(&link.tenant, &channel, &thread)
        .await
        .unwrap_or_default();
    let asked = match event.kind.as_str() {
        "app_mention" => true,
        // Follow-ups: plain messages in a thread the bot was asked in.
        "message" => event.thread_ts.is_some() && !earlier.is_empty(),
        _ => false,
    };
    let question = without_mentions(&event.text);
    if !asked || question.is_empty() {
        return;
    }
    if let Err(error) = state
        .db
        .add_thread_question(&link.tenant, &channel, &thread, &question)
        .await
    {
        tracing::warn!(%error, "thread question not kept");
    }
    let with_context = if earlier.is_empty() {
        question
    } else {
        format!(
            "{question} (earlier in this thread: {})",
            earlier.join(" / ")
        )
    };
    let Some(answer) = answer_for_channel(&state, &link, &with_context).await else {
        return;
    };
    let Some(config) = state.chat.as_deref() else {
        return;
    };
    let text = reply_text(&answer, &config.public_url, Markup::Slack);
    let Some(text) = filtered(config, &format!("slack:{channel}"), &text) else {
        return;
    };
    let url = format!(
        "{}/chat.postMessage",
        config.slack_api_base.trim_end_matches('/')
    );
    post_json(
        &url,
        config.slack_bot_token.as_deref(),
        serde_json::json!({ "channel": event.channel, "thread_ts": thread, "text": text }),
    )
    .await;
}

/// A Mattermost-style outgoing webhook (form or JSON).
#[derive(Deserialize)]
struct WebhookRequest {
    #[serde(default)]
    token: String,
    #[serde(default)]
    channel_id: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    trigger_word: String,
}

/// Generic chat webhook, answered in the response body (Mattermost posts it
/// to the channel). The payload's token selects the channel link: each
/// tenant registers its platform's token with its channel.
#[utoipa::path(post, path = "/chat/webhook",
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "the answer as {\"text\": ...}"), (status = 401, description = "no channel is linked with this token")))]
pub(crate) async fn webhook_answer(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(config) = state.chat.as_deref() else {
        return ApiError::NotFound.into_response();
    };
    let is_json = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    let request: Option<WebhookRequest> = if is_json {
        serde_json::from_slice(&body).ok()
    } else {
        serde_urlencoded::from_bytes(&body).ok()
    };
    let Some(request) = request else {
        return (StatusCode::BAD_REQUEST, "not a webhook payload").into_response();
    };
    if request.token.is_empty() {
        return (StatusCode::UNAUTHORIZED, "no token").into_response();
    }
    let channel = webhook_channel(&request.token, &request.channel_id);
    let Ok(Some(link)) = state.db.channel(&channel).await else {
        // A wrong token and an unlinked channel look the same.
        return (
            StatusCode::UNAUTHORIZED,
            "no channel is linked with this token",
        )
            .into_response();
    };
    let question = request
        .text
        .trim()
        .strip_prefix(request.trigger_word.as_str())
        .unwrap_or(request.text.trim())
        .trim()
        .to_string();
    if question.is_empty() {
        return Json(serde_json::json!({ "text": "Ask a question after the trigger word." }))
            .into_response();
    }
    let Some(answer) = answer_for_channel(&state, &link, &question).await else {
        return Json(serde_json::json!({ "text": "Something went wrong; try again." }))
            .into_response();
    };
    let text = reply_text(&answer, &config.public_url, Markup::Markdown);
    match filtered(config, &channel, &text) {
        Some(text) => Json(serde_json::json!({ "text": text })).into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "the privacy filter is unavailable",
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(secret: &str, timestamp: i64, body: &str) -> HeaderMap {
        let signature = slack_signature(secret, &timestamp.to_string(), body.as_bytes());
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-slack-request-timestamp",
            timestamp.to_string().parse().expect("header"),
        );
        headers.insert("x-slack-signature", signature.parse().expect("header"));
        headers
    }

    #[test]
    fn forged_stale_and_replayed_requests_are_refused() {
        let guard = ReplayGuard::default();
        let now = 1_790_000_000;
        let body = "team_id=T1&channel_id=C1&text=why";
        let good = signed("s3cret", now, body);
        assert_eq!(
            verify_slack("s3cret", &good, body.as_bytes(), now, &guard),
            Ok(())
        );
        assert_eq!(
            verify_slack("s3cret", &good, body.as_bytes(), now, &guard),
            Err(Refused::Replayed)
        );
        let forged = signed("not-the-secret", now, body);
        assert_eq!(
            verify_slack("s3cret", &forged, body.as_bytes(), now, &guard),
            Err(Refused::Forged)
        );
        let tampered = signed("s3cret", now + 1, body);
        assert_eq!(
            verify_slack(
                "s3cret",
                &tampered,
                b"team_id=T1&channel_id=C2&text=why",
                now,
                &guard
            ),
            Err(Refused::Forged)
        );
        let stale = signed("s3cret", now - 301, body);
        assert_eq!(
            verify_slack("s3cret", &stale, body.as_bytes(), now, &guard),
            Err(Refused::Stale)
        );
        assert_eq!(
            verify_slack("s3cret", &HeaderMap::new(), body.as_bytes(), now, &guard),
            Err(Refused::Malformed)
        );
    }

    /// Issue 19, finding 2: the same signed request with its signature in
    /// upper case or with a `+` was answered once per spelling.
    #[test]
    fn other_spellings_of_a_signature_are_malformed_and_never_a_second_answer() {
        let guard = ReplayGuard::default();
        let now = 1_790_000_000;
        let body = "team_id=T1&channel_id=C1&text=why";
        let good = signed("s3cret", now, body);
        let signature = good["x-slack-signature"]
            .to_str()
            .expect("ascii")
            .to_string();
        let hex = signature.trim_start_matches("v0=");
        let respelled = |spelling: String| {
            let mut headers = good.clone();
            headers.insert("x-slack-signature", spelling.parse().expect("header"));
            headers
        };
        assert_eq!(
            verify_slack("s3cret", &good, body.as_bytes(), now, &guard),
            Ok(())
        );
        for spelling in [
            format!("v0={}", hex.to_uppercase()),
            format!("v0=+{}", &hex[1..]),
            format!("v0={hex} "),
            format!("v0={hex}00"),
        ] {
            assert_eq!(
                verify_slack(
                    "s3cret",
                    &respelled(spelling.clone()),
                    body.as_bytes(),
                    now,
                    &guard
                ),
                Err(Refused::Malformed),
                "{spelling}"
            );
        }
        assert_eq!(decode_hex(hex).map(|b| b.len()), Some(32));
    }

    /// Issue 19, finding 13: a signed command could make the server post
    /// anywhere, loopback services included.
    #[test]
    fn replies_go_only_to_the_allowed_response_hosts() {
        let slack = ["hooks.slack.com".to_string()];
        assert_eq!(
            response_host("https://hooks.slack.com/commands/T1/1/x", &slack).as_deref(),
            Some("hooks.slack.com")
        );
        for refused in [
            "http://127.0.0.1:6379/",
            "https://hooks.slack.com.evil.example/x",
            "https://evil.example/hooks.slack.com",
            "https://user@hooks.slack.com/x",
            "file:///etc/passwd",
            "not a url",
        ] {
            assert_eq!(response_host(refused, &slack), None, "{refused}");
        }
    }

    /// Issue 19, finding 4: log text reached channels as mentions and links.
    #[test]
    fn quoted_log_text_is_inert_in_both_markups() {
        let hostile = "<!channel> see <https://evil.example|Click here> and [Click](https://evil.example) ![x](https://evil.example/p.png) @here";
        let slack = inert(hostile, Markup::Slack);
        assert!(!slack.contains('<') && !slack.contains('>'), "{slack}");
        assert!(slack.contains("&lt;!channel&gt;"), "{slack}");
        let markdown = inert(hostile, Markup::Markdown);
        assert!(
            !markdown.contains("](") && !markdown.contains("!["),
            "{markdown}"
        );
        assert!(!markdown.contains("https://"), "{markdown}");
        assert!(markdown.contains("\\[Click\\]"), "{markdown}");
        assert_eq!(inert("a & b", Markup::Slack), "a &amp; b");
    }

    #[test]
    fn mentions_are_stripped() {
        assert_eq!(without_mentions("<@U123> <@U9> why 401s?"), "why 401s?");
        assert_eq!(without_mentions("why?"), "why?");
    }

    /// Issue 19, finding 6: one global webhook token let any tenant's
    /// platform name another tenant's channel id. The token is part of the
    /// link's key: another token is another channel.
    #[test]
    fn a_webhook_channel_is_keyed_by_its_platform_token() {
        let ours = webhook_channel("token-of-acme", "town-square");
        assert!(ours.starts_with("webhook:") && ours.ends_with(":town-square"));
        assert_ne!(ours, webhook_channel("token-of-globex", "town-square"));
        assert_eq!(ours, webhook_channel("token-of-acme", "town-square"));
    }
}
