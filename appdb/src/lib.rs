//! Application state: the questions asked, their answers and the feedback
//! given on them, per tenant. SQLite by default (a file in the data
//! directory, no server), PostgreSQL when the URL names one; both through
//! the same queries on sqlx's `Any` driver, with the schema kept by
//! migrations that run on open.
//!
//! Invariant: every read and write names its tenant, and no query returns
//! a row of another tenant.

use std::borrow::Cow;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyPool, Row};

/// What can go wrong with the state database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// A query or the connection failed.
    #[error("state database: {0}")]
    Sql(#[from] sqlx::Error),
    /// The schema could not be brought up to date.
    #[error("state database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The row does not exist for this tenant.
    #[error("not found")]
    NotFound,
}

type Result<T, E = DbError> = std::result::Result<T, E>;

/// The schema, oldest first. A shipped migration is never edited: a
/// change is a new file.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "questions and feedback",
        include_str!("../migrations/0001_questions_and_feedback.sql"),
    ),
    (
        2,
        "tokens, channels and chat threads",
        include_str!("../migrations/0002_tokens_channels_threads.sql"),
    ),
    (
        3,
        "channel claims",
        include_str!("../migrations/0003_channel_claims.sql"),
    ),
];

/// How long a channel claim code may wait to be sent from its channel.
pub const CLAIM_MINUTES: i64 = 15;

/// What a credential may do; each role includes the ones before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads: pages, search, timelines, metrics.
    Viewer,
    /// Also asks, gives feedback and uploads.
    Oncall,
    /// Also manages tokens and channels.
    Admin,
}

impl Role {
    /// Every role, least first.
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Oncall, Role::Admin];

    /// The role's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Oncall => "oncall",
            Role::Admin => "admin",
        }
    }

    /// The role named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        Role::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

/// An API token as stored (never its secret).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TokenRow {
    /// Id (`t-…`), for listing and revoking.
    pub id: String,
    /// Tenant it acts for.
    pub tenant: String,
    /// Label given at creation.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The longest a token may live: ten years. Longer lifetimes are refused,
/// not clamped, so a typo is not a token that never expires.
pub const MAX_TOKEN_DAYS: u32 = 3650;

/// When a token made now expires after `days`: `None` for 0 days or more
/// than [`MAX_TOKEN_DAYS`].
pub fn token_expiry(days: u32) -> Option<DateTime<Utc>> {
    if days == 0 || days > MAX_TOKEN_DAYS {
        return None;
    }
    Utc::now().checked_add_signed(chrono::Duration::days(i64::from(days)))
}

/// A chat channel's tenant and default service scope.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChannelRow {
    /// `platform:workspace:channel`.
    pub channel: String,
    /// Tenant its questions are answered for.
    pub tenant: String,
    /// Services its answers are scoped to by default (empty: all).
    pub services: Vec<String>,
}

/// A question just answered, to be kept.
#[derive(Clone, Debug)]
pub struct NewQuestion<'a> {
    /// Tenant that asked.
    pub tenant: &'a str,
    /// When it was asked.
    pub asked_at: DateTime<Utc>,
    /// The question.
    pub question: &'a str,
    /// Answer mode (`evidence` or `llm`).
    pub mode: &'a str,
    /// The root cause stated, if any.
    pub root_cause: Option<&'a str>,
    /// The whole answer as JSON.
    pub answer_json: &'a str,
    /// Milliseconds until the first answer was shown.
    pub first_answer_ms: u64,
    /// Milliseconds until the final answer.
    pub total_ms: u64,
    /// LLM calls made.
    pub llm_calls: u64,
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Completion tokens.
    pub completion_tokens: u64,
}

/// A kept question with the feedback it received.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QuestionRow {
    /// Id (`q-…`).
    pub id: String,
    /// When it was asked.
    pub asked_at: DateTime<Utc>,
    /// The question.
    pub question: String,
    /// Answer mode.
    pub mode: String,
    /// The root cause stated, if any.
    pub root_cause: Option<String>,
    /// Milliseconds until the first answer was shown.
    pub first_answer_ms: u64,
    /// Milliseconds until the final answer.
    pub total_ms: u64,
    /// LLM calls made.
    pub llm_calls: u64,
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Completion tokens.
    pub completion_tokens: u64,
    /// "Useful" votes.
    pub useful: u64,
    /// "Not useful" votes.
    pub not_useful: u64,
    /// The whole answer as JSON.
    #[serde(skip)]
    pub answer_json: String,
}

