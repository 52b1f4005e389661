//! Evals: the instrument that tells measurable improvement from hype.
//!
//! A case is a folder with `data/` (a corpus to ingest) and `truth.json`
//! ([`GroundTruth`]: the question, gold evidence, root-cause key facts and
//! remediation points). [`run_case`] ingests, asks and scores; the
//! [`generate`] function writes seeded cases of every incident [`Family`],
//! deterministically per seed. This crate reads every other crate and is
//! read by none.

mod case_run;
mod dataset;
mod error;
mod generator;
mod ground_truth;
mod history;
mod incident_set;
mod judge;
mod loghub;
mod metrics;
mod patch_check;
mod postmortem_set;
mod report;
mod search_bench;

pub use case_run::{Answerer, CaseChecks, CaseDetail, run_case, run_dataset};
pub use dataset::{DATASET_VERSION, DatasetCase, Split, default_dataset, load_dataset};
pub use error::{EvalError, Result};
pub use generator::{
    Family, FlowGenOptions, FlowScores, FlowTruth, GenOptions, TrueFlow, generate, generate_flows,
    score_flows,
};
pub use ground_truth::{Case, GoldEvidence, GoldRootCause, GroundTruth, bundled_incident_dir};
pub use history::{History, Run, regressions};
pub use incident_set::{
    ExternalCase, ExternalReport, ExternalScore, content_words, evaluate_incident_set,
    load_incident_set, score_answer, states,
};
pub use judge::{Agreement, JUDGE_PROMPT_VERSION, Judge};
pub use loghub::{
    Average, LoghubReport, SystemScore, evaluate_loghub, evaluate_system, grouping_accuracy,
    parsing_accuracy,
};
pub use metrics::{
    CaseScore, Estimate, Summary, citation_precision, evidence_recall_at, leaked, ndcg_at,
    reciprocal_rank, root_cause_matches,
};
pub use patch_check::{PatchOutcome, check_patch};
pub use postmortem_set::{
    GOLD_WITHIN, PostmortemReport, QuestionScore, TIME_FIELDS, TimeScore, evaluate_postmortem_set,
};
pub use report::render_report;
pub use search_bench::{Latency, SearchBench, bench_search};
