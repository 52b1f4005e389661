//! Line writers for the formats ingest reads.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

pub(crate) fn iso(ts: DateTime<Utc>) -> String {
    ts.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

pub(crate) struct Access<'a> {
    pub ip: &'a str,
    pub method: &'a str,
    pub route: &'a str,
    pub status: u16,
    pub user_agent: &'a str,
    pub latency_s: f64,
    pub request_id: &'a str,
    pub error: Option<&'a str>,
}

pub(crate) fn access_line(ts: DateTime<Utc>, a: &Access<'_>) -> String {
    let bytes = if a.status == 200 {
        512 + (a.latency_s * 40_000.0) as u64
    } else {
        61
    };
    let error = a.error.map(|e| format!(" error={e}")).unwrap_or_default();
    format!(
        "{} - - [{}] \"{} {} HTTP/1.1\" {} {} \"-\" \"{}\" rt={:.3} rid={}{}",
        a.ip,
        ts.format("%d/%b/%Y:%H:%M:%S +0000"),
        a.method,
        a.route,
        a.status,
        bytes,
        a.user_agent,
        a.latency_s,
        a.request_id,
        error
    )
}

pub(crate) fn json_line(
    ts: DateTime<Utc>,
    level: &str,
    service: &str,
    message: &str,
    extra: Value,
) -> String {
    let mut object = json!({"ts": iso(ts), "level": level, "service": service, "msg": message});
    if let (Some(target), Value::Object(extra)) = (object.as_object_mut(), extra) {
        target.extend(extra);
    }
    object.to_string()
}

pub(crate) fn text_line(ts: DateTime<Utc>, level: &str, component: &str, message: &str) -> String {
    format!("{} {level} {component}: {message}", iso(ts))
}

pub(crate) struct Auth0Event<'a> {
    pub code: &'a str,
    pub description: &'a str,
    pub log_id: u64,
    pub client_id: &'a str,
    pub user: &'a str,
    pub ip: &'a str,
    pub details: Option<Value>,
}

pub(crate) fn auth0_line(ts: DateTime<Utc>, e: &Auth0Event<'_>) -> String {
    let mut event = json!({
        "date": iso(ts),
        "type": e.code,
        "description": e.description,
        "log_id": format!("90020{:012}", e.log_id),
        "client_id": e.client_id,
        "connection": "Username-Password-Authentication",
        "ip": e.ip,
        "user_name": e.user,
        "user_id": format!("auth0|{:x}", e.user.bytes().fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))),
    });
    if let (Some(object), Some(details)) = (event.as_object_mut(), &e.details) {
        object.insert("details".into(), details.clone());
    }
    event.to_string()
}

pub(crate) struct OktaEvent<'a> {
    pub event_type: &'a str,
    pub message: &'a str,
    pub result: &'a str,
    pub reason: Option<&'a str>,
    pub user: &'a str,
    pub ip: &'a str,
    pub transaction: &'a str,
    /// `debugContext.debugData`: client id, OAuth error, grant type.
    pub debug: Option<Value>,
}

pub(crate) fn okta_line(ts: DateTime<Utc>, e: &OktaEvent<'_>) -> String {
    let mut event = json!({
        "uuid": format!("{}-{}", e.transaction, ts.timestamp_millis()),
        "published": iso(ts),
        "eventType": e.event_type,
        "severity": if e.result == "SUCCESS" { "INFO" } else { "WARN" },
        "displayMessage": e.message,
        "outcome": {"result": e.result, "reason": e.reason},
        "actor": {"id": format!("00u{}", e.user.len()), "alternateId": e.user, "type": "User"},
        "client": {"ipAddress": e.ip},
        "transaction": {"id": e.transaction, "type": "WEB"},
    });
    if let (Some(object), Some(debug)) = (event.as_object_mut(), &e.debug) {
        object.insert("debugContext".into(), json!({ "debugData": debug }));
    }
    event.to_string()
}

pub(crate) fn change_line(
    ts: DateTime<Utc>,
    change_id: &str,
    service: &str,
    summary: &str,
    author: &str,
) -> String {
    json!({"ts": iso(ts), "change_id": change_id, "service": service, "summary": summary, "author": author}).to_string()
}
