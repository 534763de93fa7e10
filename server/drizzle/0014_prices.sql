-- Cost (issue #15): a channel's own prices over the defaults (null: none set), and a broadcast's
-- recipients by country when it started (what its cost so far is priced by).
ALTER TABLE `channels` ADD `prices` text;
--> statement-breakpoint
ALTER TABLE `broadcasts` ADD `country_mix` text;
