//! `oncall gen`: seeded incident scenarios with their ground truth.

mod auth_flows;
mod corpus;
mod families;
mod formats;
mod postmortems;
mod rng;
pub(crate) use rng::Rng;
mod scene;

use std::path::Path;

pub use auth_flows::{
    FlowGenOptions, FlowScores, FlowTruth, TrueFlow, generate_flows, score_flows,
};
pub use families::Family;

use crate::error::Result;
use crate::ground_truth::{Case, GoldEvidence, GoldRootCause, GroundTruth};

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
    scene.postmortems();
    let data = dir.join("data");
    let mut evidence = scene.corpus.write(&data, &options.tenant)?;
    if let Some(pattern) = postmortems::postmortem_of(options.family) {
        // Any section of the past incident's postmortem will do; its ids
        // are read back with ingest itself.
        let read = ingest::read_path(
            &data,
            &ingest::ReadOptions {
                include: vec![pattern],
                ..ingest::ReadOptions::new(&options.tenant)
            },
            &mut ingest::TemplateMiner::default(),
        )?;
        evidence.push(GoldEvidence {
            what: "the postmortem of a past incident with the same cause".into(),
            records: read.records.iter().map(|r| r.origin.to_string()).collect(),
            ids: read.records.into_iter().map(|r| r.id).collect(),
        });
    }
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
