-- The address Soundverse streams a job's audio from while it is made (once it says the
-- stream is ready), so any process can play the preview: the bot that shows the card and
-- the worker that runs the job share it through here.
ALTER TABLE jobs ADD COLUMN preview_url TEXT;
