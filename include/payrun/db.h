/*
 * db.h: every libpq call of payrun goes through here.  Failures are
 * logged with the server's message and SQLSTATE, the step that failed and
 * the statement's name; parameter values (payout data) are never logged,
 * and neither is the connection string (it may hold a password).
 */
#ifndef PAYRUN_DB_H
#define PAYRUN_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DB_MAX_COLUMNS 16 /* widest result db_query() hands to a callback */

struct db
{
	void *conn;        /* owned PGconn */
	void *cancel;      /* owned PGcancel: SIGINT and SIGTERM cancel the running query */
	char  sqlstate[6]; /* of the last failure, "" if none */
};

/*
 * While on (the default after db_connect), SIGINT and SIGTERM cancel the
 * statement running on db (interrupt.h); off while a step must not be
 * cut short, e.g. a COMMIT that publishes.
 */
void db_cancel_on_signal(struct db *db, bool on);

/*
 * Connects with a libpq connection string or URI; NULL or "" uses libpq's
 * environment (PGHOST, PGDATABASE, PGSERVICE, ~/.pgpass).
 */
bool db_connect(struct db *db, const char *conninfo, const char *application);
void db_close(struct db *db);

/* "host=... port=... dbname=... user=..." of the connection, no password. */
void db_describe(const struct db *db, char *buf, size_t len);

/* Runs a statement without parameters or results (BEGIN, SET, DDL). */
bool db_exec(struct db *db, const char *step, const char *name, const char *sql);

/*
 * Runs a parameterised statement (text parameters); returns the number of
 * rows via *nrows and their values via the callback, row by row, in libpq
 * single-row mode so a large result never sits in memory whole.
 * values[i] is NULL for SQL NULL; lengths[i] is the byte length.
 */
typedef bool (*db_row_fn)(void *arg, int ncols, const char *const *values, const int *lengths);
bool db_query(struct db *db, const char *step, const char *name, const char *sql, int nparams,
			  const char *const *params, db_row_fn fn, void *arg, double *first_row_s);

/*
 * One value from a query: the first column of its first row, as the type
 * asked for.  found is false when there was no row; isnull when the value
 * was SQL NULL.  A value of another type (text where a bool or a count was
 * asked for) is an error, logged with the step and statement.
 */
enum db_value_type
{
	DB_VALUE_BOOL,
	DB_VALUE_U64,
	DB_VALUE_TEXT
};

struct db_value
{
	enum db_value_type type; /* set by the caller */
	bool               found;
	bool               isnull;
	bool               b;
	uint64_t           u64;
	char               text[256]; /* cut to fit, NUL-terminated */
};

bool db_query_value(struct db *db, const char *step, const char *name, const char *sql, int nparams,
					const char *const *params, struct db_value *value);

/*
 * Transactions: BEGIN with an optional mode ("ISOLATION LEVEL REPEATABLE
 * READ READ ONLY"), COMMIT, and ROLLBACK, which does nothing when the
 * connection was lost (the server has rolled back already).
 */
bool db_begin(struct db *db, const char *step, const char *mode);
bool db_commit(struct db *db, const char *step);
void db_rollback(struct db *db, const char *step);

/* COPY ... FROM STDIN: begin, put data (buffered by libpq), end. */
bool db_copy_begin(struct db *db, const char *step, const char *name, const char *sql);
bool db_copy_put(struct db *db, const char *step, const void *data, size_t len);
bool db_copy_end(struct db *db, const char *step, const char *name);

/*
 * A COPY data stream as a CSV writer: rows written through csvout are
 * gathered and handed to libpq in large pieces.  Failures are sticky and
 * logged once; check db_copy_flush() at the end.
 */
#define DB_COPY_BUFSIZE (64 * 1024)

struct db_copy
{
	struct db  *db;   /* borrowed */
	const char *step; /* for messages */
	char       *buf;  /* owned, DB_COPY_BUFSIZE */
	size_t      used;
	bool        failed;
};

struct csvout;

void          db_copy_init(struct db_copy *cp, struct db *db, const char *step);
struct csvout db_copy_csvout(struct db_copy *cp);
/* Hands buffered rows to libpq; false if any put failed. */
bool db_copy_flush(struct db_copy *cp);
void db_copy_release(struct db_copy *cp);

/*
 * text as an SQL string literal, quoted and escaped for this connection
 * (PQescapeLiteral); caller frees.  NULL (logged) on an encoding error.
 */
char *db_quote_literal(struct db *db, const char *text);

/* True while the connection is usable (not lost). */
/*
 * A connection string for the server db is connected to, to print in a
 * command the operator can run (host, port, dbname, user; never the
 * password: libpq finds it in ~/.pgpass or PGPASSWORD).
 */
void db_conninfo_shown(const struct db *db, char *buf, size_t len);

bool db_connected(const struct db *db);

/* The SQLSTATE of the last failure ("" if none). */
const char *db_last_sqlstate(const struct db *db);

#endif
