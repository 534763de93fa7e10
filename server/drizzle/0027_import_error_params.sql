-- What a failed import's message says besides its code (a count, a limit, the fields it would add), so that
-- each reader gets the message in their own language rather than in the uploader's.
ALTER TABLE `imports` ADD `error_params` text;
