//! The router driven in-process with `oneshot`: health, the JSON API, the
//! pages, and hostile log text rendered inert.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use ingest::ReadOptions;
use retrieval::{Stores, TextStore};
use tower::ServiceExt;

const LOG: &str = "\
2026-11-20T14:00:00Z INFO gw: GET /userinfo ok
2026-11-20T14:01:00Z INFO gw: GET /userinfo ok
2026-11-20T14:05:00Z WARN gw: invalid_token <script>alert(1)</script> kid=k2
";

/// Stores holding `text` read as file `name`, for tenant `acme`.
fn stores_with(name: &str, text: &str) -> Stores {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join(name), text).expect("write");
    let parsed = ingest::read_path(
        dir.path(),
        &ReadOptions::new("acme"),
        &mut ingest::TemplateMiner::default(),
    )
    .expect("read");
    let stores = Stores::new(TextStore::in_memory().expect("store"), None);
    stores.upsert(&parsed.records).expect("upsert");
    stores.commit().expect("commit");
    stores
}

fn app() -> axum::Router {
    web::router(web::AppState::new(
        stores_with("gateway.log", LOG),
        "acme".into(),
    ))
}

async fn send(request: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let response = app().oneshot(request).await.expect("response");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (
        status,
        headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).expect("request")
}

#[tokio::test]
async fn health_answers_ok_with_security_headers() {
    let (status, headers, body) = send(get("/healthz")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "ok");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(
        headers["content-security-policy"]
            .to_str()
            .expect("ascii")
            .contains("default-src 'self'")
    );
}

