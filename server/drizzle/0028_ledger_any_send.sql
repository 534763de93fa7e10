-- The ledger kept one time per recipient, written for every send: a free reply inside the 24 h window
-- counted against the rolling quota as a business-initiated template would (Meta counts only those), and
-- the engine failed others as quota_reached. last_sent_at now moves only for business-initiated messages
-- (the quota); last_any_at is the latest message of any kind (the pair rate). 0 in last_sent_at: never
-- counted. Rows from before are left as they are (every send counted: the safe side for a day).
ALTER TABLE `quota_ledger` ADD `last_any_at` integer;
