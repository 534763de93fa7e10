-- opt_outs.marketing_only: the contact stopped marketing messages only (WhatsApp's "Offers and
-- announcements" setting: the user_preferences webhook's "stop", or a send refused with 131050). Meta
-- still delivers their utility and authentication templates ("order shipped", a code), which a
-- channel-wide opt-out kept from them. Rows those two signals wrote before are marked so.
ALTER TABLE `opt_outs` ADD `marketing_only` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
UPDATE `opt_outs` SET `marketing_only` = 1
WHERE `source` IN ('provider_code', 'webhook') AND (`detail` = '131050' OR `detail` = 'user_preferences: stop')
  AND `channel_id` IN (SELECT `id` FROM `channels` WHERE `type` = 'whatsapp');
