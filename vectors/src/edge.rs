use std::cell::Cell;
use std::ops::Deref;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::{Once, RwLock};

use qdrant_edge::external::ordered_float::OrderedFloat;
use qdrant_edge::{
    Condition, CountRequest, CreateIndex, DEFAULT_VECTOR_NAME, Distance, EdgeConfig, EdgeShard,
    EdgeVectorParamsBuilder, FieldCondition, FieldIndexOperations, Filter, JsonPath, Match,
    NamedQuery, PayloadFieldSchema, PayloadSchemaType, PointInsertOperations, PointOperations,
    PointStruct, QueryEnum, Range, SearchParams, SearchRequest, UpdateOperation, ValueVariants,
    WithPayloadInterface,
};
use serde::{Deserialize, Serialize};

use crate::unit::{check_dimension, field, point_number};
use crate::{Result, UnitPayload, VectorError, VectorFilter, VectorHit, VectorPoint, VectorStore};

/// How many times a write's own bytes must be free before the engine takes
/// it: its write-ahead log, the appendable segment's vectors and payload,
/// and their flushed copies each hold the points once.
const ROOM_FACTOR: u64 = 4;
/// Bytes a point costs the engine beyond its vector and payload (ids,
/// offsets, record headers), rounded up.
const POINT_OVERHEAD_BYTES: u64 = 128;

/// Records which vectors an index folder holds, so a run with another
/// model never mixes its vectors in.
const META_FILE: &str = "oncall-vectors.json";

#[derive(Serialize, Deserialize, PartialEq)]
struct IndexMeta {
    model: String,
    dimension: usize,
}

/// Qdrant's engine in process (`qdrant-edge`): one shard in a folder, all
/// tenants in it with `tenant` as an indexed payload field. Writes take the
/// lock exclusively; searches share it.
pub struct EdgeStore {
    dir: PathBuf,
    dimension: usize,
    shard: RwLock<Shard>,
}

/// An [`EdgeShard`] whose flushes fail as errors. qdrant-edge panics when a
/// flush fails (disk full, read-only volume), and flushes again when the
/// shard is dropped; here both run under `catch_unwind`, so a full disk is
/// a clear error and the store's own commits keep it consistent.
struct Shard(Option<EdgeShard>);

impl Shard {
    fn flush(&self) -> Result<()> {
        flush_guarded(|| self.deref().flush())
    }
}

impl Deref for Shard {
    type Target = EdgeShard;

    fn deref(&self) -> &EdgeShard {
        self.0
            .as_ref()
            .expect("the shard is only taken when dropped")
    }
}

impl Drop for Shard {
    fn drop(&mut self) {
        if let Some(shard) = self.0.take()
            && let Err(error) = flush_guarded(move || drop(shard))
        {
            tracing::error!(%error, "the vector index was not flushed on close; its last commit stands");
        }
    }
}

thread_local! {
    static FLUSHING: Cell<bool> = const { Cell::new(false) };
}

/// Wraps the panic hook, once, so that a flush's panic is not also printed
/// as a crash; every other panic, on any thread, is reported as before.
/// Called when a store opens: the hook cannot be changed while a thread is
/// panicking, which is when a shard may first be dropped.
fn quiet_flush_panics() {
    static QUIET_FLUSHES: Once = Once::new();
    QUIET_FLUSHES.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !FLUSHING.get() {
                previous(info);
            }
        }));
    });
}

/// Runs a shard flush, turning its panic into an error.
fn flush_guarded(flush: impl FnOnce()) -> Result<()> {
    FLUSHING.set(true);
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(flush));
    FLUSHING.set(false);
    outcome.map_err(|payload| {
        let text = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("unknown failure");
        // The engine's error carries a captured backtrace: noise to a user.
        let text = text.split(", backtrace:").next().unwrap_or(text);
        engine(format!("flush failed: {text}"))
    })
}

fn engine(error: impl std::fmt::Display) -> VectorError {
    VectorError::Engine(error.to_string())
}

fn key(name: &str) -> Result<JsonPath> {
    JsonPath::try_from(name).map_err(|_| engine(format!("bad payload key {name}")))
}

/// What one point of `dimension` components and `payload` costs on disk.
fn point_bytes(dimension: usize, payload: &serde_json::Value) -> u64 {
    let payload_bytes = payload.to_string().len();
    (dimension * std::mem::size_of::<f32>() + payload_bytes) as u64 + POINT_OVERHEAD_BYTES
}

/// Allocates the blocks of every file under `dir` that has fewer than its
/// length (a file sized with `set_len` has none), so that writing through
/// its memory map cannot meet a full disk. Files the engine removes
/// meanwhile are skipped.
fn back_mapped_files(dir: &Path) -> std::io::Result<()> {
    use fs4::FileExt;
    use std::os::unix::fs::MetadataExt;
    let entries = match std::fs::read_dir(dir) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        entries => entries?,
    };
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        let Ok(meta) = entry.metadata() else { continue };
        if meta.is_dir() {
            back_mapped_files(&path)?;
        } else if meta.is_file() && meta.blocks().saturating_mul(512) < meta.len() {
            match std::fs::OpenOptions::new().write(true).open(&path) {
                Ok(file) => FileExt::allocate(&file, meta.len())?,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => return Err(error),
            }
        }
    }
    Ok(())
}

