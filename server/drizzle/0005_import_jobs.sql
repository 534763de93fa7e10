ALTER TABLE `imports` ADD `claimed_by` text;--> statement-breakpoint
ALTER TABLE `imports` ADD `heartbeat_at` integer;--> statement-breakpoint
-- Imports left running before imports had an owner and a heartbeat: their process is gone (the write rolled back).
UPDATE `imports` SET `status` = 'failed', `error_code` = 'import_interrupted', `error_message` = 'Import interrupted: nothing was imported.', `created` = 0, `updated` = 0, `finished_at` = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) WHERE `status` = 'running';--> statement-breakpoint
CREATE UNIQUE INDEX `imports_one_running_idx` ON `imports` (`workspace_id`) WHERE status = 'running';--> statement-breakpoint
CREATE INDEX `imports_live_idx` ON `imports` (`workspace_id`,`id`) WHERE status IN ('queued', 'running');