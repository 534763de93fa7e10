-- Contact search index: trigrams of each contact's name, e-mail and phone digits, so a search looks up
-- the contacts holding the query's trigrams instead of reading every contact of the workspace.
-- Contentless (the contacts table keeps the text) with contentless_delete so triggers can drop a row by
-- its key; detail=none keeps only which contacts hold a trigram (no positions): about a quarter of the
-- size. It finds candidates; services/contacts.ts checks each candidate's own text before answering.
-- Case and accents are folded by the tokenizer ("jose" finds "José").
-- The key is workspace_id * 2^32 + contact id: one workspace's contacts are one range of keys, newest
-- last, so a search reads only its workspace's part of the index however many other workspaces hold
-- (contact IDs stay below 2^32 = 4,294,967,296).
CREATE VIRTUAL TABLE `contact_search` USING fts5(
  name, email, phone_digits,
  content='', contentless_delete=1, detail=none,
  tokenize='trigram case_sensitive 0 remove_diacritics 2'
);
--> statement-breakpoint
-- The triggers run in the writer's own transaction, so every writer (API, CSV import, bulk upsert, demo
-- seed, merge, cascades) keeps the index in step. The name is "first last", as agents type it; the phone
-- loses its separators so "+54 9 11" and "11 5500" style fragments match by digits.
CREATE TRIGGER `contacts_search_insert` AFTER INSERT ON `contacts`
BEGIN
  INSERT INTO contact_search (rowid, name, email, phone_digits)
  VALUES (
    NEW.workspace_id * 4294967296 + NEW.id,
    trim(coalesce(NEW.first_name, '') || ' ' || coalesce(NEW.last_name, '')),
    NEW.email,
    replace(replace(replace(replace(replace(replace(replace(coalesce(NEW.phone, ''), '+', ''), ' ', ''), '-', ''), '(', ''), ')', ''), '.', ''), '/', '')
  );
END;
--> statement-breakpoint
-- Upserts name every column in their SET: the WHEN clause leaves the index alone when no searched text changed.
CREATE TRIGGER `contacts_search_update` AFTER UPDATE OF workspace_id, first_name, last_name, email, phone ON `contacts`
WHEN OLD.workspace_id IS NOT NEW.workspace_id OR OLD.first_name IS NOT NEW.first_name
  OR OLD.last_name IS NOT NEW.last_name OR OLD.email IS NOT NEW.email OR OLD.phone IS NOT NEW.phone
BEGIN
  DELETE FROM contact_search WHERE rowid = OLD.workspace_id * 4294967296 + OLD.id;
  INSERT INTO contact_search (rowid, name, email, phone_digits)
  VALUES (
    NEW.workspace_id * 4294967296 + NEW.id,
    trim(coalesce(NEW.first_name, '') || ' ' || coalesce(NEW.last_name, '')),
    NEW.email,
    replace(replace(replace(replace(replace(replace(replace(coalesce(NEW.phone, ''), '+', ''), ' ', ''), '-', ''), '(', ''), ')', ''), '.', ''), '/', '')
  );
END;
--> statement-breakpoint
CREATE TRIGGER `contacts_search_delete` AFTER DELETE ON `contacts`
BEGIN
  DELETE FROM contact_search WHERE rowid = OLD.workspace_id * 4294967296 + OLD.id;
END;
--> statement-breakpoint
INSERT INTO contact_search (rowid, name, email, phone_digits)
SELECT
  workspace_id * 4294967296 + id,
  trim(coalesce(first_name, '') || ' ' || coalesce(last_name, '')),
  email,
  replace(replace(replace(replace(replace(replace(replace(coalesce(phone, ''), '+', ''), ' ', ''), '-', ''), '(', ''), ')', ''), '.', ''), '/', '')
FROM contacts;
--> statement-breakpoint
-- One segment after the bulk fill, so the first searches do not merge many small ones.
INSERT INTO contact_search (contact_search) VALUES ('optimize');
