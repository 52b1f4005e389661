use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use crate::{EmbedError, Embedder, ModelFiles, normalize};

/// all-MiniLM-L6-v2 was trained on sequences of up to 256 word pieces.
const MAX_TOKENS: usize = 256;
/// Texts per forward pass: big enough to amortize, small enough that
/// padding to the longest text in the batch stays cheap.
const BATCH: usize = 32;

/// A text's position in the caller's list, and its vector.
type Positioned = (usize, Vec<f32>);

/// all-MiniLM-L6-v2 (384 dimensions) in process on the CPU: BERT forward
/// pass, mean pooling over real tokens, L2 normalization. Batches run on
/// all cores, one batch per thread.
pub struct MiniLm {
    model: BertModel,
    tokenizer: Tokenizer,
    dimension: usize,
    threads: usize,
}

impl MiniLm {
    /// The model in `files`, on the CPU.
    pub fn load(files: &ModelFiles) -> Result<Self, EmbedError> {
        let model_error = |what: &str, e: &dyn std::fmt::Display| {
            EmbedError::Model(format!("{what} in {}: {e}", files.dir.display()))
        };
        let config_text = std::fs::read_to_string(files.dir.join("config.json"))
            .map_err(|e| model_error("reading config.json", &e))?;
        let config: Config =
            serde_json::from_str(&config_text).map_err(|e| model_error("config.json", &e))?;
        let dimension = serde_json::from_str::<serde_json::Value>(&config_text)
            .ok()
            .and_then(|v| v.get("hidden_size").and_then(serde_json::Value::as_u64))
            .ok_or_else(|| model_error("config.json", &"no hidden_size"))?
            as usize;
        let device = Device::Cpu;
        let weights = candle_core::safetensors::load(files.dir.join("model.safetensors"), &device)?;
        let model = BertModel::load(
            VarBuilder::from_tensors(weights, DType::F32, &device),
            &config,
        )?;
        let mut tokenizer = Tokenizer::from_file(files.dir.join("tokenizer.json"))
            .map_err(|e| model_error("tokenizer.json", &e))?;
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            ..PaddingParams::default()
        }));
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..TruncationParams::default()
            }))
            .map_err(|e| model_error("tokenizer truncation", &e))?;
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        Ok(MiniLm {
            model,
            tokenizer,
            dimension,
            threads,
        })
    }

    /// The model from its default folder, installed there first if absent.
    pub fn load_default() -> Result<Self, EmbedError> {
        Self::load(&ModelFiles::ensure(&ModelFiles::default_dir())?)
    }

    /// Runs batches on at most `threads` threads.
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    fn embed_batch(&self, texts: Vec<String>) -> Result<Vec<Vec<f32>>, EmbedError> {
        let encodings = self
            .tokenizer
            .encode_batch(texts, true)
            .map_err(|e| EmbedError::Model(format!("tokenizing: {e}")))?;
        let rows = encodings.len();
        let width = encodings.first().map_or(0, |e| e.get_ids().len());
        let mut ids = Vec::with_capacity(rows * width);
        let mut mask = Vec::with_capacity(rows * width);
        for encoding in &encodings {
            ids.extend_from_slice(encoding.get_ids());
            mask.extend_from_slice(encoding.get_attention_mask());
        }
        let device = Device::Cpu;
        let ids = Tensor::from_vec(ids, (rows, width), &device)?;
        let mask = Tensor::from_vec(mask, (rows, width), &device)?;
        let token_types = ids.zeros_like()?;
        let hidden = self.model.forward(&ids, &token_types, Some(&mask))?;
        let weights = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = hidden.broadcast_mul(&weights)?.sum(1)?;
        let counts = weights.sum(1)?.clamp(1e-9f32, f32::MAX)?;
        let mut vectors = summed.broadcast_div(&counts)?.to_vec2::<f32>()?;
        vectors.iter_mut().for_each(|v| normalize(v));
        Ok(vectors)
    }
}

impl Embedder for MiniLm {
    fn model(&self) -> &str {
        "sentence-transformers/all-MiniLM-L6-v2"
    }

    fn dimension(&self) -> usize {
        self.dimension
    }

    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        // Similar lengths in one batch waste little on padding.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| texts[i].len());
        let batches: Vec<Vec<usize>> = order.chunks(BATCH).map(<[usize]>::to_vec).collect();
        let workers = self.threads.min(batches.len()).max(1);
        let results: Vec<Result<Vec<Positioned>, EmbedError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|worker| {
                    let batches = &batches;
                    scope.spawn(move || {
                        let mut out = Vec::new();
                        for batch in batches.iter().skip(worker).step_by(workers) {
                            let inputs = batch.iter().map(|&i| texts[i].clone()).collect();
                            let vectors = self.embed_batch(inputs)?;
                            out.extend(batch.iter().copied().zip(vectors));
                        }
                        Ok(out)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|handle| {
                    handle.join().unwrap_or_else(|_| {
                        Err(EmbedError::Model("an embedding thread panicked".into()))
                    })
                })
                .collect()
        });
        let mut vectors = vec![Vec::new(); texts.len()];
        for result in results {
            for (index, vector) in result? {
                vectors[index] = vector;
            }
        }
        Ok(vectors)
    }
}
