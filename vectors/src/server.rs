use std::future::Future;

use qdrant_client::Qdrant;
use qdrant_client::qdrant::{
    Condition, CountPointsBuilder, CreateCollectionBuilder, CreateFieldIndexCollectionBuilder,
    DeletePointsBuilder, Distance, FieldType, Filter, KeywordIndexParamsBuilder, PointStruct,
    Query, QueryPointsBuilder, Range, SearchParamsBuilder, UpsertPointsBuilder,
    VectorParamsBuilder,
};

use crate::unit::{check_dimension, field, point_number};
use crate::{Result, UnitPayload, VectorError, VectorFilter, VectorHit, VectorPoint, VectorStore};

/// A Qdrant server or cluster through `qdrant-client`: one collection for
/// all tenants, `tenant` and the filter fields payload-indexed. Calls block
/// the caller; the gRPC client runs on a runtime of its own, so callers
/// inside or outside an async runtime use it alike.
pub struct QdrantStore {
    client: Qdrant,
    collection: String,
    dimension: usize,
    layout: CollectionLayout,
    runtime: tokio::runtime::Runtime,
}

/// How a collection `oncall` creates is spread over a cluster. An existing
/// collection is used with the settings it was made with.
#[derive(Clone, Copy, Debug)]
pub struct CollectionLayout {
    /// Shards the points are split into (Qdrant places them on nodes).
    pub shards: u32,
    /// Copies of each shard.
    pub replicas: u32,
}

impl Default for CollectionLayout {
    /// One shard, one copy: a single server.
    fn default() -> Self {
        CollectionLayout {
            shards: 1,
            replicas: 1,
        }
    }
}

fn server(error: impl std::fmt::Display) -> VectorError {
    VectorError::Server(error.to_string())
}

impl QdrantStore {
    /// Connects to `url` (gRPC, e.g. `http://localhost:6334`) and creates
    /// `collection` with its payload indexes, laid out as `layout`, when
    /// absent.
    pub fn connect(
        url: &str,
        api_key: Option<String>,
        collection: &str,
        dimension: usize,
        layout: CollectionLayout,
    ) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(server)?;
        let client = {
            let _entered = runtime.enter();
            Qdrant::from_url(url)
                .api_key(api_key)
                .build()
                .map_err(server)?
        };
        let store = QdrantStore {
            client,
            collection: collection.to_string(),
            dimension,
            layout,
            runtime,
        };
        store.block_on(store.ensure_collection())?;
        Ok(store)
    }

    fn block_on<F: Future + Send>(&self, future: F) -> F::Output
    where
        F::Output: Send,
    {
        std::thread::scope(|scope| {
            scope
                .spawn(|| self.runtime.block_on(future))
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }

    async fn ensure_collection(&self) -> Result<()> {
        let exists = self
            .client
            .collection_exists(&self.collection)
            .await
            .map_err(server)?;
        if exists {
            return Ok(());
        }
        self.client
            .create_collection(
                CreateCollectionBuilder::new(&self.collection)
                    .vectors_config(VectorParamsBuilder::new(
                        self.dimension as u64,
                        Distance::Cosine,
                    ))
                    .shard_number(self.layout.shards)
                    .replication_factor(self.layout.replicas)
                    // A write succeeds once one copy has it: ingest goes on
                    // with a replica down, as it must during an incident.
                    .write_consistency_factor(1),
            )
            .await
            .map_err(server)?;
        for name in field::KEYWORDS.iter().chain(&field::INTEGERS) {
            let kind = if field::INTEGERS.contains(name) {
                FieldType::Integer
            } else {
                FieldType::Keyword
            };
            let mut index =
                CreateFieldIndexCollectionBuilder::new(&self.collection, *name, kind).wait(true);
            if *name == field::TENANT {
                // Qdrant keeps each tenant's points together on disk.
                index =
                    index.field_index_params(KeywordIndexParamsBuilder::default().is_tenant(true));
            }
            self.client
                .create_field_index(index)
                .await
                .map_err(server)?;
        }
        Ok(())
    }
}

fn server_filter(filter: &VectorFilter) -> Result<Filter> {
    let filter = filter.checked()?;
    let mut must = vec![Condition::matches(field::TENANT, filter.tenant.clone())];
    for (name, values) in [
        (field::SERVICES, &filter.services),
        (field::KINDS, &filter.kinds),
        (field::SEVERITIES, &filter.severities),
    ] {
        if !values.is_empty() {
            must.push(Condition::matches(name, values.clone()));
        }
    }
    for bound in filter.time_bounds() {
        must.push(Condition::range(
            bound.field,
            Range {
                gte: bound.at_least,
                lt: bound.below,
                ..Range::default()
            },
        ));
    }
    Ok(Filter::must(must))
}

impl VectorStore for QdrantStore {
    fn upsert(&self, points: Vec<VectorPoint>) -> Result<()> {
        if points.is_empty() {
            return Ok(());
        }
        let mut list = Vec::with_capacity(points.len());
        for point in points {
            check_dimension(self.dimension, &point.vector)?;
            let payload: qdrant_client::Payload = serde_json::to_value(&point.payload)
                .map_err(server)?
                .try_into()
                .map_err(server)?;
            list.push(PointStruct::new(
                point_number(&point.key),
                point.vector,
                payload,
            ));
        }
        let request = UpsertPointsBuilder::new(&self.collection, list).wait(true);
        self.block_on(self.client.upsert_points(request))
            .map_err(server)?;
        Ok(())
    }

    fn search(
        &self,
        query: &[f32],
        filter: &VectorFilter,
        limit: usize,
        exact: bool,
    ) -> Result<Vec<VectorHit>> {
        let filter = server_filter(filter)?;
        if limit == 0 {
            return Ok(Vec::new());
        }
        let request = QueryPointsBuilder::new(&self.collection)
            .query(Query::new_nearest(query.to_vec()))
            .filter(filter)
            .params(SearchParamsBuilder::default().exact(exact))
            .limit(limit as u64)
            .with_payload(true);
        let response = self.block_on(self.client.query(request)).map_err(server)?;
        response
            .result
            .into_iter()
            .map(|point| {
                let payload: serde_json::Map<String, serde_json::Value> = point
                    .payload
                    .into_iter()
                    .map(|(k, v)| (k, v.into_json()))
                    .collect();
                let payload: UnitPayload =
                    serde_json::from_value(serde_json::Value::Object(payload)).map_err(server)?;
                Ok(VectorHit {
                    score: point.score,
                    payload,
                })
            })
            .collect()
    }

    fn count(&self, tenant: &str) -> Result<usize> {
        let request = CountPointsBuilder::new(&self.collection)
            .filter(server_filter(&VectorFilter::tenant(tenant))?)
            .exact(true);
        let response = self.block_on(self.client.count(request)).map_err(server)?;
        Ok(response.result.map_or(0, |r| r.count as usize))
    }

    fn delete(&self, filter: &VectorFilter) -> Result<()> {
        let request = DeletePointsBuilder::new(&self.collection)
            .points(server_filter(filter)?)
            .wait(true);
        self.block_on(self.client.delete_points(request))
            .map_err(server)?;
        Ok(())
    }

    /// Upserts already wait for the server's acknowledgement.
    fn flush(&self) -> Result<()> {
        Ok(())
    }

    /// The server indexes in the background.
    fn optimize(&self) -> Result<()> {
        Ok(())
    }
}
