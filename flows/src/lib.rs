//! Auth traces as first-class evidence: each record of an identity
//! provider, gateway or service read as a [`Step`] of a login or token flow,
//! steps stitched into [`Flow`]s (one per attempt, with the first failing
//! step and its reason), and risky events flagged by documented rules.
//!
//! Works on [`ingest::Record`]s only, so the CLI can run it on files and the
//! agent on what the stores return; it knows nothing about stores.

mod aggregate;
mod reason;
mod rules;
mod step;
mod stitch;

pub use aggregate::{
    ClockSkew, FlowSummary, Rate, ReasonTrend, clock_skew, natural_bucket, rising_reasons,
    success_by_client, success_by_connection, success_by_step, success_over_time, summarize,
};
pub use reason::FailureReason;
pub use rules::{Flag, Rule, RuleConfig, Severity, flag_events};
pub use step::{Outcome, Step, StepKind, classify};
pub use stitch::{Flow, StitchConfig, TimedStep, pairwise_scores, reconstruct};
