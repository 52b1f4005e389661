-- Portable between SQLite and PostgreSQL: times are Unix milliseconds,
-- flags are 0/1 integers, ids are made by the application.
CREATE TABLE questions (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    asked_at BIGINT NOT NULL,
    question TEXT NOT NULL,
    mode TEXT NOT NULL,
    root_cause TEXT,
    answer_json TEXT NOT NULL,
    first_answer_ms BIGINT NOT NULL,
    total_ms BIGINT NOT NULL,
    llm_calls BIGINT NOT NULL,
    prompt_tokens BIGINT NOT NULL,
    completion_tokens BIGINT NOT NULL
);
CREATE INDEX questions_by_tenant_time ON questions (tenant, asked_at);

CREATE TABLE feedback (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    question_id TEXT NOT NULL REFERENCES questions (id),
    useful BIGINT NOT NULL,
    comment TEXT NOT NULL,
    given_at BIGINT NOT NULL
);
CREATE INDEX feedback_by_question ON feedback (tenant, question_id);
