-- signals_applied: the provider's IDs of the callbacks whose opt-out or opt-in was applied on a channel
-- (Twilio's MessageSid, Vonage's messageId, Telegram's update_id). Twilio times an inbound SMS by its
-- arrival, so a captured START, signed and replayed after the contact's STOP, looked newer and lifted it;
-- a signal is now applied once. Kept for good: a few rows per contact who ever wrote STOP or START.
CREATE TABLE `signals_applied` (
	`channel_id` integer NOT NULL,
	`event_id` text NOT NULL,
	`at` integer NOT NULL,
	PRIMARY KEY(`channel_id`, `event_id`)
) WITHOUT ROWID;
