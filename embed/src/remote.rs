use std::time::Duration;

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::types::embeddings::{CreateEmbeddingRequestArgs, EmbeddingInput};
use privacy::{AuditLog, RedactionSession, Redactor, prepare_outbound};

use crate::{EmbedError, Embedder, normalize};

/// Where and how to reach an OpenAI-compatible embeddings endpoint.
#[derive(Clone, Debug)]
pub struct RemoteEmbedderConfig {
    /// Base URL up to and including `/v1`.
    pub base_url: String,
    /// Model name the endpoint knows.
    pub model: String,
    /// Bearer token, when the endpoint wants one.
    pub api_key: Option<String>,
    /// Length of the vectors the model returns.
    pub dimension: usize,
    /// Longest wait for one request.
    pub timeout: Duration,
}

/// Texts per request.
const REQUEST_BATCH: usize = 64;

/// Embeddings from an OpenAI-compatible endpoint. Every text goes through
/// the privacy filter first and is recorded in the audit log; if the filter
/// cannot run, nothing is sent.
pub struct RemoteEmbedder {
    config: RemoteEmbedderConfig,
    client: Client<OpenAIConfig>,
    redactor: Redactor,
    audit: AuditLog,
    runtime: tokio::runtime::Runtime,
}

impl RemoteEmbedder {
    /// A client for `config`, auditing outbound text in `audit`.
    pub fn new(config: RemoteEmbedderConfig, audit: AuditLog) -> Result<Self, EmbedError> {
        let mut openai = OpenAIConfig::new().with_api_base(config.base_url.clone());
        if let Some(key) = &config.api_key {
            openai = openai.with_api_key(key.clone());
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| EmbedError::Remote(e.to_string()))?;
        Ok(RemoteEmbedder {
            config,
            client: Client::with_config(openai),
            redactor: Redactor::new()?,
            audit,
            runtime,
        })
    }

    fn request(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, EmbedError> {
        let expected = texts.len();
        let request = CreateEmbeddingRequestArgs::default()
            .model(self.config.model.clone())
            .input(EmbeddingInput::StringArray(texts))
            .build()
            .map_err(|e| EmbedError::Remote(e.to_string()))?;
        let call = async {
            tokio::time::timeout(
                self.config.timeout,
                self.client.embeddings().create(request),
            )
            .await
        };
        // A thread of its own, so callers inside an async runtime can block here.
        let response = std::thread::scope(|scope| {
            scope
                .spawn(|| self.runtime.block_on(call))
                .join()
                .map_err(|_| EmbedError::Remote("the request thread panicked".into()))
        })?
        .map_err(|_| EmbedError::Remote(format!("no answer within {:?}", self.config.timeout)))?
        .map_err(|e| EmbedError::Remote(e.to_string()))?;
        let mut data = response.data;
        data.sort_by_key(|e| e.index);
        if data.len() != expected {
            return Err(EmbedError::Remote(format!(
                "asked for {expected} vectors, got {}",
                data.len()
            )));
        }
        data.into_iter()
            .map(|e| {
                let mut vector = e.embedding;
                if vector.len() != self.config.dimension {
                    return Err(EmbedError::Remote(format!(
                        "expected {} dimensions, got {}",
                        self.config.dimension,
                        vector.len()
                    )));
                }
                normalize(&mut vector);
                Ok(vector)
            })
            .collect()
    }
}

impl Embedder for RemoteEmbedder {
    fn model(&self) -> &str {
        &self.config.model
    }

    fn dimension(&self) -> usize {
        self.config.dimension
    }

    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let destination = format!("embeddings {}", self.config.base_url);
        let mut vectors = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(REQUEST_BATCH) {
            let mut session = RedactionSession::default();
            let redacted = chunk
                .iter()
                .map(|text| {
                    prepare_outbound(
                        Some(&self.redactor),
                        &mut session,
                        &self.audit,
                        &destination,
                        text,
                        None,
                    )
                })
                .collect::<Result<Vec<_>, _>>()?;
            vectors.extend(self.request(redacted)?);
        }
        Ok(vectors)
    }
}
