-- signals_applied: the opt-outs and opt-ins a channel applied from signals that carry no time of their
-- own, by the provider's event (an inbound SMS's MessageSid; `failed:<message id>` for a send's opt-out
-- failure, 21610). Twilio times its callbacks by their arrival, so a captured START, signed and replayed
-- after the contact's STOP, looked newer and lifted it (and a replayed STOP or 21610 opted out again
-- someone who had written START); each is now applied once. Kept for good: a few rows per contact who
-- ever wrote STOP or START, or failed for having done so.
CREATE TABLE `signals_applied` (
	`channel_id` integer NOT NULL,
	`event_id` text NOT NULL,
	`at` integer NOT NULL,
	PRIMARY KEY(`channel_id`, `event_id`)
) WITHOUT ROWID;
