-- A status callback finds its recipient by the provider's message ID, which arrives in random order:
-- each accepted send wrote the whole ID (a WhatsApp wamid is about 50 characters) at a random place of
-- this index, most of what a broadcast writes. Its last 16 characters, random for every provider, find
-- the same row; the lookup compares the whole ID as well (providerIdMatch in db/schema/broadcasts.ts).
DROP INDEX IF EXISTS `messages_provider_idx`;--> statement-breakpoint
CREATE INDEX `messages_provider_tail_idx` ON `messages` (`channel_id`, substr(provider_message_id, -16)) WHERE provider_message_id IS NOT NULL;
