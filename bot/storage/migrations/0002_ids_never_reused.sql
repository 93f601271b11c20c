-- Ids are never reused: a deleted track, job, reservation or ledger row leaves its id behind.
-- Without AUTOINCREMENT, SQLite gives a new row the largest id + 1, so deleting the newest
-- track handed its id to the next one, and buttons and reposts naming the old id reached the
-- new track (of another member, maybe in another server). Each table is rebuilt with
-- AUTOINCREMENT (SQLite's documented way to change a table), its rows and ids kept.
-- requires: foreign_keys off

CREATE TABLE jobs_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id INTEGER,
    channel_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    operation TEXT NOT NULL,
    request_json TEXT NOT NULL,
    state TEXT NOT NULL CHECK (
        state IN ('queued', 'submitted', 'streaming', 'delivering', 'done', 'failed', 'cancelled')
    ),
    soundverse_message_id TEXT,
    soundverse_job_id TEXT,
    interaction_token TEXT,
    token_expires_at TEXT,
    card_channel_id INTEGER,
    card_message_id INTEGER,
    reservation_id INTEGER,
    parent_track_id INTEGER,
    progress INTEGER,
    status_text TEXT,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_attempt_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    submitted_at TEXT,
    streaming_at TEXT,
    delivering_at TEXT,
    finished_at TEXT,
    FOREIGN KEY (reservation_id) REFERENCES quota_reservations (id) ON DELETE SET NULL,
    FOREIGN KEY (parent_track_id) REFERENCES tracks (id) ON DELETE SET NULL
);
INSERT INTO jobs_rebuilt SELECT * FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_rebuilt RENAME TO jobs;
CREATE INDEX jobs_by_state ON jobs (state, guild_id);
CREATE INDEX jobs_by_user ON jobs (user_id, state);

CREATE TABLE quota_reservations_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id INTEGER,
    user_id INTEGER,
    operation TEXT NOT NULL,
    units INTEGER NOT NULL CHECK (units >= 0),
    exempt INTEGER NOT NULL CHECK (exempt IN (0, 1)),
    state TEXT NOT NULL CHECK (state IN ('reserved', 'committed', 'refunded', 'expired')),
    job_id INTEGER,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    closed_at TEXT,
    reason TEXT,
    FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE SET NULL
);
INSERT INTO quota_reservations_rebuilt SELECT * FROM quota_reservations;
DROP TABLE quota_reservations;
ALTER TABLE quota_reservations_rebuilt RENAME TO quota_reservations;
CREATE INDEX quota_reservations_by_guild ON quota_reservations (guild_id, created_at);
CREATE INDEX quota_reservations_by_member ON quota_reservations (guild_id, user_id, created_at);
CREATE INDEX quota_reservations_open ON quota_reservations (state, expires_at);

CREATE TABLE quota_ledger_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    event TEXT NOT NULL CHECK (event IN ('reserve', 'commit', 'refund', 'expire', 'policy')),
    reservation_id INTEGER,
    guild_id INTEGER,
    user_id INTEGER,
    actor_id INTEGER,
    operation TEXT,
    units INTEGER NOT NULL DEFAULT 0,
    reason TEXT,
    FOREIGN KEY (reservation_id) REFERENCES quota_reservations (id) ON DELETE SET NULL
);
INSERT INTO quota_ledger_rebuilt SELECT * FROM quota_ledger;
DROP TABLE quota_ledger;
ALTER TABLE quota_ledger_rebuilt RENAME TO quota_ledger;
CREATE INDEX quota_ledger_by_guild ON quota_ledger (guild_id, at);
CREATE INDEX quota_ledger_by_reservation ON quota_ledger (reservation_id);

CREATE TABLE tracks_rebuilt (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id INTEGER,
    channel_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    operation TEXT NOT NULL,
    prompt TEXT,
    lyrics TEXT,
    song_name TEXT,
    prompt_key TEXT,
    song_name_key TEXT,
    soundverse_message_id TEXT,
    soundverse_job_id TEXT,
    take_index INTEGER NOT NULL DEFAULT 0,
    audio_url TEXT,
    file_path TEXT,
    file_bytes INTEGER,
    duration_seconds REAL,
    file_format TEXT,
    album_art_url TEXT,
    license TEXT,
    message_channel_id INTEGER,
    message_id INTEGER,
    parent_id INTEGER,
    job_id INTEGER,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    FOREIGN KEY (parent_id) REFERENCES tracks (id) ON DELETE SET NULL,
    FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE SET NULL
);
INSERT INTO tracks_rebuilt SELECT * FROM tracks;
DROP TABLE tracks;
ALTER TABLE tracks_rebuilt RENAME TO tracks;
CREATE INDEX tracks_by_user ON tracks (user_id, id);
CREATE INDEX tracks_by_guild ON tracks (guild_id, id);
CREATE INDEX tracks_by_channel ON tracks (channel_id, user_id, id);
CREATE INDEX tracks_by_parent ON tracks (parent_id);
CREATE INDEX tracks_by_prompt_key ON tracks (user_id, prompt_key);
CREATE INDEX tracks_by_song_name_key ON tracks (user_id, song_name_key);
