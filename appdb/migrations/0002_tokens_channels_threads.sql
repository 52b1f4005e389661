-- API tokens are kept as SHA-256 hashes of the secret; the secret itself is
-- shown once, when made.
CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX tokens_by_tenant ON tokens (tenant);

-- A chat channel (platform:workspace:channel) belongs to one tenant and
-- answers within a default service scope.
CREATE TABLE channels (
    channel TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    services TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Questions asked in a chat thread, so follow-ups keep their context.
CREATE TABLE thread_questions (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    channel TEXT NOT NULL,
    thread TEXT NOT NULL,
    question TEXT NOT NULL,
    asked_at BIGINT NOT NULL
);
CREATE INDEX thread_questions_by_thread ON thread_questions (tenant, channel, thread, asked_at);
