-- payrun schema, version 3: statistics on the probe table's
-- (stream_id, node_id) pair, for the settle query's GROUP BY.
--
-- This migration once created them on whatever probe_results the search
-- path found.  They belong on the configured probe table, which a
-- migration cannot know, so 'payrun db migrate' now creates them itself,
-- every time, after the migrations: sql/probe_statistics.sql.  Nothing is
-- left for this version to do.
SELECT 1
