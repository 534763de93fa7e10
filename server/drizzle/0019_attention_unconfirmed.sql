-- A completed broadcast needs attention once its unconfirmed recipients have waited out the delivery
-- report window (shared/src/attention.ts). The attention list finds those broadcasts here, among the
-- few that have any unconfirmed recipient, instead of walking every completed broadcast.
CREATE INDEX `broadcast_counts_unconfirmed_idx` ON `broadcast_counts` (`broadcast_id`) WHERE state = 'uncertain' AND n > 0;
