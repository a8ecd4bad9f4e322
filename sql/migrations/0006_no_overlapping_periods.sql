-- payrun schema, version 6: a probe is paid once, whatever the labels.  A
-- day and one of its hours overlap; both settled would pay the hour's
-- probes twice.  The exclusion constraint makes two settled runs whose
-- periods overlap impossible unless they are versions of the same period
-- (reruns re-settle the same interval, under the same label).
-- btree_gist gives the text column its gist operator class; it is a trusted
-- extension, which the database's owner may create.  A database that
-- already holds overlapping runs stops this migration with the server's
-- message naming them: resolve them first.
CREATE EXTENSION IF NOT EXISTS btree_gist;

ALTER TABLE payout_runs
    ADD CONSTRAINT payout_runs_paid_once
    EXCLUDE USING gist (tstzrange(period_start, period_end) WITH &&, period_label WITH <>);