/// One piece of feedback.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FeedbackRow {
    /// The question it is about.
    pub question_id: String,
    /// The question's text.
    pub question: String,
    /// Whether the answer helped.
    pub useful: bool,
    /// Free text, possibly empty.
    pub comment: String,
    /// When it was given.
    pub given_at: DateTime<Utc>,
}

/// Which engine holds the state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// An SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// `path` as the path of a `sqlite://` URL: `%`, `?` and `#` would end
/// or escape it, so they are percent-encoded (the driver decodes them).
fn url_path(path: &Path) -> String {
    let mut out = String::new();
    for c in path.display().to_string().chars() {
        match c {
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3F"),
            '#' => out.push_str("%23"),
            other => out.push(other),
        }
    }
    out
}

/// The state database. Cloning shares the pool.
#[derive(Clone, Debug)]
pub struct AppDb {
    pool: AnyPool,
    backend: Backend,
}

impl AppDb {
    /// Opens (creating when missing) the SQLite file at `path`.
    pub async fn open_file(path: &Path) -> Result<Self> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(sqlx::Error::Io)?;
        }
        Self::connect(&format!("sqlite://{}?mode=rwc", url_path(path))).await
    }

    /// Connects to `url` (`sqlite://…` or `postgres://…`) and migrates.
    pub async fn connect(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        };
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .connect(url)
            .await?;
        if backend == Backend::Sqlite {
            // Readers do not wait for the writer; kept in the file.
            sqlx::query("PRAGMA journal_mode=WAL")
                .execute(&pool)
                .await?;
        }
        migrator().run(&pool).await?;
        Ok(AppDb { pool, backend })
    }

    /// The engine behind this handle.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Keeps an answered question; returns its id.
    pub async fn record_question(&self, question: &NewQuestion<'_>) -> Result<String> {
        let id = new_id("q", question.tenant, question.question);
        sqlx::query(
            "INSERT INTO questions (id, tenant, asked_at, question, mode, root_cause, answer_json, \
             first_answer_ms, total_ms, llm_calls, prompt_tokens, completion_tokens) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&id)
        .bind(question.tenant)
        .bind(question.asked_at.timestamp_millis())
        .bind(question.question)
        .bind(question.mode)
        .bind(question.root_cause)
        .bind(question.answer_json)
        .bind(to_i64(question.first_answer_ms))
        .bind(to_i64(question.total_ms))
        .bind(to_i64(question.llm_calls))
        .bind(to_i64(question.prompt_tokens))
        .bind(to_i64(question.completion_tokens))
        .execute(&self.pool)
        .await?;
        Ok(id)
    }

    /// The answer kept for question `id` of `tenant`, as JSON.
    pub async fn answer_json(&self, tenant: &str, id: &str) -> Result<String> {
        let row = sqlx::query("SELECT answer_json FROM questions WHERE tenant = $1 AND id = $2")
            .bind(tenant)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(DbError::NotFound)?;
        Ok(row.try_get("answer_json")?)
    }

    /// Keeps feedback on question `question_id`; [`DbError::NotFound`]
    /// when the question is not `tenant`'s.
    pub async fn record_feedback(
        &self,
        tenant: &str,
        question_id: &str,
        useful: bool,
        comment: &str,
    ) -> Result<()> {
        let owned = sqlx::query("SELECT id FROM questions WHERE tenant = $1 AND id = $2")
            .bind(tenant)
            .bind(question_id)
            .fetch_optional(&self.pool)
            .await?;
        if owned.is_none() {
            return Err(DbError::NotFound);
        }
        sqlx::query(
            "INSERT INTO feedback (id, tenant, question_id, useful, comment, given_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(new_id("f", tenant, question_id))
        .bind(tenant)
        .bind(question_id)
        .bind(i64::from(useful))
        .bind(comment)
        .bind(Utc::now().timestamp_millis())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// `tenant`'s questions asked at or after `since`, oldest first, with
    /// their votes.
    pub async fn questions_since(
        &self,
        tenant: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<QuestionRow>> {
        let rows = sqlx::query(
            "SELECT q.id, q.asked_at, q.question, q.mode, q.root_cause, q.first_answer_ms, \
             q.total_ms, q.llm_calls, q.prompt_tokens, q.completion_tokens, q.answer_json, \
             (SELECT COUNT(*) FROM feedback f WHERE f.tenant = q.tenant AND f.question_id = q.id AND f.useful = 1) AS useful, \
             (SELECT COUNT(*) FROM feedback f WHERE f.tenant = q.tenant AND f.question_id = q.id AND f.useful = 0) AS not_useful \
             FROM questions q WHERE q.tenant = $1 AND q.asked_at >= $2 ORDER BY q.asked_at, q.id",
        )
        .bind(tenant)
        .bind(since.timestamp_millis())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(question_row).collect()
    }

    /// `tenant`'s latest feedback, newest first.
    pub async fn recent_feedback(&self, tenant: &str, limit: u32) -> Result<Vec<FeedbackRow>> {
        let rows = sqlx::query(
            "SELECT f.question_id, q.question, f.useful, f.comment, f.given_at \
             FROM feedback f JOIN questions q ON q.id = f.question_id AND q.tenant = f.tenant \
             WHERE f.tenant = $1 ORDER BY f.given_at DESC, f.id LIMIT $2",
        )
        .bind(tenant)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(FeedbackRow {
                    question_id: row.try_get("question_id")?,
                    question: row.try_get("question")?,
                    useful: row.try_get::<i64, _>("useful")? != 0,
                    comment: row.try_get("comment")?,
                    given_at: from_millis(row.try_get("given_at")?),
                })
            })
            .collect()
    }
}

impl AppDb {
    /// Makes a token; returns its secret (shown once, kept only hashed)
    /// and the stored row.
    pub async fn create_token(
        &self,
        tenant: &str,
        name: &str,
        role: Role,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<(String, TokenRow)> {
        let mut random = [0u8; 32];
        getrandom::fill(&mut random).map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
        let secret = format!("oc_{}", hex(&random));
        let row = TokenRow {
            id: new_id("t", tenant, name),
            tenant: tenant.to_string(),
            name: name.to_string(),
            role,
            created_at: from_millis(Utc::now().timestamp_millis()),
            expires_at,
            revoked_at: None,
        };
        sqlx::query(
            "INSERT INTO tokens (id, tenant, name, role, secret_hash, created_at, expires_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)",
        )
        .bind(&row.id)
        .bind(tenant)
        .bind(name)
        .bind(role.as_str())
        .bind(secret_hash(&secret))
        .bind(row.created_at.timestamp_millis())
        .bind(expires_at.map(|t| t.timestamp_millis()))
        .execute(&self.pool)
        .await?;
        Ok((secret, row))
    }

    /// The live token whose secret is `secret`: not revoked, not expired.
    pub async fn token_by_secret(&self, secret: &str) -> Result<Option<TokenRow>> {
        let row = sqlx::query(
            "SELECT id, tenant, name, role, created_at, expires_at, revoked_at FROM tokens \
             WHERE secret_hash = $1 AND revoked_at IS NULL",
        )
        .bind(secret_hash(secret))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row.as_ref().map(token_row).transpose()? else {
            return Ok(None);
        };
        Ok(row
            .expires_at
            .is_none_or(|at| at > Utc::now())
            .then_some(row))
    }

    /// `tenant`'s tokens, newest first, revoked ones included.
    pub async fn tokens(&self, tenant: &str) -> Result<Vec<TokenRow>> {
        let rows = sqlx::query(
            "SELECT id, tenant, name, role, created_at, expires_at, revoked_at FROM tokens \
             WHERE tenant = $1 ORDER BY created_at DESC, id",
        )
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(token_row).collect()
    }

    /// Revokes `tenant`'s token `id`; [`DbError::NotFound`] when it is not
    /// theirs or already revoked.
    pub async fn revoke_token(&self, tenant: &str, id: &str) -> Result<()> {
        let done = sqlx::query(
            "UPDATE tokens SET revoked_at = $1 WHERE tenant = $2 AND id = $3 AND revoked_at IS NULL",
        )
        .bind(Utc::now().timestamp_millis())
        .bind(tenant)
        .bind(id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(DbError::NotFound);
        }
        Ok(())
    }

    /// Links `channel` to `tenant` with a default service scope. A channel
    /// already linked to another tenant is not taken over.
    pub async fn link_channel(
        &self,
        tenant: &str,
        channel: &str,
        services: &[String],
    ) -> Result<()> {
        // One statement: the tenant check and the write cannot interleave
        // with another admin's.
        let written = sqlx::query(
            "INSERT INTO channels (channel, tenant, services, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (channel) DO UPDATE SET services = excluded.services, \
             updated_at = excluded.updated_at WHERE channels.tenant = excluded.tenant",
        )
        .bind(channel)
        .bind(tenant)
        .bind(services.join(","))
        .bind(Utc::now().timestamp_millis())
        .execute(&self.pool)
        .await?;
        if written.rows_affected() == 0 {
            return Err(DbError::NotFound);
        }
        Ok(())
    }

    /// Asks for `channel` to be linked to `tenant`: returns a one-time code
    /// that links it when [`AppDb::redeem_claim`] receives it from that
    /// channel within [`CLAIM_MINUTES`].
    pub async fn claim_channel(
        &self,
        tenant: &str,
        channel: &str,
        services: &[String],
    ) -> Result<String> {
        let mut random = [0u8; 8];
        getrandom::fill(&mut random).map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
        let code = format!("link-{}", hex(&random));
        let now = Utc::now().timestamp_millis();
        sqlx::query("DELETE FROM channel_claims WHERE expires_at < $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO channel_claims (code_hash, channel, tenant, services, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(secret_hash(&code))
        .bind(channel)
        .bind(tenant)
        .bind(services.join(","))
        .bind(now + CLAIM_MINUTES * 60_000)
        .execute(&self.pool)
        .await?;
        Ok(code)
    }

    /// Links `channel` as the claim behind `code` asked, when the code was
    /// made for this very channel and has not expired; a code is used once.
    /// `NotFound` when there is no such claim, or the channel is another
    /// tenant's.
    pub async fn redeem_claim(&self, code: &str, channel: &str) -> Result<ChannelRow> {
        let row = sqlx::query(
            "DELETE FROM channel_claims WHERE code_hash = $1 AND channel = $2 AND expires_at >= $3 \
             RETURNING tenant, services",
        )
        .bind(secret_hash(code.trim()))
        .bind(channel)
        .bind(Utc::now().timestamp_millis())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(DbError::NotFound)?;
        let tenant: String = row.try_get("tenant")?;
        let services: String = row.try_get("services")?;
        let services: Vec<String> = services
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        self.link_channel(&tenant, channel, &services).await?;
        Ok(ChannelRow {
            channel: channel.to_string(),
            tenant,
            services,
        })
    }

    /// The tenant and scope of `channel`, if an admin linked it.
    pub async fn channel(&self, channel: &str) -> Result<Option<ChannelRow>> {
        let row = sqlx::query("SELECT channel, tenant, services FROM channels WHERE channel = $1")
            .bind(channel)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| channel_row(&row)).transpose()
    }

    /// `tenant`'s linked channels.
    pub async fn channels(&self, tenant: &str) -> Result<Vec<ChannelRow>> {
        let rows = sqlx::query(
            "SELECT channel, tenant, services FROM channels WHERE tenant = $1 ORDER BY channel",
        )
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(channel_row).collect()
    }

    /// Keeps a question asked in a chat thread.
    pub async fn add_thread_question(
        &self,
        tenant: &str,
        channel: &str,
        thread: &str,
        question: &str,
    ) -> Result<()> {
        // Questions of one thread keep their order even when two land in the
        // same millisecond: each comes strictly after the thread's last.
        let last: Option<i64> = sqlx::query(
            "SELECT MAX(asked_at) AS last FROM thread_questions \
             WHERE tenant = $1 AND channel = $2 AND thread = $3",
        )
        .bind(tenant)
        .bind(channel)
        .bind(thread)
        .fetch_one(&self.pool)
        .await?
        .try_get("last")?;
        let asked_at = last
            .map_or(i64::MIN, |t| t + 1)
            .max(Utc::now().timestamp_millis());
        sqlx::query(
            "INSERT INTO thread_questions (id, tenant, channel, thread, question, asked_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(new_id("h", tenant, question))
        .bind(tenant)
        .bind(channel)
        .bind(thread)
        .bind(question)
        .bind(asked_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Questions asked earlier in a thread, oldest first.
    pub async fn thread_questions(
        &self,
        tenant: &str,
        channel: &str,
        thread: &str,
    ) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT question FROM thread_questions WHERE tenant = $1 AND channel = $2 AND thread = $3 \
             ORDER BY asked_at, id",
        )
        .bind(tenant)
        .bind(channel)
        .bind(thread)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok(row.try_get("question")?))
            .collect()
    }
}

fn token_row(row: &AnyRow) -> Result<TokenRow> {
    let role: String = row.try_get("role")?;
    Ok(TokenRow {
        id: row.try_get("id")?,
        tenant: row.try_get("tenant")?,
        name: row.try_get("name")?,
        role: Role::parse(&role).unwrap_or(Role::Viewer),
        created_at: from_millis(row.try_get("created_at")?),
        expires_at: row
            .try_get::<Option<i64>, _>("expires_at")?
            .map(from_millis),
        revoked_at: row
            .try_get::<Option<i64>, _>("revoked_at")?
            .map(from_millis),
    })
}

fn channel_row(row: &AnyRow) -> Result<ChannelRow> {
    let services: String = row.try_get("services")?;
    Ok(ChannelRow {
        channel: row.try_get("channel")?,
        tenant: row.try_get("tenant")?,
        services: services
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
    })
}

fn secret_hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn migrator() -> Migrator {
    Migrator {
        migrations: Cow::Owned(
            MIGRATIONS
                .iter()
                .map(|(version, description, sql)| {
                    Migration::new(
                        *version,
                        Cow::Borrowed(*description),
                        MigrationType::Simple,
                        Cow::Borrowed(*sql),
                        false,
                    )
                })
                .collect(),
        ),
        ..Migrator::DEFAULT
    }
}

fn question_row(row: &AnyRow) -> Result<QuestionRow> {
    let count = |name: &str| -> Result<u64> { Ok(to_u64(row.try_get::<i64, _>(name)?)) };
    Ok(QuestionRow {
        id: row.try_get("id")?,
        asked_at: from_millis(row.try_get("asked_at")?),
        question: row.try_get("question")?,
        mode: row.try_get("mode")?,
        root_cause: row.try_get("root_cause")?,
        first_answer_ms: count("first_answer_ms")?,
        total_ms: count("total_ms")?,
        llm_calls: count("llm_calls")?,
        prompt_tokens: count("prompt_tokens")?,
        completion_tokens: count("completion_tokens")?,
        useful: count("useful")?,
        not_useful: count("not_useful")?,
        answer_json: row.try_get("answer_json")?,
    })
}

/// A fresh id: unique per process by a counter, across processes and
/// restarts by the clock and the process id.
fn new_id(prefix: &str, tenant: &str, seed: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = Sha256::new();
    for part in [
        tenant.as_bytes(),
        seed.as_bytes(),
        &Utc::now()
            .timestamp_nanos_opt()
            .unwrap_or_default()
            .to_le_bytes(),
        &COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes(),
        &std::process::id().to_le_bytes(),
    ] {
        hasher.update(part);
        hasher.update([0]);
    }
    format!("{prefix}-{}", hex(&hasher.finalize()[..8]))
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn to_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn from_millis(millis: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(millis).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn question<'a>(tenant: &'a str, text: &'a str) -> NewQuestion<'a> {
        NewQuestion {
            tenant,
            asked_at: Utc::now(),
            question: text,
            mode: "evidence",
            root_cause: Some("key rotation"),
            answer_json: "{}",
            first_answer_ms: 40,
            total_ms: 90,
            llm_calls: 0,
            prompt_tokens: 0,
            completion_tokens: 0,
        }
    }

    /// The same behaviour on every backend: SQLite always, PostgreSQL when
    /// `ONCALL_TEST_DATABASE_URL` names one (scripts/test starts one).
    async fn backends() -> Vec<(AppDb, tempfile::TempDir)> {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut dbs = vec![(
            AppDb::open_file(&dir.path().join("state.db"))
                .await
                .expect("sqlite"),
            dir,
        )];
        match std::env::var("ONCALL_TEST_DATABASE_URL") {
            Ok(url) => dbs.push((
                AppDb::connect(&url).await.expect("postgres"),
                tempfile::tempdir().expect("tempdir"),
            )),
            Err(_) if std::env::var_os("ONCALL_REQUIRE_POSTGRES").is_some() => {
                panic!("ONCALL_REQUIRE_POSTGRES is set but ONCALL_TEST_DATABASE_URL is not")
            }
            Err(_) => eprintln!(
                "skipping PostgreSQL: ONCALL_TEST_DATABASE_URL is not set (scripts/setup-postgres prints one)"
            ),
        }
        dbs
    }

    #[tokio::test]
    async fn questions_and_feedback_round_trip_per_tenant_on_every_backend() {
        for (db, _dir) in backends().await {
            // PostgreSQL keeps rows across runs: each run uses fresh tenants.
            let tenant_a = new_id("tenant", "a", "test");
            let tenant_b = new_id("tenant", "b", "test");
            let since = Utc::now() - chrono::Duration::seconds(5);
            let asked = db
                .record_question(&question(&tenant_a, "why 401s?"))
                .await
                .expect("insert");
            db.record_question(&question(&tenant_b, "why 502s?"))
                .await
                .expect("insert");
            db.record_feedback(&tenant_a, &asked, true, "spot on")
                .await
                .expect("feedback");
            db.record_feedback(&tenant_a, &asked, false, "")
                .await
                .expect("feedback");

            let rows = db.questions_since(&tenant_a, since).await.expect("rows");
            assert_eq!(rows.len(), 1, "{:?}", db.backend());
            assert_eq!(rows[0].question, "why 401s?");
            assert_eq!((rows[0].useful, rows[0].not_useful), (1, 1));
            assert_eq!(rows[0].first_answer_ms, 40);
            assert_eq!(rows[0].root_cause.as_deref(), Some("key rotation"));
            let feedback = db.recent_feedback(&tenant_a, 10).await.expect("feedback");
            assert_eq!(feedback.len(), 2);
            assert!(feedback.iter().any(|f| f.useful && f.comment == "spot on"));
            assert_eq!(
                db.answer_json(&tenant_a, &asked).await.expect("answer"),
                "{}"
            );

            // Tenant B sees none of A's rows and cannot vote on A's question.
            let other = db.questions_since(&tenant_b, since).await.expect("rows");
            assert!(other.iter().all(|row| row.question == "why 502s?"));
            assert!(matches!(
                db.record_feedback(&tenant_b, &asked, true, "").await,
                Err(DbError::NotFound)
            ));
            assert!(matches!(
                db.answer_json(&tenant_b, &asked).await,
                Err(DbError::NotFound)
            ));
            assert!(
                db.recent_feedback(&tenant_b, 10)
                    .await
                    .expect("feedback")
                    .is_empty()
            );
        }
    }

    #[tokio::test]
    async fn tokens_are_hashed_expire_and_revoke_and_channels_keep_their_tenant() {
        for (db, _dir) in backends().await {
            let tenant = new_id("tenant", "a", "tokens");
            let other = new_id("tenant", "b", "tokens");
            let (secret, row) = db
                .create_token(&tenant, "ci", Role::Oncall, None)
                .await
                .expect("token");
            assert!(secret.starts_with("oc_") && secret.len() == 67);
            let found = db.token_by_secret(&secret).await.expect("lookup");
            assert_eq!(
                found.map(|t| (t.tenant, t.role)),
                Some((tenant.clone(), Role::Oncall))
            );
            assert!(
                db.token_by_secret("oc_wrong")
                    .await
                    .expect("lookup")
                    .is_none()
            );

            let past = Utc::now() - chrono::Duration::seconds(1);
            let (expired, _) = db
                .create_token(&tenant, "old", Role::Admin, Some(past))
                .await
                .expect("token");
            assert!(
                db.token_by_secret(&expired)
                    .await
                    .expect("lookup")
                    .is_none()
            );

            assert!(matches!(
                db.revoke_token(&other, &row.id).await,
                Err(DbError::NotFound)
            ));
            db.revoke_token(&tenant, &row.id).await.expect("revoke");
            assert!(db.token_by_secret(&secret).await.expect("lookup").is_none());
            assert_eq!(db.tokens(&tenant).await.expect("list").len(), 2);
            assert!(db.tokens(&other).await.expect("list").is_empty());

            let channel = format!("slack:T1:{tenant}");
            db.link_channel(&tenant, &channel, &["gateway".into()])
                .await
                .expect("link");
            assert!(matches!(
                db.link_channel(&other, &channel, &[]).await,
                Err(DbError::NotFound)
            ));
            let linked = db
                .channel(&channel)
                .await
                .expect("channel")
                .expect("linked");
            assert_eq!(
                (linked.tenant.as_str(), linked.services.as_slice()),
                (tenant.as_str(), &["gateway".to_string()][..])
            );

            // A claim links only the channel it was made for, once, and
            // never one that is another tenant's.
            let unlinked = format!("slack:T1:free-{tenant}");
            let code = db
                .claim_channel(&other, &unlinked, &["auth".into()])
                .await
                .expect("claim");
            assert!(matches!(
                db.redeem_claim(&code, &channel).await,
                Err(DbError::NotFound)
            ));
            let redeemed = db.redeem_claim(&code, &unlinked).await.expect("redeem");
            assert_eq!(redeemed.tenant, other);
            assert_eq!(redeemed.services, vec!["auth".to_string()]);
            assert!(matches!(
                db.redeem_claim(&code, &unlinked).await,
                Err(DbError::NotFound)
            ));
            let squat = db
                .claim_channel(&other, &channel, &[])
                .await
                .expect("claim");
            assert!(matches!(
                db.redeem_claim(&squat, &channel).await,
                Err(DbError::NotFound)
            ));
            assert_eq!(
                db.channel(&channel)
                    .await
                    .expect("channel")
                    .map(|c| c.tenant),
                Some(tenant.clone())
            );

            db.add_thread_question(&tenant, &channel, "171.1", "why 401s?")
                .await
                .expect("thread");
            db.add_thread_question(&tenant, &channel, "171.1", "and since when?")
                .await
                .expect("thread");
            assert_eq!(
                db.thread_questions(&tenant, &channel, "171.1")
                    .await
                    .expect("thread"),
                ["why 401s?", "and since when?"]
            );
            assert!(
                db.thread_questions(&other, &channel, "171.1")
                    .await
                    .expect("thread")
                    .is_empty()
            );
        }
    }

    /// Writes a question into a new database at `path`, reopens it and
    /// returns how many questions it then holds.
    async fn questions_after_reopening(path: &Path) -> usize {
        let first = AppDb::open_file(path).await.expect("open");
        first
            .record_question(&question("t", "kept?"))
            .await
            .expect("insert");
        drop(first);
        let again = AppDb::open_file(path).await.expect("reopen");
        again
            .questions_since("t", DateTime::<Utc>::default())
            .await
            .expect("rows")
            .len()
    }

    /// A directory name with characters a URL gives meaning to still
    /// holds the database file, at that very path.
    #[tokio::test]
    async fn a_path_with_url_characters_opens_that_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("on call #2?50%").join("state.db");
        assert_eq!(questions_after_reopening(&path).await, 1);
        assert!(path.exists(), "{}", path.display());
    }

    #[tokio::test]
    async fn reopening_keeps_rows_and_does_not_rerun_migrations() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(
            questions_after_reopening(&dir.path().join("state.db")).await,
            1
        );
    }
}
