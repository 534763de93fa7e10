CREATE TABLE `portfolios` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`workspace_id` integer NOT NULL,
	`name` text NOT NULL,
	`daily_quota` integer,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `portfolios_workspace_idx` ON `portfolios` (`workspace_id`);--> statement-breakpoint
CREATE TABLE `resend_targets` (
	`broadcast_id` integer NOT NULL,
	`message_id` integer NOT NULL,
	`contact_id` integer NOT NULL,
	PRIMARY KEY(`broadcast_id`, `message_id`),
	FOREIGN KEY (`broadcast_id`) REFERENCES `broadcasts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `resend_targets_message_idx` ON `resend_targets` (`message_id`);--> statement-breakpoint
DROP INDEX `messages_failed_idx`;--> statement-breakpoint
DROP INDEX `messages_failed_reason_idx`;--> statement-breakpoint
DROP INDEX `messages_failed_broadcast_idx`;--> statement-breakpoint
DROP INDEX `messages_failed_broadcast_reason_idx`;--> statement-breakpoint
DROP INDEX `messages_failed_summary_idx`;--> statement-breakpoint
CREATE INDEX `messages_failed_idx` ON `messages` (`workspace_id`,`failed_at`) WHERE (state = 'failed' OR state = 'excluded' OR state = 'uncertain');--> statement-breakpoint
CREATE INDEX `messages_failed_reason_idx` ON `messages` (`workspace_id`,`reason`,`failed_at`) WHERE (state = 'failed' OR state = 'excluded' OR state = 'uncertain');--> statement-breakpoint
CREATE INDEX `messages_failed_broadcast_idx` ON `messages` (`broadcast_id`,`failed_at`) WHERE (state = 'failed' OR state = 'excluded' OR state = 'uncertain');--> statement-breakpoint
CREATE INDEX `messages_failed_broadcast_reason_idx` ON `messages` (`broadcast_id`,`reason`,`failed_at`) WHERE (state = 'failed' OR state = 'excluded' OR state = 'uncertain');--> statement-breakpoint
CREATE INDEX `messages_failed_summary_idx` ON `messages` (`workspace_id`,`channel_id`,`reason`) WHERE (state = 'failed' OR state = 'excluded' OR state = 'uncertain');--> statement-breakpoint
ALTER TABLE `broadcasts` ADD `error_reason` text;--> statement-breakpoint
ALTER TABLE `channels` ADD `portfolio_id` integer;--> statement-breakpoint
ALTER TABLE `opt_outs` ADD `source` text;--> statement-breakpoint
ALTER TABLE `opt_outs` ADD `detail` text;--> statement-breakpoint
ALTER TABLE `workspaces` ADD `time_zone` text;--> statement-breakpoint
UPDATE `messages` SET `failed_at` = coalesce(`failed_at`, `updated_at`), `reason` = coalesce(`reason`, 'uncertain') WHERE `state` = 'uncertain';--> statement-breakpoint
DROP TRIGGER IF EXISTS `messages_failure_counts_insert`;--> statement-breakpoint
DROP TRIGGER IF EXISTS `messages_failure_counts_update`;--> statement-breakpoint
DROP TRIGGER IF EXISTS `messages_failure_counts_delete`;--> statement-breakpoint
CREATE TRIGGER `messages_failure_counts_insert` AFTER INSERT ON `messages`
WHEN (NEW.state = 'failed' OR NEW.state = 'excluded' OR NEW.state = 'uncertain')
BEGIN
  INSERT INTO failure_counts (workspace_id, broadcast_id, channel_id, reason, n)
  VALUES (NEW.workspace_id, NEW.broadcast_id, NEW.channel_id, coalesce(NEW.reason, ''), 1)
  ON CONFLICT (broadcast_id, channel_id, reason) DO UPDATE SET n = n + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `messages_failure_counts_update` AFTER UPDATE OF state, reason, channel_id, broadcast_id ON `messages`
WHEN (OLD.state = 'failed' OR OLD.state = 'excluded' OR OLD.state = 'uncertain') OR (NEW.state = 'failed' OR NEW.state = 'excluded' OR NEW.state = 'uncertain')
BEGIN
  UPDATE failure_counts SET n = n - 1
  WHERE (OLD.state = 'failed' OR OLD.state = 'excluded' OR OLD.state = 'uncertain') AND broadcast_id = OLD.broadcast_id AND channel_id = OLD.channel_id
    AND reason = coalesce(OLD.reason, '');
  INSERT INTO failure_counts (workspace_id, broadcast_id, channel_id, reason, n)
  SELECT NEW.workspace_id, NEW.broadcast_id, NEW.channel_id, coalesce(NEW.reason, ''), 1
  WHERE (NEW.state = 'failed' OR NEW.state = 'excluded' OR NEW.state = 'uncertain')
  ON CONFLICT (broadcast_id, channel_id, reason) DO UPDATE SET n = n + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `messages_failure_counts_delete` AFTER DELETE ON `messages`
WHEN (OLD.state = 'failed' OR OLD.state = 'excluded' OR OLD.state = 'uncertain')
BEGIN
  UPDATE failure_counts SET n = n - 1
  WHERE broadcast_id = OLD.broadcast_id AND channel_id = OLD.channel_id AND reason = coalesce(OLD.reason, '');
END;
--> statement-breakpoint
DELETE FROM `failure_counts`;--> statement-breakpoint
INSERT INTO failure_counts (workspace_id, broadcast_id, channel_id, reason, n)
SELECT workspace_id, broadcast_id, channel_id, coalesce(reason, ''), count(*) FROM messages
WHERE (state = 'failed' OR state = 'excluded' OR state = 'uncertain') GROUP BY broadcast_id, channel_id, coalesce(reason, '');
