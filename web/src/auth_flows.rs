//! The flows page and API: login and token flows of the tenant's auth
//! traces in a time window, with rates, rising failure reasons and the
//! risky-event flags.

use chrono::{DateTime, Duration, Utc};
use flows::{Flag, Flow, Outcome, Rate, ReasonTrend, RuleConfig, StitchConfig};
use ingest::SourceKind;
use retrieval::{Filters, Stores, TimeRange};
use serde::{Deserialize, Serialize};

use crate::api_error::ApiError;

/// Most records read for one view.
const MAX_RECORDS: usize = 200_000;
/// Window shown when the request names none: the latest hours of data.
const DEFAULT_WINDOW_HOURS: i64 = 6;
/// Flows listed on a page (failing first, then the latest).
pub(crate) const MAX_LISTED: usize = 200;

/// Filters of the flows view.
#[derive(Clone, Debug, Default, Deserialize, utoipa::IntoParams)]
pub(crate) struct FlowParams {
    /// Only this client (application).
    pub client: Option<String>,
    /// Only this user.
    pub user: Option<String>,
    /// Only this source IP.
    pub ip: Option<String>,
    /// Only flows with this outcome (success or failure).
    pub outcome: Option<String>,
    /// Window start (RFC 3339).
    pub from: Option<String>,
    /// Window end (RFC 3339).
    pub to: Option<String>,
}

/// Everything the page and the API show.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct FlowsView {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub total: usize,
    pub failed: usize,
    pub clients: Vec<Rate>,
    pub connections: Vec<Rate>,
    pub steps: Vec<Rate>,
    pub over_time: Vec<Rate>,
    pub rising: Vec<ReasonTrend>,
    pub flags: Vec<Flag>,
    pub flows: Vec<Flow>,
}

/// Reconstructs the flows of `tenant` for `params`.
pub(crate) fn view(
    stores: &Stores,
    tenant: &str,
    params: &FlowParams,
) -> Result<FlowsView, ApiError> {
    let outcome = match params.outcome.as_deref().filter(|o| !o.is_empty()) {
        None => None,
        Some("success") => Some(Outcome::Success),
        Some("failure") => Some(Outcome::Failure),
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "outcome {other:?}: success or failure"
            )));
        }
    };
    stores.text().refresh()?;
    let mut from = crate::search::parse_time("from", params.from.as_deref())?;
    let to = crate::search::parse_time("to", params.to.as_deref())?;
    if from.is_none() && to.is_none() {
        from = stores
            .text()
            .time_bounds(tenant)?
            .map(|(_, last)| last - Duration::hours(DEFAULT_WINDOW_HOURS));
    }
    let filters = Filters {
        kinds: vec![SourceKind::Auth, SourceKind::Log],
        time: TimeRange { from, to },
        ..Filters::default()
    };
    let records = stores.text().scan(tenant, &filters, MAX_RECORDS)?;
    let steps: Vec<_> = records.iter().filter_map(flows::classify).collect();
    let keep = |value: &Option<String>, wanted: &Option<String>| match wanted.as_deref() {
        None | Some("") => true,
        Some(wanted) => value
            .as_deref()
            .is_some_and(|v| v.eq_ignore_ascii_case(wanted)),
    };
    let mut all: Vec<Flow> = flows::reconstruct(steps, &StitchConfig::default())
        .into_iter()
        .filter(|f| {
            keep(&f.client, &params.client)
                && keep(&f.user, &params.user)
                && keep(&f.ip, &params.ip)
        })
        .filter(|f| outcome.is_none_or(|o| f.outcome == o))
        .collect();
    let flows::FlowSummary {
        clients,
        connections,
        steps,
        over_time,
        rising,
    } = flows::summarize(&all);
    let flags = flows::flag_events(&records, &RuleConfig::default());
    let failed = all.iter().filter(|f| f.outcome == Outcome::Failure).count();
    let total = all.len();
    all.sort_by_key(|f| {
        (
            f.outcome == Outcome::Success,
            std::cmp::Reverse(f.started()),
        )
    });
    all.truncate(MAX_LISTED);
    Ok(FlowsView {
        from,
        to,
        total,
        failed,
        clients,
        connections,
        steps,
        over_time,
        rising,
        flags,
        flows: all,
    })
}
