//! Whole-file JSON documents: `kubectl get events -o json`, Terraform plans
//! (`terraform show -json`), PagerDuty and Opsgenie incident exports, arrays
//! of log or auth events, Prometheus query responses (`query_response`);
//! anything else is one config record. A document
//! has no lines per item, so an item's origin line is its 1-based index.

use serde_json::{Map, Value};

use super::json_lines::record_from_object;
use super::query_response::{is_query_response, parse_query_response};
use super::{RecordDraft, SourceContext};
use crate::timestamp::parse_timestamp;
use crate::{BadInput, Origin, Record, Severity, SourceKind};

pub(crate) fn parse_json_document(
    ctx: &SourceContext<'_>,
    text: &str,
) -> (Vec<Record>, Vec<BadInput>) {
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(e) => {
            let bad = BadInput {
                origin: Origin {
                    source: ctx.source.to_string(),
                    line: e.line() as u64,
                },
                reason: format!("invalid JSON document: {e}"),
            };
            return (Vec::new(), vec![bad]);
        }
    };
    let items = |key: &str| value.get(key).and_then(Value::as_array);
    let records = if is_query_response(&value) {
        parse_query_response(ctx, &value)
    } else if let Some(events) =
        items("items").filter(|_| is_kind(&value, "List") || is_kind(&value, "EventList"))
    {
        each(ctx, events, kubernetes_event)
    } else if let Some(changes) = items("resource_changes") {
        let when = value
            .get("timestamp")
            .and_then(Value::as_str)
            .and_then(parse_timestamp);
        each(ctx, changes, |ctx, index, item| {
            plan_change(ctx, index, item, when)
        })
    } else if let Some(incidents) = items("incidents") {
        each(ctx, incidents, pagerduty_incident)
    } else if let Some(alerts) =
        items("data").filter(|list| list.iter().any(|a| a.get("tinyId").is_some()))
    {
        each(ctx, alerts, opsgenie_alert)
    } else if let Some(events) = value.as_array().or_else(|| wrapped_events(ctx, &value)) {
        each(ctx, events, |ctx, index, item| {
            let object = item.as_object()?;
            Some(record_from_object(ctx, index, &item.to_string(), object))
        })
    } else {
        let mut draft = RecordDraft {
            kind: Some(SourceKind::Config),
            body: text.to_string(),
            ..RecordDraft::default()
        };
        if let Value::Object(object) = &value {
            for (key, field) in object {
                if let Some(scalar) = scalar(field) {
                    draft.fields.insert(key.clone(), scalar);
                }
            }
        }
        vec![draft.finish(ctx, 1, text)]
    };
    (records, Vec::new())
}

/// The events of a document that wraps them in an object under one key
/// (CloudTrail's `Records`, RDS's `Events`, an API page's `data`): the
/// longest array of objects whose first object reads as a timed event.
fn wrapped_events<'v>(ctx: &SourceContext<'_>, value: &'v Value) -> Option<&'v Vec<Value>> {
    let object = value.as_object()?;
    let events = object
        .values()
        .filter_map(Value::as_array)
        .filter(|list| list.first().is_some_and(Value::is_object))
        .max_by_key(|list| list.len())?;
    let first = events.first()?.as_object()?;
    record_from_object(ctx, 0, "", first)
        .ts
        .is_some()
        .then_some(events)
}

fn is_kind(value: &Value, kind: &str) -> bool {
    value.get("kind").and_then(Value::as_str) == Some(kind)
}

fn scalar(value: &Value) -> Option<Value> {
    matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_)).then(|| value.clone())
}

fn each(
    ctx: &SourceContext<'_>,
    items: &[Value],
    build: impl Fn(&SourceContext<'_>, u64, &Value) -> Option<Record>,
) -> Vec<Record> {
    items
        .iter()
        .enumerate()
        .filter_map(|(index, item)| build(ctx, index as u64 + 1, item))
        .collect()
}

fn text<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(value, |v, key| v.get(key))?.as_str()
}

fn kubernetes_event(ctx: &SourceContext<'_>, index: u64, item: &Value) -> Option<Record> {
    let ts = ["lastTimestamp", "eventTime", "firstTimestamp"]
        .iter()
        .find_map(|key| {
            item.get(key)
                .and_then(Value::as_str)
                .and_then(parse_timestamp)
        })
        .or_else(|| text(item, &["metadata", "creationTimestamp"]).and_then(parse_timestamp));
    let reason = text(item, &["reason"]).unwrap_or_default();
    let object_kind = text(item, &["involvedObject", "kind"]).unwrap_or_default();
    let name = text(item, &["involvedObject", "name"]).unwrap_or_default();
    let message = text(item, &["message"]).unwrap_or_default();
    let mut draft = RecordDraft {
        kind: Some(SourceKind::Log),
        service: text(item, &["involvedObject", "namespace"]).map(str::to_string),
        host: text(item, &["source", "host"]).map(str::to_string),
        ts,
        severity: if text(item, &["type"]) == Some("Warning") {
            Severity::Warn
        } else {
            Severity::Info
        },
        body: format!("{reason} {object_kind}/{name}: {message}"),
        ..RecordDraft::default()
    };
    for (field, path) in [
        ("reason", &["reason"][..]),
        ("object_kind", &["involvedObject", "kind"]),
        ("object_name", &["involvedObject", "name"]),
        ("count", &["count"]),
    ] {
        if let Some(value) = path
            .iter()
            .try_fold(item, |v, key| v.get(key))
            .and_then(scalar)
        {
            draft.fields.insert(field.into(), value);
        }
    }
    Some(draft.finish(ctx, index, &item.to_string()))
}

