use std::sync::Arc;
use std::time::Instant;

use agent::{Answer, AnswerMode, Audience, EvidenceEngine, LlmAgent};
use embed::Embedder;
use ingest::ReadOptions;
use retrieval::{Filters, SearchMode, SearchQuery, Stores, TextStore, VectorIndex};
use vectors::EdgeStore;

use privacy::{AuditLog, RedactionSession, Redactor, prepare_outbound};

use crate::error::{EvalError, Result};
use crate::ground_truth::Case;
use crate::judge::Judge;
use crate::metrics::{
    CaseScore, SearchRecall, citation_precision, evidence_recall_at, leaked, ndcg_at,
    reciprocal_rank, remediation_coverage, root_cause_matches,
};
use crate::patch_check::{PatchOutcome, check_patch};

/// How a case's question is answered: which retrievers evidence mode
/// searches with, or which LLM agent answers.
#[derive(Clone, Copy)]
pub struct Answerer<'a> {
    /// Retrievers evidence mode searches with.
    pub search_mode: SearchMode,
    /// The LLM agent; evidence mode when absent.
    pub llm: Option<&'a LlmAgent>,
}

impl Answerer<'_> {
    /// Evidence mode with hybrid search: the default.
    pub fn evidence() -> Self {
        Answerer {
            search_mode: SearchMode::Hybrid,
            llm: None,
        }
    }

    /// `evidence/hybrid`, `llm:<model>/<prompt version>`: how runs and
    /// reports name it.
    pub fn label(&self) -> String {
        match self.llm {
            Some(agent) => format!("llm:{}/{}", agent.model(), agent.prompts().version),
            None => format!("evidence/{}", self.search_mode.as_str()),
        }
    }
}

/// Hits per search when scoring the retrievers.
const SEARCH_DEPTH: usize = 10;

/// Ingests a case's data into fresh stores (text in memory; vectors in a
/// scratch folder, embedded by `embedder`, when there is one), asks its
/// question as `answerer` says and scores the answer against the ground
/// truth, with `judge` grading the root cause too when there is one. The
/// answer is then posted, as a chat channel would get it, through the
/// privacy filter: planted secrets in that payload or in any LLM request
/// made for the answer count as leaks.
pub fn run_case(
    case: &Case,
    embedder: Option<&Arc<dyn Embedder>>,
    answerer: Answerer<'_>,
    judge: Option<&Judge>,
) -> Result<(Answer, CaseScore, CaseChecks)> {
    let truth = &case.truth;
    let scratch = tempfile::tempdir().map_err(|e| EvalError::io(&std::env::temp_dir(), e))?;
    let vectors = match embedder {
        Some(embedder) => {
            let store = EdgeStore::open(
                &scratch.path().join("vectors"),
                embedder.model(),
                embedder.dimension(),
            )
            .map_err(retrieval::RetrievalError::from)?;
            Some(VectorIndex::new(Box::new(store), Arc::clone(embedder)))
        }
        None => None,
    };
    let stores = Stores::new(TextStore::in_memory()?, vectors);
    let parsed = ingest::read_path(
        &case.data,
        &ReadOptions::new(&truth.tenant),
        &mut ingest::TemplateMiner::default(),
    )?;
    stores.upsert(&parsed.records)?;
    stores.commit()?;
    let runtime = (answerer.llm.is_some() || judge.is_some())
        .then(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| EvalError::io(&std::env::temp_dir(), e))
        })
        .transpose()?;
    let llm_requests_before = match answerer.llm {
        Some(agent) => audit_entries(agent.audit())?.len(),
        None => 0,
    };
    let started = Instant::now();
    let answer = match (answerer.llm, &runtime) {
        (Some(agent), Some(runtime)) => runtime.block_on(agent.ask(
            &stores,
            &truth.tenant,
            &truth.question,
            Audience::Channel,
            None,
        ))?,
        _ => EvidenceEngine::new(&stores)
            .with_search_mode(answerer.search_mode)
            .ask(&truth.tenant, &truth.question)?,
    };
    let answer_secs = started.elapsed().as_secs_f64();
    let mut payloads = post_to_channel(&answer, scratch.path())?;
    if let Some(agent) = answerer.llm {
        payloads.extend(
            audit_entries(agent.audit())?
                .into_iter()
                .skip(llm_requests_before)
                .filter_map(|entry| entry.payload),
        );
    }
    let leaks: Vec<String> = leaked(&truth.planted, &payloads)
        .into_iter()
        .map(masked)
        .collect();
    let patch = match (&answer.remediation.diff, &truth.config_fix) {
        (Some(diff), expected) => Some(match check_patch(diff, &case.data) {
            PatchOutcome::Applies(target) if expected.as_ref().is_some_and(|e| *e != target) => {
                PatchOutcome::Fails(format!(
                    "patches {target}, but the fix belongs in {}",
                    expected.as_deref().unwrap_or_default()
                ))
            }
            outcome => outcome,
        }),
        (None, Some(expected)) => Some(PatchOutcome::Fails(format!(
            "no diff drafted for {expected}"
        ))),
        (None, None) => None,
    };
    let search_recall = |mode: SearchMode| -> Result<f64> {
        let query = SearchQuery {
            tenant: truth.tenant.clone(),
            text: truth.question.clone(),
            filters: Filters::default(),
            limit: SEARCH_DEPTH,
        };
        let ids: Vec<_> = stores
            .search(&query, mode)?
            .into_iter()
            .map(|h| h.record.id)
            .collect();
        Ok(evidence_recall_at(SEARCH_DEPTH, &ids, &truth.evidence))
    };
    let has_vectors = stores.vectors().is_some();
    let search_recall_at_10 = SearchRecall {
        text: search_recall(SearchMode::Text)?,
        vector: has_vectors
            .then(|| search_recall(SearchMode::Vector))
            .transpose()?,
        hybrid: has_vectors
            .then(|| search_recall(SearchMode::Hybrid))
            .transpose()?,
    };
    let store = stores.text();
    let cited = answer.cited_ids();
    let resolved = store.get(&truth.tenant, &cited)?;
    let statement = answer
        .root_cause
        .as_ref()
        .map(|r| r.statement.as_str())
        .unwrap_or_default();
    let judge_correct = match (judge, &runtime) {
        (Some(judge), Some(runtime)) => match runtime.block_on(judge.root_cause_correct(
            &truth.question,
            &truth.root_cause,
            statement,
        )) {
            Ok(correct) => Some(correct),
            Err(e) => {
                tracing::warn!(case = %truth.id, error = %e, "the judge gave no verdict");
                None
            }
        },
        _ => None,
    };
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
        llm_secs: answer.usage.llm_millis as f64 / 1000.0,
        search_recall_at_10,
        llm_calls: answer.usage.calls,
        llm_tokens: answer.usage.total(),
        fell_back: answerer.llm.is_some() && answer.mode == AnswerMode::Evidence,
        leaks: leaks.len(),
        diff_applies: patch
            .as_ref()
            .map(|p| matches!(p, PatchOutcome::Applies(_))),
        judge_correct,
    };
    let checks = CaseChecks {
        leaked: leaks,
        patch: patch.map(|p| match p {
            PatchOutcome::Applies(target) => format!("applies cleanly to {target}"),
            PatchOutcome::Fails(reason) => reason,
        }),
    };
    Ok((answer, score, checks))
}

