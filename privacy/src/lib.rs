//! The privacy filter: every byte that leaves the process (LLM request,
//! chat message, embedding request, eval judge call) goes through [`prepare_outbound`], which
//! pseudonymizes personal data and secrets with a [`Redactor`], records the
//! payload in the [`AuditLog`], and fails closed. [`AtRest`] pseudonymizes
//! records before they are stored, for deployments that keep none of it.

mod at_rest;
mod audit_log;
mod category;
mod redactor;

pub use at_rest::AtRest;
pub use audit_log::{AuditLog, OutboundEntry, prepare_outbound, prepare_outbound_parts};
pub use category::Category;
pub use redactor::{Detection, PrivacyError, Redacted, RedactionSession, Redactor};
