-- An automatic round brought by a failure reported late (lateFailure), until it is planned: a person who
-- takes a re-send back meanwhile stops the round a quota backlog had waiting, not this one.
ALTER TABLE `broadcasts` ADD `recovery_late` integer DEFAULT 0 NOT NULL;
