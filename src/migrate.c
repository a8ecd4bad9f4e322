/*
 * migrate.c: schema migrations and indexes (see migrate.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payrun/log.h"
#include "payrun/mem.h"
#include "payrun/migrate.h"
#include "payrun/probes.h"
#include "payrun/sql.h"
#include "payrun/banned.h"

static bool
apply_one(struct db *db, const struct sql_migration *m, bool *applied)
{
	char            version[16];
	const char     *params[2] = { version, m->name };
	struct db_value present = { .type = DB_VALUE_TEXT };
	struct db_value ignored = { .type = DB_VALUE_TEXT };

	snprintf(version, sizeof(version), "%d", m->version);
	*applied = false;
	if (!db_begin(db, "migrate", NULL))
		return false;
	if (!db_query_value(db, "migrate", "migration_lock", sql_migration_lock, 0, NULL, &ignored) ||
		!db_exec(db, "migrate", "migrations_table", sql_migrations_table) ||
		!db_query_value(db, "migrate", "migration_applied", sql_migration_applied, 1, params,
						&present))
		goto fail;
	if (present.found)
		return db_commit(db, "migrate");
	if (!db_exec(db, "migrate", m->name, m->text) ||
		!db_query_value(db, "migrate", "migration_record", sql_migration_record, 2, params,
						&ignored) ||
		!db_commit(db, "migrate"))
		goto fail;
	*applied = true;
	return true;

fail:
	db_rollback(db, "migrate");
	return false;
}

/* Runs one DO block of sql/ with payrun.probe_table set, in its own transaction. */
static bool
probe_block(struct db *db, const char *step, const char *name, const char *sql,
			const char *probe_table)
{
	const char     *params[1] = { probe_table };
	struct db_value ignored = { .type = DB_VALUE_TEXT };

	if (db_begin(db, step, NULL) &&
		db_query_value(db, step, "probe_setting", sql_probe_setting, 1, params, &ignored) &&
		db_exec(db, step, name, sql) && db_commit(db, step))
		return true;
	db_rollback(db, step);
	return false;
}

/* After the migrations: the probe table (if asked for) and its statistics. */
static enum payrun_exit
migrate_probe_table(struct db *db, const char *probe_table, bool create)
{
	struct probe_table pt;
	enum payrun_exit   rc;

	if (create)
	{
		if (!probe_block(db, "create probe table", "probe_table_create", sql_probe_table_create,
						 probe_table))
			return PAYRUN_EXIT_DB;
		log_notice("probe table %s is there (--create-probe-table)", probe_table);
	}
	rc = probes_resolve(db, probe_table, NULL, true, &pt);
	if (rc != PAYRUN_EXIT_OK)
		return rc;
	if (pt.qualified[0] == '\0')
	{
		log_warning("the statistics the settle query needs are not created; run 'payrun db "
					"migrate' again once the probe table exists (or add --create-probe-table)");
		return PAYRUN_EXIT_OK;
	}
	if (!probe_block(db, "probe statistics", "probe_statistics", sql_probe_statistics,
					 pt.qualified))
		return PAYRUN_EXIT_DB;
	log_info("statistics of %s are in place (or their statements were given above)", pt.shown);
	return PAYRUN_EXIT_OK;
}

enum payrun_exit
migrate_apply(struct db *db, const char *probe_table, bool create_probe_table)
{
	int applied = 0;
	int latest = 0;

	for (const struct sql_migration *m = sql_migrations; m->name != NULL; m++)
	{
		bool done;

		if (!apply_one(db, m, &done))
		{
			log_error("migration %s failed; the schema stays at the last applied version", m->name);
			return PAYRUN_EXIT_DB;
		}
		if (done)
		{
			log_notice("applied migration %s", m->name);
			applied++;
		}
		latest = m->version;
	}
	if (applied == 0)
		log_notice("schema is up to date (version %d); nothing applied", latest);
	else
		log_notice("schema is at version %d (%d migration(s) applied)", latest, applied);
	return migrate_probe_table(db, probe_table, create_probe_table);
}

