CREATE TABLE `broadcast_targets` (
	`broadcast_id` integer NOT NULL,
	`contact_id` integer NOT NULL,
	PRIMARY KEY(`broadcast_id`, `contact_id`),
	FOREIGN KEY (`broadcast_id`) REFERENCES `broadcasts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `broadcasts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`workspace_id` integer NOT NULL,
	`name` text NOT NULL,
	`channel_id` integer NOT NULL,
	`segment_id` integer,
	`content` text NOT NULL,
	`send_rate` real,
	`status` text DEFAULT 'draft' NOT NULL,
	`error_code` text,
	`scheduled_at` integer,
	`target_count` integer,
	`reconciliation` text,
	`resend_of_id` integer,
	`started_at` integer,
	`finished_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`channel_id`) REFERENCES `channels`(`id`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (`segment_id`) REFERENCES `segments`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `broadcasts_workspace_idx` ON `broadcasts` (`workspace_id`,`id`);--> statement-breakpoint
CREATE INDEX `broadcasts_status_idx` ON `broadcasts` (`status`,`scheduled_at`);--> statement-breakpoint
CREATE TABLE `conversation_windows` (
	`channel_id` integer NOT NULL,
	`identifier` text NOT NULL,
	`last_inbound_at` integer NOT NULL,
	PRIMARY KEY(`channel_id`, `identifier`)
);
--> statement-breakpoint
CREATE TABLE `events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`workspace_id` integer NOT NULL,
	`type` text NOT NULL,
	`broadcast_id` integer,
	`data` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `events_workspace_idx` ON `events` (`workspace_id`,`id`);--> statement-breakpoint
CREATE TABLE `imports` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`workspace_id` integer NOT NULL,
	`status` text NOT NULL,
	`options` text NOT NULL,
	`file_name` text,
	`total_rows` integer DEFAULT 0 NOT NULL,
	`processed_rows` integer DEFAULT 0 NOT NULL,
	`created` integer DEFAULT 0 NOT NULL,
	`updated` integer DEFAULT 0 NOT NULL,
	`rejected` integer DEFAULT 0 NOT NULL,
	`rejected_rows` text DEFAULT '[]' NOT NULL,
	`error_code` text,
	`error_message` text,
	`created_at` integer NOT NULL,
	`finished_at` integer,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `imports_workspace_idx` ON `imports` (`workspace_id`);--> statement-breakpoint
CREATE TABLE `messages` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`workspace_id` integer NOT NULL,
	`broadcast_id` integer NOT NULL,
	`channel_id` integer NOT NULL,
	`contact_id` integer,
	`identifier` text,
	`state` text NOT NULL,
	`reason` text,
	`provider_code` text,
	`provider_message` text,
	`provider_message_id` text,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer DEFAULT 0 NOT NULL,
	`lease_owner` text,
	`lease_until` integer,
	`dispatched_at` integer,
	`use_template` integer DEFAULT false NOT NULL,
	`retry_after_at` integer,
	`sent_at` integer,
	`delivered_at` integer,
	`failed_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`broadcast_id`) REFERENCES `broadcasts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `messages_queued_idx` ON `messages` (`broadcast_id`,`id`,`next_attempt_at`) WHERE state = 'queued';--> statement-breakpoint
CREATE INDEX `messages_sending_idx` ON `messages` (`lease_until`) WHERE state = 'sending';--> statement-breakpoint
CREATE INDEX `messages_failed_idx` ON `messages` (`workspace_id`,`failed_at`) WHERE state IN ('failed', 'excluded');--> statement-breakpoint
CREATE INDEX `messages_failed_reason_idx` ON `messages` (`workspace_id`,`reason`,`failed_at`) WHERE state IN ('failed', 'excluded');--> statement-breakpoint
CREATE INDEX `messages_failed_broadcast_idx` ON `messages` (`broadcast_id`,`failed_at`) WHERE state IN ('failed', 'excluded');--> statement-breakpoint
CREATE INDEX `messages_failed_broadcast_reason_idx` ON `messages` (`broadcast_id`,`reason`,`failed_at`) WHERE state IN ('failed', 'excluded');--> statement-breakpoint
CREATE INDEX `messages_failed_summary_idx` ON `messages` (`workspace_id`,`channel_id`,`reason`) WHERE state IN ('failed', 'excluded');--> statement-breakpoint
CREATE INDEX `messages_broadcast_idx` ON `messages` (`broadcast_id`);--> statement-breakpoint
CREATE INDEX `messages_provider_idx` ON `messages` (`channel_id`,`provider_message_id`);--> statement-breakpoint
CREATE INDEX `messages_contact_idx` ON `messages` (`contact_id`);--> statement-breakpoint
CREATE TABLE `opt_outs` (
	`channel_id` integer NOT NULL,
	`identifier` text NOT NULL,
	`at` integer NOT NULL,
	PRIMARY KEY(`channel_id`, `identifier`)
);
--> statement-breakpoint
CREATE TABLE `quota_ledger` (
	`channel_id` integer NOT NULL,
	`identifier` text NOT NULL,
	`last_sent_at` integer NOT NULL,
	PRIMARY KEY(`channel_id`, `identifier`)
);
--> statement-breakpoint
CREATE INDEX `quota_ledger_time_idx` ON `quota_ledger` (`channel_id`,`last_sent_at`);--> statement-breakpoint
CREATE TABLE `send_slots` (
	`key` text PRIMARY KEY NOT NULL,
	`next_slot_at` real NOT NULL
);
