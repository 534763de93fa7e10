-- Recipients left queued in a cancelled broadcast (a send the provider answered "later" after the cancel,
-- or given back as an engine stopped): nobody sends them, so they are cancelled, as the engine now writes
-- them. A re-send stopped mid-send no longer holds them: its broadcast, finished, needs an agent for them
-- (late_failed_at, the attention list's flag), set first, while they can still be told apart.
UPDATE `broadcasts` SET `late_failed_at` = CAST(strftime('%s', 'now') AS INTEGER) * 1000
  WHERE `late_failed_at` IS NULL AND `status` IN ('completed', 'partially_failed', 'failed')
    AND `id` IN (SELECT r.`resend_of_id` FROM `broadcasts` r WHERE r.`status` = 'cancelled'
      AND r.`started_at` IS NOT NULL AND r.`resend_of_id` IS NOT NULL
      AND EXISTS (SELECT 1 FROM `messages` x WHERE x.`broadcast_id` = r.`id` AND x.`state` = 'queued'));
--> statement-breakpoint
UPDATE `messages` SET `state` = 'cancelled'
  WHERE `state` = 'queued' AND `broadcast_id` IN (SELECT `id` FROM `broadcasts` WHERE `status` = 'cancelled');
