//! The chat bot over real sockets: `oncall`'s server on loopback, a local
//! Slack-style server receiving what it posts, and requests signed as Slack
//! signs them.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use tokio::sync::mpsc;

const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const BOT_TOKEN: &str = "xoxb-test-bot-token";
const PLANTED_EMAIL: &str = "ana.lopez@example.com";

/// What the local Slack-style server received: path, bearer, JSON body.
type Posted = (String, Option<String>, serde_json::Value);

async fn fake_slack() -> (String, mpsc::UnboundedReceiver<Posted>) {
    let (sender, receiver) = mpsc::unbounded_channel::<Posted>();
    async fn record(
        State(sender): State<mpsc::UnboundedSender<Posted>>,
        uri: axum::http::Uri,
        headers: HeaderMap,
        Json(body): Json<serde_json::Value>,
    ) -> Json<serde_json::Value> {
        let bearer = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim_start_matches("Bearer ").to_string());
        let _ = sender.send((uri.path().to_string(), bearer, body));
        Json(serde_json::json!({ "ok": true }))
    }
    let app = axum::Router::new()
        .fallback(axum::routing::post(record))
        .with_state(sender);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, receiver)
}

fn log_with_identity() -> String {
    let mut log = String::new();
    for minute in 0..30 {
        log.push_str(&format!(
            "2026-11-20T13:{minute:02}:00Z INFO gw: GET /userinfo 200\n"
        ));
        if minute >= 15 {
            for second in [10, 20, 30, 40] {
                log.push_str(&format!(
                    "2026-11-20T13:{minute:02}:{second}Z ERROR gw: GET /userinfo 401 invalid_token user={PLANTED_EMAIL}\n"
                ));
            }
        }
    }
    log
}

struct Server {
    url: String,
    slack_url: String,
    db: appdb::AppDb,
    slack: mpsc::UnboundedReceiver<Posted>,
    _home: tempfile::TempDir,
}

async fn start() -> Server {
    let home = tempfile::tempdir().expect("tempdir");
    let stores = common::stores_of(&[("acme", &[("gateway.log", &log_with_identity())])]);
    let db = appdb::AppDb::open_file(&home.path().join("state.db"))
        .await
        .expect("db");
    db.link_channel("acme", "slack:T1:C1", &[])
        .await
        .expect("link");
    let (slack_url, slack) = fake_slack().await;
    let chat = web::ChatConfig {
        slack_signing_secret: Some(SECRET.into()),
        slack_bot_token: Some(BOT_TOKEN.into()),
        slack_api_base: format!("{slack_url}/api"),
        slack_response_hosts: vec!["127.0.0.1".into()],
        public_url: "https://oncall.example.net".into(),
        redactor: Some(Arc::new(privacy::Redactor::new().expect("redactor"))),
        audit: privacy::AuditLog::new(&home.path().join("audit/chat.jsonl")),
    };
    let state = web::AppState::new(stores, "acme".into(), db.clone(), home.path().to_path_buf())
        .with_auth(web::AuthMode::Tokens)
        .with_chat(chat);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(web::serve_on(listener, state, std::future::pending()));
    Server {
        url,
        slack_url,
        db,
        slack,
        _home: home,
    }
}

fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    web::slack_signature(secret, &timestamp.to_string(), body.as_bytes())
}

async fn post_signed(
    url: &str,
    content_type: &str,
    body: &str,
    timestamp: i64,
    secret: &str,
) -> reqwest::Response {
    reqwest::Client::new()
        .post(url)
        .header("content-type", content_type)
        .header("x-slack-request-timestamp", timestamp.to_string())
        .header("x-slack-signature", signature(secret, timestamp, body))
        .body(body.to_string())
        .send()
        .await
        .expect("request")
}

async fn next_post(server: &mut Server) -> Posted {
    tokio::time::timeout(Duration::from_secs(60), server.slack.recv())
        .await
        .expect("an answer is posted in time")
        .expect("posted")
}

fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_slash_command_is_acknowledged_at_once_and_answered_redacted() {
    let mut server = start().await;
    let form = format!(
        "team_id=T1&channel_id=C1&user_id=U1&command=%2Foncall&text={}&response_url={}",
        percent("why invalid_token 401s since 13:15?"),
        percent(&format!("{}/commands/1234/response", server.slack_url))
    );
    let now = chrono::Utc::now().timestamp();
    let url = format!("{}/slack/commands", server.url);
    let form_type = "application/x-www-form-urlencoded";

    let forged = post_signed(&url, form_type, &form, now, "wrong-secret").await;
    assert_eq!(forged.status(), 401, "forged signature");
    let stale = post_signed(&url, form_type, &form, now - 600, SECRET).await;
    assert_eq!(stale.status(), 401, "stale timestamp");

    let started = Instant::now();
    let ack = post_signed(&url, form_type, &form, now, SECRET).await;
    let acked_in = started.elapsed();
    assert_eq!(ack.status(), 200);
    assert!(
        acked_in < Duration::from_secs(3),
        "acknowledged in {acked_in:?}"
    );
    let replay = post_signed(&url, form_type, &form, now, SECRET).await;
    assert_eq!(replay.status(), 401, "a replayed request is refused");

    let (path, bearer, body) = next_post(&mut server).await;
    assert_eq!(path, "/commands/1234/response");
    assert_eq!(bearer, None, "response_url needs no token");
    let text = body["text"].as_str().expect("text");
    assert!(text.contains("invalid_token"), "{text}");
    assert!(
        text.contains("<https://oncall.example.net/records/r-"),
        "evidence links back: {text}"
    );
    assert!(
        !text.contains(PLANTED_EMAIL),
        "channel answers are privacy-filtered: {text}"
    );
    assert_eq!(body["response_type"], "in_channel");

    let unlinked = format!(
        "team_id=T1&channel_id=C9&text=why&response_url={}",
        percent(&server.slack_url)
    );
    let reply = post_signed(&url, form_type, &unlinked, now, SECRET).await;
    let reply: serde_json::Value = reply.json().await.expect("json");
    assert!(
        reply["text"]
            .as_str()
            .is_some_and(|t| t.contains("not linked")),
        "{reply}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mention_is_answered_in_its_thread_and_a_follow_up_keeps_the_context() {
    let mut server = start().await;
    let url = format!("{}/slack/events", server.url);
    let now = chrono::Utc::now().timestamp();
    let json = "application/json";

    let challenge = r#"{"type":"url_verification","challenge":"abc123"}"#;
    let answered = post_signed(&url, json, challenge, now, SECRET).await;
    let answered: serde_json::Value = answered.json().await.expect("json");
    assert_eq!(answered["challenge"], "abc123");

    let mention = r#"{"type":"event_callback","team_id":"T1","event":{"type":"app_mention","channel":"C1","user":"U1","text":"<@UBOT> why invalid_token 401s since 13:15?","ts":"1764000000.000100"}}"#;
    let ack = post_signed(&url, json, mention, now, SECRET).await;
    assert_eq!(ack.status(), 200);
    let (path, bearer, body) = next_post(&mut server).await;
    assert_eq!(path, "/api/chat.postMessage");
    assert_eq!(bearer.as_deref(), Some(BOT_TOKEN));
    assert_eq!(body["channel"], "C1");
    assert_eq!(
        body["thread_ts"], "1764000000.000100",
        "answered in the thread"
    );
    assert!(
        !body["text"]
            .as_str()
            .unwrap_or_default()
            .contains(PLANTED_EMAIL)
    );

    let follow_up = r#"{"type":"event_callback","team_id":"T1","event":{"type":"message","channel":"C1","user":"U1","text":"which users are affected?","ts":"1764000000.000200","thread_ts":"1764000000.000100"}}"#;
    let ack = post_signed(&url, json, follow_up, now, SECRET).await;
    assert_eq!(ack.status(), 200);
    let (_, _, body) = next_post(&mut server).await;
    assert_eq!(body["thread_ts"], "1764000000.000100");
    let thread = server
        .db
        .thread_questions("acme", "slack:T1:C1", "1764000000.000100")
        .await
        .expect("thread");
    assert_eq!(
        thread,
        [
            "why invalid_token 401s since 13:15?",
            "which users are affected?"
        ]
    );

    // A plain channel message outside a thread the bot was asked in is not for it.
    let chatter = r#"{"type":"event_callback","team_id":"T1","event":{"type":"message","channel":"C1","user":"U2","text":"lunch?","ts":"1764000000.000300"}}"#;
    assert_eq!(
        post_signed(&url, json, chatter, now, SECRET).await.status(),
        200
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        server.slack.try_recv().is_err(),
        "nothing posted for chatter"
    );
}

/// An admin token of `tenant`, made in the server's own database.
async fn admin_token(server: &Server, tenant: &str) -> String {
    server
        .db
        .create_token(tenant, "admin", appdb::Role::Admin, None)
        .await
        .expect("token")
        .0
}

async fn put_channel(server: &Server, token: &str, body: serde_json::Value) -> reqwest::Response {
    reqwest::Client::new()
        .put(format!("{}/api/channels", server.url))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("request")
}

/// Issue 19, finding 6: one global webhook token, and the caller chose the
/// channel id. Each tenant registers its platform's token with its
/// channel; a request's token picks the link, so another tenant naming the
/// same channel id gets its own channel, never this one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_generic_webhook_answers_for_the_tenant_whose_token_it_carries() {
    let server = start().await;
    let acme = admin_token(&server, "acme").await;
    let globex = admin_token(&server, "globex").await;
    let no_token = put_channel(
        &server,
        &acme,
        serde_json::json!({"channel": "webhook:town-square"}),
    )
    .await;
    assert_eq!(no_token.status(), 400, "a webhook channel needs its token");
    for (admin, token) in [
        (&acme, "acme-hook-token-0123456789"),
        (&globex, "globex-hook-token-987654"),
    ] {
        let linked = put_channel(
            &server,
            admin,
            serde_json::json!({"channel": "webhook:town-square", "webhook_token": token}),
        )
        .await;
        assert_eq!(linked.status(), 204, "each tenant links its own channel");
    }
    let url = format!("{}/chat/webhook", server.url);
    let client = reqwest::Client::new();
    let ask = |token: &'static str| {
        let body = serde_json::json!({
            "token": token,
            "channel_id": "town-square",
            "text": "#oncall why invalid_token 401s since 13:15?",
            "trigger_word": "#oncall",
        })
        .to_string();
        let request = client
            .post(&url)
            .header("content-type", "application/json")
            .body(body);
        async move { request.send().await.expect("request") }
    };
    assert_eq!(ask("wrong").await.status(), 401);
    let reply: serde_json::Value = ask("acme-hook-token-0123456789")
        .await
        .json()
        .await
        .expect("json");
    let text = reply["text"].as_str().expect("text");
    assert!(text.contains("[r-"), "markdown evidence links: {text}");
    assert!(!text.contains(PLANTED_EMAIL), "{text}");
    let reply: serde_json::Value = ask("globex-hook-token-987654")
        .await
        .json()
        .await
        .expect("json");
    let text = reply["text"].as_str().expect("text");
    assert!(
        !text.contains("[r-") && !text.contains("invalid_token 401"),
        "globex has no records; acme's never reach it: {text}"
    );
}

