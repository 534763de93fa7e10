-- Recipients written before failures kept their reason (nothing writes one so since). A failed one was
-- read as `provider_error` (re-send now) by the failure log's summary, which the panel's "re-send N"
-- counts, while the one-click re-send skipped it (no reason to choose) and the badge called it red: the
-- same recipient, three answers. It is given the reason every reader gave it, so that the re-send takes
-- it too. An unconfirmed one without a reason is `uncertain`, as every reader already read it. Both walk
-- a partial index of the failed, left-out and unconfirmed recipients, not every message.
UPDATE `messages` SET `reason` = 'provider_error' WHERE `state` = 'failed' AND `reason` IS NULL;
--> statement-breakpoint
UPDATE `messages` SET `reason` = 'uncertain' WHERE `state` = 'uncertain' AND `reason` IS NULL;