#[tokio::test]
async fn ask_api_returns_an_answer_whose_citations_are_records() {
    let request = Request::post("/api/ask")
        .header("content-type", "application/json")
        .body(Body::from(
            r#"{"question":"why invalid_token since 14:05?"}"#,
        ))
        .expect("request");
    let (status, _, body) = send(request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let answer: agent::Answer = serde_json::from_str(&body).expect("answer json");
    assert_eq!(answer.mode, agent::AnswerMode::Evidence);
    assert!(!answer.citations.is_empty());
    for id in answer.cited_ids() {
        assert!(
            answer.citations.iter().any(|c| c.id == id),
            "{id} is listed"
        );
    }
}

#[tokio::test]
async fn bad_requests_are_rejected_with_a_message() {
    let empty = Request::post("/api/ask")
        .header("content-type", "application/json")
        .body(Body::from(r#"{"question":"   "}"#))
        .expect("request");
    let (status, _, body) = send(empty).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("error"), "{body}");
    let (status, _, _) = send(get("/api/search?q=x&kind=banana")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn search_api_filters_by_severity() {
    let (status, _, body) = send(get("/api/search?q=userinfo+invalid_token&severity=warn")).await;
    assert_eq!(status, StatusCode::OK);
    let hits: Vec<retrieval::Hit> = serde_json::from_str(&body).expect("hits json");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].record.severity, ingest::Severity::Warn);
}

#[tokio::test]
async fn hostile_log_text_renders_inert_on_every_page_that_shows_records() {
    for uri in [
        "/search?q=invalid_token",
        "/?q=why+invalid_token+since+14:05",
    ] {
        let (status, _, body) = send(get(uri)).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        assert!(body.contains("invalid_token"), "{uri} shows the record");
        assert!(
            !body.contains("<script>alert(1)</script>"),
            "{uri} must escape log text"
        );
        assert!(
            body.contains("&#60;script&#62;") || body.contains("&lt;script&gt;"),
            "{uri} shows it escaped"
        );
    }
}

/// Eval runs kept by `oncall eval` show as trends, one line per
/// configuration, with the accepted baseline marked; the JSON lists them.
#[tokio::test]
async fn eval_runs_show_as_trends_with_the_baseline_marked() {
    let home = tempfile::tempdir().expect("tempdir");
    let history = evals::History::new(home.path());
    let case = evals::Case::load(&evals::bundled_incident_dir()).expect("bundled");
    for _ in 0..2 {
        let answerer = evals::Answerer {
            search_mode: retrieval::SearchMode::Text,
            llm: None,
        };
        let (_, score, _) = evals::run_case(&case, None, answerer, None).expect("run");
        let run = evals::Run {
            started: chrono::Utc::now(),
            dataset: "/data/default.jsonl".into(),
            split: Some(evals::Split::Test),
            mode: answerer.label(),
            summary: evals::Summary::of(std::slice::from_ref(&score)),
            cases: vec![score],
            details: Vec::new(),
        };
        history.save(&run).expect("save");
        if history.baseline().expect("baseline").is_none() {
            history.accept(&run).expect("accept");
        }
    }
    let app = web::router(
        web::AppState::new(
            Stores::new(TextStore::in_memory().expect("store"), None),
            "acme".into(),
        )
        .with_eval_history(history),
    );
    let page = app.clone().oneshot(get("/evals")).await.expect("response");
    assert_eq!(page.status(), StatusCode::OK);
    let html = String::from_utf8_lossy(&page.into_body().collect().await.expect("body").to_bytes())
        .into_owned();
    assert!(html.contains("<polyline"), "trend charts");
    assert!(html.contains("evidence/text · default.jsonl · test"));
    assert_eq!(html.matches(">baseline<").count(), 1, "{html}");
    let api = app.oneshot(get("/api/evals")).await.expect("response");
    let runs: serde_json::Value =
        serde_json::from_slice(&api.into_body().collect().await.expect("body").to_bytes())
            .expect("json");
    assert_eq!(runs.as_array().map(Vec::len), Some(2));
    assert_eq!(runs[0]["metrics"]["root_cause_accuracy"], 1.0);
    assert_eq!(runs[0]["baseline"], true);
}

/// The flows page draws each attempt's steps, lists the risky events, and
/// escapes what the logs say.
#[tokio::test]
async fn flows_page_shows_attempts_and_flags_with_log_text_escaped() {
    let mut lines = String::new();
    for i in 0..12 {
        lines.push_str(&format!(
            "{{\"log_id\":\"90{i:04}\",\"date\":\"2026-11-20T14:0{}:{:02}.000Z\",\"type\":\"fp\",\"description\":\"Wrong password <script>alert(1)</script>\",\"client_id\":\"web\",\"ip\":\"203.0.113.9\",\"user_name\":\"ana@example.com\"}}\n",
            i / 6,
            (i % 6) * 10
        ));
    }
    lines.push_str("{\"log_id\":\"9100\",\"date\":\"2026-11-20T14:03:00.000Z\",\"type\":\"s\",\"description\":\"Successful login\",\"client_id\":\"web\",\"ip\":\"198.51.100.4\",\"user_name\":\"bo@example.com\"}\n");
    let app = web::router(web::AppState::new(
        stores_with("tenant-logs.jsonl", &lines),
        "acme".into(),
    ));
    let page = app.clone().oneshot(get("/flows")).await.expect("response");
    assert_eq!(page.status(), StatusCode::OK);
    let html = String::from_utf8_lossy(&page.into_body().collect().await.expect("body").to_bytes())
        .into_owned();
    assert!(html.contains("brute_force"), "the flag is listed");
    assert!(html.contains("class=\"fail\""), "failed steps drawn");
    assert!(
        !html.contains("<script>alert(1)</script>"),
        "log text is escaped"
    );
    let api = app
        .oneshot(get("/api/flows?outcome=success"))
        .await
        .expect("response");
    let view: serde_json::Value =
        serde_json::from_slice(&api.into_body().collect().await.expect("body").to_bytes())
            .expect("json");
    assert_eq!(view["total"], 1, "only bo's successful login: {view}");
    assert_eq!(view["flows"][0]["user"], "bo@example.com");
}

/// `/metrics` counts requests per route pattern (never per raw path) with
/// latency histograms, and answers by mode, in Prometheus text format.
#[tokio::test]
async fn metrics_count_requests_by_route_and_answers_by_mode() {
    let app = app();
    for uri in ["/healthz", "/healthz", "/api/search?q=invalid_token"] {
        let response = app.clone().oneshot(get(uri)).await.expect("response");
        assert_eq!(response.status(), StatusCode::OK, "{uri}");
    }
    let ask = Request::post("/api/ask")
        .header("content-type", "application/json")
        .body(Body::from(
            r#"{"question":"why invalid_token since 14:05?"}"#,
        ))
        .expect("request");
    assert_eq!(
        app.clone().oneshot(ask).await.expect("response").status(),
        StatusCode::OK
    );
    let response = app.oneshot(get("/metrics")).await.expect("response");
    assert!(
        response.headers()["content-type"]
            .to_str()
            .is_ok_and(|t| t.starts_with("text/plain; version=0.0.4"))
    );
    let text = String::from_utf8_lossy(
        &response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes(),
    )
    .into_owned();
    assert!(
        text.contains("oncall_http_requests_total{route=\"/healthz\",status=\"200\"} 2"),
        "{text}"
    );
    assert!(
        text.contains("oncall_http_requests_total{route=\"/api/search\",status=\"200\"} 1"),
        "{text}"
    );
    assert!(text.contains("oncall_http_request_duration_seconds_count{route=\"/healthz\"} 2"));
    assert!(
        text.contains("oncall_answers_total{mode=\"evidence\"} 1"),
        "{text}"
    );
    assert!(
        !text.contains("invalid_token"),
        "raw paths and queries are not labels"
    );
}
