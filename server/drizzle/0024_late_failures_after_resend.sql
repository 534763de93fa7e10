-- broadcasts.late_failed_at: when a delivery report last brought a failure a re-send can help after the
-- broadcast finished; cleared when a re-send of it is written. The attention list lists a broadcast with it
-- set even when an earlier re-send exists (that re-send could not take what failed after it was planned).
ALTER TABLE `broadcasts` ADD `late_failed_at` integer;--> statement-breakpoint
CREATE INDEX `broadcasts_late_failed_idx` ON `broadcasts` (`workspace_id`,`id`) WHERE late_failed_at IS NOT NULL;