/// A full disk as the error the operating system gives for one.
fn no_room(dir: &Path, available: u64, needed: u64) -> VectorError {
    VectorError::Io {
        path: dir.to_path_buf(),
        source: std::io::Error::new(
            std::io::ErrorKind::StorageFull,
            format!(
                "No space left on device: {available} bytes free, this write needs about {needed}"
            ),
        ),
    }
}

impl EdgeStore {
    /// Refuses a write that the disk under the index cannot hold. The
    /// engine writes through memory maps of files it sizes without
    /// allocating them (its log among them), and a full disk under a mapped
    /// page kills the process with SIGBUS rather than returning an error;
    /// so every file of the index gets its blocks first (a full disk then
    /// fails here, as an error), and the write's own bytes must be free.
    fn ensure_room(&self, needed: u64) -> Result<()> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| VectorError::Io { path, source }
        };
        back_mapped_files(&self.dir).map_err(io(&self.dir))?;
        let available = fs4::available_space(&self.dir).map_err(io(&self.dir))?;
        if available < needed {
            return Err(no_room(&self.dir, available, needed));
        }
        Ok(())
    }

    /// Opens the index in `dir`, creating it when absent, for vectors of
    /// `model` with `dimension` components.
    pub fn open(dir: &Path, model: &str, dimension: usize) -> Result<Self> {
        let io = |source| VectorError::Io {
            path: dir.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let wanted = IndexMeta {
            model: model.to_string(),
            dimension,
        };
        let meta_path = dir.join(META_FILE);
        match std::fs::read(&meta_path) {
            Ok(bytes) => {
                let stored: IndexMeta = serde_json::from_slice(&bytes).map_err(engine)?;
                if stored != wanted {
                    return Err(VectorError::ModelMismatch {
                        dir: dir.to_path_buf(),
                        stored: format!("{} ({} dimensions)", stored.model, stored.dimension),
                        wanted: format!("{model} ({dimension} dimensions)"),
                    });
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let text = serde_json::to_vec(&wanted).map_err(engine)?;
                std::fs::write(&meta_path, text).map_err(io)?;
            }
            Err(e) => return Err(io(e)),
        }
        let mut config = EdgeConfig::default();
        config.vectors.insert(
            DEFAULT_VECTOR_NAME.to_string(),
            EdgeVectorParamsBuilder::new(dimension, Distance::Cosine).build(),
        );
        quiet_flush_panics();
        let shard = Shard(Some(EdgeShard::load(dir, Some(config)).map_err(engine)?));
        let indexed = shard.info().payload_schema;
        for name in field::KEYWORDS.iter().chain(&field::INTEGERS) {
            let path = key(name)?;
            if indexed.contains_key(&path) {
                continue;
            }
            let schema = if field::INTEGERS.contains(name) {
                PayloadSchemaType::Integer
            } else {
                PayloadSchemaType::Keyword
            };
            shard
                .update(UpdateOperation::FieldIndexOperation(
                    FieldIndexOperations::CreateIndex(CreateIndex {
                        field_name: path,
                        field_schema: Some(PayloadFieldSchema::FieldType(schema)),
                    }),
                ))
                .map_err(engine)?;
        }
        Ok(EdgeStore {
            dir: dir.to_path_buf(),
            dimension,
            shard: RwLock::new(shard),
        })
    }

    /// The index folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

fn any_of(name: &str, values: &[String]) -> Result<Option<Condition>> {
    if values.is_empty() {
        return Ok(None);
    }
    let alternatives = values
        .iter()
        .map(|value| {
            Ok(Condition::Field(FieldCondition::new_match(
                key(name)?,
                Match::new_value(ValueVariants::String(value.clone())),
            )))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(Condition::Filter(Filter {
        should: Some(alternatives),
        min_should: None,
        must: None,
        must_not: None,
    })))
}

fn range(name: &str, bounds: Range<OrderedFloat<f64>>) -> Result<Condition> {
    Ok(Condition::Field(FieldCondition::new_range(
        key(name)?,
        bounds,
    )))
}

fn edge_filter(filter: &VectorFilter) -> Result<Filter> {
    let filter = filter.checked()?;
    let mut must = vec![Condition::Field(FieldCondition::new_match(
        key(field::TENANT)?,
        Match::new_value(ValueVariants::String(filter.tenant.clone())),
    ))];
    for (name, values) in [
        (field::SERVICES, &filter.services),
        (field::KINDS, &filter.kinds),
        (field::SEVERITIES, &filter.severities),
    ] {
        must.extend(any_of(name, values)?);
    }
    for bound in filter.time_bounds() {
        must.push(range(
            bound.field,
            Range {
                gte: bound.at_least.map(OrderedFloat),
                lt: bound.below.map(OrderedFloat),
                gt: None,
                lte: None,
            },
        )?);
    }
    Ok(Filter {
        should: None,
        min_should: None,
        must: Some(must),
        must_not: None,
    })
}

impl VectorStore for EdgeStore {
    fn upsert(&self, points: Vec<VectorPoint>) -> Result<()> {
        if points.is_empty() {
            return Ok(());
        }
        let mut list = Vec::with_capacity(points.len());
        let mut bytes = 0;
        for point in points {
            check_dimension(self.dimension, &point.vector)?;
            let payload = serde_json::to_value(&point.payload).map_err(engine)?;
            bytes += point_bytes(point.vector.len(), &payload);
            list.push(PointStruct::new(point_number(&point.key), point.vector, payload).into());
        }
        self.ensure_room(bytes.saturating_mul(ROOM_FACTOR))?;
        let shard = self.shard.write().unwrap_or_else(|p| p.into_inner());
        shard
            .update(UpdateOperation::PointOperation(
                PointOperations::UpsertPoints(PointInsertOperations::PointsList(list)),
            ))
            .map_err(engine)
    }

    fn search(
        &self,
        query: &[f32],
        filter: &VectorFilter,
        limit: usize,
        exact: bool,
    ) -> Result<Vec<VectorHit>> {
        let filter = edge_filter(filter)?;
        check_dimension(self.dimension, query)?;
        if limit == 0 {
            return Ok(Vec::new());
        }
        let shard = self.shard.read().unwrap_or_else(|p| p.into_inner());
        let found = shard
            .search(SearchRequest {
                query: QueryEnum::Nearest(NamedQuery {
                    query: query.to_vec().into(),
                    using: None,
                }),
                filter: Some(filter),
                params: Some(SearchParams {
                    exact,
                    ..SearchParams::default()
                }),
                limit,
                offset: 0,
                with_payload: Some(WithPayloadInterface::Bool(true)),
                with_vector: None,
                score_threshold: None,
            })
            .map_err(engine)?;
        found
            .into_iter()
            .map(|point| {
                let payload = point
                    .payload
                    .ok_or_else(|| engine("a point without payload"))?;
                let payload: UnitPayload =
                    serde_json::from_value(serde_json::Value::Object(payload.0)).map_err(engine)?;
                Ok(VectorHit {
                    score: point.score,
                    payload,
                })
            })
            .collect()
    }

    fn count(&self, tenant: &str) -> Result<usize> {
        let filter = edge_filter(&VectorFilter::tenant(tenant))?;
        let shard = self.shard.read().unwrap_or_else(|p| p.into_inner());
        shard
            .count(CountRequest {
                filter: Some(filter),
                exact: true,
            })
            .map_err(engine)
    }

    fn delete(&self, filter: &VectorFilter) -> Result<()> {
        let filter = edge_filter(filter)?;
        let shard = self.shard.write().unwrap_or_else(|p| p.into_inner());
        shard
            .update(UpdateOperation::PointOperation(
                PointOperations::DeletePointsByFilter(filter),
            ))
            .map_err(engine)?;
        Ok(())
    }

    fn flush(&self) -> Result<()> {
        let shard = self.shard.write().unwrap_or_else(|p| p.into_inner());
        shard.flush()
    }

    fn optimize(&self) -> Result<()> {
        let shard = self.shard.write().unwrap_or_else(|p| p.into_inner());
        shard.optimize().map_err(engine)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_flush_is_an_error_without_the_engines_backtrace() {
        quiet_flush_panics();
        let error = flush_guarded(|| {
            panic!("segments flushed: No space left on device, backtrace: Some(frames)")
        })
        .expect_err("the panic is caught");
        assert_eq!(
            error.to_string(),
            engine("flush failed: segments flushed: No space left on device").to_string()
        );
        assert!(!FLUSHING.get(), "the flag is reset for the next panic");
        assert!(flush_guarded(|| ()).is_ok());
    }

    #[test]
    fn a_write_the_disk_cannot_hold_is_refused_as_a_full_disk() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = EdgeStore::open(dir.path(), "test", 4).expect("open");
        let error = store
            .ensure_room(u64::MAX)
            .expect_err("no disk is that large");
        assert!(
            error.to_string().contains("No space left on device"),
            "{error}"
        );
        store.ensure_room(1).expect("a byte fits");
        let sparse = dir.path().join("sparse.bin");
        std::fs::File::create(&sparse)
            .and_then(|f| f.set_len(1 << 20))
            .expect("a sparse file");
        back_mapped_files(dir.path()).expect("blocks allocated");
        let meta = std::fs::metadata(&sparse).expect("metadata");
        assert!(
            std::os::unix::fs::MetadataExt::blocks(&meta) * 512 >= 1 << 20,
            "the sparse file is backed"
        );
        let payload = serde_json::json!({"tenant": "t"});
        assert_eq!(
            point_bytes(4, &payload),
            16 + payload.to_string().len() as u64 + POINT_OVERHEAD_BYTES
        );
    }
}
