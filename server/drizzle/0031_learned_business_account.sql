-- A WhatsApp channel's business account (WABA) ID as Meta's own message webhooks for its phone_number_id
-- name it (entry.id): a template belongs to a business account, and one Meta app posts every account's
-- template status events to one callback URL. A channel that knows its account pauses for its own
-- account's templates only, and the app's other numbers of that account take them too. Learned (or typed
-- as the businessAccountId credential); forgotten when the channel's credentials change to another number.
ALTER TABLE `channels` ADD `business_account` text;
