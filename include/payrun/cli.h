/*
 * cli.h: the subcommands.  Each lives in src/cli_<verb>.c, parses its own
 * options and calls into the modules; the table in src/payrun.c
 * dispatches.  argv[0] is the subcommand's name.
 */
#ifndef PAYRUN_CLI_H
#define PAYRUN_CLI_H

int cli_settle(int argc, char **argv);
int cli_db(int argc, char **argv);
int cli_export(int argc, char **argv);
int cli_rerun(int argc, char **argv);
int cli_history(int argc, char **argv);
int cli_backfill(int argc, char **argv);
int cli_run(int argc, char **argv);

/*
 * Copies a --db argument and blanks any password in argv's own memory, so
 * it does not show in ps or /proc/PID/cmdline.  Returns the owned copy.
 */
char *cli_take_conninfo(char *arg);

/* -q / -v handling shared by every subcommand. */
void cli_quieter(void);
void cli_louder(void);

#endif
