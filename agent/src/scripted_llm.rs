//! A scripted OpenAI-compatible chat server on loopback, for tests of what a
//! real model cannot be made to show on demand: native tool calls, 429 with
//! Retry-After, 500s, hangs, malformed replies and streams cut mid-answer.
//! It speaks the real wire format (JSON and server-sent events) and keeps
//! every request body it received.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// What the server does with one request.
pub enum Script {
    /// Reply with this assistant text (as SSE chunks when the request streams).
    Content(String),
    /// Reply with text computed from the request body.
    Respond(Box<dyn Fn(&Value) -> String + Send>),
    /// Reply with native tool calls: (name, JSON arguments).
    ToolCalls(Vec<(String, Value)>),
    /// An error status, with a Retry-After header when given.
    Status(u16, Option<u64>),
    /// Never answer within any sane deadline.
    Hang,
    /// Stream these pieces of text, then close without a finish reason.
    CutStream(Vec<String>),
}

#[derive(Default)]
struct Shared {
    scripts: VecDeque<Script>,
    requests: Vec<Value>,
}

/// A running scripted server. Dropping it leaves the task to end with the
/// test's runtime.
#[derive(Clone)]
pub struct ScriptedLlm {
    shared: Arc<Mutex<Shared>>,
    address: SocketAddr,
}

impl ScriptedLlm {
    /// Starts a server on a free loopback port that plays `scripts` in order
    /// (and answers 500 once they run out).
    pub async fn start(scripts: Vec<Script>) -> std::io::Result<Self> {
        let shared = Arc::new(Mutex::new(Shared {
            scripts: scripts.into(),
            requests: Vec::new(),
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let app = Router::new()
            .route("/v1/chat/completions", post(completions))
            .with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(ScriptedLlm { shared, address })
    }

    /// Base URL up to `/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.address)
    }

    /// Every request body received so far.
    pub fn requests(&self) -> Vec<Value> {
        self.shared
            .lock()
            .map(|s| s.requests.clone())
            .unwrap_or_default()
    }
}

async fn completions(State(shared): State<Arc<Mutex<Shared>>>, body: String) -> Response {
    let request: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let script = match shared.lock() {
        Ok(mut shared) => {
            shared.requests.push(request.clone());
            shared.scripts.pop_front()
        }
        Err(_) => None,
    };
    let streaming = request["stream"].as_bool().unwrap_or(false);
    match script {
        None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        Some(Script::Content(text)) => reply(&text, Vec::new(), streaming),
        Some(Script::Respond(respond)) => reply(&respond(&request), Vec::new(), streaming),
        Some(Script::ToolCalls(calls)) => reply("", calls, streaming),
        Some(Script::Status(status, retry_after)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = json!({"error": {"message": "scripted failure", "type": "rate_limit_error", "param": null, "code": null}});
            let mut response = (status, body.to_string()).into_response();
            if let Some(seconds) = retry_after
                && let Ok(value) = header::HeaderValue::from_str(&seconds.to_string())
            {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        Some(Script::Hang) => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
        Some(Script::CutStream(pieces)) => {
            let events: String = pieces
                .iter()
                .map(|piece| sse(&chunk(json!({"content": piece}), None)))
                .collect();
            sse_response(events)
        }
    }
}

const USAGE: (u32, u32) = (100, 20);

fn reply(text: &str, calls: Vec<(String, Value)>, streaming: bool) -> Response {
    let tool_calls: Vec<Value> = calls
        .iter()
        .enumerate()
        .map(|(index, (name, arguments))| {
            json!({"index": index, "id": format!("call_{index}"), "type": "function",
                   "function": {"name": name, "arguments": arguments.to_string()}})
        })
        .collect();
    let finish = if tool_calls.is_empty() {
        "stop"
    } else {
        "tool_calls"
    };
    let usage = json!({"prompt_tokens": USAGE.0, "completion_tokens": USAGE.1, "total_tokens": USAGE.0 + USAGE.1});
    if !streaming {
        let mut message = json!({"role": "assistant", "content": text});
        if !tool_calls.is_empty() {
            message["tool_calls"] = Value::from(tool_calls);
        }
        let body = json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "scripted",
            "choices": [{"index": 0, "message": message, "finish_reason": finish}], "usage": usage});
        return (
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response();
    }
    let mut events = String::new();
    let split = text.char_indices().map(|(i, _)| i).filter(|i| i % 16 == 0);
    let mut starts: Vec<usize> = split.collect();
    starts.push(text.len());
    for pair in starts.windows(2) {
        events.push_str(&sse(&chunk(
            json!({"content": &text[pair[0]..pair[1]]}),
            None,
        )));
    }
    if !tool_calls.is_empty() {
        events.push_str(&sse(&chunk(json!({"tool_calls": tool_calls}), None)));
    }
    events.push_str(&sse(&chunk(json!({}), Some(finish))));
    let mut last = chunk(json!({}), None);
    last["choices"] = json!([]);
    last["usage"] = usage;
    events.push_str(&sse(&last));
    events.push_str("data: [DONE]\n\n");
    sse_response(events)
}

fn chunk(delta: Value, finish: Option<&str>) -> Value {
    json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 0, "model": "scripted",
           "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
}

fn sse(data: &Value) -> String {
    format!("data: {data}\n\n")
}

fn sse_response(events: String) -> Response {
    (
        [(header::CONTENT_TYPE, "text/event-stream")],
        Body::from(events),
    )
        .into_response()
}
