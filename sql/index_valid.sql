-- Is the index $1 (a qualified name) valid: on a partitioned table, has it
-- an index of every partition attached, each valid?
SELECT indisvalid FROM pg_index WHERE indexrelid = $1::regclass
