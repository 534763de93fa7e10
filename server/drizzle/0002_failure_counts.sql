CREATE TABLE `failure_counts` (
	`workspace_id` integer NOT NULL,
	`broadcast_id` integer NOT NULL,
	`channel_id` integer NOT NULL,
	`reason` text NOT NULL,
	`n` integer NOT NULL,
	PRIMARY KEY(`broadcast_id`, `channel_id`, `reason`)
);
--> statement-breakpoint
CREATE INDEX `failure_counts_workspace_idx` ON `failure_counts` (`workspace_id`,`channel_id`);