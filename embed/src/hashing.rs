use crate::{EmbedError, Embedder, normalize};

/// Feature hashing of lower-cased words into a fixed number of buckets:
/// deterministic and instant, so the crates above can test their vector
/// paths without a model. Texts sharing words get similar vectors; it knows
/// nothing of meaning. Only built with the `testing` feature.
pub struct HashingEmbedder {
    dimension: usize,
}

impl HashingEmbedder {
    /// Vectors of `dimension` buckets.
    pub fn new(dimension: usize) -> Self {
        HashingEmbedder {
            dimension: dimension.max(1),
        }
    }
}

fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Embedder for HashingEmbedder {
    fn model(&self) -> &str {
        "hashing-test-embedder"
    }

    fn dimension(&self) -> usize {
        self.dimension
    }

    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        Ok(texts
            .iter()
            .map(|text| {
                let mut vector = vec![0.0; self.dimension];
                for word in text
                    .split(|c: char| !c.is_alphanumeric() && c != '_')
                    .filter(|w| !w.is_empty())
                {
                    let hash = fnv1a(&word.to_lowercase());
                    let sign = if hash >> 63 == 0 { 1.0 } else { -1.0 };
                    vector[(hash % self.dimension as u64) as usize] += sign;
                }
                normalize(&mut vector);
                vector
            })
            .collect())
    }
}
