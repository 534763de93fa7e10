-- The delivery funnel (sent → delivered → read): when the provider reported a message read, and how
-- many of each broadcast's were, kept by a trigger as broadcast_counts keeps states. A read message
-- stays 'delivered' (every rule about sent and delivered holds for it); read_at says it was read.
-- The engine's own writes never name read_at, so the trigger costs the send nothing.
ALTER TABLE `messages` ADD `read_at` integer;
--> statement-breakpoint
-- Whether the broadcast's reads are kept: not for those made before this migration (their reads
-- were never recorded: "0 read" would be false). New broadcasts take the default, 1.
ALTER TABLE `broadcasts` ADD `reads_kept` integer DEFAULT 1 NOT NULL;
--> statement-breakpoint
UPDATE `broadcasts` SET `reads_kept` = 0;
--> statement-breakpoint
CREATE TABLE `broadcast_reads` (
	`broadcast_id` integer PRIMARY KEY NOT NULL,
	`n` integer NOT NULL
);
--> statement-breakpoint
CREATE TRIGGER `messages_broadcast_reads_update` AFTER UPDATE OF read_at ON `messages`
WHEN (OLD.read_at IS NULL) IS NOT (NEW.read_at IS NULL)
BEGIN
  INSERT INTO broadcast_reads (broadcast_id, n)
  VALUES (NEW.broadcast_id, CASE WHEN NEW.read_at IS NULL THEN -1 ELSE 1 END)
  ON CONFLICT (broadcast_id) DO UPDATE SET n = n + excluded.n;
END;
--> statement-breakpoint
CREATE TRIGGER `messages_broadcast_reads_delete` AFTER DELETE ON `messages`
WHEN OLD.read_at IS NOT NULL
BEGIN
  UPDATE broadcast_reads SET n = n - 1 WHERE broadcast_id = OLD.broadcast_id;
END;
