-- A re-send notes the failures it took by reason (broadcasts.resend_reasons); the lineage subtracts them
-- from what failed, by reason, to say who is left (services/recovery-lineage.ts). A late provider report
-- can change a taken recipient afterwards (unconfirmed → failed, not on WhatsApp; failed → delivered
-- after all): the note follows, so it always counts the taken recipients not reached, by their reason now.
-- The WHEN clause keeps the engine's sends (queued → sending → sent) free of it.
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
END;
