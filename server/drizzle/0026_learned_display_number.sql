-- A WhatsApp channel's display number as Meta's own message webhooks for its phone_number_id name it
-- (metadata.display_phone_number, digits only): the quality events of a shared Meta app name a number by
-- that form only, so the channel takes only its own number's events once it has heard it once. Learned,
-- never typed; forgotten when the channel's credentials change to another number.
ALTER TABLE `channels` ADD `display_number` text;
