//! Stitching steps into flows: one flow per login or token attempt, across
//! the identity provider, the gateway and the services behind it.
//!
//! A step joins a flow when it shares a correlation id with it (Okta's
//! `transaction.id`, `x-request-id`, `traceparent`); otherwise when it shares
//! the actor (user, or client and IP, or IP alone) with a flow whose last
//! step is at most `gap` earlier and that has not yet gone past this step's
//! kind (a second `/authorize` after a token is a new attempt).

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::reason::FailureReason;
use crate::step::{Outcome, Step, StepKind};

/// How steps are stitched.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct StitchConfig {
    /// Longest pause between two steps of one flow, in seconds.
    pub gap_secs: i64,
}

impl Default for StitchConfig {
    /// Ten minutes: longer than any interactive login, shorter than the
    /// next attempt of a user who gave up.
    fn default() -> Self {
        StitchConfig { gap_secs: 600 }
    }
}

/// One login or token attempt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Flow {
    /// Position in the returned list (stable for one input).
    pub id: usize,
    /// Steps in time order, each with the milliseconds since the previous.
    pub steps: Vec<TimedStep>,
    /// Success when the last step succeeded, failure otherwise.
    pub outcome: Outcome,
    /// Index in `steps` of the first failing step, and why.
    pub first_failure: Option<(usize, FailureReason)>,
    /// The user, client and IP seen in the flow (first seen).
    pub user: Option<String>,
    /// OAuth client id.
    pub client: Option<String>,
    /// Client IP.
    pub ip: Option<String>,
    /// Identity-provider connection.
    #[serde(default)]
    pub connection: Option<String>,
}

/// A step with its latency since the previous step of its flow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimedStep {
    /// The step.
    #[serde(flatten)]
    pub step: Step,
    /// Milliseconds since the previous step (0 for the first).
    pub after_ms: i64,
}

impl Flow {
    /// When the first step happened.
    pub fn started(&self) -> Option<DateTime<Utc>> {
        self.steps.first().map(|s| s.step.ts)
    }

    /// Milliseconds from the first step to the last.
    pub fn duration_ms(&self) -> i64 {
        match (self.steps.first(), self.steps.last()) {
            (Some(first), Some(last)) => (last.step.ts - first.step.ts).num_milliseconds(),
            _ => 0,
        }
    }
}

struct Open {
    steps: Vec<Step>,
    furthest: StepKind,
    user: Option<String>,
    client: Option<String>,
}

impl Open {
    /// A step of another user or client never joins, whatever it shares.
    fn admits(&self, step: &Step) -> bool {
        let differs = |mine: &Option<String>, theirs: &Option<String>| matches!((mine, theirs), (Some(a), Some(b)) if a != b);
        !differs(&self.user, &step.user) && !differs(&self.client, &step.client)
    }
}

/// Groups `steps` (any order) into flows, in order of their first step.
pub fn reconstruct(mut steps: Vec<Step>, config: &StitchConfig) -> Vec<Flow> {
    steps.sort_by(|a, b| (a.ts, &a.record).cmp(&(b.ts, &b.record)));
    let gap = Duration::seconds(config.gap_secs);
    let mut flows: Vec<Open> = Vec::new();
    let mut by_trace: HashMap<String, usize> = HashMap::new();
    let mut by_actor: HashMap<String, usize> = HashMap::new();
    for step in steps {
        let keys = actor_keys(&step);
        let traced = step.trace.as_ref().and_then(|t| by_trace.get(t)).copied();
        let actor = || {
            keys.iter().find_map(|key| {
                let index = *by_actor.get(key)?;
                let open = &flows[index];
                let last = open.steps.last()?.ts;
                let continues = step.ts - last <= gap
                    && open.admits(&step)
                    && !(step.kind.starts_attempt() && open.furthest > step.kind)
                    && !matches!(open.furthest, StepKind::Logout | StepKind::Revoke);
                continues.then_some(index)
            })
        };
        let index = match traced.or_else(actor) {
            Some(index) => index,
            None => {
                flows.push(Open {
                    steps: Vec::new(),
                    furthest: step.kind,
                    user: None,
                    client: None,
                });
                flows.len() - 1
            }
        };
        if let Some(trace) = &step.trace {
            by_trace.insert(trace.clone(), index);
        }
        for key in keys {
            by_actor.insert(key, index);
        }
        let open = &mut flows[index];
        open.furthest = open.furthest.max(step.kind);
        open.user = open.user.take().or_else(|| step.user.clone());
        open.client = open.client.take().or_else(|| step.client.clone());
        open.steps.push(step);
    }
    flows
        .into_iter()
        .enumerate()
        .map(|(id, open)| finish(id, open.steps))
        .collect()
}

