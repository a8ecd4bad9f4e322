-- Serialises writers of one period for the rest of the transaction.  The
-- key is the period's day ($1, YYYY-MM-DD), so that a day and its hours,
-- which must never both be paid, contend for the same lock.
SELECT pg_try_advisory_xact_lock(hashtext('payrun.period'), hashtext($1))
