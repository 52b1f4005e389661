//! Asking: the page, the JSON call, the streamed answer (SSE) and
//! feedback. Every answered question is kept with its timings, tokens and
//! root cause for the architects' metrics.

use std::convert::Infallible;
use std::time::Instant;

use agent::{Answer, Audience, EvidenceEngine};
use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use futures::Stream;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use utoipa::{IntoParams, ToSchema};

use crate::api_error::ApiError;
use crate::auth::Caller;
use crate::pages::{AnswerFragment, AskPage};
use crate::state::AppState;

const MAX_QUESTION_CHARS: usize = 2000;
const MAX_COMMENT_CHARS: usize = 2000;
/// The engineer asking in the UI sees identities put back; secrets stay
/// redacted. Channels get [`Audience::Channel`].
const LOCAL: Audience = Audience::LocalUser;

/// A question for the agent.
#[derive(Deserialize, ToSchema)]
pub(crate) struct AskRequest {
    /// The question, 1 to 2000 characters.
    question: String,
}

/// An answer and the id it is kept under (for feedback).
#[derive(Serialize, ToSchema)]
pub(crate) struct AskResponse {
    /// Id of the kept question.
    question_id: String,
    /// The answer: text, root cause, remediation and cited records.
    #[schema(value_type = Object)]
    answer: Answer,
}

/// Feedback on an answer.
#[derive(Deserialize, ToSchema)]
pub(crate) struct FeedbackRequest {
    /// Whether the answer helped.
    useful: bool,
    /// Optional comment, up to 2000 characters.
    #[serde(default)]
    comment: String,
}

/// `q`: the question.
#[derive(Deserialize, IntoParams)]
pub(crate) struct QuestionQuery {
    /// The question.
    #[serde(default)]
    q: String,
}

/// What a streamed ask reports, in order.
pub(crate) enum Progress {
    Stage(&'static str),
    Answer(Box<Answer>),
    Done(String),
    Failed(String),
}

fn checked(question: &str) -> Result<String, ApiError> {
    let question = question.trim();
    if question.is_empty() || question.chars().count() > MAX_QUESTION_CHARS {
        return Err(ApiError::BadRequest(format!(
            "a question has 1 to {MAX_QUESTION_CHARS} characters"
        )));
    }
    Ok(question.to_string())
}

async fn evidence_answer(
    state: &AppState,
    tenant: &str,
    question: &str,
) -> Result<Answer, ApiError> {
    let (state, tenant, question) = (state.clone(), tenant.to_string(), question.to_string());
    let answer = tokio::task::spawn_blocking(move || {
        state.stores.text().refresh()?;
        EvidenceEngine::new(&state.stores).ask(&tenant, &question)
    })
    .await??;
    Ok(answer)
}

/// Answers `question`, reporting to `progress` when streaming (then the
/// evidence-mode answer comes first, while the LLM works), and keeps it.
pub(crate) async fn answer_and_keep(
    state: &AppState,
    tenant: &str,
    audience: Audience,
    question: String,
    progress: Option<&mpsc::Sender<Progress>>,
) -> Result<(String, Answer), ApiError> {
    let question = checked(&question)?;
    let asked_at = chrono::Utc::now();
    let started = Instant::now();
    let report = |item: Progress| async move {
        if let Some(progress) = progress {
            // A closed stream means the client left; the answer is still kept.
            let _ = progress.send(item).await;
        }
    };
    report(Progress::Stage("searching the records")).await;
    let mut first_answer = None;
    let answer = match &state.llm {
        Some(llm) => {
            if progress.is_some() {
                let first = evidence_answer(state, tenant, &question).await?;
                first_answer = Some(started.elapsed());
                report(Progress::Answer(Box::new(first))).await;
                report(Progress::Stage("asking the model")).await;
            }
            state.stores.text().refresh()?;
            llm.ask(&state.stores, tenant, &question, audience, None)
                .await?
        }
        None => evidence_answer(state, tenant, &question).await?,
    };
    let total = started.elapsed();
    state.metrics.answer(&answer);
    let answer_json =
        serde_json::to_string(&answer).map_err(|e| ApiError::Internal(e.to_string()))?;
    let question_id = state
        .db
        .record_question(&appdb::NewQuestion {
            tenant,
            asked_at,
            question: &question,
            mode: answer.mode.name(),
            root_cause: answer.root_cause.as_ref().map(|c| c.statement.as_str()),
            answer_json: &answer_json,
            first_answer_ms: first_answer.unwrap_or(total).as_millis() as u64,
            total_ms: total.as_millis() as u64,
            llm_calls: u64::from(answer.usage.calls),
            prompt_tokens: u64::from(answer.usage.prompt_tokens),
            completion_tokens: u64::from(answer.usage.completion_tokens),
        })
        .await?;
    report(Progress::Answer(Box::new(answer.clone()))).await;
    report(Progress::Done(question_id.clone())).await;
    Ok((question_id, answer))
}

/// Answers a question with cited evidence (evidence mode unless an LLM is
/// configured) and keeps it.
#[utoipa::path(post, path = "/api/ask", request_body = AskRequest,
    responses((status = 200, body = AskResponse), (status = 400, description = "empty or too long")))]
