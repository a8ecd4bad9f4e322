/*
 * checks.c: the refusal checks (see checks.h).
 */
#include <stdio.h>
#include <string.h>

#include "payrun/checks.h"
#include "payrun/log.h"
#include "payrun/timestamp.h"
#include "payrun/banned.h"

#define DAY_EDGE_GAP_S  3600
#define HOUR_EDGE_GAP_S 300

void
checks_init(struct checks *c)
{
	c->results = json_object();
	c->overrides = json_array();
}

void
checks_release(struct checks *c)
{
	json_decref(c->results);
	json_decref(c->overrides);
	c->results = c->overrides = NULL;
}

int64_t
checks_edge_gap_s(const struct settings *s, const struct period *p)
{
	if (s->max_edge_gap_s >= 0)
		return s->max_edge_gap_s;
	return p->length == PERIOD_LENGTH_HOUR ? HOUR_EDGE_GAP_S : DAY_EDGE_GAP_S;
}

/* Records an outcome; a failed check is refused unless overridden (then true). */
static bool
outcome(struct checks *c, const char *name, bool passed, bool override, const char *option,
		json_t *detail)
{
	const char *status = passed ? "passed" : override ? "overridden" : "failed";

	json_object_set_new(detail, "status", json_string(status));
	if (!passed && override)
	{
		json_object_set_new(detail, "override", json_string(option));
		json_array_append_new(c->overrides, json_string(option + 2)); /* without "--" */
	}
	json_object_set_new(c->results, name, detail);
	return passed || override;
}

static void
refuse(const struct period *p, const char *check, const char *option, const char *why)
{
	log_error("refusing to publish period %s: %s (check %s; %s)", p->label, why, check,
			  option ? option : "no override");
}

/* has_probes: some in-period probe. */
static bool
check_has_probes(struct checks *c, const struct settings *s, const struct period *p,
				 const struct source_counts *counts)
{
	bool passed = counts->in_period > 0;

	if (!outcome(c, "has_probes", passed, s->allow_empty, "--allow-empty",
				 json_pack("{s:I}", "in_period", (json_int_t) counts->in_period)))
	{
		refuse(p, "has_probes", "give --allow-empty to settle it anyway",
			   "it has no valid probe in it (the wrong period, or an empty export?)");
		return false;
	}
	if (!passed)
		log_warning("period %s has no probe in it; settled anyway (--allow-empty)", p->label);
	return true;
}

/* edge_gap: the probes reach both ends of the period, within the gap. */
static bool
check_edges(struct checks *c, const struct settings *s, const struct period *p,
			const struct coverage *cover)
{
	int64_t gap = checks_edge_gap_s(s, p);
	int64_t lead, trail;
	char    first[TIMESTAMP_FORMAT_LEN], last[TIMESTAMP_FORMAT_LEN], why[256];
	json_t *d;

	if (gap == 0)
		json_array_append_new(c->overrides, json_string("max_edge_gap=0"));
	if (gap == 0 || cover == NULL || !cover->any)
	{
		json_object_set_new(c->results, "edge_gap",
							json_pack("{s:s, s:I}", "status", gap == 0 ? "off" : "not applicable",
									  "max_s", (json_int_t) gap));
		return true;
	}
	if (s->max_edge_gap_s >= 0)
	{
		char given[48];

		snprintf(given, sizeof(given), "max_edge_gap=%llds", (long long) gap);
		json_array_append_new(c->overrides, json_string(given));
	}
	lead = cover->first - p->start;
	trail = p->end - 1 - cover->last;
	d = json_pack("{s:I, s:I, s:I}", "max_s", (json_int_t) gap, "lead_s", (json_int_t) lead,
				  "trail_s", (json_int_t) trail);
	if (outcome(c, "edge_gap", lead <= gap && trail <= gap, false, NULL, d))
		return true;
	timestamp_format(cover->first, first);
	timestamp_format(cover->last, last);
	snprintf(why, sizeof(why),
			 "its probes run from %s to %s, more than %llds from its %s (a partial export, or "
			 "another period's?)",
			 first, last, (long long) gap, lead > gap ? "start" : "end");
	refuse(p, "edge_gap", "give --max-edge-gap with a longer gap, or 0 to turn the check off", why);
	return false;
}

bool
checks_probes(struct checks *c, const struct settings *s, const struct period *p,
			  const struct source_counts *counts, const struct coverage *cover)
{
	return check_has_probes(c, s, p, counts) && check_edges(c, s, p, cover);
}

/* Do the pools list any stream the ledger has probes of? */
static bool
lists_a_probed_stream(const struct ledger *ledger, const struct pools *pools)
{
	for (size_t i = 0; i < ledger->nrows; i++)
	{
		if (pools_find(pools, ledger->rows[i].stream, ledger->rows[i].stream_len))
			return true;
	}
	return false;
}

bool
checks_pools(struct checks *c, const struct settings *s, const struct period *p,
			 const struct ledger *ledger, const struct pools *pools)
{
	bool zero = amount_is_zero(&ledger->totals.pool);
	/* pools that list streams, none of them probed; an empty list leaves the default pool */
	bool none = pools->origin != POOLS_NONE && pools->count > 0 && ledger->nrows > 0 &&
				!lists_a_probed_stream(ledger, pools);
	const char *why = zero ? "every pool is 0: there is nothing to pay"
						   : "the pools name none of the streams that have probes (the wrong "
							 "pools?)";

	if (outcome(c, "pools", !zero && !none, s->allow_zero_pools, "--allow-zero-pools",
				json_pack("{s:s, s:b}", "origin", pools_origin_name(pools->origin),
						  "names_a_probed_stream", !none)))
	{
		if (zero || none)
			log_warning("period %s: %s; settled anyway (--allow-zero-pools)", p->label, why);
		return true;
	}
	refuse(p, "pools", "give --allow-zero-pools to settle it anyway", why);
	return false;
}
