-- broadcasts.templates_delivered: its recipients delivered a template, what Meta bills on WhatsApp. The
-- cost so far billed every delivered message, free-form replies inside an open 24 h window (free) too.
-- Kept by triggers on messages as the other counts are, in the same transaction as the change.
ALTER TABLE `broadcasts` ADD `templates_delivered` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
UPDATE `broadcasts` SET `templates_delivered` = (SELECT count(*) FROM `messages`
  WHERE `messages`.`broadcast_id` = `broadcasts`.`id` AND `messages`.`state` = 'delivered' AND `messages`.`use_template` = 1);--> statement-breakpoint
CREATE TRIGGER `messages_templates_delivered_insert` AFTER INSERT ON `messages`
WHEN NEW.state = 'delivered' AND NEW.use_template = 1
BEGIN
  UPDATE broadcasts SET templates_delivered = templates_delivered + 1 WHERE id = NEW.broadcast_id;
END;--> statement-breakpoint
CREATE TRIGGER `messages_templates_delivered_update` AFTER UPDATE OF state, use_template, broadcast_id ON `messages`
WHEN (OLD.state = 'delivered' AND OLD.use_template = 1) IS NOT (NEW.state = 'delivered' AND NEW.use_template = 1)
  OR (OLD.broadcast_id IS NOT NEW.broadcast_id AND NEW.state = 'delivered' AND NEW.use_template = 1)
BEGIN
  UPDATE broadcasts SET templates_delivered = templates_delivered - 1
  WHERE id = OLD.broadcast_id AND OLD.state = 'delivered' AND OLD.use_template = 1;
  UPDATE broadcasts SET templates_delivered = templates_delivered + 1
  WHERE id = NEW.broadcast_id AND NEW.state = 'delivered' AND NEW.use_template = 1;
END;--> statement-breakpoint
CREATE TRIGGER `messages_templates_delivered_delete` AFTER DELETE ON `messages`
WHEN OLD.state = 'delivered' AND OLD.use_template = 1
BEGIN
  UPDATE broadcasts SET templates_delivered = templates_delivered - 1 WHERE id = OLD.broadcast_id;
END;
