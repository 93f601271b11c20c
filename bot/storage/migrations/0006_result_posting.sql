-- When the bot first began posting a job's result. A job found unfinished with this set may
-- already have its result in Discord (the bot stopped between Discord's answer and recording
-- it): the restart looks for that message before posting again.
ALTER TABLE jobs ADD COLUMN posting_at TEXT;
