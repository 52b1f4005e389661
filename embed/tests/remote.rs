//! The remote embedder against a real OpenAI-compatible server on loopback:
//! what reaches the server is redacted and audited.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::post;
use axum::{Json, Router};
use embed::{Embedder, RemoteEmbedder, RemoteEmbedderConfig};
use privacy::AuditLog;
use serde_json::{Value, json};

type Received = Arc<Mutex<Vec<String>>>;

/// Serves `/v1/embeddings`: a 3-dimensional vector per input, recording
/// every input it was sent.
fn start_server(received: Received) -> String {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let app = Router::new().route(
        "/v1/embeddings",
        post(move |Json(body): Json<Value>| {
            let received = received.clone();
            async move {
                let inputs: Vec<String> = body["input"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default();
                let data: Vec<Value> = inputs
                    .iter()
                    .enumerate()
                    .map(|(i, text)| {
                        json!({"object": "embedding", "index": i,
                               "embedding": [text.len() as f32, 1.0, 0.0]})
                    })
                    .collect();
                received.lock().expect("lock").extend(inputs);
                Json(
                    json!({"object": "list", "model": body["model"], "data": data,
                            "usage": {"prompt_tokens": 1, "total_tokens": 1}}),
                )
            }
        }),
    );
    std::thread::spawn(move || {
        runtime.block_on(async { axum::serve(listener, app).await.expect("serve") });
    });
    format!("http://{address}/v1")
}

#[test]
fn texts_are_redacted_and_audited_before_they_leave() {
    let received: Received = Arc::default();
    let base_url = start_server(received.clone());
    let dir = tempfile::tempdir().expect("tempdir");
    let audit_path = dir.path().join("outbound.jsonl");
    let embedder = RemoteEmbedder::new(
        RemoteEmbedderConfig {
            base_url: base_url.clone(),
            model: "test-embeddings".into(),
            api_key: Some("sk-test".into()),
            dimension: 3,
            timeout: Duration::from_secs(10),
        },
        AuditLog::new(&audit_path),
    )
    .expect("embedder");
    let texts = vec![
        "login failed for alice@example.com from 10.1.2.3".to_string(),
        "gateway 502 upstream reset".to_string(),
    ];
    let vectors = embedder.embed(&texts).expect("embed");
    assert_eq!(vectors.len(), 2);
    assert!(vectors.iter().all(|v| v.len() == 3));
    let sent = received.lock().expect("lock").clone();
    assert_eq!(sent.len(), 2);
    assert!(
        !sent[0].contains("alice@example.com") && !sent[0].contains("10.1.2.3"),
        "{sent:?}"
    );
    assert!(sent[0].contains("<EMAIL_1>"), "{sent:?}");
    assert_eq!(sent[1], texts[1]);
    let audit = std::fs::read_to_string(&audit_path).expect("audit log");
    assert_eq!(audit.lines().count(), 2);
    assert!(audit.contains(&base_url));
}

#[test]
fn an_unreachable_endpoint_is_an_error_not_a_vector() {
    let dir = tempfile::tempdir().expect("tempdir");
    let embedder = RemoteEmbedder::new(
        RemoteEmbedderConfig {
            base_url: "http://127.0.0.1:9/v1".into(),
            model: "m".into(),
            api_key: None,
            dimension: 3,
            timeout: Duration::from_secs(5),
        },
        AuditLog::new(&dir.path().join("outbound.jsonl")),
    )
    .expect("embedder");
    assert!(embedder.embed(&["x".to_string()]).is_err());
}
