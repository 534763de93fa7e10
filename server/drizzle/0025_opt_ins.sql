-- opt_ins: the latest moment a channel's own signal said a contact takes its messages again (WhatsApp
-- user_preferences "resume", an SMS START, a Telegram unblock). A lift used to delete the opt-out and keep
-- nothing, so an older "stop" processed after it (a webhook Meta retried, a stop that arrived late, a
-- 131050 report of a send made before the resume) recorded the opt-out again, and the contact who took
-- the messages back was left out of every broadcast. A channel signal from before this moment records none.
CREATE TABLE `opt_ins` (
	`channel_id` integer NOT NULL,
	`identifier` text NOT NULL,
	`at` integer NOT NULL,
	PRIMARY KEY(`channel_id`, `identifier`)
);
