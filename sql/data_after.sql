-- Is the period's data complete?  Some probe at or after its end ($1) says
-- so.  The probe table and the meaning of its timestamps: probes.h.
SELECT EXISTS (SELECT 1 FROM {probe_table} WHERE probe_timestamp >= $1::timestamptz{tz})
