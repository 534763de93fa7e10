-- Automatic recovery (issue #15): how many re-sends Rebound schedules by itself for a broadcast (0:
-- none; a workspace default for new broadcasts), which attempt a re-send is (0: a first send), when
-- the next automatic re-send is due (set by the verdict, taken by an engine under a short lease), and
-- the failures by reason a re-send took (the lineage's arithmetic, without reading recipients).
ALTER TABLE `broadcasts` ADD `auto_recovery` integer DEFAULT 0 NOT NULL;
--> statement-breakpoint
ALTER TABLE `broadcasts` ADD `recovery_attempt` integer DEFAULT 0 NOT NULL;
--> statement-breakpoint
ALTER TABLE `broadcasts` ADD `recovery_due_at` integer;
--> statement-breakpoint
ALTER TABLE `broadcasts` ADD `resend_reasons` text;
--> statement-breakpoint
CREATE INDEX `broadcasts_recovery_due_idx` ON `broadcasts` (`recovery_due_at`) WHERE recovery_due_at IS NOT NULL;
--> statement-breakpoint
ALTER TABLE `workspaces` ADD `auto_recovery` integer DEFAULT 0 NOT NULL;
