-- A re-send being written in short transactions (services/resend-writer.ts): one plan per original
-- broadcast at a time, what its transactions created noted so that a failure or a crash part-way is
-- undone, and its re-sends hidden (writing_plan) until the last transaction schedules them.
CREATE TABLE `resend_plans` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`workspace_id` integer NOT NULL,
	`original_id` integer NOT NULL,
	`owner` text NOT NULL,
	`heartbeat_at` integer NOT NULL,
	`tag_id` integer,
	`tag_created` integer DEFAULT 0 NOT NULL,
	`segment_id` integer,
	`segment_created` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `resend_plans_original_idx` ON `resend_plans` (`original_id`);
--> statement-breakpoint
CREATE TABLE `resend_plan_tagged` (
	`plan_id` integer NOT NULL,
	`first_id` integer NOT NULL,
	`ids` text NOT NULL,
	PRIMARY KEY(`plan_id`, `first_id`)
) WITHOUT ROWID;
--> statement-breakpoint
ALTER TABLE `broadcasts` ADD `writing_plan` integer;
--> statement-breakpoint
CREATE INDEX `broadcasts_writing_plan_idx` ON `broadcasts` (`writing_plan`) WHERE `writing_plan` IS NOT NULL;
