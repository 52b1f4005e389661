use std::time::Instant;

use agent::{Answer, EvidenceEngine};
use ingest::ReadOptions;
use retrieval::{Filters, TextStore};

use crate::error::Result;
use crate::ground_truth::Case;
use crate::metrics::{
    CaseScore, citation_precision, evidence_recall_at, ndcg_at, reciprocal_rank,
    remediation_coverage, root_cause_matches,
};

/// Ingests a case's data into a fresh in-memory store, asks its question in
/// evidence mode and scores the answer against the ground truth.
pub fn run_case(case: &Case) -> Result<(Answer, CaseScore)> {
    let truth = &case.truth;
    let store = TextStore::in_memory()?;
    let parsed = ingest::read_path(
        &case.data,
        &ReadOptions::new(&truth.tenant),
        &mut ingest::TemplateMiner::default(),
    )?;
    store.upsert(&parsed.records)?;
    store.commit()?;
    let started = Instant::now();
    let answer = EvidenceEngine::new(&store).ask(&truth.tenant, &truth.question)?;
    let answer_secs = started.elapsed().as_secs_f64();
    let cited = answer.cited_ids();
    let resolved = store.get(&truth.tenant, &cited)?;
    let statement = answer
        .root_cause
        .as_ref()
        .map(|r| r.statement.as_str())
        .unwrap_or_default();
    let score = CaseScore {
        case: truth.id.clone(),
        family: truth.family.clone(),
        recall_at_5: evidence_recall_at(5, &cited, &truth.evidence),
        recall_at_10: evidence_recall_at(10, &cited, &truth.evidence),
        reciprocal_rank: reciprocal_rank(&cited, &truth.evidence),
        ndcg_at_10: ndcg_at(10, &cited, &truth.evidence),
        citation_precision: citation_precision(&cited, &truth.evidence),
        citation_recall: evidence_recall_at(usize::MAX, &cited, &truth.evidence),
        root_cause_correct: root_cause_matches(statement, &truth.root_cause),
        remediation_coverage: remediation_coverage(
            &[
                answer.remediation.steps.join(" "),
                answer.remediation.rollback.join(" "),
                answer.remediation.verify.clone(),
            ]
            .join(" "),
            &truth.remediation,
        ),
        citations_resolve: resolved.len() == cited.len()
            && store.count(&truth.tenant, &Filters::default())? > 0,
        answer_secs,
    };
    Ok((answer, score))
}

/// Runs every case of a dataset in evidence mode.
pub fn run_dataset(cases: &[crate::dataset::DatasetCase]) -> Result<Vec<(CaseScore, CaseDetail)>> {
    cases
        .iter()
        .map(|c| run_case(&c.case).map(|(answer, score)| (score, CaseDetail::of(&c.case, &answer))))
        .collect()
}

/// What a reader of a report needs to judge one case: the question, the
/// answer as given, what it cited, and the gold evidence it missed.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CaseDetail {
    /// Case id.
    pub case: String,
    /// The question asked.
    pub question: String,
    /// The answer text, citations inline.
    pub answer: String,
    /// The answer's root cause, if it gave one.
    pub root_cause: Option<String>,
    /// The gold root cause.
    pub gold_root_cause: String,
    /// Ids the answer cited, in order.
    pub cited: Vec<String>,
    /// Gold evidence items none of whose records were cited.
    pub missed: Vec<String>,
}

impl CaseDetail {
    fn of(case: &Case, answer: &Answer) -> Self {
        let cited = answer.cited_ids();
        CaseDetail {
            case: case.truth.id.clone(),
            question: case.truth.question.clone(),
            answer: answer.text.clone(),
            root_cause: answer.root_cause.as_ref().map(|r| r.statement.clone()),
            gold_root_cause: case.truth.root_cause.statement.clone(),
            missed: case
                .truth
                .evidence
                .iter()
                .filter(|item| !item.ids.iter().any(|id| cited.contains(id)))
                .map(|item| item.what.clone())
                .collect(),
            cited: cited.into_iter().map(|id| id.0).collect(),
        }
    }
}
