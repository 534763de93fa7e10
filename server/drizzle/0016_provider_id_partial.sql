-- The provider's message ID is looked up only by value (a status callback: channel_id = ? AND
-- provider_message_id = ?), and a recipient has none until the provider takes it. Indexed only once it
-- has one: freezing an audience writes no index entry for it, and a send removes none.
DROP INDEX IF EXISTS `messages_provider_idx`;--> statement-breakpoint
CREATE INDEX `messages_provider_idx` ON `messages` (`channel_id`, `provider_message_id`) WHERE provider_message_id IS NOT NULL;
