-- Conversations with the chat assistant: `/ask`, its follow-ups, and messages that mention
-- the bot. Soundverse's chat endpoint keeps no history, so the bot keeps each conversation's
-- turns (question, topic, answer, and the message that shows the answer) and sends the latest
-- ones along with the next question; kept here, a conversation goes on after a restart.
CREATE TABLE conversations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    guild_id INTEGER,
    channel_id INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX conversations_by_guild ON conversations (guild_id);
CREATE INDEX conversations_by_user ON conversations (user_id);

CREATE TABLE conversation_turns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL,
    number INTEGER NOT NULL CHECK (number >= 1),
    user_id INTEGER NOT NULL,
    question TEXT NOT NULL,
    action TEXT NOT NULL,
    answer TEXT NOT NULL,
    carried INTEGER NOT NULL DEFAULT 0 CHECK (carried >= 0),
    message_id INTEGER,
    created_at TEXT NOT NULL,
    UNIQUE (conversation_id, number),
    FOREIGN KEY (conversation_id) REFERENCES conversations (id) ON DELETE CASCADE
);
CREATE INDEX conversation_turns_by_message ON conversation_turns (message_id);
CREATE INDEX conversation_turns_by_user ON conversation_turns (user_id, created_at);