/*
 * db indexes.  Each statement of sql/indexes.sql is one index, made on every
 * table of the probe table's partition tree (sql/index_tree.sql): with
 * CREATE INDEX CONCURRENTLY on the leaves (and on a plain table), then, the
 * deepest level first, ON ONLY each partitioned table, whose index is
 * attached its partitions' and so becomes valid.  PostgreSQL refuses
 * CONCURRENTLY on a partitioned table, and a plain CREATE INDEX there would
 * lock every partition against writes while it builds.
 */
#define INDEX_NAME_MAX 63 /* bytes of an identifier (NAMEDATALEN - 1) */

/* One table of the tree, as sql/index_tree.sql gives it for one index. */
struct index_rel
{
	char qualified[600]; /* "schema"."table" */
	char relname[256];   /* the table's name alone */
	char parent[600];    /* qualified, "" for the probe table itself */
	char index[600];     /* its index in the tree, qualified, "" if none */
	char own[600];       /* the index payrun names for it: relname and the suffix */
	char relkind;        /* 'r' leaf or plain table, 'p' partitioned, ... */
	bool valid;          /* index is valid */
	bool attached;       /* index is attached to the parent's */
	int  own_bytes;      /* length of own's name, unquoted */
};

struct index_tree
{
	struct index_rel *rels; /* owned, deepest level first, the probe table last */
	size_t            n, cap;
	bool              failed;
};

/* What a run did, for its last line. */
struct index_counts
{
	int  indexes;     /* statements of sql/indexes.sql */
	int  created;     /* CREATE INDEX CONCURRENTLY on a table or leaf */
	int  on_only;     /* CREATE INDEX ON ONLY a partitioned table */
	int  attached;    /* ALTER INDEX ATTACH PARTITION */
	int  relations;   /* tables in the tree */
	bool partitioned; /* the probe table is */
};

static void
copy_text(char *dst, size_t size, const char *v)
{
	snprintf(dst, size, "%s", v ? v : "");
}

static bool
on_index_rel(void *arg, int ncols, const char *const *v, const int *len)
{
	struct index_tree *t = arg;
	struct index_rel  *r;

	(void) len;
	if (ncols != 10 || v[0] == NULL || v[2] == NULL || v[8] == NULL || v[9] == NULL)
	{
		log_error("internal error: index_tree returned an unexpected row");
		t->failed = true;
		return false;
	}
	if (t->n == t->cap)
	{
		t->cap = t->cap ? 2 * t->cap : 16;
		t->rels = mem_realloc_array(t->rels, t->cap, sizeof(*t->rels));
	}
	r = &t->rels[t->n++];
	copy_text(r->qualified, sizeof(r->qualified), v[0]);
	copy_text(r->relname, sizeof(r->relname), v[1]);
	r->relkind = v[2][0];
	copy_text(r->parent, sizeof(r->parent), v[4]);
	copy_text(r->index, sizeof(r->index), v[5]);
	r->valid = v[6] != NULL && v[6][0] == 't';
	r->attached = v[7] != NULL && v[7][0] == 't';
	copy_text(r->own, sizeof(r->own), v[8]);
	r->own_bytes = (int) strtol(v[9], NULL, 10);
	return true;
}

/* The tree for one index (suffix: its name after the table's). */
static enum payrun_exit
index_tree_read(struct db *db, const struct probe_table *pt, const char *suffix,
				struct index_tree *t)
{
	const char *params[2] = { pt->qualified, suffix };

	t->n = 0;
	t->failed = false;
	if (!db_query(db, "indexes", "index_tree", sql_index_tree, 2, params, on_index_rel, t, NULL))
		return t->failed ? PAYRUN_EXIT_INTERNAL : PAYRUN_EXIT_DB;
	return PAYRUN_EXIT_OK;
}

