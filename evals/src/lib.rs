//! Evals: the instrument that tells measurable improvement from hype.
//!
//! A case is a folder with `data/` (a corpus to ingest) and `truth.json`
//! ([`GroundTruth`]: the question, gold evidence, root-cause key facts and
//! remediation points). [`run_case`] ingests, asks and scores; the
//! [`generate`] function writes seeded cases of every incident [`Family`],
//! deterministically per seed. This crate reads every other crate and is
//! read by none.

mod case_run;
mod error;
mod generator;
mod ground_truth;
mod loghub;
mod metrics;

pub use case_run::run_case;
pub use error::{EvalError, Result};
pub use generator::{Family, GenOptions, generate};
pub use ground_truth::{Case, GoldEvidence, GoldRootCause, GroundTruth, bundled_incident_dir};
pub use loghub::{
    Average, LoghubReport, SystemScore, evaluate_loghub, evaluate_system, grouping_accuracy,
    parsing_accuracy,
};
pub use metrics::{CaseScore, Summary, citation_precision, evidence_recall_at, root_cause_matches};
