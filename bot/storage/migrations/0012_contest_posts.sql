-- Where a contest is shown in Discord, so the bot edits what it posted (after a restart too):
-- its card, the thread (or forum post) its entries go to, each anonymous entry post, and the
-- results. `number` is the entry's number for an entry post, 0 otherwise.
-- `stems_key` names the job that makes the source's stem pack (the interaction key of the
-- confirmation that started it): the tracks of that job count among the contest's sources.
ALTER TABLE contests ADD COLUMN stems_key TEXT;

CREATE TABLE contest_posts (
    contest_id INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('card', 'thread', 'entry', 'results')),
    number INTEGER NOT NULL DEFAULT 0,
    channel_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    PRIMARY KEY (contest_id, kind, number),
    FOREIGN KEY (contest_id) REFERENCES contests (id) ON DELETE CASCADE
);
