-- Serialises writers of one period for the rest of the transaction.
SELECT pg_try_advisory_xact_lock(hashtext('payrun.period'), hashtext($1))
