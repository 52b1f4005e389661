//! Cloud audit events (AWS CloudTrail `Records`): every API call made
//! against the account. A call that modifies something (its name starts
//! with a mutating verb and it is not read-only) is a change record: a
//! console edit outside infrastructure as code is a change like any other.

use serde_json::{Map, Value};

use super::RecordDraft;
use super::json_lines::{copy_mapped, first_str, lookup};
use crate::timestamp::parse_timestamp;
use crate::{Severity, SourceKind};

/// Verbs that begin the names of API calls that modify a resource.
const MUTATING_VERBS: &[&str] = &[
    "Create",
    "Delete",
    "Update",
    "Put",
    "Modify",
    "Revoke",
    "Authorize",
    "Attach",
    "Detach",
    "Remove",
    "Add",
    "Replace",
    "Set",
    "Associate",
    "Disassociate",
    "Enable",
    "Disable",
    "Run",
    "Terminate",
    "Stop",
    "Start",
    "Reboot",
];
/// Characters of the request parameters quoted in the body.
const PARAMETER_CHARS: usize = 400;

pub(super) fn is_cloud_audit_event(object: &Map<String, Value>) -> bool {
    object.contains_key("eventName")
        && object.contains_key("eventSource")
        && object.contains_key("eventTime")
}

pub(super) fn draft(object: &Map<String, Value>) -> RecordDraft {
    let name = first_str(object, &["eventName"]).unwrap_or_default();
    let read_only = lookup(object, "readOnly").and_then(Value::as_bool);
    let mutating = read_only != Some(true)
        && MUTATING_VERBS.iter().any(|verb| {
            name.strip_prefix(verb)
                .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
        });
    // An assumed role's session name is the person (SSO) or workload
    // behind the call; the role alone names no one.
    let session = first_str(object, &["userIdentity.arn"])
        .filter(|arn| arn.contains(":assumed-role/"))
        .and_then(|arn| arn.rsplit('/').next());
    let user = first_str(object, &["userIdentity.userName"])
        .or(session)
        .or_else(|| first_str(object, &["userIdentity.arn", "userIdentity.principalId"]))
        .unwrap_or("unknown");
    // A browser's user agent means the web console: an edit by hand.
    let console = first_str(object, &["userAgent"])
        .is_some_and(|agent| agent.starts_with("Mozilla/") || agent.contains("console"));
    let source = first_str(object, &["eventSource"]).unwrap_or_default();
    let parameters = lookup(object, "requestParameters")
        .filter(|v| !v.is_null())
        .map(|v| {
            let mut leaves = Vec::new();
            leaf_settings(v, "", &mut leaves);
            let text = leaves.join(" ");
            text.chars().take(PARAMETER_CHARS).collect::<String>()
        })
        .filter(|text| !text.is_empty());
    let error = first_str(object, &["errorCode"]);
    let mut body = format!("{name} by {user}");
    if console {
        body.push_str(" in the console");
    }
    if let Some(parameters) = &parameters {
        body.push_str(&format!(": {parameters}"));
    }
    if let Some(error) = error {
        body.push_str(&format!(" ({error})"));
    }
    let mut draft = RecordDraft {
        kind: Some(if mutating {
            SourceKind::Change
        } else {
            SourceKind::Log
        }),
        service: Some(source.split('.').next().unwrap_or(source).to_string()),
        ts: first_str(object, &["eventTime"]).and_then(parse_timestamp),
        severity: if error.is_some() {
            Severity::Warn
        } else {
            Severity::Info
        },
        body,
        ..RecordDraft::default()
    };
    let mappings = [
        ("eventName", "event_name"),
        ("eventSource", "event_source"),
        ("eventID", "event_id"),
        ("sourceIPAddress", "ip"),
        ("userAgent", "user_agent"),
        ("awsRegion", "region"),
        ("errorCode", "error"),
        ("requestParameters", "request"),
    ];
    copy_mapped(object, &mappings, &mut draft);
    draft.fields.insert("user".into(), user.into());
    if console {
        draft.fields.insert("via".into(), "console".into());
    }
    draft
}

/// The request's values as `key=value` settings, each named by its own
/// key (`fromPort=5432 cidrIp=10.30.3.0/24`): a reader and a search see
/// what was set, not JSON punctuation or the empty lists around it.
fn leaf_settings(value: &serde_json::Value, key: &str, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (child, inner) in map {
                leaf_settings(inner, child, out);
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                leaf_settings(item, key, out);
            }
        }
        serde_json::Value::Null => {}
        serde_json::Value::String(text) => out.push(format!("{key}={text}")),
        other => out.push(format!("{key}={other}")),
    }
}

#[cfg(test)]
mod tests {
    use crate::SourceKind;
    use crate::sources::{SourceContext, parse_json_line};

    fn parse(raw: &str) -> crate::Record {
        let ctx = SourceContext {
            tenant: "t",
            source: "aws/cloudtrail.json",
            default_service: "aws",
            zone: crate::sources::UTC,
        };
        parse_json_line(&ctx, 1, raw).expect("parses")
    }

    #[test]
    fn a_mutating_call_is_a_change_and_a_read_is_not() {
        let revoke = parse(
            r#"{"eventTime":"2026-03-24T07:52:10Z","eventSource":"ec2.amazonaws.com","eventName":"RevokeSecurityGroupIngress","readOnly":false,"userIdentity":{"userName":"m.okafor"},"requestParameters":{"groupId":"sg-0a1","ipPermissions":{"items":[{"fromPort":5432,"ipRanges":{"items":[{"cidrIp":"10.30.3.0/24"}]}}]}}}"#,
        );
        assert_eq!(revoke.kind, SourceKind::Change);
        assert_eq!(revoke.service, "ec2");
        assert_eq!(
            revoke.body,
            "RevokeSecurityGroupIngress by m.okafor: groupId=sg-0a1 fromPort=5432 cidrIp=10.30.3.0/24"
        );
        assert!(revoke.ts.is_some());
        let sso = parse(
            r#"{"eventTime":"2026-03-23T22:41:13Z","eventSource":"ec2.amazonaws.com","eventName":"AuthorizeSecurityGroupIngress","readOnly":false,"userAgent":"Mozilla/5.0 (Macintosh)","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/AWSReservedSSO_NetworkAdmin_3f/m.okafor@example.com","sessionContext":{"sessionIssuer":{"userName":"AWSReservedSSO_NetworkAdmin_3f"}}}}"#,
        );
        assert!(
            sso.body.starts_with(
                "AuthorizeSecurityGroupIngress by m.okafor@example.com in the console"
            ),
            "{}",
            sso.body
        );
        let read = parse(
            r#"{"eventTime":"2026-03-24T07:52:11Z","eventSource":"ec2.amazonaws.com","eventName":"DescribeSecurityGroups","readOnly":true,"userIdentity":{"arn":"arn:aws:iam::1:role/x"}}"#,
        );
        assert_eq!(read.kind, SourceKind::Log);
        let settle = parse(
            r#"{"eventTime":"2026-03-24T07:52:11Z","eventSource":"s3.amazonaws.com","eventName":"Settlement","userIdentity":{}}"#,
        );
        assert_eq!(
            settle.kind,
            SourceKind::Log,
            "Set is a verb only before a capital"
        );
    }
}
