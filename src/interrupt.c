/*
 * interrupt.c: stopping at a safe point on SIGINT and SIGTERM (see
 * interrupt.h).
 */
#include <signal.h>
#include <stddef.h>
#include <string.h>

#include "payrun/interrupt.h"
#include "payrun/banned.h"

static volatile sig_atomic_t caught_signal;
static void (*volatile on_signal_fn)(void *arg);
static void *volatile on_signal_arg;

static void
handle_signal(int signo)
{
	void (*fn)(void *) = on_signal_fn;

	caught_signal = signo;
	if (fn)
		fn(on_signal_arg);
}

void
interrupt_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handle_signal;
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: a blocked read returns EINTR and its loop sees the flag; the second
	 * signal gets the default action */
	sa.sa_flags = SA_RESETHAND;
	(void) sigaction(SIGINT, &sa, NULL);
	(void) sigaction(SIGTERM, &sa, NULL);
}

bool
interrupt_pending(void)
{
	return caught_signal != 0;
}

enum payrun_exit
interrupt_exit(void)
{
	return caught_signal == SIGTERM ? PAYRUN_EXIT_SIGTERM : PAYRUN_EXIT_SIGINT;
}

const char *
interrupt_name(void)
{
	return caught_signal == SIGTERM ? "SIGTERM" : "SIGINT";
}

void
interrupt_on_signal(void (*fn)(void *arg), void *arg)
{
	on_signal_fn = NULL;
	on_signal_arg = arg;
	on_signal_fn = fn;
}

enum payrun_exit
interrupt_status(enum payrun_exit rc, bool stop)
{
	if (caught_signal != 0 && (rc != PAYRUN_EXIT_OK || stop))
		return interrupt_exit();
	return rc;
}
