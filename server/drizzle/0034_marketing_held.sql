-- WhatsApp 130472 (Meta's experiment holds back marketing to the person) has its own reason,
-- marketing_held: never re-sent on WhatsApp, taken by a re-send on another channel. Failures stored
-- before it read not_on_channel (or, briefly, recipient_limit, re-sent a day later to fail again); the
-- triggers on messages keep the failure counts, the broadcast counts and the re-sends' reasons in step.
UPDATE `messages` SET `reason` = 'marketing_held', `retry_after_at` = NULL
WHERE `state` = 'failed' AND `provider_code` = '130472' AND `reason` IN ('not_on_channel', 'recipient_limit')
  AND `channel_id` IN (SELECT `id` FROM `channels` WHERE `type` = 'whatsapp');
