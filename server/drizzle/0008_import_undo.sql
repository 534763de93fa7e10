-- What a running import changed, so that an import written in short transactions still lands whole
-- or not at all (see importUndo in src/db/schema.ts).
CREATE TABLE `import_undo` (
	`import_id` integer NOT NULL,
	`kind` text NOT NULL,
	`id` integer NOT NULL,
	`before` text,
	PRIMARY KEY(`import_id`, `kind`, `id`)
) WITHOUT ROWID;
