-- What Soundverse answered for a job, as JSON, kept from the moment it answered until the job
-- ends: a job interrupted after that (while downloading, fitting or posting) is delivered from
-- it after a restart, without calling Soundverse again and charged once.
ALTER TABLE jobs ADD COLUMN result_json TEXT;
