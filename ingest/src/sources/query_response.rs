//! Metric series from a Prometheus query API response (`/api/v1/query` and
//! `/api/v1/query_range`, also what Thanos, Mimir and VictoriaMetrics
//! return): every sample becomes a metric record, so series can be cited
//! and their change points set beside the logs.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Map, Value};

use super::{RecordDraft, SourceContext, file_stem};
use crate::{Record, SourceKind};

/// Labels that name the emitting service, most specific first: the
/// conventions of Prometheus (`job`), Kubernetes (`container`, `app`) and
/// OpenTelemetry (`service`).
const SERVICE_LABELS: &[&str] = &["service", "app", "container", "job"];
/// Labels that name the machine a series was scraped from.
const HOST_LABELS: &[&str] = &["instance", "node", "host"];

/// Whether `value` is a query API response: `{"status", "data": {"resultType", "result"}}`.
pub(crate) fn is_query_response(value: &Value) -> bool {
    value.get("status").is_some()
        && value
            .get("data")
            .and_then(|data| data.get("resultType"))
            .and_then(Value::as_str)
            .is_some()
}

/// The samples of a query response as metric records. A series' origin
/// line is its 1-based index in the result. The metric's name is its
/// `__name__` label, else the file's name (a saved query has no other).
pub(crate) fn parse_query_response(ctx: &SourceContext<'_>, value: &Value) -> Vec<Record> {
    let data = &value["data"];
    let file_metric = file_stem(ctx.source).to_string();
    let mut records = Vec::new();
    let Some(result) = data.get("result") else {
        return records;
    };
    match data.get("resultType").and_then(Value::as_str) {
        Some("matrix" | "vector") => {
            for (index, series) in result.as_array().into_iter().flatten().enumerate() {
                let labels = series.get("metric").and_then(Value::as_object);
                let samples = series
                    .get("values")
                    .and_then(Value::as_array)
                    .map(|values| values.iter().collect::<Vec<_>>())
                    .or_else(|| series.get("value").map(|value| vec![value]))
                    .unwrap_or_default();
                for sample in samples {
                    records.extend(sample_record(
                        ctx,
                        index as u64 + 1,
                        &file_metric,
                        labels,
                        sample,
                    ));
                }
            }
        }
        Some("scalar") => records.extend(sample_record(ctx, 1, &file_metric, None, result)),
        _ => {}
    }
    records
}

/// One `[unix_seconds, "value"]` sample; `None` when it is not one.
fn sample_record(
    ctx: &SourceContext<'_>,
    line: u64,
    file_metric: &str,
    labels: Option<&Map<String, Value>>,
    sample: &Value,
) -> Option<Record> {
    let pair = sample.as_array()?;
    let ts = unix_time(pair.first()?.as_f64()?)?;
    let text = pair.get(1)?.as_str()?;
    let empty = Map::new();
    let labels = labels.unwrap_or(&empty);
    let label = |key: &str| labels.get(key).and_then(Value::as_str);
    let name = label("__name__").unwrap_or(file_metric).to_string();
    // Sorted, as Prometheus prints a series, whatever order the file has.
    let mut shown: Vec<String> = labels
        .iter()
        .filter(|(key, _)| key.as_str() != "__name__")
        .filter_map(|(key, value)| Some(format!("{key}=\"{}\"", value.as_str()?)))
        .collect();
    shown.sort();
    let body = format!("{name}{{{}}} {text}", shown.join(", "));
    let mut draft = RecordDraft {
        kind: Some(SourceKind::Metric),
        service: SERVICE_LABELS
            .iter()
            .find_map(|key| label(key))
            .map(str::to_string),
        host: HOST_LABELS
            .iter()
            .find_map(|key| label(key))
            .map(str::to_string),
        ts: Some(ts),
        body,
        ..RecordDraft::default()
    };
    for (key, value) in labels {
        if let Some(value) = value.as_str().filter(|_| key.as_str() != "__name__") {
            draft
                .fields
                .insert(key.clone(), Value::String(value.to_string()));
        }
    }
    draft.fields.insert("metric".into(), Value::String(name));
    // NaN and infinities are kept as records (the text says so) but carry
    // no number to compare.
    if let Some(number) = text
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite())
        .and_then(serde_json::Number::from_f64)
    {
        draft.fields.insert("value".into(), Value::Number(number));
    }
    let raw = format!("{} @{}", draft.body, ts.timestamp_millis());
    Some(draft.finish(ctx, line, &raw))
}

fn unix_time(seconds: f64) -> Option<DateTime<Utc>> {
    if !seconds.is_finite() {
        return None;
    }
    let millis = (seconds * 1000.0).round() as i64;
    Utc.timestamp_millis_opt(millis).single()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::UTC;

    fn ctx() -> SourceContext<'static> {
        SourceContext {
            tenant: "acme",
            source: "metrics/token_issuer_cpu_throttled_ratio.json",
            default_service: "metrics",
            zone: UTC,
        }
    }

    #[test]
    fn a_range_query_becomes_one_record_per_sample() {
        let response = serde_json::json!({"status": "success", "data": {"resultType": "matrix", "result": [
            {"metric": {"namespace": "identity", "container": "token-issuer", "pod": "token-issuer-7d4"},
             "values": [[1768930800.0, "0.021"], [1768930830.5, "0.68"], [1768930860, "NaN"]]},
            {"metric": {"__name__": "up", "job": "node", "instance": "10.0.0.7:9100"}, "values": [[1768930800, "1"]]}
        ]}});
        assert!(is_query_response(&response));
        let records = parse_query_response(&ctx(), &response);
        assert_eq!(records.len(), 4, "every sample, NaN included");
        let first = &records[0];
        assert_eq!(first.kind, SourceKind::Metric);
        assert_eq!(first.service, "token-issuer");
        assert_eq!(
            first.body,
            "token_issuer_cpu_throttled_ratio{container=\"token-issuer\", namespace=\"identity\", pod=\"token-issuer-7d4\"} 0.021"
        );
        assert_eq!(first.fields["value"], serde_json::json!(0.021));
        assert_eq!(
            records[1].ts.map(|t| t.to_rfc3339()),
            Some("2026-01-20T17:40:30.500+00:00".to_string())
        );
        assert!(!records[2].fields.contains_key("value"), "NaN is no number");
        assert_ne!(records[0].id, records[1].id, "samples of a series differ");
        let up = &records[3];
        assert_eq!(up.fields["metric"], serde_json::json!("up"));
        assert_eq!(up.service, "node");
        assert_eq!(up.host.as_deref(), Some("10.0.0.7:9100"));
        assert_eq!(up.origin.line, 2, "a series' line is its index");
    }

    #[test]
    fn an_instant_query_and_other_json_are_told_apart() {
        let instant = serde_json::json!({"status": "success", "data": {"resultType": "vector", "result": [
            {"metric": {"job": "api"}, "value": [1768930800, "12"]}
        ]}});
        let records = parse_query_response(&ctx(), &instant);
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].service, "api");
        assert!(!is_query_response(&serde_json::json!({"data": [1, 2]})));
        assert!(!is_query_response(&serde_json::json!({"status": "ok"})));
    }
}
