-- A Vonage receipt with only its status word (failed, rejected, deleted: no err-code) has its own reason,
-- carrier_rejected: the carrier refused without a cause, and sending the same again on the same route is
-- refused the same way. Failures stored before read provider_error ("re-send now"); the triggers on
-- messages keep the failure counts, the broadcast counts and the re-sends' reasons in step.
UPDATE `messages` SET `reason` = 'carrier_rejected', `retry_after_at` = NULL
WHERE `state` = 'failed' AND `reason` = 'provider_error'
  AND lower(`provider_code`) IN ('dlr:failed', 'dlr:rejected', 'dlr:rejectd', 'dlr:deleted')
  AND `channel_id` IN (SELECT `id` FROM `channels` WHERE `type` = 'vonage_sms');