fn plan_change(
    ctx: &SourceContext<'_>,
    index: u64,
    item: &Value,
    when: Option<chrono::DateTime<chrono::Utc>>,
) -> Option<Record> {
    let actions: Vec<&str> = item
        .pointer("/change/actions")?
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    if actions.iter().all(|a| *a == "no-op" || *a == "read") {
        return None;
    }
    let address = text(item, &["address"]).unwrap_or_default();
    let before = item.pointer("/change/before").and_then(Value::as_object);
    let after = item.pointer("/change/after").and_then(Value::as_object);
    let changed: Vec<String> = changed_attributes(before, after);
    let mut draft = RecordDraft {
        kind: Some(SourceKind::Change),
        service: text(item, &["provider_name"])
            .map(|p| p.rsplit('/').next().unwrap_or(p).to_string()),
        ts: when,
        body: format!(
            "terraform plan: {} {address} ({})",
            actions.join("/"),
            changed.join(", ")
        ),
        ..RecordDraft::default()
    };
    draft.fields.insert("address".into(), address.into());
    draft
        .fields
        .insert("actions".into(), actions.join("/").into());
    if let Some(resource_type) = text(item, &["type"]) {
        draft
            .fields
            .insert("resource_type".into(), resource_type.into());
    }
    Some(draft.finish(ctx, index, &item.to_string()))
}

