//! What has been ingested (sources, counts, bad input with reasons) and
//! uploads: a file streamed to the data directory under a sanitized name,
//! then ingested in the background, one ingest at a time, with progress.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use askama::Template;
use axum::Json;
use axum::body::Body;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use ingest::{BadInput, ReadOptions, SourceKind};
use retrieval::Filters;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;
use utoipa::{IntoParams, ToSchema};

use crate::api_error::ApiError;
use crate::auth::Caller;
use crate::pages::SourcesPage;
use crate::state::AppState;

/// Largest file accepted by upload.
pub(crate) const MAX_UPLOAD_BYTES: u64 = 256 * 1024 * 1024;
const MAX_NAME_CHARS: usize = 100;
/// Bad inputs listed; the quarantine file has them all.
const MAX_BAD_LISTED: usize = 50;

/// One upload and how its ingest is going.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub(crate) struct UploadJob {
    /// Tenant it was uploaded for.
    #[serde(skip)]
    pub tenant: Arc<str>,
    /// Job id.
    pub id: String,
    /// The file's name as stored.
    pub name: String,
    /// Bytes received.
    pub bytes: u64,
    /// queued, ingesting, done or failed.
    pub status: String,
    /// Records written so far.
    pub records: u64,
    /// Bad inputs found so far.
    pub bad: u64,
    /// Why it failed.
    pub error: Option<String>,
    /// When it was received.
    pub received: DateTime<Utc>,
}

/// Upload jobs of this server's life, and the lock that keeps ingests one
/// at a time (each commit carries the whole ingest state).
#[derive(Default)]
pub(crate) struct Uploads {
    jobs: Mutex<Vec<UploadJob>>,
    received: AtomicU64,
    ingest: tokio::sync::Mutex<()>,
}

/// Finished uploads remembered for the sources page; older ones are
/// forgotten (their records stay), so a long-lived server stays bounded.
const FINISHED_JOBS_KEPT: usize = 200;

impl Uploads {
    /// Records a new job and forgets the oldest finished ones past
    /// [`FINISHED_JOBS_KEPT`].
    fn add(&self, job: UploadJob) {
        let mut jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        jobs.push(job);
        let finished = |job: &UploadJob| job.status == "done" || job.status == "failed";
        let mut excess = jobs
            .iter()
            .filter(|j| finished(j))
            .count()
            .saturating_sub(FINISHED_JOBS_KEPT);
        jobs.retain(|job| {
            let forget = excess > 0 && finished(job);
            excess -= usize::from(forget);
            !forget
        });
    }

    fn update(&self, id: &str, change: impl FnOnce(&mut UploadJob)) {
        let mut jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(job) = jobs.iter_mut().find(|j| j.id == id) {
            change(job);
        }
    }

    /// `tenant`'s uploads, newest first.
    pub(crate) fn list(&self, tenant: &str) -> Vec<UploadJob> {
        let jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        jobs.iter()
            .rev()
            .filter(|job| &*job.tenant == tenant)
            .cloned()
            .collect()
    }
}

/// One ingested source.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub(crate) struct SourceRow {
    /// Path as read.
    pub path: String,
    /// Lines consumed.
    pub lines: u64,
    /// Bytes consumed.
    pub bytes: u64,
    /// Bad inputs quarantined from it.
    pub bad: usize,
}

/// Everything the sources page shows.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub(crate) struct SourcesView {
    /// Records per source kind.
    pub kinds: Vec<(String, usize)>,
    /// Records in all.
    pub records: usize,
    /// Sources with their checkpoints.
    pub sources: Vec<SourceRow>,
    /// The latest bad inputs, newest first.
    #[schema(value_type = Vec<Object>)]
    pub bad: Vec<BadInput>,
    /// Bad inputs in all.
    pub bad_total: usize,
    /// Uploads, newest first.
    pub uploads: Vec<UploadJob>,
}

/// Where `tenant`'s uploads are kept.
fn upload_dir(home: &Path, tenant: &str) -> PathBuf {
    home.join("uploads").join(retrieval::tenant_folder(tenant))
}

