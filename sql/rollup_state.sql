-- The rollups' state (NULL row: not enabled): the probe table and zone
-- they are of, the origin and the watermark (epoch seconds, NULL if none
-- yet), the generation, and whether the triggers are on that table.
SELECT s.probe_table, s.zone,
       date_part('epoch', s.origin)::bigint AS origin,
       date_part('epoch', s.watermark)::bigint AS watermark,
       s.generation,
       (SELECT count(*) FROM pg_trigger t
         WHERE t.tgrelid = to_regclass(s.probe_table)
           AND t.tgname IN ('payrun_rollup_insert', 'payrun_rollup_update',
                            'payrun_rollup_delete', 'payrun_rollup_truncate')) AS triggers
FROM payrun_rollup_state s