/* What no statement can mend: said with what to do, before anything is changed. */
static enum payrun_exit
index_tree_check(const struct index_tree *t, const char *shown)
{
	for (size_t i = 0; i < t->n; i++)
	{
		const struct index_rel *r = &t->rels[i];

		if (r->parent[0] != '\0' && r->relkind != 'r' && r->relkind != 'p')
		{
			log_error("partition %s of %s is not a table of this server (relkind '%c', a foreign "
					  "table?): db indexes cannot index it, and without it the index on %s "
					  "cannot be valid; index it on its own server",
					  r->qualified, r->parent, r->relkind, shown);
			return PAYRUN_EXIT_USAGE;
		}
		if (r->index[0] == '\0' && r->own_bytes > INDEX_NAME_MAX)
		{
			log_error("the index %s of %s would have a name longer than %d bytes, which "
					  "PostgreSQL would cut; rename the table",
					  r->own, r->qualified, INDEX_NAME_MAX);
			return PAYRUN_EXIT_USAGE;
		}
		if (r->index[0] == '\0' || r->valid || r->relkind == 'p')
			continue;
		if (r->attached)
			log_error("index %s of %s is attached to its parent's index but not valid, which "
					  "no attaching mends: drop the parent's index (that drops its partitions') "
					  "and run payrun db indexes again",
					  r->index, r->qualified);
		else
			log_error("index %s of %s is not valid: a CREATE INDEX CONCURRENTLY that failed, or "
					  "one still running; drop it (DROP INDEX CONCURRENTLY %s) and run payrun "
					  "db indexes again",
					  r->index, r->qualified, r->index);
		return PAYRUN_EXIT_DB;
	}
	return PAYRUN_EXIT_OK;
}

/* One statement of indexes.sql for one table of the tree (caller frees). */
static char *
index_sql(const struct probe_table *pt, const struct index_rel *r, const char *stmt)
{
	struct probe_table t = *pt;
	const char        *names[2] = { "{concurrently}", "{only}" };
	const char        *values[2] = { "CONCURRENTLY ", "" };

	copy_text(t.qualified, sizeof(t.qualified), r->qualified);
	copy_text(t.relname, sizeof(t.relname), r->relname);
	if (r->relkind == 'p')
	{
		values[0] = "";
		values[1] = "ONLY ";
	}
	return probes_sql_with(&t, stmt, 2, names, values);
}

static bool
index_exec(struct db *db, const struct probe_table *pt, const struct index_rel *r, const char *stmt,
		   int n)
{
	char  name[700];
	char *sql = index_sql(pt, r, stmt);
	bool  ok;

	snprintf(name, sizeof(name), "indexes.sql #%d on %s", n, r->qualified);
	log_info("creating index %s (%s%s)", r->own, name, r->relkind == 'p' ? ", ON ONLY" : "");
	ok = db_exec(db, "indexes", name, sql);
	free(sql);
	return ok;
}

/*
 * A partitioned table's index: created ON ONLY it if missing (invalid until
 * it has every partition's), its partitions' indexes attached, then valid.
 */
static enum payrun_exit
index_level(struct db *db, const struct probe_table *pt, const struct index_tree *t,
			const struct index_rel *r, const char *stmt, int n, struct index_counts *c)
{
	const char     *index = r->index[0] != '\0' ? r->index : r->own;
	struct db_value valid = { .type = DB_VALUE_BOOL };
	const char     *params[1] = { index };

	if (r->index[0] == '\0')
	{
		if (!index_exec(db, pt, r, stmt, n))
			return PAYRUN_EXIT_DB;
		c->on_only++;
	}
	for (size_t i = 0; i < t->n; i++)
	{
		const struct index_rel *p = &t->rels[i];
		const char             *names[2] = { "{index}", "{partition_index}" };
		const char             *values[2] = { index, p->own };
		char                    name[1300];
		char                   *sql;
		bool                    ok;

		if (strcmp(p->parent, r->qualified) != 0 || p->attached)
			continue;
		snprintf(name, sizeof(name), "attach %s to %s", p->own, index);
		log_info("attaching index %s of %s to %s", p->own, p->qualified, index);
		sql = probes_sql_with(pt, sql_index_attach, 2, names, values);
		ok = db_exec(db, "indexes", name, sql);
		free(sql);
		if (!ok)
			return PAYRUN_EXIT_DB;
		c->attached++;
	}
	if (!db_query_value(db, "indexes", "index_valid", sql_index_valid, 1, params, &valid))
		return PAYRUN_EXIT_DB;
	if (!valid.b)
	{
		log_error("index %s of %s is not valid after its partitions' indexes were attached (is "
				  "one of them not valid?)",
				  index, r->qualified);
		return PAYRUN_EXIT_DB;
	}
	return PAYRUN_EXIT_OK;
}

