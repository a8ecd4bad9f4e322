/*
 * checks.h: the checks that keep wrong input from becoming a final ledger.
 * Before a version is published, a settlement is refused (exit 3, nothing
 * published, rejects kept) when:
 *
 *   has_probes  the period has no in-period probe (--allow-empty);
 *   edge_gap    its probes start more than max_edge_gap after its start or
 *               end more than max_edge_gap before its end: the wrong day's
 *               export, or a partial one (--max-edge-gap; 0 turns it off;
 *               1h for days, 5m for hours);
 *   pools       every pool is 0, or the pools name none of the streams that
 *               have probes: the wrong pools (--allow-zero-pools).  (A
 *               table or query that lists no stream at all leaves every
 *               stream the default pool: only "every pool is 0" applies.)
 *
 * (Inputs given twice are refused by the source: source.h.)  Each outcome
 * is recorded, as the manifest's checks object; an override used is listed
 * in the run log too.
 */
#ifndef PAYRUN_CHECKS_H
#define PAYRUN_CHECKS_H

#include <jansson.h>
#include <stdbool.h>

#include "payrun/coverage.h"
#include "payrun/ledger.h"
#include "payrun/period.h"
#include "payrun/pools.h"
#include "payrun/settings.h"
#include "payrun/source.h"

struct checks
{
	json_t *results;   /* owned: {name: {status, ...}} */
	json_t *overrides; /* owned: the overrides used, ["allow_empty", ...] */
};

void checks_init(struct checks *c);
void checks_release(struct checks *c);

/* has_probes and edge_gap, once the probes are read; false (logged) to refuse. */
bool checks_probes(struct checks *c, const struct settings *s, const struct period *p,
				   const struct source_counts *counts, const struct coverage *cover);

/* pools, once the ledger is built; false (logged) to refuse. */
bool checks_pools(struct checks *c, const struct settings *s, const struct period *p,
				  const struct ledger *ledger, const struct pools *pools);

/* The edge gap in force for a period: max_edge_gap, or its default. */
int64_t checks_edge_gap_s(const struct settings *s, const struct period *p);

#endif
