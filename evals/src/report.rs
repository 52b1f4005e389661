use askama::Template;

use crate::error::{EvalError, Result};
use crate::history::Run;
use crate::metrics::Estimate;

/// The HTML report of a run: the aggregate with intervals, a row per case,
/// and a drill-down per case (question, answer, citations, what was missed).
#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage<'a> {
    run: &'a Run,
    metrics: Vec<(&'static str, Estimate)>,
}

/// Renders `run` as a standalone HTML page (askama escapes every value).
pub fn render_report(run: &Run) -> Result<String> {
    let s = &run.summary;
    let metrics: Vec<(&'static str, Estimate)> = vec![
        ("recall@5", s.recall_at_5),
        ("recall@10", s.recall_at_10),
        ("MRR", s.mrr),
        ("nDCG@10", s.ndcg_at_10),
        ("citation precision", s.citation_precision),
        ("citation recall", s.citation_recall),
        ("root-cause accuracy", s.root_cause_accuracy),
        ("remediation coverage", s.remediation_coverage),
        ("citations resolving", s.citations_resolve),
    ]
    .into_iter()
    .chain(
        [
            ("diffs applying", s.diff_apply_rate),
            ("root cause (LLM judge)", s.judge_root_cause_accuracy),
        ]
        .into_iter()
        .filter_map(|(name, estimate)| estimate.map(|e| (name, e))),
    )
    .collect();
    ReportPage { run, metrics }
        .render()
        .map_err(|e| EvalError::BadCase {
            path: run.dataset.clone().into(),
            reason: format!("report: {e}"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case_run::CaseDetail;
    use crate::metrics::{CaseScore, Summary};

    #[test]
    fn the_report_shows_every_case_and_escapes_answers() {
        let score = CaseScore {
            case: "tls-expiry-3".into(),
            family: "tls-expiry".into(),
            recall_at_5: 0.5,
            recall_at_10: 0.5,
            reciprocal_rank: 1.0,
            ndcg_at_10: 0.6,
            citation_precision: 1.0,
            citation_recall: 0.5,
            citations_resolve: true,
            answer_secs: 0.05,
            ..CaseScore::default()
        };
        let detail = CaseDetail {
            case: "tls-expiry-3".into(),
            question: "why?".into(),
            answer: "saw <script>alert(1)</script> [r-1]".into(),
            root_cause: None,
            gold_root_cause: "certificate expired".into(),
            cited: vec!["r-1".into()],
            missed: vec!["the failed certificate renewal".into()],
            checks: crate::case_run::CaseChecks {
                leaked: vec!["ana.… (16 chars)".into()],
                patch: Some("no diff drafted for config/tls.tf".into()),
            },
        };
        let run = Run {
            started: chrono::Utc::now(),
            dataset: "default.jsonl".into(),
            split: None,
            mode: "evidence".into(),
            summary: Summary::of(std::slice::from_ref(&score)),
            cases: vec![score],
            details: vec![detail],
        };
        let html = render_report(&run).expect("renders");
        assert!(html.contains("tls-expiry-3") && html.contains("the failed certificate renewal"));
        assert!(
            !html.contains("<script>alert(1)</script>"),
            "answers are escaped"
        );
        assert!(html.contains("root-cause accuracy"));
        assert!(
            html.contains("no diff drafted for config/tls.tf") && html.contains("ana.… (16 chars)")
        );
    }
}
