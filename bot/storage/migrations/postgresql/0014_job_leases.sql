-- Jobs shared by any number of job workers (JOBS_WORKER=shared): a worker claims a job by
-- taking its lease until `lease_expires_at`, renewed by its heartbeat. Each claim raises
-- `lease_token`, the fencing token: a worker whose lease was taken over writes with the old
-- token and is refused. `note` is what the job's card shows beside the prompt, for the
-- worker that draws it; a cancel asked in the bot waits in `cancel_requested_*` for the
-- worker that runs the job.
ALTER TABLE jobs ADD COLUMN note TEXT;
ALTER TABLE jobs ADD COLUMN lease_owner TEXT;
ALTER TABLE jobs ADD COLUMN lease_expires_at TEXT;
ALTER TABLE jobs ADD COLUMN lease_token INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN cancel_requested_at TEXT;
ALTER TABLE jobs ADD COLUMN cancel_requested_by BIGINT;
CREATE INDEX jobs_by_lease ON jobs (lease_owner);
