//! Which engines back the stores: chosen by flags or the environment, the
//! same code path above the store traits.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use embed::{Embedder, MiniLm, ModelFiles, RemoteEmbedder, RemoteEmbedderConfig};
use retrieval::{Stores, TextStore, VectorIndex};
use vectors::{CollectionLayout, EdgeStore, QdrantStore, VectorStore};

/// The vector store behind hybrid search.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum VectorBackend {
    /// Qdrant's engine in process, in `$ONCALL_HOME/vectors`.
    Embedded,
    /// A Qdrant server or cluster at `--qdrant-url`.
    Qdrant,
    /// No vectors: text search only.
    Off,
}

/// Where embeddings come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum EmbeddingBackend {
    /// all-MiniLM-L6-v2 in process (installed from PyPI on first use).
    Local,
    /// An OpenAI-compatible `/v1/embeddings` endpoint, through the privacy filter.
    Openai,
}

/// Store and embedding settings, shared by every command.
#[derive(clap::Args, Clone, Debug)]
pub struct StoreArgs {
    /// Vector store: embedded (in process), qdrant (server or cluster) or off.
    #[arg(
        long,
        env = "ONCALL_VECTORS",
        value_enum,
        default_value = "embedded",
        global = true
    )]
    vectors: VectorBackend,
    /// Qdrant gRPC URL for `--vectors qdrant`, e.g. http://qdrant:6334.
    #[arg(long, env = "QDRANT_URL", global = true)]
    qdrant_url: Option<String>,
    /// Qdrant API key.
    #[arg(long, env = "QDRANT_API_KEY", hide_env_values = true, global = true)]
    qdrant_api_key: Option<String>,
    /// Qdrant collection shared by all tenants (tenant is an indexed payload field).
    #[arg(
        long,
        env = "ONCALL_QDRANT_COLLECTION",
        default_value = "oncall",
        global = true
    )]
    qdrant_collection: String,
    /// Shards of a collection oncall creates (a cluster spreads them over nodes).
    #[arg(long, env = "ONCALL_QDRANT_SHARDS", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..), global = true)]
    qdrant_shards: u32,
    /// Copies of each shard of a collection oncall creates.
    #[arg(long, env = "ONCALL_QDRANT_REPLICAS", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..), global = true)]
    qdrant_replicas: u32,
    /// Embeddings: local (all-MiniLM-L6-v2 in process) or openai (an OpenAI-compatible endpoint).
    #[arg(
        long,
        env = "ONCALL_EMBEDDINGS",
        value_enum,
        default_value = "local",
        global = true
    )]
    embeddings: EmbeddingBackend,
    /// Base URL of the embeddings endpoint (up to /v1).
    #[arg(long, env = "ONCALL_EMBEDDINGS_URL", global = true)]
    embeddings_url: Option<String>,
    /// Model name at the embeddings endpoint.
    #[arg(
        long,
        env = "ONCALL_EMBEDDINGS_MODEL",
        default_value = "text-embedding-3-small",
        global = true
    )]
    embeddings_model: String,
    /// API key of the embeddings endpoint.
    #[arg(
        long,
        env = "ONCALL_EMBEDDINGS_API_KEY",
        hide_env_values = true,
        global = true
    )]
    embeddings_api_key: Option<String>,
    /// Vector length the endpoint's model returns.
    #[arg(
        long,
        env = "ONCALL_EMBEDDINGS_DIMENSION",
        default_value_t = 1536,
        global = true
    )]
    embeddings_dimension: usize,
    /// Folder of the local embedding model (default: a per-user cache).
    #[arg(long, env = "ONCALL_MODEL_DIR", global = true)]
    model_dir: Option<PathBuf>,
}

fn text_dir(home: &Path) -> PathBuf {
    home.join("text")
}

/// Whether `home` holds ingested data.
pub fn has_data(home: &Path) -> bool {
    text_dir(home).join("meta.json").exists()
}

impl StoreArgs {
    /// Opens (or creates) the stores under `home`.
    pub fn open(&self, home: &Path) -> Result<Stores> {
        let text = TextStore::open(&text_dir(home))
            .with_context(|| format!("opening the text store in {}", home.display()))?;
        let vectors = match self.vectors {
            VectorBackend::Off => None,
            backend => {
                let embedder = self.embedder(home)?;
                let store = self.vector_store(backend, home, embedder.as_ref())?;
                Some(VectorIndex::new(store, embedder))
            }
        };
        Ok(Stores::new(text, vectors))
    }

    /// The embedder, unless vectors are off: the eval harness builds a
    /// vector index per case with it.
    pub fn embedder_if_enabled(&self, home: &Path) -> Result<Option<Arc<dyn Embedder>>> {
        match self.vectors {
            VectorBackend::Off => Ok(None),
            _ => self.embedder(home).map(Some),
        }
    }

    fn embedder(&self, home: &Path) -> Result<Arc<dyn Embedder>> {
        Ok(match self.embeddings {
            EmbeddingBackend::Local => {
                let dir = self
                    .model_dir
                    .clone()
                    .unwrap_or_else(ModelFiles::default_dir);
                let files = ModelFiles::ensure(&dir)
                    .context("the local embedding model is needed for vector search; use --vectors off for text search only")?;
                Arc::new(MiniLm::load(&files)?)
            }
            EmbeddingBackend::Openai => {
                let Some(base_url) = self.embeddings_url.clone() else {
                    bail!("--embeddings openai needs --embeddings-url (ONCALL_EMBEDDINGS_URL)");
                };
                let config = RemoteEmbedderConfig {
                    base_url,
                    model: self.embeddings_model.clone(),
                    api_key: self.embeddings_api_key.clone(),
                    dimension: self.embeddings_dimension,
                    timeout: Duration::from_secs(60),
                };
                let audit = privacy::AuditLog::new(&home.join("audit").join("outbound.jsonl"));
                Arc::new(RemoteEmbedder::new(config, audit)?)
            }
        })
    }

    fn vector_store(
        &self,
        backend: VectorBackend,
        home: &Path,
        embedder: &dyn Embedder,
    ) -> Result<Box<dyn VectorStore>> {
        Ok(match backend {
            VectorBackend::Qdrant => {
                let Some(url) = &self.qdrant_url else {
                    bail!("--vectors qdrant needs --qdrant-url (QDRANT_URL)");
                };
                Box::new(QdrantStore::connect(
                    url,
                    self.qdrant_api_key.clone(),
                    &self.qdrant_collection,
                    embedder.dimension(),
                    CollectionLayout {
                        shards: self.qdrant_shards,
                        replicas: self.qdrant_replicas,
                    },
                )?)
            }
            _ => Box::new(EdgeStore::open(
                &home.join("vectors"),
                embedder.model(),
                embedder.dimension(),
            )?),
        })
    }
}