pub(crate) async fn answers_create(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<AskRequest>,
) -> Result<Json<AskResponse>, ApiError> {
    let (question_id, answer) =
        answer_and_keep(&state, &caller.tenant, LOCAL, request.question, None).await?;
    Ok(Json(AskResponse {
        question_id,
        answer,
    }))
}

/// Streams the answer as server-sent events: `stage` (what is being done),
/// `answer` (JSON; the evidence-mode answer first when an LLM follows),
/// `answer-html` (the same, rendered), `done` (the question id) or `error`.
#[utoipa::path(get, path = "/api/ask/stream", params(QuestionQuery),
    responses((status = 200, description = "text/event-stream of stage, answer, answer-html, done and error events")))]
pub(crate) async fn answers_stream(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<QuestionQuery>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let (sender, receiver) = mpsc::channel(8);
    tokio::spawn(async move {
        if let Err(error) =
            answer_and_keep(&state, &caller.tenant, LOCAL, query.q, Some(&sender)).await
        {
            let _ = sender.send(Progress::Failed(error.client_message())).await;
        }
    });
    let events = futures::stream::unfold(receiver, |mut receiver| async move {
        let progress = receiver.recv().await?;
        Some((futures::stream::iter(events_of(progress)), receiver))
    });
    Sse::new(futures::StreamExt::flatten(events)).keep_alive(KeepAlive::default())
}

fn events_of(progress: Progress) -> Vec<Result<Event, Infallible>> {
    let json = |value: serde_json::Value| value.to_string();
    let events = match progress {
        Progress::Stage(stage) => vec![
            Event::default()
                .event("stage")
                .data(json(serde_json::json!({ "stage": stage }))),
        ],
        Progress::Answer(answer) => {
            let html = AnswerFragment {
                answer: &answer,
                question_id: None,
            }
            .render()
            .unwrap_or_else(|error| {
                tracing::error!(%error, "rendering an answer");
                String::new()
            });
            vec![
                Event::default()
                    .event("answer")
                    .data(serde_json::to_string(&answer).unwrap_or_default()),
                Event::default().event("answer-html").data(html),
            ]
        }
        Progress::Done(question_id) => vec![
            Event::default()
                .event("done")
                .data(json(serde_json::json!({ "question_id": question_id }))),
        ],
        Progress::Failed(message) => vec![
            Event::default()
                .event("error")
                .data(json(serde_json::json!({ "error": message }))),
        ],
    };
    events.into_iter().map(Ok).collect()
}

/// Keeps feedback on an answered question.
#[utoipa::path(post, path = "/api/questions/{id}/feedback", request_body = FeedbackRequest,
    params(("id" = String, Path, description = "question id")),
    responses((status = 204, description = "kept"), (status = 404, description = "no such question")))]
pub(crate) async fn feedback_create(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(request): Json<FeedbackRequest>,
) -> Result<StatusCode, ApiError> {
    if request.comment.chars().count() > MAX_COMMENT_CHARS {
        return Err(ApiError::BadRequest(format!(
            "a comment has at most {MAX_COMMENT_CHARS} characters"
        )));
    }
    state
        .db
        .record_feedback(&caller.tenant, &id, request.useful, request.comment.trim())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The ask page; with `q`, answered without JavaScript.
pub(crate) async fn ask_page(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<QuestionQuery>,
) -> Result<Response, ApiError> {
    let asked = if query.q.trim().is_empty() {
        None
    } else if caller.role < appdb::Role::Oncall {
        return Err(ApiError::Forbidden);
    } else {
        Some(answer_and_keep(&state, &caller.tenant, LOCAL, query.q.clone(), None).await?)
    };
    let page = AskPage {
        question: query.q,
        answer: asked.as_ref().map(|(_, answer)| answer),
        question_id: asked.as_ref().map(|(id, _)| id.as_str()),
    };
    Ok(Html(page.render()?).into_response())
}
