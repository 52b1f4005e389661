use std::time::Duration;

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::middleware::ReqwestService;
use async_openai::middleware::retry::OpenAIRetryLayer;
use async_openai::types::chat::{
    ChatCompletionMessageToolCalls, CreateChatCompletionRequest, CreateChatCompletionResponse,
};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tracing::{debug, warn};

use crate::error::{AgentError, LlmFailure, Result};

/// How agent steps ask the model for a tool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ToolCallMode {
    /// The endpoint's native `tools` and `tool_calls`.
    Native,
    /// Schema-constrained JSON (`response_format` with a JSON schema), for
    /// endpoints and small models without native tool calls.
    Json,
}

/// Where and how to reach an OpenAI-compatible chat endpoint.
#[derive(Clone, Debug)]
pub struct LlmConfig {
    /// Base URL up to and including `/v1`.
    pub base_url: String,
    /// Model name the endpoint knows.
    pub model: String,
    /// Bearer token, when the endpoint wants one.
    pub api_key: Option<String>,
    /// Deadline of one call, retries and streaming included.
    pub timeout: Duration,
    /// Retries after a 429 (honouring Retry-After) or a 5xx.
    pub max_retries: usize,
    /// Tokens (prompt and completion) one question may spend.
    pub token_budget: u32,
    /// Native tool calls or schema-constrained JSON steps.
    pub tool_calls: ToolCallMode,
    /// Tool steps before the model must answer.
    pub max_steps: usize,
    /// Longest completion of one call.
    pub max_completion_tokens: u32,
}

impl LlmConfig {
    /// Defaults for an endpoint: native tool calls, 60 s per call, three
    /// retries, 60k tokens and six tool steps per question.
    pub fn new(base_url: &str, model: &str) -> Self {
        LlmConfig {
            base_url: base_url.trim_end_matches('/').to_string(),
            model: model.to_string(),
            api_key: None,
            timeout: Duration::from_secs(60),
            max_retries: 3,
            token_budget: 60_000,
            tool_calls: ToolCallMode::Native,
            max_steps: 6,
            max_completion_tokens: 1024,
        }
    }
}

/// Who wrote a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions.
    System,
    /// The question, and tool results in JSON mode.
    User,
    /// The model.
    Assistant,
    /// A tool result in native mode.
    Tool,
}

/// A tool the model asked for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// Id to answer with (native mode).
    pub id: String,
    /// Tool name.
    pub name: String,
    /// JSON arguments as the model wrote them.
    pub arguments: String,
}

/// One message of a conversation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Author.
    pub role: Role,
    /// Text.
    pub content: String,
    /// Tools the assistant asked for (native mode).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// The call a tool message answers (native mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl ChatMessage {
    /// A message with text only.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        ChatMessage {
            role,
            content: content.into(),
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }
}

/// A tool as the model sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    /// Name the model calls it by.
    pub name: String,
    /// What it does, for the model.
    pub description: String,
    /// JSON schema of its arguments.
    pub parameters: Value,
}

/// A JSON schema the reply must follow.
#[derive(Clone, Debug, PartialEq)]
pub struct OutputSchema {
    /// Its name (letters, digits, `_`, `-`).
    pub name: String,
    /// The schema.
    pub schema: Value,
}

/// Calls, tokens and time spent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// LLM calls made.
    pub calls: u32,
    /// Prompt tokens.
    pub prompt_tokens: u32,
    /// Completion tokens.
    pub completion_tokens: u32,
    /// Milliseconds spent waiting for the endpoint (failed calls included).
    #[serde(default)]
    pub llm_millis: u64,
}

impl Usage {
    /// Prompt and completion tokens.
    pub fn total(&self) -> u32 {
        self.prompt_tokens + self.completion_tokens
    }

    /// Adds another call's usage.
    pub fn add(&mut self, other: Usage) {
        self.calls += other.calls;
        self.prompt_tokens += other.prompt_tokens;
        self.completion_tokens += other.completion_tokens;
        self.llm_millis += other.llm_millis;
    }
}

