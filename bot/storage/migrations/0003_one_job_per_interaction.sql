-- One job per interaction: the bot and its job worker race to decide an order's fate (the
-- worker admits it, or the bot gives up waiting and tells the member). Whichever writes its
-- row for the interaction first wins; the other's insert fails on this index. The key is a
-- hash of the interaction token, kept when the job ends (the token itself is then erased).
ALTER TABLE jobs ADD COLUMN interaction_key TEXT;
CREATE UNIQUE INDEX jobs_by_interaction_key ON jobs (interaction_key);
