-- A server's voice playback, kept so that a restart rejoins its channel and goes on where it
-- was: the channel, the now-playing card, the volume and loop, and the queue (a JSON list
-- whose first item is what plays now, from position_seconds).
CREATE TABLE voice_sessions (
    guild_id INTEGER NOT NULL PRIMARY KEY,
    voice_channel_id INTEGER NOT NULL,
    text_channel_id INTEGER,
    card_message_id INTEGER,
    position_seconds REAL NOT NULL DEFAULT 0,
    volume INTEGER NOT NULL DEFAULT 100,
    looping INTEGER NOT NULL DEFAULT 0,
    paused INTEGER NOT NULL DEFAULT 0,
    queue TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
