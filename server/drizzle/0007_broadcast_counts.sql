-- Broadcast read model: every broadcast's recipients counted by state and reason ('' for none), kept
-- exact by triggers on messages in the same transaction as the change, so that a broadcast's counts
-- are a few rows to read instead of a GROUP BY over all its recipients.
CREATE TABLE `broadcast_counts` (
	`broadcast_id` integer NOT NULL,
	`state` text NOT NULL,
	`reason` text NOT NULL,
	`n` integer NOT NULL,
	PRIMARY KEY(`broadcast_id`, `state`, `reason`)
);
--> statement-breakpoint
CREATE TRIGGER `messages_broadcast_counts_insert` AFTER INSERT ON `messages`
BEGIN
  INSERT INTO broadcast_counts (broadcast_id, state, reason, n)
  VALUES (NEW.broadcast_id, NEW.state, coalesce(NEW.reason, ''), 1)
  ON CONFLICT (broadcast_id, state, reason) DO UPDATE SET n = n + 1;
END;
--> statement-breakpoint
-- The WHEN clause: the engine's writes name state and reason in every SET (a lease taken back, a
-- provider ID filled in) without always changing them; those must cost nothing here.
CREATE TRIGGER `messages_broadcast_counts_update` AFTER UPDATE OF state, reason, broadcast_id ON `messages`
WHEN OLD.state IS NOT NEW.state OR OLD.reason IS NOT NEW.reason OR OLD.broadcast_id IS NOT NEW.broadcast_id
BEGIN
  -- One statement for both moves (cheaper than an UPDATE and an INSERT); the old row always exists.
  INSERT INTO broadcast_counts (broadcast_id, state, reason, n)
  VALUES (OLD.broadcast_id, OLD.state, coalesce(OLD.reason, ''), -1), (NEW.broadcast_id, NEW.state, coalesce(NEW.reason, ''), 1)
  ON CONFLICT (broadcast_id, state, reason) DO UPDATE SET n = n + excluded.n;
END;
--> statement-breakpoint
CREATE TRIGGER `messages_broadcast_counts_delete` AFTER DELETE ON `messages`
BEGIN
  UPDATE broadcast_counts SET n = n - 1
  WHERE broadcast_id = OLD.broadcast_id AND state = OLD.state AND reason = coalesce(OLD.reason, '');
END;
--> statement-breakpoint
INSERT INTO broadcast_counts (broadcast_id, state, reason, n)
SELECT broadcast_id, state, coalesce(reason, ''), count(*) FROM messages
GROUP BY broadcast_id, state, coalesce(reason, '');
--> statement-breakpoint
-- What needs an agent (shared/src/attention.ts): a workspace's broadcasts of one status, newest first,
-- and whether a re-send of a broadcast exists.
CREATE INDEX `broadcasts_attention_idx` ON `broadcasts` (`workspace_id`, `status`, `id`);--> statement-breakpoint
CREATE INDEX `broadcasts_resend_of_idx` ON `broadcasts` (`resend_of_id`);
