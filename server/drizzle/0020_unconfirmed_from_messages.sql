-- broadcasts.unconfirmed (migration 0019) followed from messages, not from broadcast_counts: a trigger on
-- broadcast_counts ran for every count a send moves (five a recipient), about 3 µs a recipient on the
-- engine's path (100,000 recipients written as the engine writes them: 11.7 to 12.4 µs each with it,
-- 9.1 to 9.6 without). The trigger that already follows failed and unconfirmed recipients for a
-- re-send's note (0018) does it now: its WHEN clause passes only when a recipient becomes or stops
-- being unconfirmed or failed, which no answered send does. The count is read again for every broadcast.
DROP TRIGGER IF EXISTS `broadcast_counts_unconfirmed_insert`;--> statement-breakpoint
DROP TRIGGER IF EXISTS `broadcast_counts_unconfirmed_update`;--> statement-breakpoint
DROP TRIGGER IF EXISTS `broadcast_counts_unconfirmed_delete`;--> statement-breakpoint
DROP TRIGGER IF EXISTS `messages_resend_reasons_update`;--> statement-breakpoint
CREATE TRIGGER `messages_resend_reasons_update` AFTER UPDATE OF state, reason ON `messages`
WHEN (OLD.state IN ('failed', 'uncertain') OR NEW.state IN ('failed', 'uncertain'))
  AND (OLD.state IS NOT NEW.state OR OLD.reason IS NOT NEW.reason)
BEGIN
  UPDATE broadcasts SET resend_reasons = json_set(resend_reasons, '$."' || OLD.reason || '"',
    coalesce(json_extract(resend_reasons, '$."' || OLD.reason || '"'), 0) - 1)
  WHERE OLD.state IN ('failed', 'uncertain') AND OLD.reason IS NOT NULL AND resend_reasons IS NOT NULL
    AND id IN (SELECT broadcast_id FROM resend_targets WHERE message_id = NEW.id);
  UPDATE broadcasts SET resend_reasons = json_set(resend_reasons, '$."' || NEW.reason || '"',
    coalesce(json_extract(resend_reasons, '$."' || NEW.reason || '"'), 0) + 1)
  WHERE NEW.state IN ('failed', 'uncertain') AND NEW.reason IS NOT NULL AND resend_reasons IS NOT NULL
    AND id IN (SELECT broadcast_id FROM resend_targets WHERE message_id = NEW.id);
  -- Its broadcast's unconfirmed recipients (the attention list's wait-over rule reads them).
  UPDATE broadcasts SET unconfirmed = unconfirmed + (NEW.state = 'uncertain') - (OLD.state = 'uncertain')
  WHERE id = NEW.broadcast_id AND (OLD.state = 'uncertain') IS NOT (NEW.state = 'uncertain');
END;--> statement-breakpoint
UPDATE `broadcasts` SET `unconfirmed` = coalesce((SELECT sum(c.n) FROM broadcast_counts c
  WHERE c.broadcast_id = broadcasts.id AND c.state = 'uncertain'), 0);