/// Keys under which a step's actor is found, most specific first.
fn actor_keys(step: &Step) -> Vec<String> {
    let mut keys = Vec::new();
    if let Some(user) = &step.user {
        keys.push(format!("user:{user}"));
    }
    if let (Some(client), Some(ip)) = (&step.client, &step.ip) {
        keys.push(format!("client-ip:{client}:{ip}"));
    }
    if let Some(ip) = &step.ip {
        keys.push(format!("ip:{ip}"));
    }
    keys
}

fn finish(id: usize, steps: Vec<Step>) -> Flow {
    // A failure is recovered when a later step of the same or a later kind
    // succeeded (a retried password); the flow fails when one is not.
    let unrecovered: Vec<usize> = (0..steps.len())
        .filter(|&i| {
            steps[i].outcome == Outcome::Failure
                && !steps[i + 1..]
                    .iter()
                    .any(|s| s.outcome == Outcome::Success && s.kind >= steps[i].kind)
        })
        .collect();
    let failures: Vec<usize> = (0..steps.len())
        .filter(|&i| steps[i].outcome == Outcome::Failure)
        .collect();
    let outcome = if unrecovered.is_empty() && !steps.is_empty() {
        Outcome::Success
    } else {
        Outcome::Failure
    };
    let candidates = if unrecovered.is_empty() {
        &failures
    } else {
        &unrecovered
    };
    let first_failure = first_failing(&steps, candidates).map(|index| {
        let reason = steps[index]
            .reason
            .clone()
            .unwrap_or_else(|| FailureReason {
                code: "other".into(),
                detail: String::new(),
            });
        (index, reason)
    });
    let first = |f: fn(&Step) -> Option<&String>| steps.iter().find_map(|s| f(s).cloned());
    let user = first(|s| s.user.as_ref());
    let client = first(|s| s.client.as_ref());
    let ip = first(|s| s.ip.as_ref());
    let connection = first(|s| s.connection.as_ref());
    let mut previous: Option<DateTime<Utc>> = None;
    let steps = steps
        .into_iter()
        .map(|step| {
            let after_ms = previous.map_or(0, |p| (step.ts - p).num_milliseconds());
            previous = Some(step.ts);
            TimedStep { step, after_ms }
        })
        .collect();
    Flow {
        id,
        steps,
        outcome,
        first_failure,
        user,
        client,
        ip,
        connection,
    }
}

/// Sources log at different precisions (an access log to the second, a
/// JSON log to the millisecond), so failures within one second of the
/// earliest are taken as simultaneous, and the most specific reason among
/// them names the failure (the validator's `kid` unknown rather than the
/// access log's 401 `invalid_token`).
fn first_failing(steps: &[Step], candidates: &[usize]) -> Option<usize> {
    let earliest = steps[*candidates.first()?].ts;
    let generic = |index: &usize| {
        steps[*index].reason.as_ref().is_none_or(|r| {
            matches!(
                r.code.as_str(),
                "invalid_token" | "invalid_request" | "other"
            ) || r.code.starts_with("http_")
        })
    };
    candidates
        .iter()
        .take_while(|&&i| steps[i].ts - earliest < Duration::seconds(1))
        .find(|i| !generic(i))
        .or(candidates.first())
        .copied()
}