/// Issue 19, finding 6: the first admin to name a Slack channel won it. A
/// link now needs proof from the channel: the claim's code, sent there in
/// a signed command. Another tenant's channel is never taken over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slack_channel_is_linked_only_from_the_channel_itself() {
    let server = start().await;
    let globex = admin_token(&server, "globex").await;
    let squat = put_channel(
        &server,
        &globex,
        serde_json::json!({"channel": "slack:T1:C1"}),
    )
    .await;
    assert_eq!(squat.status(), 404, "acme's channel is not offered");
    let claim = put_channel(
        &server,
        &globex,
        serde_json::json!({"channel": "slack:T1:C7", "services": ["auth"]}),
    )
    .await;
    assert_eq!(claim.status(), 202);
    let claim: serde_json::Value = claim.json().await.expect("json");
    let code = claim["code"].as_str().expect("code").to_string();
    assert_eq!(
        server.db.channel("slack:T1:C7").await.expect("lookup"),
        None,
        "nothing is linked before the proof"
    );
    let url = format!("{}/slack/commands", server.url);
    let form_type = "application/x-www-form-urlencoded";
    let now = chrono::Utc::now().timestamp();
    let link_from = |channel: &str| {
        format!(
            "team_id=T1&channel_id={channel}&text={}&response_url={}",
            percent(&format!("link {code}")),
            percent(&server.slack_url)
        )
    };
    let elsewhere = post_signed(&url, form_type, &link_from("C8"), now, SECRET).await;
    let elsewhere: serde_json::Value = elsewhere.json().await.expect("json");
    assert!(
        elsewhere["text"]
            .as_str()
            .is_some_and(|t| t.contains("unknown")),
        "a code works only in its channel: {elsewhere}"
    );
    let linked = post_signed(&url, form_type, &link_from("C7"), now, SECRET).await;
    let linked: serde_json::Value = linked.json().await.expect("json");
    assert!(
        linked["text"]
            .as_str()
            .is_some_and(|t| t.contains("globex")),
        "{linked}"
    );
    let row = server
        .db
        .channel("slack:T1:C7")
        .await
        .expect("lookup")
        .expect("linked");
    assert_eq!(
        (row.tenant.as_str(), row.services.as_slice()),
        ("globex", &["auth".to_string()][..])
    );
}
