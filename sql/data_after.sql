-- Is the period's data complete?  Some probe at or after its end says so.
SELECT EXISTS (SELECT 1 FROM probe_results WHERE probe_timestamp >= $1::timestamptz)
