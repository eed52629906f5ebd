-- The gateway's schema before versioned migrations (voicebot/store/schema.py, 2026-11),
-- as it created every database until then: "yesterday's database" for the migration tests.
-- {serial} and {real} are the two type names that differ between SQLite and PostgreSQL
-- (tests/unit/test_migrations.py fills them in). Never edit: it is history.
CREATE TABLE IF NOT EXISTS calls (
    call_id TEXT PRIMARY KEY,
    stream_id TEXT,
    transport TEXT NOT NULL,
    caller TEXT,
    language TEXT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    end_reason TEXT,
    handoff_department TEXT,
    handoff_reason TEXT
);
CREATE TABLE IF NOT EXISTS turns (
    id {serial},
    call_id TEXT NOT NULL REFERENCES calls(call_id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    speaker TEXT NOT NULL CHECK (speaker IN ('caller', 'bot')),
    text TEXT NOT NULL,
    started_at TEXT,
    ended_at TEXT,
    asr_confidence {real},
    intent TEXT,
    intent_confidence {real},
    endpointing_ms {real},
    asr_queue_ms {real},
    asr_ms {real},
    dialogue_ms {real},
    tts_first_audio_ms {real},
    interrupted INTEGER NOT NULL DEFAULT 0,
    complete INTEGER NOT NULL DEFAULT 1,
    dtmf TEXT,
    UNIQUE (call_id, seq)
);
CREATE INDEX IF NOT EXISTS turns_by_call ON turns(call_id, seq);
CREATE INDEX IF NOT EXISTS calls_by_start ON calls(started_at);
CREATE TABLE IF NOT EXISTS handoffs (
    handoff_id TEXT PRIMARY KEY,
    call_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('transfer', 'callback')),
    status TEXT NOT NULL CHECK (status IN ('open', 'accepted', 'closed', 'transfer_failed')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    caller TEXT,
    callback_number TEXT,
    language TEXT NOT NULL,
    reason TEXT NOT NULL,
    department TEXT NOT NULL,
    target TEXT,
    topic TEXT NOT NULL,
    summary TEXT NOT NULL,
    last_intent TEXT,
    last_intent_confidence {real},
    slots TEXT NOT NULL,
    transcript TEXT NOT NULL,
    agent TEXT,
    accepted_at TEXT,
    closed_at TEXT,
    note TEXT
);
CREATE INDEX IF NOT EXISTS handoffs_by_status ON handoffs(status, created_at);
CREATE INDEX IF NOT EXISTS handoffs_by_created ON handoffs(created_at);
CREATE INDEX IF NOT EXISTS handoffs_by_call ON handoffs(call_id);
CREATE TABLE IF NOT EXISTS webhook_outbox (
    id {serial},
    handoff_id TEXT NOT NULL REFERENCES handoffs(handoff_id) ON DELETE CASCADE,
    event TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    claimed_until TEXT,
    last_error TEXT,
    delivered_at TEXT,
    UNIQUE (handoff_id, event)
);
CREATE INDEX IF NOT EXISTS outbox_due ON webhook_outbox(delivered_at, next_attempt_at);
CREATE TABLE IF NOT EXISTS requests (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('appointment', 'sperrmuell', 'form_delivery')),
    call_id TEXT NOT NULL,
    caller TEXT,
    created_at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'done')),
    data TEXT NOT NULL,
    summary TEXT NOT NULL,
    done_at TEXT,
    done_by TEXT,
    note TEXT
);
CREATE INDEX IF NOT EXISTS requests_by_created ON requests(created_at);
CREATE INDEX IF NOT EXISTS requests_by_status ON requests(status, kind, created_at);
CREATE INDEX IF NOT EXISTS requests_by_call ON requests(call_id);
-- Idempotency-Key of POST /api/requests -> the request it stored (a repeated POST gets it back)
CREATE TABLE IF NOT EXISTS request_keys (
    key TEXT PRIMARY KEY,
    request_id TEXT NOT NULL REFERENCES requests(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS request_keys_by_request ON request_keys(request_id);
CREATE TABLE IF NOT EXISTS outbox (
    id {serial},
    request_id TEXT REFERENCES requests(id) ON DELETE CASCADE,
    channel TEXT NOT NULL CHECK (channel IN ('email')),
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'not_configured')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    claimed_until TEXT,
    last_error TEXT,
    sent_at TEXT
);
CREATE INDEX IF NOT EXISTS outbox_by_state ON outbox(state, next_attempt_at);
CREATE INDEX IF NOT EXISTS outbox_by_request ON outbox(request_id);
CREATE INDEX IF NOT EXISTS outbox_by_created ON outbox(created_at);
CREATE TABLE IF NOT EXISTS agent_sessions (
    token_hash TEXT PRIMARY KEY,
    agent TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
