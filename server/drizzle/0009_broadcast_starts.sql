-- A broadcast being started: its audience is frozen a chunk per transaction (engine/audience.ts,
-- freezeChunk) under this lease, so that one process freezes it and another can go on from the cursor
-- if that one dies. The row goes when the broadcast leaves 'scheduled'.
CREATE TABLE `broadcast_starts` (
	`broadcast_id` integer PRIMARY KEY NOT NULL,
	`owner` text NOT NULL,
	`lease_until` integer NOT NULL,
	`phase` text NOT NULL,
	`after_identifier` text,
	`after_contact_id` integer NOT NULL
);
