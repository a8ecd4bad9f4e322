/*
 * cli.h: the subcommands.  Each lives in src/cli_<verb>.c, describes
 * itself in a struct cli_command and calls into the modules; the table in
 * src/payrun.c dispatches.  argv[0] is the subcommand's name.  The options
 * come from the one table in options.h, parsed by cli_parse for every
 * command alike.
 */
#ifndef PAYRUN_CLI_H
#define PAYRUN_CLI_H

#include <stdio.h>

#include "payrun/options.h"

int cli_settle(int argc, char **argv);
int cli_db(int argc, char **argv);
int cli_export(int argc, char **argv);
int cli_rerun(int argc, char **argv);
int cli_history(int argc, char **argv);
int cli_backfill(int argc, char **argv);
int cli_run(int argc, char **argv);
int cli_status(int argc, char **argv);
int cli_verify(int argc, char **argv);
int cli_preview(int argc, char **argv);

/* A command as its --help shows it. */
struct cli_command
{
	const char *name;        /* "settle" */
	unsigned    options;     /* the table's command bit: OPT_SETTLE, ... */
	const char *synopsis;    /* "Usage: payrun settle ..." lines */
	const char *description; /* what it does, before the option lines */
	const char *exit_status; /* after them */
	int         min_args;    /* positional arguments (JOBFILE, ACTION) */
	int         max_args;
	const char *args_hint; /* said when there are too many, or NULL */
};

/* What a command line gave: the option values and the positional arguments. */
struct cli_args
{
	struct config_values values; /* owned */
	char               **args;   /* borrowed from argv */
	int                  nargs;
};

/*
 * Parses a command's options into args: the table's options of the
 * command, and -q, -v (-vv), -h.  A --db value is copied and its password
 * blanked in argv.  Returns -1 when the command should go on, else the exit
 * status to return (0 after --help, 2 after a usage error, logged).
 */
int cli_parse(int argc, char **argv, const struct cli_command *cmd, struct cli_args *args);

void cli_args_release(struct cli_args *args);

/* Prints a command's --help: synopsis, description, options, exit status. */
void cli_usage(const struct cli_command *cmd, FILE *out);

/*
 * Copies a --db argument and blanks any password in argv's own memory, so
 * it does not show in ps or /proc/PID/cmdline.  Returns the owned copy.
 */
char *cli_take_conninfo(char *arg);

/*
 * -q, -v and their bundles (-vv, -qv) before or after the command: applies
 * arg and returns true when it is one.
 */
bool cli_verbosity(const char *arg);

#endif
