//! Sentence embeddings for the vector store.
//!
//! [`Embedder`] is the one interface. [`MiniLm`] runs all-MiniLM-L6-v2 in
//! process (candle, mean pooling, L2-normalized), with its files installed
//! from PyPI by [`ModelFiles::ensure`]; [`RemoteEmbedder`] asks any
//! OpenAI-compatible `/v1/embeddings` endpoint, through the privacy filter.
//! With the `testing` feature, [`HashingEmbedder`] gives deterministic
//! vectors for unit tests; it is never a default.

mod error;
#[cfg(feature = "testing")]
mod hashing;
mod minilm;
mod model_files;
mod remote;

pub use error::EmbedError;
#[cfg(feature = "testing")]
pub use hashing::HashingEmbedder;
pub use minilm::MiniLm;
pub use model_files::{MINILM_PACKAGE, ModelFiles};
pub use remote::{RemoteEmbedder, RemoteEmbedderConfig};

/// Turns texts into unit-length vectors of one fixed dimension.
pub trait Embedder: Send + Sync {
    /// The model's name; the vector store records it so that vectors from
    /// two different models are never mixed in one index.
    fn model(&self) -> &str;
    /// Length of every vector.
    fn dimension(&self) -> usize;
    /// One vector per text, in order.
    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError>;
}

/// The local model for tests: `None`, with a message, when it cannot be
/// installed, unless `ONCALL_REQUIRE_MODEL` is set, which makes that a
/// failure (as `scripts/test` does).
#[cfg(feature = "testing")]
pub fn model_for_tests() -> Option<MiniLm> {
    match MiniLm::load_default() {
        Ok(model) => Some(model),
        Err(error) if std::env::var_os("ONCALL_REQUIRE_MODEL").is_none() => {
            eprintln!("SKIPPED: the embedding model is unavailable ({error})");
            None
        }
        Err(error) => panic!("ONCALL_REQUIRE_MODEL is set and the model is unavailable: {error}"),
    }
}

/// Scales a vector to unit length (zero vectors stay zero).
pub fn normalize(vector: &mut [f32]) {
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|x| *x /= norm);
    }
}
