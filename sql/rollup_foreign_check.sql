-- Is table $1, or a partition of it, a foreign table?  Their writes cannot
-- feed transition tables (PostgreSQL refuses every write through such a
-- parent once the triggers are on), so rollups refuse them.
SELECT EXISTS (SELECT 1 FROM pg_partition_tree($1::regclass) t
                 JOIN pg_class c ON c.oid = t.relid
                WHERE c.relkind = 'f')
