-- A settled run of another label whose period overlaps [$1, $2): a day and
-- one of its hours, say.  A probe is paid once: settling this period then
-- is refused, and the exclusion constraint of migration 6 makes it
-- impossible even for two runs at once.
SELECT id, period_label, version
FROM payout_runs
WHERE tstzrange(period_start, period_end) && tstzrange($1::timestamptz, $2::timestamptz)
  AND period_label <> $3
  AND status = 'settled'
ORDER BY period_start
LIMIT 1
