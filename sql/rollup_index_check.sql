-- Can a refresh read one hour of table $1 without reading it all: an index
-- whose first column is probe_timestamp, or partitions by it?
SELECT EXISTS (SELECT 1 FROM pg_index i
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                WHERE i.indrelid = $1::regclass AND a.attname = 'probe_timestamp')
    OR EXISTS (SELECT 1 FROM pg_partitioned_table p
                 JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
                WHERE p.partrelid = $1::regclass AND a.attname = 'probe_timestamp')
