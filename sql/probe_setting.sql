-- Names the probe table for the DO blocks of this transaction.
SELECT set_config('payrun.probe_table', $1, true)
