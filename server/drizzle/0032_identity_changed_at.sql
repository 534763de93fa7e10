-- contacts.identity_changed_at: when the contact's phone, e-mail or a channel identifier last changed,
-- set by triggers, whoever writes (an agent, an import, an import's undo). A big audience is frozen in
-- chunks by identifier; a contact whose identifier moved past the chunks already frozen is looked up
-- before a later chunk (engine/audience.ts). That look-up read updated_at, which an import's undo puts
-- back to its old value: a contact moved by an undo mid-freeze got the broadcast twice.
ALTER TABLE `contacts` ADD `identity_changed_at` integer;--> statement-breakpoint
CREATE TRIGGER `contacts_identity_changed` AFTER UPDATE OF phone, email ON `contacts`
WHEN OLD.phone IS NOT NEW.phone OR OLD.email IS NOT NEW.email
BEGIN
  UPDATE contacts SET identity_changed_at = CAST(unixepoch('subsec') * 1000 AS INTEGER) WHERE id = NEW.id;
END;--> statement-breakpoint
CREATE TRIGGER `contact_identifiers_changed_insert` AFTER INSERT ON `contact_identifiers`
BEGIN
  UPDATE contacts SET identity_changed_at = CAST(unixepoch('subsec') * 1000 AS INTEGER) WHERE id = NEW.contact_id;
END;--> statement-breakpoint
CREATE TRIGGER `contact_identifiers_changed_update` AFTER UPDATE ON `contact_identifiers`
BEGIN
  UPDATE contacts SET identity_changed_at = CAST(unixepoch('subsec') * 1000 AS INTEGER)
  WHERE id IN (OLD.contact_id, NEW.contact_id);
END;--> statement-breakpoint
CREATE TRIGGER `contact_identifiers_changed_delete` AFTER DELETE ON `contact_identifiers`
BEGIN
  UPDATE contacts SET identity_changed_at = CAST(unixepoch('subsec') * 1000 AS INTEGER) WHERE id = OLD.contact_id;
END;
