-- A number paused for its own sake (the guard's channel window, or Meta's flag) is held on the channel
-- itself, until a manager lifts it: it no longer depends on a paused broadcast surviving (an agent's
-- cancel of the paused one lifted it), and a flag that came while nothing was live holds too.
ALTER TABLE `channels` ADD `hold` text;--> statement-breakpoint
UPDATE `channels` SET `hold` = (
  SELECT b.`pause` FROM `broadcasts` b
  WHERE b.`channel_id` = `channels`.`id` AND b.`status` = 'paused'
    AND (b.`pause` ->> '$.kind' = 'number_quality'
      OR (b.`pause` ->> '$.kind' = 'quality' AND b.`pause` ->> '$.scope' = 'channel'))
  ORDER BY b.`updated_at` DESC LIMIT 1
);
