-- A Vonage receipt with only its status word (failed, rejected, deleted: no err-code) has its own reason,
-- carrier_rejected: the carrier refused without a cause, and sending the same again on the same route is
-- refused the same way. Failures stored before read provider_error ("re-send now"); the triggers on
-- messages keep the failure counts, the broadcast counts and the re-sends' reasons in step.
UPDATE `messages` SET `reason` = 'carrier_rejected', `retry_after_at` = NULL
WHERE `state` = 'failed' AND `reason` = 'provider_error'
  AND lower(`provider_code`) IN ('dlr:failed', 'dlr:rejected', 'dlr:rejectd', 'dlr:deleted')
  AND `channel_id` IN (SELECT `id` FROM `channels` WHERE `type` = 'vonage_sms');
--> statement-breakpoint
-- A broadcast every recipient failed says its main reason: read again from its counts, as the verdict
-- reads it (this migration's and 0034's moves changed some).
UPDATE `broadcasts` SET `error_reason` = coalesce((SELECT nullif(`reason`, '') FROM `broadcast_counts` c
    WHERE c.`broadcast_id` = `broadcasts`.`id` AND c.`state` = 'failed' AND c.`n` > 0 ORDER BY c.`n` DESC, c.`reason` LIMIT 1),
  'provider_error')
WHERE `error_code` = 'broadcast_all_failed';
--> statement-breakpoint
-- A late "re-send now" that is a refusal now no longer puts a Vonage broadcast before the agent, when no
-- failure a one-click re-send takes is left in it.
UPDATE `broadcasts` SET `late_failed_at` = NULL
WHERE `late_failed_at` IS NOT NULL
  AND `channel_id` IN (SELECT `id` FROM `channels` WHERE `type` = 'vonage_sms')
  AND NOT EXISTS (SELECT 1 FROM `messages` m WHERE m.`broadcast_id` = `broadcasts`.`id` AND m.`state` = 'failed'
    AND m.`reason` IN ('quota_reached', 'throttled', 'unreachable', 'recipient_limit', 'provider_error'));
