/*
 * db.c: the libpq module (see db.h).
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "payrun/clock.h"
#include "payrun/csvout.h"
#include "payrun/db.h"
#include "payrun/interrupt.h"
#include "payrun/mem.h"
#include "payrun/numparse.h"
#include "payrun/log.h"
#include "payrun/report.h"
#include "payrun/banned.h"

/*
 * The server's notices: NOTICE and below (e.g. "relation already exists,
 * skipping") at info level, WARNING at warning level so an operator sees it;
 * with the DETAIL and HINT when the server sent them.
 */
static void
notice_receiver(void *arg, const PGresult *res)
{
	const char    *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	const char    *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char    *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	const char    *hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
	enum log_level level = LOG_LEVEL_INFO;

	(void) arg;
	if (msg == NULL)
		return;
	if (severity == NULL)
		severity = PQresultErrorField(res, PG_DIAG_SEVERITY);
	if (severity != NULL && strcmp(severity, "WARNING") == 0)
		level = LOG_LEVEL_WARNING;
	log_msg(level, "server: %s%s%s%s%s%s%s", msg, detail ? " (detail: " : "", detail ? detail : "",
			detail ? ")" : "", hint ? " (hint: " : "", hint ? hint : "", hint ? ")" : "");
}

static void
log_result_error(struct db *db, const PGresult *res, const char *step, const char *name)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *severity = res ? PQresultErrorField(res, PG_DIAG_SEVERITY) : NULL;

	if (interrupt_pending())
	{
		/* the statement was cancelled on SIGINT or SIGTERM: the run says so itself */
		snprintf(db->sqlstate, sizeof(db->sqlstate), "%s", state ? state : "");
		log_info("database step '%s' stopped (statement %s): %s", step, name, interrupt_name());
		return;
	}
	if (msg == NULL)
	{
		/* connection-level failure: the message is on the connection */
		const char *cmsg = PQerrorMessage(db->conn);
		size_t      n = strlen(cmsg);

		while (n > 0 && cmsg[n - 1] == '\n')
			n--;
		log_error("%.*s", (int) n, cmsg);
	}
	else
		log_error("%s:  %s", severity ? severity : "ERROR", msg);
	snprintf(db->sqlstate, sizeof(db->sqlstate), "%s", state ? state : "");
	log_error("database step '%s' failed (statement %s, SQLSTATE %s)", step, name,
			  state ? state
					: (PQstatus(db->conn) == CONNECTION_BAD ? "none: connection lost" : "none"));
}

/*
 * libpq's parse errors quote the text they stumbled on, which may be the
 * password ('invalid percent-encoded token: "Pw%zz..."'): the message is
 * kept, every quoted part replaced by "...".
 */
static void
log_parse_error(const char *msg)
{
	char   out[512];
	size_t o = 0;
	bool   quoted = false;

	for (const char *p = msg; *p && *p != '\n' && o + 6 < sizeof(out); p++)
	{
		if (*p == '"')
		{
			quoted = !quoted;
			if (quoted)
			{
				memcpy(out + o, "\"...\"", 5);
				o += 5;
			}
		}
		else if (!quoted)
			out[o++] = *p;
	}
	out[o] = '\0';
	log_error("invalid connection string: %s (the values are not shown)", out);
}

/* Does conninfo parse?  Logs why not, without the values. */
static bool
conninfo_parses(const char *conninfo)
{
	char             *err = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &err);

	if (opts == NULL)
	{
		log_parse_error(err ? err : "out of memory");
		PQfreemem(err);
		return false;
	}
	PQconninfoFree(opts);
	return true;
}

bool
db_connect(struct db *db, const char *conninfo, const char *application)
{
	const char *keys[] = { "dbname", "application_name", "fallback_application_name", NULL };
	const char *vals[] = { conninfo ? conninfo : "", application, "payrun", NULL };
	PGconn     *conn;

	memset(db, 0, sizeof(*db));
	if (conninfo && conninfo[0] && !conninfo_parses(conninfo))
	{
		log_error("database step 'connect' failed");
		return false;
	}
	/* expand_dbname: conninfo may be a connection string or URI */
	conn = PQconnectdbParams(keys, vals, 1);
	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
	{
		const char *msg = conn ? PQerrorMessage(conn) : "out of memory";
		size_t      n = strlen(msg);

		while (n > 0 && msg[n - 1] == '\n')
			n--;
		log_error("could not connect to the database: %.*s", (int) n, msg);
		log_error("database step 'connect' failed");
		PQfinish(conn);
		return false;
	}
	PQsetNoticeReceiver(conn, notice_receiver, NULL);
	db->conn = conn;
	db->cancel = PQgetCancel(conn);
	db_cancel_on_signal(db, true);
	return true;
}

