-- broadcasts.unconfirmed counts every unconfirmed recipient: those with no answer (state 'uncertain') and
-- those whose final report said the outcome is unknown (failed, reason 'uncertain': Vonage's and
-- MessageBird's dlr:unknown). Before, only the first: an SMS broadcast whose unconfirmed recipients all
-- had an "unknown" report fell out of the attention list's wait-over walk once its other failures were
-- re-sent, and those recipients with it.
-- broadcasts.unconfirmed_at: when the latest of them became unconfirmed (its failed_at). A re-send
-- waits out each one's delivery reports from that moment; the attention list waited from the end of
-- the broadcast only, so a receipt that came after the end put the broadcast on the list while its
-- re-send could take nobody yet. Kept as a maximum: it never moves back.
-- Same trigger as 0020, same WHEN clause (it already passes for both kinds); only the last statement changes.
ALTER TABLE `broadcasts` ADD `unconfirmed_at` integer;--> statement-breakpoint
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
  -- Its broadcast's unconfirmed recipients, no answer or a final "unknown", and when the latest became
  -- so (the attention list's wait-over rule), also when one moves from the first kind to the second.
  UPDATE broadcasts SET unconfirmed = unconfirmed
      + (NEW.state = 'uncertain' OR (NEW.state = 'failed' AND NEW.reason IS 'uncertain'))
      - (OLD.state = 'uncertain' OR (OLD.state = 'failed' AND OLD.reason IS 'uncertain')),
    unconfirmed_at = CASE WHEN (NEW.state = 'uncertain' OR (NEW.state = 'failed' AND NEW.reason IS 'uncertain'))
      THEN max(coalesce(unconfirmed_at, 0), coalesce(NEW.failed_at, 0)) ELSE unconfirmed_at END
  WHERE id = NEW.broadcast_id
    AND ((OLD.state = 'uncertain' OR (OLD.state = 'failed' AND OLD.reason IS 'uncertain'))
      IS NOT (NEW.state = 'uncertain' OR (NEW.state = 'failed' AND NEW.reason IS 'uncertain'))
      OR (NEW.state = 'uncertain' OR (NEW.state = 'failed' AND NEW.reason IS 'uncertain')));
END;--> statement-breakpoint
UPDATE `broadcasts` SET `unconfirmed` = coalesce((SELECT sum(c.n) FROM broadcast_counts c
  WHERE c.broadcast_id = broadcasts.id
    AND (c.state = 'uncertain' OR (c.state = 'failed' AND c.reason = 'uncertain'))), 0);--> statement-breakpoint
UPDATE `broadcasts` SET `unconfirmed_at` = (SELECT max(m.failed_at) FROM messages m
  WHERE m.broadcast_id = broadcasts.id AND (m.state = 'uncertain' OR (m.state = 'failed' AND m.reason = 'uncertain')))
WHERE `unconfirmed` > 0;
--> statement-breakpoint
-- A final "unknown" is no failure to a broadcast's verdict any more (stateCounts in engine/verdict.ts):
-- broadcasts judged before, partly failed or failed only because of such receipts, get the verdict they
-- would get now (completed, or partly failed when some reached nobody). Nothing else about them changes.
UPDATE `broadcasts` SET `status` = v.status, `error_code` = NULL, `error_reason` = NULL
FROM (SELECT broadcast_id,
    CASE WHEN sum(CASE WHEN state = 'failed' AND reason != 'uncertain' THEN n ELSE 0 END) = 0 THEN 'completed'
      ELSE 'partially_failed' END AS status
  FROM broadcast_counts GROUP BY broadcast_id
  HAVING sum(CASE WHEN state = 'failed' AND reason = 'uncertain' THEN n ELSE 0 END) > 0
    AND sum(CASE WHEN state IN ('queued', 'sending') THEN n ELSE 0 END) = 0) AS v
WHERE broadcasts.id = v.broadcast_id AND broadcasts.status IN ('partially_failed', 'failed')
  AND (broadcasts.error_code IS NULL OR broadcasts.error_code = 'broadcast_all_failed')
  AND broadcasts.status != v.status;