/// Pairwise precision and recall of a grouping against the true one: of the
/// pairs of steps put in one flow, the share truly in one flow, and of the
/// pairs truly in one flow, the share put in one. `truth` and `predicted`
/// give a group label per step, in the same order.
pub fn pairwise_scores(truth: &[usize], predicted: &[usize]) -> (f64, f64) {
    let pairs = |labels: &[usize]| {
        let mut counts: HashMap<usize, u64> = HashMap::new();
        for label in labels {
            *counts.entry(*label).or_insert(0) += 1;
        }
        counts.values().map(|n| n * (n - 1) / 2).sum::<u64>()
    };
    let mut joint: HashMap<(usize, usize), u64> = HashMap::new();
    for (t, p) in truth.iter().zip(predicted) {
        *joint.entry((*t, *p)).or_insert(0) += 1;
    }
    let both: u64 = joint.values().map(|n| n * (n - 1) / 2).sum();
    let ratio = |part: u64, whole: u64| {
        if whole == 0 {
            1.0
        } else {
            part as f64 / whole as f64
        }
    };
    (ratio(both, pairs(predicted)), ratio(both, pairs(truth)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ingest::RecordId;

    fn step(
        second: i64,
        kind: StepKind,
        user: Option<&str>,
        ip: &str,
        trace: Option<&str>,
    ) -> Step {
        Step {
            user: user.map(str::to_string),
            ip: Some(ip.into()),
            client: Some("web".into()),
            trace: trace.map(str::to_string),
            ..crate::step::test_step(second, kind)
        }
    }

    #[test]
    fn steps_of_one_attempt_join_and_a_new_attempt_starts_a_flow() {
        let steps = vec![
            step(0, StepKind::Authorize, None, "10.0.0.1", Some("t1")),
            step(5, StepKind::Login, Some("ana"), "10.0.0.1", Some("t1")),
            step(6, StepKind::Token, None, "10.0.0.1", None),
            step(7, StepKind::Api, None, "10.0.0.1", Some("req-9")),
            step(30, StepKind::Authorize, None, "10.0.0.1", Some("t2")),
            step(31, StepKind::Login, Some("bo"), "10.0.0.2", None),
            step(32, StepKind::Login, Some("cy"), "10.0.0.2", None),
            step(5000, StepKind::Login, Some("ana"), "10.0.0.1", None),
        ];
        let flows = reconstruct(steps, &StitchConfig::default());
        let sizes: Vec<usize> = flows.iter().map(|f| f.steps.len()).collect();
        assert_eq!(
            sizes,
            [4, 1, 1, 1, 1],
            "another user from one IP is another flow: {flows:#?}"
        );
        assert_eq!(flows[0].user.as_deref(), Some("ana"));
        assert_eq!(flows[0].steps[2].after_ms, 1000);
    }

    #[test]
    fn the_first_failing_step_is_reported() {
        let mut failed = step(3, StepKind::Token, Some("ana"), "10.0.0.1", None);
        failed.outcome = Outcome::Failure;
        failed.reason = Some(FailureReason {
            code: "invalid_grant".into(),
            detail: "code expired".into(),
        });
        let flows = reconstruct(
            vec![
                step(0, StepKind::Login, Some("ana"), "10.0.0.1", None),
                failed,
            ],
            &StitchConfig::default(),
        );
        assert_eq!(flows.len(), 1);
        assert_eq!(flows[0].outcome, Outcome::Failure);
        let (index, reason) = flows[0].first_failure.clone().expect("failure");
        assert_eq!((index, reason.code.as_str()), (1, "invalid_grant"));
    }

    #[test]
    fn a_coarse_access_log_line_does_not_hide_the_validator_reason_or_the_failure() {
        // The validator logs to the millisecond, the access log to the
        // second, so the 401 sorts first; a later success of an earlier
        // kind (the code) does not recover the failed API call.
        let reason = |code: &str| {
            Some(FailureReason {
                code: code.into(),
                detail: String::new(),
            })
        };
        let mut access = step(10, StepKind::Api, None, "10.0.0.1", None);
        access.outcome = Outcome::Failure;
        access.reason = reason("invalid_token");
        let mut validator = access.clone();
        validator.record = RecordId("r-validator".into());
        validator.ts += Duration::milliseconds(400);
        validator.reason = reason("kid_unknown");
        let code = step(11, StepKind::Code, Some("ana"), "10.0.0.1", None);
        let flows = reconstruct(
            vec![
                step(0, StepKind::Login, Some("ana"), "10.0.0.1", None),
                access,
                validator,
                code,
            ],
            &StitchConfig::default(),
        );
        assert_eq!(flows.len(), 1);
        assert_eq!(flows[0].outcome, Outcome::Failure);
        let (index, reason) = flows[0].first_failure.clone().expect("failure");
        assert_eq!(reason.code, "kid_unknown");
        assert_eq!(flows[0].steps[index].step.record.0, "r-validator");
    }

    #[test]
    fn pairwise_scores_of_groupings() {
        assert_eq!(pairwise_scores(&[0, 0, 1, 1], &[5, 5, 6, 6]), (1.0, 1.0));
        assert_eq!(
            pairwise_scores(&[0, 0, 1, 1], &[5, 5, 5, 5]),
            (2.0 / 6.0, 1.0)
        );
        assert_eq!(pairwise_scores(&[0, 0, 1, 1], &[1, 2, 3, 4]), (1.0, 0.0));
    }
}
