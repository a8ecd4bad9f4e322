-- One index of sql/indexes.sql over the probe table's partition tree, for
-- 'payrun db indexes' (migrate.c): $1 the table as resolved (probes.h), $2
-- the index's name after its table's ("_ts": probe_results_ts).  One row per
-- table of the tree, the deepest first, the probe table itself at level 0
-- (alone when it is not partitioned; the children of plain inheritance are
-- not partitions and are not followed).
--
-- A table's index in the tree is the index on it attached to its parent's
-- index in the tree (whatever its name: a partition created with PARTITION
-- OF gets one from PostgreSQL), else the one payrun names for it, the
-- table's name and $2 ("own"), if it exists: that is the probe table's.
WITH RECURSIVE tree AS (
    SELECT c.oid, c.relkind, 0 AS level, NULL::oid AS parent, NULL::oid AS attached_idx,
           (SELECT x.indexrelid FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
             WHERE x.indrelid = c.oid AND i.relname = c.relname || $2::text) AS own_idx
    FROM pg_class c
    WHERE c.oid = $1::regclass
    UNION ALL
    SELECT c.oid, c.relkind, t.level + 1, t.oid,
           (SELECT x.indexrelid FROM pg_index x JOIN pg_inherits hi ON hi.inhrelid = x.indexrelid
             WHERE x.indrelid = c.oid AND hi.inhparent = coalesce(t.attached_idx, t.own_idx)),
           (SELECT x.indexrelid FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
             WHERE x.indrelid = c.oid AND i.relname = c.relname || $2::text)
    FROM tree t
    JOIN pg_inherits h ON h.inhparent = t.oid
    JOIN pg_class c ON c.oid = h.inhrelid
    WHERE t.relkind = 'p'
)
SELECT format('%I.%I', n.nspname, c.relname) AS qualified,
       c.relname,
       t.relkind,
       t.level,
       (SELECT format('%I.%I', pn.nspname, p.relname) FROM pg_class p
          JOIN pg_namespace pn ON pn.oid = p.relnamespace WHERE p.oid = t.parent) AS parent,
       (SELECT format('%I.%I', n.nspname, i.relname) FROM pg_class i
         WHERE i.oid = coalesce(t.attached_idx, t.own_idx)) AS index,
       (SELECT x.indisvalid FROM pg_index x
         WHERE x.indexrelid = coalesce(t.attached_idx, t.own_idx)) AS valid,
       t.attached_idx IS NOT NULL AS attached,
       format('%I.%I', n.nspname, c.relname || $2::text) AS own,
       octet_length(c.relname || $2::text) AS own_bytes
FROM tree t
JOIN pg_class c ON c.oid = t.oid
JOIN pg_namespace n ON n.oid = c.relnamespace
ORDER BY t.level DESC, c.relname
