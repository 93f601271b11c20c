-- Guilds the bot was removed from, and when. Their data is purged once the grace period
-- (PRIVACY_GUILD_GRACE_DAYS) has passed; a guild that adds the bot back before then keeps it.
CREATE TABLE guild_departures (
    guild_id INTEGER NOT NULL PRIMARY KEY,
    left_at TEXT NOT NULL
);
