-- Folded copies of the text a segment's "contains" reads: first name, last name and custom fields, as
-- segments/fold.ts folds them (case and the accents of Spanish and Portuguese). A "contains" compared
-- the stored text with a GLOB of a class per accented letter, which takes the text's length times the
-- typed value's on each contact: a manager's notes of 2,000 "a" against a value of 199 "a" and an "e"
-- cost 40 ms a contact, so such a segment held a heavy thread for hours to preview, and the write lock
-- for as long to freeze, while every other workspace waited. Against the folded copy it is instr()
-- (SQLite's own search, over plain bytes). Rebound's contact writers write the copies with the text;
-- custom_folded is null only on a contact no writer folded yet (written before this migration, or by
-- hand), which keeps the old comparison until the server folds it at start or a writer writes it.
ALTER TABLE `contacts` ADD `first_folded` text;
--> statement-breakpoint
ALTER TABLE `contacts` ADD `last_folded` text;
--> statement-breakpoint
ALTER TABLE `contacts` ADD `custom_folded` text;
--> statement-breakpoint
-- The contacts not folded yet, for the fold at start: empty once all are, so a start reads nothing.
CREATE INDEX `contacts_unfolded_idx` ON `contacts` (`id`) WHERE custom_folded IS NULL;
--> statement-breakpoint
-- A write that changes the text and leaves its copy as it was (by hand, or a process of an older
-- version during an upgrade) leaves the contact unfolded rather than with a copy of its old text: the
-- GLOB answers for it until it is folded again. Rebound's writers fold what they wrote after it
-- (foldUnfolded), so a change of capitals or accents alone, whose copy is the same, is folded again in
-- the same transaction.
CREATE TRIGGER `contacts_folded_stale` AFTER UPDATE OF first_name, last_name, custom_fields ON `contacts`
WHEN NEW.custom_folded IS NOT NULL AND (
  (NEW.first_name IS NOT OLD.first_name AND NEW.first_folded IS OLD.first_folded)
  OR (NEW.last_name IS NOT OLD.last_name AND NEW.last_folded IS OLD.last_folded)
  OR (NEW.custom_fields IS NOT OLD.custom_fields AND NEW.custom_folded IS OLD.custom_folded))
BEGIN
  UPDATE contacts SET first_folded = NULL, last_folded = NULL, custom_folded = NULL WHERE id = NEW.id;
END;