/* In the signal handler: PQcancel is async-signal-safe. */
static void
cancel_query(void *arg)
{
	char err[256];

	(void) PQcancel(arg, err, sizeof(err));
}

void
db_cancel_on_signal(struct db *db, bool on)
{
	if (db->cancel)
		interrupt_on_signal(on ? cancel_query : NULL, db->cancel);
}

void
db_close(struct db *db)
{
	if (db->cancel)
	{
		interrupt_on_signal(NULL, NULL);
		PQfreeCancel(db->cancel);
	}
	db->cancel = NULL;
	if (db->conn)
		PQfinish(db->conn);
	db->conn = NULL;
}

void
db_describe(const struct db *db, char *buf, size_t len)
{
	const char *host = PQhost(db->conn);

	snprintf(buf, len, "host=%s port=%s dbname=%s user=%s", host && host[0] ? host : "(default)",
			 PQport(db->conn), PQdb(db->conn), PQuser(db->conn));
}

/* Appends " key='value'" (libpq quoting) to buf. */
static void
append_param(char *buf, size_t len, const char *key, const char *value)
{
	size_t o = strlen(buf);

	if (value == NULL || value[0] == '\0' || o + strlen(key) + 4 >= len)
		return;
	o += (size_t) snprintf(buf + o, len - o, "%s%s='", o ? " " : "", key);
	for (const char *v = value; *v && o + 3 < len; v++)
	{
		if (*v == '\'' || *v == '\\')
			buf[o++] = '\\';
		buf[o++] = *v;
	}
	buf[o++] = '\'';
	buf[o] = '\0';
}

void
db_conninfo_shown(const struct db *db, char *buf, size_t len)
{
	buf[0] = '\0';
	append_param(buf, len, "host", PQhost(db->conn));
	append_param(buf, len, "port", PQport(db->conn));
	append_param(buf, len, "dbname", PQdb(db->conn));
	append_param(buf, len, "user", PQuser(db->conn));
}

bool
db_connected(const struct db *db)
{
	return db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK;
}

const char *
db_last_sqlstate(const struct db *db)
{
	return db->sqlstate;
}

bool
db_exec(struct db *db, const char *step, const char *name, const char *sql)
{
	PGresult *res = PQexec(db->conn, sql);
	bool      ok = res &&
			  (PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK);

	if (!ok)
		log_result_error(db, res, step, name);
	else
		log_debug("database step '%s': %s done", step, name);
	PQclear(res);
	return ok;
}

bool
db_query(struct db *db, const char *step, const char *name, const char *sql, int nparams,
		 const char *const *params, db_row_fn fn, void *arg, double *first_row_s)
{
	PGresult *res;
	bool      ok = true;
	bool      stopped = false;
	double    start = clock_monotonic_s();
	bool      first = true;

	if (!PQsendQueryParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0) ||
		!PQsetSingleRowMode(db->conn))
	{
		log_result_error(db, NULL, step, name);
		/* drain whatever was sent */
		while ((res = PQgetResult(db->conn)) != NULL)
			PQclear(res);
		return false;
	}
	while ((res = PQgetResult(db->conn)) != NULL)
	{
		ExecStatusType st = PQresultStatus(res);

		if (first && first_row_s)
			*first_row_s = clock_monotonic_s() - start;
		first = false;
		if (st == PGRES_SINGLE_TUPLE && ok && !stopped)
		{
			int         ncols = PQnfields(res);
			const char *values[DB_MAX_COLUMNS];
			int         lengths[DB_MAX_COLUMNS];

			if (ncols > DB_MAX_COLUMNS)
			{
				log_error("internal error: statement %s returns %d columns, more than %d", name,
						  ncols, DB_MAX_COLUMNS);
				ok = false;
				PQclear(res);
				continue;
			}
			for (int c = 0; c < ncols; c++)
			{
				values[c] = PQgetisnull(res, 0, c) ? NULL : PQgetvalue(res, 0, c);
				lengths[c] = PQgetlength(res, 0, c);
			}
			if (!fn(arg, ncols, values, lengths) || interrupt_pending())
				stopped = true;
		}
		else if (st != PGRES_TUPLES_OK && st != PGRES_SINGLE_TUPLE && st != PGRES_COMMAND_OK)
		{
			if (ok)
				log_result_error(db, res, step, name);
			ok = false;
		}
		PQclear(res);
	}
	if (ok && PQstatus(db->conn) == CONNECTION_BAD)
	{
		log_result_error(db, NULL, step, name);
		ok = false;
	}
	return ok && !stopped;
}