/// What the privacy and patch checks found, for the report.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CaseChecks {
    /// Planted values that leaked, masked (never the value itself).
    pub leaked: Vec<String>,
    /// Whether and where the drafted diff applies, or why not.
    pub patch: Option<String>,
}

/// Posts the answer as a channel would receive it (the whole answer, as
/// JSON) through the privacy filter into a payload-keeping audit log, and
/// returns what was sent. Fails closed like every outbound path.
fn post_to_channel(answer: &Answer, scratch: &std::path::Path) -> Result<Vec<String>> {
    let audit = AuditLog::new(&scratch.join("channel.jsonl")).keeping_payloads();
    let posted = serde_json::to_string(answer).map_err(|e| EvalError::BadCase {
        path: scratch.to_path_buf(),
        reason: format!("answer not serializable: {e}"),
    })?;
    let redactor = Redactor::new().map_err(agent::AgentError::from)?;
    prepare_outbound(
        Some(&redactor),
        &mut RedactionSession::default(),
        &audit,
        "channel:eval",
        &posted,
        None,
    )
    .map_err(agent::AgentError::from)?;
    Ok(audit_entries(&audit)?
        .into_iter()
        .filter_map(|entry| entry.payload)
        .collect())
}

fn audit_entries(audit: &AuditLog) -> Result<Vec<privacy::OutboundEntry>> {
    audit
        .entries()
        .map_err(|e| EvalError::io(&std::env::temp_dir(), e))
}

/// Enough of a leaked value to find it in the corpus, never all of it.
fn masked(value: &str) -> String {
    let shown: String = value.chars().take(4).collect();
    format!("{shown}… ({} chars)", value.chars().count())
}

/// Runs every case of a dataset with `answerer`, graded by `judge` too
/// when there is one.
pub fn run_dataset(
    cases: &[crate::dataset::DatasetCase],
    embedder: Option<&Arc<dyn Embedder>>,
    answerer: Answerer<'_>,
    judge: Option<&Judge>,
) -> Result<Vec<(CaseScore, CaseDetail)>> {
    cases
        .iter()
        .map(|c| {
            run_case(&c.case, embedder, answerer, judge)
                .map(|(answer, score, checks)| (score, CaseDetail::of(&c.case, &answer, checks)))
        })
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
    /// The privacy and patch checks.
    #[serde(default)]
    pub checks: CaseChecks,
}

impl CaseDetail {
    fn of(case: &Case, answer: &Answer, checks: CaseChecks) -> Self {
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
            checks,
        }
    }
}
