//! The vector store: one trait, two engines behind one configuration switch.
//!
//! [`EdgeStore`] runs Qdrant's own engine in process (the `qdrant-edge`
//! crate): no server, data in a folder beside the text index. [`QdrantStore`]
//! talks to a Qdrant server or cluster through `qdrant-client`. Both keep
//! every tenant in one collection with `tenant` as an indexed payload field,
//! and both refuse a query without a tenant.
//!
//! Points are *units* of evidence, not single log lines: a template, a
//! window of related events, a group of auth failures, a config resource.
//! Each carries the ids of the records it stands for, so hits map back to
//! records.

mod edge;
mod error;
mod server;
mod unit;

pub use edge::EdgeStore;
pub use error::{Result, VectorError};
pub use server::{CollectionLayout, QdrantStore};
pub use unit::{UnitKind, UnitPayload, VectorFilter, VectorHit, VectorPoint, point_number};

/// Stores and searches unit vectors for many tenants.
pub trait VectorStore: Send + Sync {
    /// Adds or replaces points (by key).
    fn upsert(&self, points: Vec<VectorPoint>) -> Result<()>;
    /// The `limit` nearest points within the filter. `exact` skips the
    /// approximate index and compares against every vector, for measuring
    /// the index's recall.
    fn search(
        &self,
        query: &[f32],
        filter: &VectorFilter,
        limit: usize,
        exact: bool,
    ) -> Result<Vec<VectorHit>>;
    /// Points stored for a tenant.
    fn count(&self, tenant: &str) -> Result<usize>;
    /// Removes every point within the filter (retention).
    fn delete(&self, filter: &VectorFilter) -> Result<()>;
    /// Makes every upsert so far durable.
    fn flush(&self) -> Result<()>;
    /// Builds or refreshes the approximate index after bulk loads.
    fn optimize(&self) -> Result<()>;
}
