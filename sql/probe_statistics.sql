-- Statistics on the probe table's (stream_id, node_id) pair, for the settle
-- query's GROUP BY; the table is the payrun.probe_table setting of this
-- transaction, resolved by 'payrun db migrate' (probes.h).
--
-- Without them the planner multiplies the two columns' distinct counts and
-- expects about a million groups for a day of 10,000 nodes on 100 streams
-- (there are 20,000): it sizes its hash table for that and skips parallel
-- aggregation.  With them it runs a parallel hash aggregate.  Measured here
-- on a 14.4M-row day: 6.8-7.2 s -> 2.8-3.2 s (docs/postgresql.md).
--
-- The statistics object goes into the table's own schema; creating it and
-- running ANALYZE need the table's owner and CREATE on that schema.  When
-- payrun's role lacks either, this says what to ask the owner to run
-- instead of failing.
DO $$
DECLARE
    tbl regclass := to_regclass(current_setting('payrun.probe_table'));
    nsp name;
    rel name;
    stmt text;
BEGIN
    IF tbl IS NULL THEN
        RAISE WARNING 'payrun: no table %; no statistics created', current_setting('payrun.probe_table');
        RETURN;
    END IF;
    SELECT n.nspname, c.relname INTO nsp, rel
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = tbl;
    stmt := format('CREATE STATISTICS IF NOT EXISTS %I.%I (ndistinct) ON stream_id, node_id FROM %s',
                   nsp, rel || '_stream_node', tbl);
    IF pg_has_role((SELECT relowner FROM pg_class WHERE oid = tbl), 'USAGE')
       AND has_schema_privilege(nsp, 'CREATE') THEN
        EXECUTE stmt;
        EXECUTE format('ANALYZE %s', tbl);
    ELSE
        RAISE WARNING 'payrun: not the owner of %, or no CREATE on schema %; ask its owner to run: %; ANALYZE %;',
            tbl, quote_ident(nsp), stmt, tbl;
    END IF;
END
$$;
