-- Community remix contests. A contest is one row with its phase and the stored times of its
-- transitions (draft -> submissions -> voting -> closed -> archived, or cancelled); the
-- scheduler moves it by a compare-and-set on the phase, so no transition happens twice.
-- Entries reference tracks (or an upload, when the contest accepts them); a vote is keyed by
-- (contest, voter, slot), so casting again replaces a vote instead of adding one.
-- `creator_id`, `disqualified_by`, `actor_id` and `set_by` are forgotten when that member's
-- data is deleted; the contest itself belongs to its server.
CREATE TABLE contests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id INTEGER NOT NULL,
    channel_id INTEGER,
    creator_id INTEGER,
    title TEXT NOT NULL,
    theme TEXT NOT NULL,
    rules TEXT NOT NULL DEFAULT '',
    source_track_id INTEGER,
    source_upload_url TEXT,
    source_upload_name TEXT,
    phase TEXT NOT NULL CHECK (
        phase IN ('draft', 'submissions', 'voting', 'closed', 'archived', 'cancelled')
    ),
    submissions_open_at TEXT NOT NULL,
    voting_opens_at TEXT NOT NULL,
    closes_at TEXT NOT NULL,
    archive_at TEXT NOT NULL,
    entries_per_member INTEGER NOT NULL CHECK (entries_per_member >= 1),
    derived_only INTEGER NOT NULL CHECK (derived_only IN (0, 1)),
    uploads_allowed INTEGER NOT NULL CHECK (uploads_allowed IN (0, 1)),
    winner_role_id INTEGER,
    votes_per_member INTEGER NOT NULL CHECK (votes_per_member >= 1),
    voters_joined_before_voting INTEGER NOT NULL CHECK (voters_joined_before_voting IN (0, 1)),
    season TEXT,
    shuffle_seed INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    ended_at TEXT,
    CHECK (submissions_open_at < voting_opens_at),
    CHECK (voting_opens_at < closes_at),
    CHECK (closes_at <= archive_at),
    FOREIGN KEY (source_track_id) REFERENCES tracks (id) ON DELETE SET NULL
);
CREATE INDEX contests_by_guild ON contests (guild_id, id);
CREATE INDEX contests_by_phase ON contests (phase);
CREATE INDEX contests_by_season ON contests (guild_id, season);
CREATE INDEX contests_by_creator ON contests (creator_id);

-- The tracks an entry may descend from: the source track and the stems made of the source
-- (an uploaded source has no track, only its stems).
CREATE TABLE contest_sources (
    contest_id INTEGER NOT NULL,
    track_id INTEGER NOT NULL,
    PRIMARY KEY (contest_id, track_id),
    FOREIGN KEY (contest_id) REFERENCES contests (id) ON DELETE CASCADE,
    FOREIGN KEY (track_id) REFERENCES tracks (id) ON DELETE CASCADE
);
CREATE INDEX contest_sources_by_track ON contest_sources (track_id);

-- An entry is its track: deleting the track withdraws the entry (and the votes cast for it).
-- `number` is the anonymous "Entry 3", given when voting opens; `final_votes` is the tally
-- frozen when the contest closes.
CREATE TABLE contest_entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    contest_id INTEGER NOT NULL,
    user_id INTEGER NOT NULL,
    track_id INTEGER,
    upload_url TEXT,
    upload_name TEXT,
    submitted_at TEXT NOT NULL,
    number INTEGER CHECK (number >= 1),
    final_votes INTEGER CHECK (final_votes >= 0),
    disqualified_at TEXT,
    disqualified_by INTEGER,
    disqualified_reason TEXT,
    CHECK ((track_id IS NULL) <> (upload_url IS NULL)),
    UNIQUE (contest_id, track_id),
    UNIQUE (contest_id, number),
    FOREIGN KEY (contest_id) REFERENCES contests (id) ON DELETE CASCADE,
    FOREIGN KEY (track_id) REFERENCES tracks (id) ON DELETE CASCADE
);
CREATE INDEX contest_entries_by_member ON contest_entries (contest_id, user_id);
CREATE INDEX contest_entries_by_user ON contest_entries (user_id);
CREATE INDEX contest_entries_by_track ON contest_entries (track_id);

CREATE TABLE contest_votes (
    contest_id INTEGER NOT NULL,
    voter_id INTEGER NOT NULL,
    slot INTEGER NOT NULL CHECK (slot >= 0),
    entry_id INTEGER NOT NULL,
    cast_at TEXT NOT NULL,
    PRIMARY KEY (contest_id, voter_id, slot),
    UNIQUE (contest_id, voter_id, entry_id),
    FOREIGN KEY (contest_id) REFERENCES contests (id) ON DELETE CASCADE,
    FOREIGN KEY (entry_id) REFERENCES contest_entries (id) ON DELETE CASCADE
);
CREATE INDEX contest_votes_by_entry ON contest_votes (entry_id);
CREATE INDEX contest_votes_by_voter ON contest_votes (voter_id);

-- What people did to a contest, and when: created it, edited, extended, closed, disqualified,
-- cancelled, added source stems. The scheduler's own transitions are not people's actions.
CREATE TABLE contest_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    contest_id INTEGER NOT NULL,
    actor_id INTEGER,
    action TEXT NOT NULL CHECK (
        action IN ('create', 'edit', 'extend', 'close', 'disqualify', 'cancel', 'add_stems')
    ),
    detail TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL,
    FOREIGN KEY (contest_id) REFERENCES contests (id) ON DELETE CASCADE
);
CREATE INDEX contest_audit_by_contest ON contest_audit (contest_id, id);
CREATE INDEX contest_audit_by_actor ON contest_audit (actor_id);

-- The role, besides Manage Server, whose members may run a server's contests.
CREATE TABLE contest_managers (
    guild_id INTEGER NOT NULL PRIMARY KEY,
    role_id INTEGER NOT NULL,
    set_by INTEGER,
    set_at TEXT NOT NULL
);