async fn sources_view(state: AppState, tenant: Arc<str>) -> Result<SourcesView, ApiError> {
    let uploads = state.uploads.list(&tenant);
    tokio::task::spawn_blocking(move || {
        let text = state.stores.text();
        text.refresh()?;
        let mut kinds = Vec::new();
        for kind in SourceKind::ALL {
            let filters = Filters {
                kinds: vec![kind],
                ..Filters::default()
            };
            kinds.push((kind.as_str().to_string(), text.count(&tenant, &filters)?));
        }
        let records = text.count(&tenant, &Filters::default())?;
        let bad = retrieval::quarantined(&retrieval::quarantine_file(&state.home, &tenant))
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let mut bad_by_source: BTreeMap<&str, usize> = BTreeMap::new();
        for item in &bad {
            *bad_by_source
                .entry(item.origin.source.as_str())
                .or_default() += 1;
        }
        // Checkpoints are kept per tenant: each sees its own sources, named
        // relative to the data directory when they sit in it, and by file
        // name alone elsewhere (the server's layout is not the caller's
        // business).
        let home = std::fs::canonicalize(state.home.as_path())
            .unwrap_or_else(|_| state.home.to_path_buf());
        let sources = text
            .ingest_state()?
            .checkpoints
            .iter()
            .filter_map(|(key, checkpoint)| {
                let (owner, path) = ingest::split_checkpoint_key(key)?;
                (owner == &*tenant).then(|| {
                    let shown = shown_path(Path::new(path), &home);
                    SourceRow {
                        bad: file_name_bad(&bad_by_source, path),
                        path: shown,
                        lines: checkpoint.line,
                        bytes: checkpoint.offset,
                    }
                })
            })
            .collect();
        let bad_total = bad.len();
        let latest = bad.into_iter().rev().take(MAX_BAD_LISTED).collect();
        Ok(SourcesView {
            kinds,
            records,
            sources,
            bad: latest,
            bad_total,
            uploads,
        })
    })
    .await?
}

/// How a source path is shown: relative to the data directory `home`
/// when inside it, else `…/` and its file name.
fn shown_path(path: &Path, home: &Path) -> String {
    match path.strip_prefix(home) {
        Ok(inside) => inside.to_string_lossy().into_owned(),
        Err(_) => format!(
            "…/{}",
            path.file_name().unwrap_or_default().to_string_lossy()
        ),
    }
}

/// Bad inputs name their source relative to what was ingested; checkpoints
/// hold canonical paths: match on the path's ending.
fn file_name_bad(bad: &BTreeMap<&str, usize>, path: &str) -> usize {
    bad.iter()
        .filter(|(source, _)| path == **source || path.ends_with(&format!("/{source}")))
        .map(|(_, count)| count)
        .sum()
}

/// Ingested sources, record counts, bad input and uploads.
#[utoipa::path(get, path = "/api/sources", responses((status = 200, body = SourcesView)))]
pub(crate) async fn sources_index(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<SourcesView>, ApiError> {
    Ok(Json(sources_view(state, caller.tenant).await?))
}

/// The sources page.
pub(crate) async fn sources_page(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Response, ApiError> {
    let view = sources_view(state, caller.tenant).await?;
    Ok(Html(
        SourcesPage {
            view,
            max_upload_mib: MAX_UPLOAD_BYTES / (1024 * 1024),
        }
        .render()?,
    )
    .into_response())
}

/// `name`: the uploaded file's name.
#[derive(Deserialize, IntoParams)]
pub(crate) struct UploadParams {
    /// File name; sanitized before use.
    name: String,
}

/// A name safe to create in the uploads directory: the last path
/// component, letters, digits, `.`, `-` and `_` only, no leading dot.
pub(crate) fn sanitized_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(MAX_NAME_CHARS)
        .collect();
    let cleaned = cleaned.trim_start_matches('.');
    if cleaned.is_empty() {
        "upload".to_string()
    } else {
        cleaned.to_string()
    }
}

/// Receives a file (the raw request body) and ingests it in the background.
#[utoipa::path(post, path = "/api/uploads", params(UploadParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 202, body = UploadJob), (status = 413, description = "larger than the limit")))]
pub(crate) async fn uploads_create(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<UploadParams>,
    body: Body,
) -> Result<Response, ApiError> {
    let name = sanitized_name(&params.name);
    let received = Utc::now();
    let id = format!(
        "u-{}-{}",
        received.timestamp_millis(),
        state.uploads.received.fetch_add(1, Ordering::Relaxed) + 1
    );
    let dir = upload_dir(&state.home, &caller.tenant);
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let room = MAX_TENANT_UPLOAD_BYTES.saturating_sub(folder_bytes(&dir).await);
    let incoming = Incoming(Some(dir.join(format!("{INCOMING_PREFIX}{id}"))));
    // A client that goes away mid-body drops this future: the guard
    // removes the partial file then too.
    let bytes = receive(body, incoming.path(), room).await?;
    let job = UploadJob {
        tenant: caller.tenant.clone(),
        id: id.clone(),
        name: name.clone(),
        bytes,
        status: "queued".into(),
        records: 0,
        bad: 0,
        error: None,
        received,
    };
    state.uploads.add(job.clone());
    tokio::spawn(ingest_upload(
        state,
        caller.tenant,
        id,
        incoming.keep(),
        dir.join(name),
    ));
    Ok((StatusCode::ACCEPTED, Json(job)).into_response())
}

/// Name prefix of an upload still being received.
const INCOMING_PREFIX: &str = ".incoming-";
/// What one tenant's uploads may hold on disk in all.
const MAX_TENANT_UPLOAD_BYTES: u64 = 4 * 1024 * 1024 * 1024;

/// An upload being received: removed when dropped, unless kept.
struct Incoming(Option<PathBuf>);

impl Incoming {
    fn path(&self) -> &Path {
        self.0.as_deref().unwrap_or(Path::new(""))
    }

    /// The received file, now the ingest's to move.
    fn keep(mut self) -> PathBuf {
        self.0.take().unwrap_or_default()
    }
}

impl Drop for Incoming {
    fn drop(&mut self) {
        if let Some(path) = self.0.take()
            && let Err(error) = std::fs::remove_file(&path)
            && error.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(%error, path = %path.display(), "partial upload not removed");
        }
    }
}

