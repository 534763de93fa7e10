-- A channel deleted before deleteChannel cleared the fallbacks that named it: those channels fall back
-- to nothing, as they would had it been deleted now (automatic recovery retried the gone fallback forever).
UPDATE channels SET fallback_channel_id = NULL
WHERE fallback_channel_id IN (SELECT id FROM channels WHERE deleted_at IS NOT NULL);