static bool
on_value(void *arg, int ncols, const char *const *values, const int *lengths)
{
	struct db_value *v = arg;

	(void) lengths;
	if (v->found)
		return true; /* only the first row counts */
	v->found = true;
	v->isnull = ncols < 1 || values[0] == NULL;
	if (v->isnull)
		return true;
	snprintf(v->text, sizeof(v->text), "%s", values[0]);
	switch (v->type)
	{
		case DB_VALUE_BOOL:
			v->b = values[0][0] == 't';
			return (values[0][0] == 't' || values[0][0] == 'f') && values[0][1] == '\0';
		case DB_VALUE_U64:
			return numparse_u64(values[0], strlen(values[0]), 0, UINT64_MAX, &v->u64);
		case DB_VALUE_TEXT:
			return true;
	}
	return false;
}

bool
db_query_value(struct db *db, const char *step, const char *name, const char *sql, int nparams,
			   const char *const *params, struct db_value *value)
{
	enum db_value_type type = value->type;

	memset(value, 0, sizeof(*value));
	value->type = type;
	if (db_query(db, step, name, sql, nparams, params, on_value, value, NULL))
		return true;
	if (db_connected(db) && value->found && !value->isnull)
		log_error("database step '%s': statement %s returned '%s', not a %s", step, name,
				  value->text, type == DB_VALUE_BOOL ? "boolean" : "count");
	return false;
}

bool
db_begin(struct db *db, const char *step, const char *mode)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "BEGIN%s%s", mode ? " " : "", mode ? mode : "");
	return db_exec(db, step, "BEGIN", sql);
}

bool
db_commit(struct db *db, const char *step)
{
	return db_exec(db, step, "COMMIT", "COMMIT");
}

void
db_rollback(struct db *db, const char *step)
{
	/* a lost connection has rolled back already, on the server */
	if (db_connected(db))
		(void) db_exec(db, step, "ROLLBACK", "ROLLBACK");
}

bool
db_copy_begin(struct db *db, const char *step, const char *name, const char *sql)
{
	PGresult *res = PQexec(db->conn, sql);
	bool      ok = res && PQresultStatus(res) == PGRES_COPY_IN;

	if (!ok)
		log_result_error(db, res, step, name);
	PQclear(res);
	return ok;
}

bool
db_copy_put(struct db *db, const char *step, const void *data, size_t len)
{
	if (PQputCopyData(db->conn, data, (int) len) != 1)
	{
		log_result_error(db, NULL, step, "COPY data");
		return false;
	}
	return true;
}

bool
db_copy_end(struct db *db, const char *step, const char *name)
{
	PGresult *res;
	bool      ok = true;

	if (PQputCopyEnd(db->conn, NULL) != 1)
	{
		log_result_error(db, NULL, step, name);
		ok = false;
	}
	while ((res = PQgetResult(db->conn)) != NULL)
	{
		if (PQresultStatus(res) != PGRES_COMMAND_OK && ok)
		{
			log_result_error(db, res, step, name);
			ok = false;
		}
		PQclear(res);
	}
	return ok;
}

void
db_copy_init(struct db_copy *cp, struct db *db, const char *step)
{
	memset(cp, 0, sizeof(*cp));
	cp->db = db;
	cp->step = step;
	cp->buf = mem_alloc(DB_COPY_BUFSIZE);
}

bool
db_copy_flush(struct db_copy *cp)
{
	if (!cp->failed && cp->used > 0 && !db_copy_put(cp->db, cp->step, cp->buf, cp->used))
		cp->failed = true;
	cp->used = 0;
	return !cp->failed;
}

static void
copy_write(void *arg, const void *data, size_t len)
{
	struct db_copy *cp = arg;
	const char     *p = data;

	while (len > 0)
	{
		size_t n = DB_COPY_BUFSIZE - cp->used < len ? DB_COPY_BUFSIZE - cp->used : len;

		memcpy(cp->buf + cp->used, p, n);
		cp->used += n;
		p += n;
		len -= n;
		if (cp->used == DB_COPY_BUFSIZE)
			(void) db_copy_flush(cp);
	}
}

struct csvout
db_copy_csvout(struct db_copy *cp)
{
	return (struct csvout){ .write = copy_write, .arg = cp };
}

void
db_copy_release(struct db_copy *cp)
{
	free(cp->buf);
	cp->buf = NULL;
}

char *
db_quote_literal(struct db *db, const char *text)
{
	char *q = PQescapeLiteral(db->conn, text, strlen(text));
	char *copy;

	if (q == NULL)
	{
		log_error("could not quote a value for SQL: %s", PQerrorMessage(db->conn));
		return NULL;
	}
	copy = mem_strdup(q);
	PQfreemem(q);
	return copy;
}