/// Removes the partial uploads an earlier run left (it stopped mid-body).
pub(crate) fn sweep_incoming(home: &Path) {
    let Ok(tenants) = std::fs::read_dir(home.join("uploads")) else {
        return;
    };
    for tenant in tenants.flatten() {
        for file in std::fs::read_dir(tenant.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            if file
                .file_name()
                .to_string_lossy()
                .starts_with(INCOMING_PREFIX)
            {
                let removed = std::fs::remove_file(file.path());
                tracing::info!(path = %file.path().display(), ok = removed.is_ok(), "partial upload from an earlier run removed");
            }
        }
    }
}

/// Bytes of the files in `dir` (0 when it cannot be read).
async fn folder_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    if let Ok(mut entries) = tokio::fs::read_dir(dir).await {
        while let Ok(Some(entry)) = entries.next_entry().await {
            if let Ok(meta) = entry.metadata().await {
                total += meta.len();
            }
        }
    }
    total
}

/// Receives `body` into `path` (owner-only), refusing more than one
/// upload's limit or the tenant's `room` left.
async fn receive(body: Body, path: &Path, room: u64) -> Result<u64, ApiError> {
    let internal = |e: std::io::Error| ApiError::Internal(e.to_string());
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(path).await.map_err(internal)?;
    let mut stream = body.into_data_stream();
    let mut bytes = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("upload interrupted: {e}")))?;
        bytes += chunk.len() as u64;
        if bytes > MAX_UPLOAD_BYTES {
            return Err(ApiError::TooLarge(format!(
                "uploads are limited to {} MiB",
                MAX_UPLOAD_BYTES / (1024 * 1024)
            )));
        }
        if bytes > room {
            return Err(ApiError::TooLarge(format!(
                "this tenant's uploads are limited to {} GiB in all",
                MAX_TENANT_UPLOAD_BYTES / (1024 * 1024 * 1024)
            )));
        }
        file.write_all(&chunk).await.map_err(internal)?;
    }
    file.sync_all().await.map_err(internal)?;
    Ok(bytes)
}