/// What the model answered.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChatReply {
    /// Text (JSON when a schema was given).
    pub content: String,
    /// Tools asked for (native mode).
    pub tool_calls: Vec<ToolCall>,
    /// This call's tokens.
    pub usage: Usage,
}

/// One chat completion to make.
pub struct ChatRequest<'a> {
    /// The conversation, already through the privacy filter.
    pub messages: &'a [ChatMessage],
    /// Tools offered natively (empty: none).
    pub tools: &'a [ToolSpec],
    /// Schema the reply must follow.
    pub schema: Option<&'a OutputSchema>,
    /// Longest completion.
    pub max_tokens: u32,
}

/// An OpenAI-compatible chat endpoint through async-openai: retries 429s
/// (honouring Retry-After) and 5xx with exponential backoff, bounds every
/// call by a deadline, streams when asked. Sends what it is given: callers
/// pass messages that went through the privacy filter.
pub struct LlmClient {
    config: LlmConfig,
    client: Client<OpenAIConfig>,
}

impl LlmClient {
    /// A client for `config`.
    pub fn new(config: LlmConfig) -> Self {
        let mut openai = OpenAIConfig::new().with_api_base(config.base_url.clone());
        if let Some(key) = &config.api_key {
            openai = openai.with_api_key(key.clone());
        }
        let service = tower::ServiceBuilder::new()
            .layer(OpenAIRetryLayer::new(config.max_retries))
            .service(ReqwestService::new(reqwest::Client::new()));
        LlmClient {
            client: Client::with_config(openai).with_http_service(service),
            config,
        }
    }

    /// Its configuration.
    pub fn config(&self) -> &LlmConfig {
        &self.config
    }

    /// One completion. With `on_delta`, the reply is streamed and each
    /// piece of text is passed on as it arrives.
    pub async fn chat(
        &self,
        request: &ChatRequest<'_>,
        on_delta: Option<&mut (dyn FnMut(&str) + Send)>,
    ) -> Result<ChatReply> {
        let body = self.request_body(request, on_delta.is_some())?;
        let call = async {
            match on_delta {
                Some(on_delta) => self.stream(body, on_delta).await,
                None => self.complete(body).await,
            }
        };
        let reply = tokio::time::timeout(self.config.timeout, call)
            .await
            .map_err(|_| {
                AgentError::llm(
                    LlmFailure::Timeout,
                    format!("no complete reply within {:?}", self.config.timeout),
                )
            })??;
        debug!(
            prompt_tokens = reply.usage.prompt_tokens,
            completion_tokens = reply.usage.completion_tokens,
            tool_calls = reply.tool_calls.len(),
            "llm call"
        );
        Ok(reply)
    }

    fn request_body(
        &self,
        request: &ChatRequest<'_>,
        stream: bool,
    ) -> Result<CreateChatCompletionRequest> {
        let messages: Vec<Value> = request.messages.iter().map(wire_message).collect();
        let mut body = json!({
            "model": self.config.model,
            "messages": messages,
            "max_tokens": request.max_tokens,
            "temperature": 0.0,
        });
        if !request.tools.is_empty() {
            body["tools"] = request
                .tools
                .iter()
                .map(|tool| {
                    json!({"type": "function", "function": {
                        "name": tool.name,
                        "description": tool.description,
                        "parameters": tool.parameters,
                    }})
                })
                .collect();
        }
        if let Some(schema) = request.schema {
            body["response_format"] = json!({"type": "json_schema", "json_schema": {
                "name": schema.name,
                "schema": schema.schema,
            }});
        }
        if stream {
            body["stream"] = json!(true);
            body["stream_options"] = json!({"include_usage": true});
        }
        serde_json::from_value(body)
            .map_err(|e| AgentError::llm(LlmFailure::Malformed, format!("request: {e}")))
    }

