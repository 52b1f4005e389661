-- A Slack channel link an admin asked for. It takes effect only when its
-- code is sent from that channel in a signed request, which proves the
-- claimant can post there. Codes are kept as SHA-256 hashes.
CREATE TABLE channel_claims (
    code_hash TEXT PRIMARY KEY,
    channel TEXT NOT NULL,
    tenant TEXT NOT NULL,
    services TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
