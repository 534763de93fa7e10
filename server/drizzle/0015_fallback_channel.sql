-- Another channel for automatic recovery (issue #15): where a channel's automatic re-sends take the
-- contacts it cannot reach (WhatsApp → SMS); null: none.
ALTER TABLE `channels` ADD `fallback_channel_id` integer;