/* One statement of indexes.sql on the whole tree: the leaves, then each level up. */
static enum payrun_exit
index_one(struct db *db, const struct probe_table *pt, struct index_tree *t, const char *stmt,
		  int n, struct index_counts *c)
{
	const char      *quoted = "\"{index_prefix}";
	char             suffix[INDEX_NAME_MAX + 1];
	const char      *p = strstr(stmt, quoted);
	const char      *end = p ? strchr(p + strlen(quoted), '"') : NULL;
	enum payrun_exit rc;

	/* the index's name after the table's: "{index_prefix}_ts" gives _ts */
	if (end == NULL || (size_t) (end - p) - strlen(quoted) >= sizeof(suffix))
	{
		log_error("internal error: statement #%d of sql/indexes.sql names no index "
				  "\"{index_prefix}...\"",
				  n);
		return PAYRUN_EXIT_INTERNAL;
	}
	p += strlen(quoted);
	snprintf(suffix, sizeof(suffix), "%.*s", (int) (end - p), p);
	if ((rc = index_tree_read(db, pt, suffix, t)) != PAYRUN_EXIT_OK ||
		(rc = index_tree_check(t, pt->shown)) != PAYRUN_EXIT_OK)
		return rc;
	c->relations = (int) t->n;
	c->partitioned = t->n > 0 && t->rels[t->n - 1].relkind == 'p';
	for (size_t i = 0; i < t->n; i++)
	{
		const struct index_rel *r = &t->rels[i];

		if (r->relkind == 'p' || r->index[0] != '\0')
			continue;
		if (!index_exec(db, pt, r, stmt, n))
			return PAYRUN_EXIT_DB;
		c->created++;
	}
	for (size_t i = 0; i < t->n; i++)
	{
		const struct index_rel *r = &t->rels[i];

		if (r->relkind != 'p' || (r->index[0] != '\0' && r->valid))
			continue;
		if ((rc = index_level(db, pt, t, r, stmt, n, c)) != PAYRUN_EXIT_OK)
			return rc;
	}
	return PAYRUN_EXIT_OK;
}

enum payrun_exit
migrate_indexes(struct db *db, const char *probe_table)
{
	/*
	 * CREATE INDEX CONCURRENTLY cannot run inside a transaction block, and
	 * a multi-statement string is one implicit transaction: run the file's
	 * statements one by one (each ends with ';' at the end of a line).
	 */
	struct probe_table  pt;
	struct index_tree   tree = { 0 };
	struct index_counts c = { 0 };
	char               *text;
	char               *start;
	enum payrun_exit    rc = probes_resolve(db, probe_table, NULL, false, &pt);

	if (rc != PAYRUN_EXIT_OK)
		return rc;
	text = mem_strdup(sql_indexes);
	start = text;
	for (char *p = text; *p && rc == PAYRUN_EXIT_OK; p++)
	{
		if (!(*p == ';' && (p[1] == '\n' || p[1] == '\0')))
			continue;
		*p = '\0';
		rc = index_one(db, &pt, &tree, start, ++c.indexes, &c);
		start = p + 1;
	}
	free(text);
	free(tree.rels);
	if (rc != PAYRUN_EXIT_OK)
	{
		log_error("db indexes stopped at statement #%d of sql/indexes.sql on %s; what was made "
				  "stays, and running it again goes on from there",
				  c.indexes, pt.shown);
		return rc;
	}
	if (!c.partitioned)
		log_notice("%d indexes of sql/indexes.sql on %s: %d created concurrently, %d in place",
				   c.indexes, pt.shown, c.created, c.indexes - c.created);
	else if (c.created + c.on_only + c.attached == 0)
		log_notice("%d indexes of sql/indexes.sql on %s and its %d partition(s): all in place and "
				   "valid, nothing to do",
				   c.indexes, pt.shown, c.relations - 1);
	else
		log_notice("%d indexes of sql/indexes.sql on %s and its %d partition(s): %d created "
				   "concurrently, %d ON ONLY a partitioned table, %d attached; all valid",
				   c.indexes, pt.shown, c.relations - 1, c.created, c.on_only, c.attached);
	return PAYRUN_EXIT_OK;
}