fn changed_attributes(
    before: Option<&Map<String, Value>>,
    after: Option<&Map<String, Value>>,
) -> Vec<String> {
    let empty = Map::new();
    let (before, after) = (before.unwrap_or(&empty), after.unwrap_or(&empty));
    let mut keys: Vec<String> = before
        .keys()
        .chain(after.keys())
        .filter(|k| before.get(*k) != after.get(*k))
        .cloned()
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

fn incident_draft(
    title: &str,
    service: Option<&str>,
    urgency: Option<&str>,
    created: Option<&str>,
) -> RecordDraft {
    RecordDraft {
        kind: Some(SourceKind::Incident),
        service: service.map(str::to_string),
        ts: created.and_then(parse_timestamp),
        severity: match urgency {
            Some("high" | "P1" | "P2") => Severity::Error,
            _ => Severity::Warn,
        },
        body: title.to_string(),
        ..RecordDraft::default()
    }
}

fn pagerduty_incident(ctx: &SourceContext<'_>, index: u64, item: &Value) -> Option<Record> {
    let mut draft = incident_draft(
        text(item, &["title"]).or_else(|| text(item, &["summary"]))?,
        text(item, &["service", "summary"]).or_else(|| text(item, &["service", "name"])),
        text(item, &["urgency"]),
        text(item, &["created_at"]),
    );
    let acknowledged = item
        .get("acknowledgements")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .and_then(|a| a.get("at"))
        .or_else(|| item.get("acknowledged_at"));
    for (field, value) in [
        ("incident_id", item.get("id")),
        ("status", item.get("status")),
        ("urgency", item.get("urgency")),
        ("acknowledged_at", acknowledged),
        (
            "resolved_at",
            item.get("resolved_at").or_else(|| {
                item.get("last_status_change_at")
                    .filter(|_| text(item, &["status"]) == Some("resolved"))
            }),
        ),
    ] {
        if let Some(value) = value.and_then(scalar) {
            draft.fields.insert(field.into(), value);
        }
    }
    Some(draft.finish(ctx, index, &item.to_string()))
}

fn opsgenie_alert(ctx: &SourceContext<'_>, index: u64, item: &Value) -> Option<Record> {
    let mut draft = incident_draft(
        text(item, &["message"])?,
        item.get("tags")
            .and_then(Value::as_array)
            .and_then(|t| t.first())
            .and_then(Value::as_str),
        text(item, &["priority"]),
        text(item, &["createdAt"]),
    );
    let report = item.get("report");
    let after_created = |key: &str| -> Option<Value> {
        let millis = report?.get(key)?.as_i64()?;
        let created = draft.ts?;
        let at = chrono::TimeDelta::try_milliseconds(millis)
            .and_then(|d| created.checked_add_signed(d))?;
        Some(at.to_rfc3339().into())
    };
    let acknowledged = after_created("ackTime");
    let resolved = after_created("closeTime");
    for (field, value) in [
        ("incident_id", item.get("tinyId").cloned()),
        ("status", item.get("status").cloned()),
        ("urgency", item.get("priority").cloned()),
        ("acknowledged_at", acknowledged),
        ("resolved_at", resolved),
    ] {
        if let Some(value) = value.as_ref().and_then(scalar) {
            draft.fields.insert(field.into(), value);
        }
    }
    Some(draft.finish(ctx, index, &item.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<Record> {
        let ctx = SourceContext {
            tenant: "t",
            source: "doc.json",
            default_service: "doc",
            zone: crate::sources::UTC,
        };
        let (records, bad) = parse_json_document(&ctx, text);
        assert!(bad.is_empty(), "{bad:?}");
        records
    }

    #[test]
    fn kubernetes_events_list() {
        let records = parse(
            r#"{"apiVersion":"v1","kind":"List","items":[{"kind":"Event","type":"Warning","reason":"BackOff","message":"Back-off restarting failed container","count":12,"lastTimestamp":"2026-11-20T14:06:00Z","involvedObject":{"kind":"Pod","name":"gateway-7d9","namespace":"edge"},"source":{"host":"node-3"}}]}"#,
        );
        assert_eq!(records.len(), 1);
        assert_eq!(
            records[0].body,
            "BackOff Pod/gateway-7d9: Back-off restarting failed container"
        );
        assert_eq!(records[0].severity, Severity::Warn);
        assert_eq!(records[0].service, "edge");
        assert_eq!(records[0].field_str("count").as_deref(), Some("12"));
    }

    #[test]
    fn terraform_plan_changes() {
        let records = parse(
            r#"{"format_version":"1.2","timestamp":"2026-11-20T14:01:30Z","resource_changes":[{"address":"auth_signing_key.primary","type":"auth_signing_key","provider_name":"registry.terraform.io/acme/auth","change":{"actions":["update"],"before":{"kid":"a","status":"ACTIVE"},"after":{"kid":"b","status":"ACTIVE"}}},{"address":"x.y","change":{"actions":["no-op"]}}]}"#,
        );
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].kind, SourceKind::Change);
        assert_eq!(
            records[0].body,
            "terraform plan: update auth_signing_key.primary (kid)"
        );
        assert_eq!(records[0].service, "auth");
        assert!(records[0].ts.is_some());
    }

    #[test]
    fn pagerduty_and_opsgenie_incidents() {
        let pd = parse(
            r#"{"incidents":[{"id":"P1X","title":"401s on /userinfo","urgency":"high","status":"resolved","created_at":"2026-11-20T14:07:00Z","acknowledgements":[{"at":"2026-11-20T14:09:00Z"}],"resolved_at":"2026-11-20T14:48:00Z","service":{"summary":"api-gateway"}}]}"#,
        );
        assert_eq!(pd[0].kind, SourceKind::Incident);
        assert_eq!(pd[0].service, "api-gateway");
        assert_eq!(
            pd[0].field_str("acknowledged_at").as_deref(),
            Some("2026-11-20T14:09:00Z")
        );
        let og = parse(
            r#"{"data":[{"tinyId":"42","message":"Login failures","priority":"P2","status":"closed","createdAt":"2026-11-20T14:07:00Z","tags":["auth"],"report":{"ackTime":60000,"closeTime":1800000}}]}"#,
        );
        assert_eq!(
            og[0].field_str("resolved_at").as_deref(),
            Some("2026-11-20T14:37:00+00:00")
        );
        assert_eq!(og[0].severity, Severity::Error);
    }

    #[test]
    fn events_wrapped_under_one_key_are_events() {
        let records = parse(
            r#"{"Records":[{"eventTime":"2026-03-24T07:52:10Z","eventSource":"ec2.amazonaws.com","eventName":"RevokeSecurityGroupIngress","readOnly":false,"userIdentity":{"userName":"m.okafor"}},{"eventTime":"2026-03-24T07:53:00Z","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","readOnly":true,"userIdentity":{}}]}"#,
        );
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].kind, SourceKind::Change);
        assert_eq!(records[1].kind, SourceKind::Log);
        let config = parse(r#"{"name":"x","rules":[{"port":5432}]}"#);
        assert_eq!(config.len(), 1);
        assert_eq!(
            config[0].kind,
            SourceKind::Config,
            "a list in a config is no event stream"
        );
    }

    #[test]
    fn arrays_of_events_and_plain_documents() {
        let events = parse(
            r#"[{"published":"2026-11-20T14:00:00Z","eventType":"user.session.start","outcome":{"result":"SUCCESS"},"displayMessage":"User login"}]"#,
        );
        assert_eq!(events[0].kind, SourceKind::Auth);
        let config = parse(r#"{"issuer":"https://auth.example","ttl":300}"#);
        assert_eq!(config[0].kind, SourceKind::Config);
        assert_eq!(config[0].field_str("ttl").as_deref(), Some("300"));
    }
}
