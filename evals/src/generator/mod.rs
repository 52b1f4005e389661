//! `oncall gen`: seeded incident scenarios with their ground truth.

mod corpus;
mod families;
mod formats;
mod rng;
pub(crate) use rng::Rng;
mod scene;

use std::path::Path;

pub use families::Family;

use crate::error::Result;
use crate::ground_truth::{Case, GoldRootCause, GroundTruth};

/// What to generate.
#[derive(Clone, Debug)]
pub struct GenOptions {
    /// Incident family.
    pub family: Family,
    /// Seed: the same seed writes the same bytes.
    pub seed: u64,
    /// Lines of unrelated background activity.
    pub background_lines: usize,
    /// Tenant the ground-truth ids are derived for.
    pub tenant: String,
}

/// Writes a scenario into `dir` (`data/` and `truth.json`) and returns its
/// ground truth.
pub fn generate(dir: &Path, options: &GenOptions) -> Result<GroundTruth> {
    let mut scene = scene::Scene::new(
        options
            .seed
            .wrapping_mul(31)
            .wrapping_add(options.family as u64),
    );
    scene.background(options.background_lines);
    let family = options.family.inject(&mut scene);
    scene.plant_secrets();
    let evidence = scene.corpus.write(&dir.join("data"), &options.tenant)?;
    let truth = GroundTruth {
        id: format!("{}-{}", options.family.name(), options.seed),
        tenant: options.tenant.clone(),
        question: family.question,
        family: options.family.name().to_string(),
        evidence,
        root_cause: GoldRootCause {
            statement: family.statement,
            key_facts: family.key_facts,
        },
        remediation: family.remediation,
        config_fix: family.config_fix,
        planted: scene.planted,
    };
    Case::write_truth(dir, &truth)?;
    Ok(truth)
}
