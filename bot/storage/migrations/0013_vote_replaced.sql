-- The number of the entry a vote replaced when it was last changed, so that one statement can
-- both record a vote and tell the voter what it replaced ("Entry 3, instead of Entry 1").
ALTER TABLE contest_votes ADD COLUMN replaced_number INTEGER;
