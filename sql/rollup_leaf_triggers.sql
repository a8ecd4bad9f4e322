-- The invalidation triggers on every partition of a partitioned probe table
-- (the payrun.probe_table setting of this transaction) that lacks them.  A
-- statement-level trigger fires for the table a statement names: the
-- parent's for writes through the parent, a partition's own for writes to
-- it directly.  Run by --enable and by every refresh, so a partition added
-- since (pg_partman makes them ahead of time) gets them too.  Foreign
-- partitions are left out: their writes happen on their own server.
DO $$
DECLARE
    parent regclass := to_regclass(current_setting('payrun.probe_table'));
    leaf regclass;
BEGIN
    FOR leaf IN
        SELECT t.relid FROM pg_partition_tree(parent) t JOIN pg_class c ON c.oid = t.relid
         WHERE t.relid <> parent AND c.relkind IN ('r', 'p')
           AND NOT EXISTS (SELECT 1 FROM pg_trigger g
                            WHERE g.tgrelid = t.relid AND g.tgname = 'payrun_rollup_insert')
    LOOP
        EXECUTE format('CREATE TRIGGER payrun_rollup_insert AFTER INSERT ON %s
            REFERENCING NEW TABLE AS payrun_new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION {payrun_schema}.payrun_rollup_log()', leaf);
        EXECUTE format('CREATE TRIGGER payrun_rollup_update AFTER UPDATE ON %s
            REFERENCING OLD TABLE AS payrun_old_rows NEW TABLE AS payrun_new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION {payrun_schema}.payrun_rollup_log()', leaf);
        EXECUTE format('CREATE TRIGGER payrun_rollup_delete AFTER DELETE ON %s
            REFERENCING OLD TABLE AS payrun_old_rows
            FOR EACH STATEMENT EXECUTE FUNCTION {payrun_schema}.payrun_rollup_log()', leaf);
        EXECUTE format('CREATE TRIGGER payrun_rollup_truncate AFTER TRUNCATE ON %s
            FOR EACH STATEMENT EXECUTE FUNCTION {payrun_schema}.payrun_rollup_truncated()', leaf);
        RAISE NOTICE 'payrun: rollup triggers put on partition %', leaf;
    END LOOP;
END
$$;
