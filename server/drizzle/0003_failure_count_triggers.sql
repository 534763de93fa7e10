-- failure_counts follows every failed or excluded message: added, changed (state, reason) or removed.
-- Counted: state IN ('failed', 'excluded'); a NULL reason is counted under ''.
CREATE TRIGGER `messages_failure_counts_insert` AFTER INSERT ON `messages`
WHEN NEW.state IN ('failed', 'excluded')
BEGIN
  INSERT INTO failure_counts (workspace_id, broadcast_id, channel_id, reason, n)
  VALUES (NEW.workspace_id, NEW.broadcast_id, NEW.channel_id, coalesce(NEW.reason, ''), 1)
  ON CONFLICT (broadcast_id, channel_id, reason) DO UPDATE SET n = n + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `messages_failure_counts_update` AFTER UPDATE OF state, reason, channel_id, broadcast_id ON `messages`
WHEN OLD.state IN ('failed', 'excluded') OR NEW.state IN ('failed', 'excluded')
BEGIN
  UPDATE failure_counts SET n = n - 1
  WHERE OLD.state IN ('failed', 'excluded') AND broadcast_id = OLD.broadcast_id AND channel_id = OLD.channel_id
    AND reason = coalesce(OLD.reason, '');
  INSERT INTO failure_counts (workspace_id, broadcast_id, channel_id, reason, n)
  SELECT NEW.workspace_id, NEW.broadcast_id, NEW.channel_id, coalesce(NEW.reason, ''), 1
  WHERE NEW.state IN ('failed', 'excluded')
  ON CONFLICT (broadcast_id, channel_id, reason) DO UPDATE SET n = n + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `messages_failure_counts_delete` AFTER DELETE ON `messages`
WHEN OLD.state IN ('failed', 'excluded')
BEGIN
  UPDATE failure_counts SET n = n - 1
  WHERE broadcast_id = OLD.broadcast_id AND channel_id = OLD.channel_id AND reason = coalesce(OLD.reason, '');
END;
--> statement-breakpoint
INSERT INTO failure_counts (workspace_id, broadcast_id, channel_id, reason, n)
SELECT workspace_id, broadcast_id, channel_id, coalesce(reason, ''), count(*) FROM messages
WHERE state IN ('failed', 'excluded') GROUP BY broadcast_id, channel_id, coalesce(reason, '');
