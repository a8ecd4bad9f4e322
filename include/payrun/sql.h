/*
 * sql.h: the SQL statements of sql/, embedded at build time by
 * tools/embed-sql.sh (build/sql_embed.c).  Edit the .sql files, never C.
 */
#ifndef PAYRUN_SQL_H
#define PAYRUN_SQL_H

#include <stddef.h>

struct sql_migration
{
	int         version; /* from the file name: 0001_x.sql is 1 */
	const char *name;    /* file name without .sql */
	const char *text;
};

extern const char sql_settle_read[];
extern const char sql_pools_read[];
extern const char sql_run_settled[];
extern const char sql_run_lock[];
extern const char sql_run_insert[];
extern const char sql_ledger_copy[];
extern const char sql_totals_copy[];
extern const char sql_indexes[];
extern const char sql_export_run[];
extern const char sql_data_after[];
extern const char sql_status_settled[];
extern const char sql_backfill_file_loaded[];
extern const char sql_backfill_staging[];
extern const char sql_backfill_copy[];
extern const char sql_backfill_insert[];
extern const char sql_backfill_record[];
extern const char sql_export_ledger[];
extern const char sql_export_totals[];
extern const char sql_migrations_table[];
extern const char sql_migration_lock[];
extern const char sql_migration_applied[];
extern const char sql_migration_record[];
extern const char sql_probe_table_resolve[];
extern const char sql_zone_known[];
extern const char sql_probe_table_create[];
extern const char sql_probe_statistics[];
extern const char sql_probe_setting[];
extern const char sql_backfill_check[];
extern const char sql_run_overlap[];
extern const char sql_rollup_enable[];
extern const char sql_rollup_disable[];
extern const char sql_rollup_state[];
extern const char sql_rollup_state_set[];
extern const char sql_rollup_origin[];
extern const char sql_rollup_threshold[];
extern const char sql_rollup_todo[];
extern const char sql_rollup_hour_clear[];
extern const char sql_rollup_hour_insert[];
extern const char sql_rollup_hour_time[];
extern const char sql_rollup_days_todo[];
extern const char sql_rollup_day[];
extern const char sql_rollup_leaf_triggers[];
extern const char sql_rollup_index_check[];
extern const char sql_rollup_foreign_check[];
extern const char sql_rollup_installed[];
extern const char sql_rollup_plan[];
extern const char sql_settle_read_rollups[];
extern const char sql_slice_starts[];
extern const char sql_index_tree[];
extern const char sql_index_attach[];
extern const char sql_index_valid[];

/* In version order, ended by an entry with name NULL. */
extern const struct sql_migration sql_migrations[];

#endif
