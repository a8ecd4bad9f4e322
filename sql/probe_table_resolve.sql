-- The probe table payrun reads: $1 as configured (schema-qualified or not),
-- resolved as the search path does (to_regclass), and every other table of
-- that name the search path shows too, so that a second, shadowing table is
-- seen rather than silently read or ignored.  The first row is the one
-- chosen (NULL there when no table of that name exists).  Also the types of
-- the columns whose meaning depends on them.
WITH wanted AS (
    SELECT parse_ident($1) AS parts, to_regclass($1) AS chosen
)
SELECT format('%I.%I', n.nspname, c.relname) AS qualified,
       n.nspname, c.relname,
       c.oid = w.chosen AS is_chosen,
       (SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
         WHERE a.attrelid = c.oid AND a.attname = 'probe_timestamp' AND NOT a.attisdropped)
           AS timestamp_type,
       (SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
         WHERE a.attrelid = c.oid AND a.attname = 'id' AND NOT a.attisdropped) AS id_type,
       (SELECT a.atttypmod - 4 FROM pg_attribute a
         WHERE a.attrelid = c.oid AND a.attname = 'stream_id' AND NOT a.attisdropped
           AND a.atttypid = 'varchar'::regtype AND a.atttypmod > 4) AS stream_id_max,
       (SELECT a.atttypmod - 4 FROM pg_attribute a
         WHERE a.attrelid = c.oid AND a.attname = 'node_id' AND NOT a.attisdropped
           AND a.atttypid = 'varchar'::regtype AND a.atttypmod > 4) AS node_id_max
FROM wanted w, pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND (c.oid = w.chosen
       OR (cardinality(w.parts) = 1 AND c.relname = w.parts[1]
           AND n.nspname = ANY (current_schemas(false))))
ORDER BY c.oid = w.chosen DESC, array_position(current_schemas(false), n.nspname)
