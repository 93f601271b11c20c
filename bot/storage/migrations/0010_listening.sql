-- Live listening (experimental, `/listen`): the servers where a member with Manage Server
-- allowed it, and the members who opted in to being heard in a server, with whether they keep
-- their recordings (`enabled_by` is forgotten when that member's data is deleted). What a
-- member says is not stored here: each turn is an upload in Discord, deleted once answered
-- unless its speaker keeps their recordings.
CREATE TABLE listening_guilds (
    guild_id INTEGER NOT NULL PRIMARY KEY,
    enabled_by INTEGER,
    enabled_at TEXT NOT NULL
);

CREATE TABLE listening_consents (
    guild_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    keep_recordings INTEGER NOT NULL DEFAULT 0 CHECK (keep_recordings IN (0, 1)),
    consented_at TEXT NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);
CREATE INDEX listening_consents_by_user ON listening_consents (user_id);