async fn ingest_upload(
    state: AppState,
    tenant: Arc<str>,
    id: String,
    incoming: PathBuf,
    target: PathBuf,
) {
    let _one_at_a_time = state.uploads.ingest.lock().await;
    state
        .uploads
        .update(&id, |job| job.status = "ingesting".into());
    let worker = state.clone();
    let job = id.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        std::fs::rename(&incoming, &target).map_err(|e| e.to_string())?;
        retrieval::ingest_files(
            &worker.stores,
            &retrieval::quarantine_file(&worker.home, &tenant),
            ReadOptions {
                max_decompressed_bytes: Some(worker.max_upload_expansion),
                ..ReadOptions::new(&tenant)
            },
            std::slice::from_ref(&target),
            worker.at_rest.as_deref(),
            &mut |totals| {
                worker.uploads.update(&job, |j| {
                    j.records = totals.records;
                    j.bad = totals.bad;
                });
            },
        )
        .map_err(|e| e.to_string())
        .inspect(|_| {
            // Redacted at rest: the raw upload is not kept beside it.
            if worker.at_rest.is_some()
                && let Err(error) = std::fs::remove_file(&target)
            {
                tracing::warn!(%error, "raw upload not removed after redaction at rest");
            }
        })
    })
    .await
    .map_err(|e| e.to_string())
    .and_then(|result| result);
    state.uploads.update(&id, |job| match outcome {
        Ok(summary) => {
            job.status = "done".into();
            job.records = summary.records as u64;
            job.bad = summary.bad.len() as u64;
        }
        Err(error) => {
            tracing::warn!(%error, upload = %job.name, "upload ingest failed");
            job.status = "failed".into();
            job.error = Some(error);
        }
    });
}

/// One upload's progress.
#[utoipa::path(get, path = "/api/uploads/{id}", params(("id" = String, Path, description = "upload id")),
    responses((status = 200, body = UploadJob), (status = 404, description = "no such upload")))]
pub(crate) async fn upload_show(
    State(state): State<AppState>,
    caller: Caller,
    UrlPath(id): UrlPath<String>,
) -> Result<Json<UploadJob>, ApiError> {
    state
        .uploads
        .list(&caller.tenant)
        .into_iter()
        .find(|job| job.id == id)
        .map(Json)
        .ok_or(ApiError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(number: usize, status: &str) -> UploadJob {
        UploadJob {
            tenant: Arc::from("acme"),
            id: format!("u-{number}"),
            name: "app.log".into(),
            bytes: 1,
            status: status.into(),
            records: 0,
            bad: 0,
            error: None,
            received: Utc::now(),
        }
    }

    #[test]
    fn only_the_newest_finished_uploads_are_remembered() {
        let uploads = Uploads::default();
        uploads.add(job(0, "ingesting"));
        for number in 1..=FINISHED_JOBS_KEPT + 5 {
            uploads.add(job(number, "done"));
        }
        let listed = uploads.list("acme");
        assert_eq!(
            listed.len(),
            FINISHED_JOBS_KEPT + 1,
            "the running one and the newest finished"
        );
        assert_eq!(listed[0].id, format!("u-{}", FINISHED_JOBS_KEPT + 5));
        assert!(
            listed.iter().any(|j| j.id == "u-0"),
            "unfinished jobs are never forgotten"
        );
        assert!(
            !listed.iter().any(|j| j.id == "u-1"),
            "the oldest finished went"
        );
    }

    /// Issue 19, finding 15: `/api/sources` showed absolute server paths.
    #[test]
    fn sources_outside_the_data_directory_show_only_their_name() {
        let home = Path::new("/srv/oncall");
        assert_eq!(
            shown_path(Path::new("/srv/oncall/uploads/acme/a.log"), home),
            "uploads/acme/a.log"
        );
        assert_eq!(
            shown_path(Path::new("/var/log/secret-team/gateway.log"), home),
            "…/gateway.log"
        );
    }

    #[test]
    fn upload_names_cannot_leave_the_uploads_directory() {
        assert_eq!(sanitized_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitized_name("..\\..\\boot.ini"), "boot.ini");
        assert_eq!(sanitized_name(".."), "upload");
        assert_eq!(sanitized_name(".bashrc"), "bashrc");
        assert_eq!(
            sanitized_name("okta log (1).jsonl.gz"),
            "okta_log__1_.jsonl.gz"
        );
        assert_eq!(sanitized_name("a\0b"), "a_b");
        assert_eq!(sanitized_name(&"x".repeat(500)).len(), MAX_NAME_CHARS);
    }

    #[test]
    fn partial_uploads_of_an_earlier_run_are_swept_and_finished_ones_kept() {
        let home = tempfile::tempdir().expect("tempdir");
        let folder = home.path().join("uploads").join("acme");
        std::fs::create_dir_all(&folder).expect("dir");
        std::fs::write(folder.join(".incoming-u-1-1"), "partial").expect("write");
        std::fs::write(folder.join("done.log"), "whole").expect("write");
        sweep_incoming(home.path());
        assert!(!folder.join(".incoming-u-1-1").exists());
        assert!(folder.join("done.log").exists());
    }
}
