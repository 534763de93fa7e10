-- Each broadcast's unconfirmed recipients (state uncertain), mirrored from broadcast_counts in the same
-- transaction: the attention list walks a workspace's completed broadcasts that have any down a partial
-- index, to find those whose wait for delivery reports is over (attentionWalks in
-- services/broadcast-read.ts), and steps over no other broadcast. Only a change of an unconfirmed count
-- fires these triggers: a send that is answered never does.
ALTER TABLE `broadcasts` ADD `unconfirmed` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
UPDATE `broadcasts` SET `unconfirmed` = coalesce((SELECT sum(c.n) FROM broadcast_counts c
  WHERE c.broadcast_id = broadcasts.id AND c.state = 'uncertain'), 0);--> statement-breakpoint
CREATE TRIGGER `broadcast_counts_unconfirmed_insert` AFTER INSERT ON `broadcast_counts`
WHEN NEW.state = 'uncertain'
BEGIN
  UPDATE broadcasts SET unconfirmed = unconfirmed + NEW.n WHERE id = NEW.broadcast_id;
END;--> statement-breakpoint
CREATE TRIGGER `broadcast_counts_unconfirmed_update` AFTER UPDATE OF n ON `broadcast_counts`
WHEN NEW.state = 'uncertain' AND NEW.n IS NOT OLD.n
BEGIN
  UPDATE broadcasts SET unconfirmed = unconfirmed + NEW.n - OLD.n WHERE id = NEW.broadcast_id;
END;--> statement-breakpoint
CREATE TRIGGER `broadcast_counts_unconfirmed_delete` AFTER DELETE ON `broadcast_counts`
WHEN OLD.state = 'uncertain'
BEGIN
  UPDATE broadcasts SET unconfirmed = unconfirmed - OLD.n WHERE id = OLD.broadcast_id;
END;--> statement-breakpoint
CREATE INDEX `broadcasts_unconfirmed_idx` ON `broadcasts` (`workspace_id`, `id`) WHERE status = 'completed' AND unconfirmed > 0;