    async fn complete(&self, body: CreateChatCompletionRequest) -> Result<ChatReply> {
        let response: CreateChatCompletionResponse = self
            .client
            .chat()
            .create(body)
            .await
            .map_err(endpoint_error)?;
        let usage = response.usage.as_ref().map_or(
            Usage {
                calls: 1,
                ..Usage::default()
            },
            |u| Usage {
                calls: 1,
                prompt_tokens: u.prompt_tokens,
                completion_tokens: u.completion_tokens,
                ..Usage::default()
            },
        );
        let Some(choice) = response.choices.into_iter().next() else {
            return Err(AgentError::llm(LlmFailure::Malformed, "no choices"));
        };
        let tool_calls = choice
            .message
            .tool_calls
            .unwrap_or_default()
            .into_iter()
            .filter_map(|call| match call {
                ChatCompletionMessageToolCalls::Function(call) => Some(ToolCall {
                    id: call.id,
                    name: call.function.name,
                    arguments: call.function.arguments,
                }),
                ChatCompletionMessageToolCalls::Custom(_) => None,
            })
            .collect();
        Ok(ChatReply {
            content: choice.message.content.unwrap_or_default(),
            tool_calls,
            usage,
        })
    }

    async fn stream(
        &self,
        body: CreateChatCompletionRequest,
        on_delta: &mut (dyn FnMut(&str) + Send),
    ) -> Result<ChatReply> {
        let mut stream = self
            .client
            .chat()
            .create_stream(body)
            .await
            .map_err(endpoint_error)?;
        let mut reply = ChatReply {
            usage: Usage {
                calls: 1,
                ..Usage::default()
            },
            ..ChatReply::default()
        };
        let mut finished = false;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| {
                warn!(error = %e, "llm stream broke");
                AgentError::llm(LlmFailure::StreamCut, e.to_string())
            })?;
            if let Some(usage) = chunk.usage {
                reply.usage.prompt_tokens = usage.prompt_tokens;
                reply.usage.completion_tokens = usage.completion_tokens;
            }
            for choice in chunk.choices {
                if let Some(text) = choice.delta.content {
                    on_delta(&text);
                    reply.content.push_str(&text);
                }
                for call in choice.delta.tool_calls.unwrap_or_default() {
                    let index = call.index as usize;
                    while reply.tool_calls.len() <= index {
                        reply.tool_calls.push(ToolCall {
                            id: String::new(),
                            name: String::new(),
                            arguments: String::new(),
                        });
                    }
                    let slot = &mut reply.tool_calls[index];
                    if let Some(id) = call.id {
                        slot.id = id;
                    }
                    if let Some(function) = call.function {
                        slot.name.push_str(&function.name.unwrap_or_default());
                        slot.arguments
                            .push_str(&function.arguments.unwrap_or_default());
                    }
                }
                finished |= choice.finish_reason.is_some();
            }
        }
        if !finished {
            return Err(AgentError::llm(
                LlmFailure::StreamCut,
                format!(
                    "the stream ended without a finish reason after {} bytes",
                    reply.content.len()
                ),
            ));
        }
        Ok(reply)
    }
}

fn endpoint_error(error: OpenAIError) -> AgentError {
    let kind = match &error {
        OpenAIError::JSONDeserialize(..) => LlmFailure::Malformed,
        _ => LlmFailure::Endpoint,
    };
    AgentError::llm(kind, error.to_string())
}

fn wire_message(message: &ChatMessage) -> Value {
    let role = match message.role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::Tool => "tool",
    };
    let mut wire = json!({"role": role, "content": message.content});
    if !message.tool_calls.is_empty() {
        wire["tool_calls"] = message
            .tool_calls
            .iter()
            .map(|call| {
                json!({"id": call.id, "type": "function", "function": {
                    "name": call.name, "arguments": call.arguments,
                }})
            })
            .collect();
    }
    if let Some(id) = &message.tool_call_id {
        wire["tool_call_id"] = json!(id);
    }
    wire
}
