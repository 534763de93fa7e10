-- The attention list's wait-over rule reads every finished broadcast with unconfirmed recipients, not
-- only completed ones: a partly failed broadcast whose quota failures were re-sent still has its
-- unconfirmed recipients, which that re-send did not take (attentionWalks in services/broadcast-read.ts).
DROP INDEX IF EXISTS `broadcasts_unconfirmed_idx`;--> statement-breakpoint
CREATE INDEX `broadcasts_unconfirmed_idx` ON `broadcasts` (`workspace_id`, `id`) WHERE status IN ('completed', 'partially_failed', 'failed') AND unconfirmed > 0;
