-- The quality guard (issue #15): why a broadcast is paused, a channel's guard settings (null: the
-- defaults in shared/src/quality-guard.ts), and the outcomes the guard judges.
ALTER TABLE `broadcasts` ADD `pause` text;
--> statement-breakpoint
ALTER TABLE `channels` ADD `guard` text;
--> statement-breakpoint
-- One row per group of outcomes the engine writes (and per failure a delivery report brings): how many
-- outcomes and how many of them hurt the number. The guard sums the latest rows of a broadcast or a
-- channel, a few dozen rows, instead of reading recipients. Rows older than two days are pruned.
CREATE TABLE `quality_samples` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`channel_id` integer NOT NULL,
	`broadcast_id` integer NOT NULL,
	`at` integer NOT NULL,
	`outcomes` integer NOT NULL,
	`harmful` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `quality_samples_broadcast_idx` ON `quality_samples` (`broadcast_id`,`id`);
--> statement-breakpoint
CREATE INDEX `quality_samples_channel_idx` ON `quality_samples` (`channel_id`,`id`);
--> statement-breakpoint
CREATE INDEX `quality_samples_at_idx` ON `quality_samples` (`at`);
