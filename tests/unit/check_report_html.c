/*
 * check_report_html.c: unit tests of report_html.h: the escaping of text
 * from data, and a page written from a small ledger built by hand.
 */
#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "payrun/report_html.h"

struct sink
{
	char  *data;
	size_t len;
};

static void
sink_write(void *arg, const void *data, size_t len)
{
	struct sink *s = arg;

	s->data = realloc(s->data, s->len + len + 1);
	ck_assert_ptr_nonnull(s->data);
	memcpy(s->data + s->len, data, len);
	s->len += len;
	s->data[s->len] = '\0';
}

/* report_html_text of len bytes of in, as a NUL-terminated string (caller frees). */
static char *
escaped(const char *in, size_t len)
{
	struct sink   s = { 0 };
	struct csvout w = { .write = sink_write, .arg = &s };

	sink_write(&s, "", 0);
	report_html_text(&w, in, len);
	return s.data;
}

static const struct
{
	const char *in;
	size_t      len;
	const char *want;
} cases[] = {
	{ "relay-0042", 10, "relay-0042" },
	{ "a<b>&\"c'", 8, "a&lt;b&gt;&amp;&quot;c&#39;" },
	{ "<script>", 8, "&lt;script&gt;" },
	{ "back\\slash", 10, "back\\slash" }, /* valid: kept */
	{ "b\\s\xff", 4, "b\\\\s\\xFF" },     /* not: doubled */
	{ "b\\s\n", 4, "b\\\\s\\x0A" },
	{ "\xff", 1, "\\xFF" },
	{ "ab\xfe\xff", 4, "ab\\xFE\\xFF" },
	{ "\xe2\x82", 2, "\\xE2\\x82" },                   /* a truncated euro sign */
	{ "\xe2\x82x", 3, "\\xE2\\x82x" },                 /* ... followed by a character */
	{ "\xc0\xaf", 2, "\\xC0\\xAF" },                   /* an overlong slash */
	{ "\xe0\x80\xaf", 3, "\\xE0\\x80\\xAF" },          /* another */
	{ "\xed\xa0\x80", 3, "\\xED\\xA0\\x80" },          /* a surrogate */
	{ "\xf4\x90\x80\x80", 4, "\\xF4\\x90\\x80\\x80" }, /* past U+10FFFF */
	{ "\x80", 1, "\\x80" },                            /* a lone continuation byte */
	{ "line1\nline2", 11, "line1\\x0Aline2" },
	{ "tab\there", 8, "tab\\x09here" },
	{ "cr\r", 3, "cr\\x0D" },
	{ "nul\0x", 5, "nul\\x00x" },
	{ "del\x7f", 4, "del\\x7F" },
	{ "\xc2\x85", 2, "\\xC2\\x85" },               /* C1 control NEL */
	{ "\xef\xbf\xbe", 3, "\\xEF\\xBF\\xBE" },      /* noncharacter U+FFFE */
	{ "\xef\xb7\x90", 3, "\\xEF\\xB7\\x90" },      /* noncharacter U+FDD0 */
	{ "\xc2\xa0", 2, "\xc2\xa0" },                 /* NBSP is text */
	{ "\xc3\xbc-node", 7, "\xc3\xbc-node" },       /* ü */
	{ "\xe2\x82\xac", 3, "\xe2\x82\xac" },         /* € */
	{ "\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80" }, /* an emoji */
	{ "\xf4\x8f\xbf\xbd", 4, "\xf4\x8f\xbf\xbd" }, /* U+10FFFD */
	{ "", 0, "" },
};

START_TEST(test_escape)
{
	char *got = escaped(cases[_i].in, cases[_i].len);

	ck_assert_msg(strcmp(got, cases[_i].want) == 0, "case %d: got '%s', want '%s'", _i, got,
				  cases[_i].want);
	free(got);
}
END_TEST

/* Is s valid UTF-8 without C0 controls other than LF? */
static bool
clean_utf8(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len;)
	{
		size_t n = s[i] < 0x80 ? 1 : s[i] >= 0xF0 ? 4 : s[i] >= 0xE0 ? 3 : 2;

		if ((s[i] < 0x20 && s[i] != '\n') || (s[i] >= 0x80 && s[i] < 0xC2) || s[i] > 0xF4 ||
			i + n > len)
			return false;
		for (size_t k = 1; k < n; k++)
		{
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
		}
		i += n;
	}
	return true;
}

/* Every byte value in an id, one at a time, escapes to clean UTF-8. */
START_TEST(test_escape_every_byte)
{
	for (int b = 0; b < 256; b++)
	{
		char  in[3] = { 'x', (char) b, 'y' };
		char *got = escaped(in, 3);

		ck_assert_msg(clean_utf8((const unsigned char *) got, strlen(got)), "byte %02x", b);
		ck_assert_msg(got[0] == 'x' && got[strlen(got) - 1] == 'y', "byte %02x dropped", b);
		free(got);
	}
}
END_TEST

static void
set_amount(struct amount *a, uint64_t v)
{
	amount_from_u64(a, v);
}

START_TEST(test_page)
{
	static char          s1[] = "a&b", s2[] = "s\xff";
	static char          n1[] = "relay-<1>", n2[] = "relay-\xfe";
	struct ledger_row    rows[3];
	struct ledger_stream streams[2];
	struct ledger        ledger;
	struct run_record    run;
	struct sink          out = { 0 };
	char                 err[128];
	struct csvout        w = { .write = sink_write, .arg = &out };

	memset(rows, 0, sizeof(rows));
	memset(streams, 0, sizeof(streams));
	memset(&ledger, 0, sizeof(ledger));
	memset(&run, 0, sizeof(run));
	rows[0] = (struct ledger_row){ .stream = s1,
								   .stream_len = 3,
								   .node = n1,
								   .node_len = 9,
								   .counts = { 4, 4, 0 },
								   .uptime_ppm = 1000000 };
	rows[1] = (struct ledger_row){ .stream = s1,
								   .stream_len = 3,
								   .node = n2,
								   .node_len = 7,
								   .counts = { 4, 2, 1 },
								   .uptime_ppm = 500000 };
	rows[2] = (struct ledger_row){
		.stream = s2, .stream_len = 2, .node = n1, .node_len = 9, .counts = { 0, 0, 12 }
	};
	set_amount(&rows[0].payout, 600);
	set_amount(&rows[1].payout, 150);
	set_amount(&rows[1].forfeited, 150);
	streams[0] = (struct ledger_stream){ .stream = s1, .stream_len = 3, .nodes = 2 };
	streams[1] = (struct ledger_stream){ .stream = s2, .stream_len = 2, .nodes = 1 };
	set_amount(&streams[0].pool, 900);
	set_amount(&streams[0].paid, 750);
	set_amount(&streams[0].forfeited, 150);
	set_amount(&streams[1].pool, 40);
	set_amount(&streams[1].unallocated, 40);
	ledger.rows = rows;
	ledger.nrows = 3;
	ledger.streams = streams;
	ledger.nstreams = 2;
	ck_assert(period_parse("2026-11-01", PERIOD_LENGTH_UNSET, &ledger.period, err, sizeof(err)));
	ck_assert(ledger_sum_totals(&ledger));
	run.version = 2;
	run.source_kind = "csv";
	run.settings = json_pack("{s:s, s:i}", "penalty_factor", "0.5", "token_decimals", 0);
	run.counts = json_pack("{s:i, s:{s:i}}", "rows_read", 20, "rejected_by_reason", "bad_<reason>",
						   3);
	run.checks = json_pack("{s:{s:s}}", "has_probes", "status", "passed");
	run.timing = json_pack("{s:[{s:s, s:f}], s:f}", "phases", "name", "read", "wall_s", 0.5,
						   "total_wall_s", 1.0);
	snprintf(run.payrun_version, sizeof(run.payrun_version), "test");

	report_html_write(&w, &run, &ledger);
	ck_assert(clean_utf8((const unsigned char *) out.data, out.len));
	ck_assert_ptr_nonnull(
		strstr(out.data,
			   "<tr data-stream=\"a&amp;b\" data-nodes=\"2\" data-pool=\"900\" data-paid=\"750\" "
			   "data-forfeited=\"150\" data-unallocated=\"0\">"));
	ck_assert_ptr_nonnull(strstr(out.data, "data-stream=\"s\\xFF\""));
	ck_assert_ptr_nonnull(strstr(out.data, "data-pool=\"900\""));
	ck_assert_ptr_nonnull(strstr(
		out.data, "<tr data-node=\"relay-&lt;1&gt;\" data-payout=\"600\" data-forfeited=\"0\">"));
	ck_assert_ptr_nonnull(strstr(out.data, "<tr data-node=\"relay-\\xFE\" data-payout=\"150\""));
	ck_assert_ptr_nonnull(strstr(out.data, "data-payout=\"600\""));
	ck_assert_ptr_nonnull(strstr(out.data, "data-reason=\"bad_&lt;reason&gt;\" data-count=\"3\""));
	ck_assert_ptr_nonnull(strstr(out.data, "data-check=\"has_probes\" data-status=\"passed\""));
	ck_assert_ptr_nonnull(strstr(out.data, "data-phase=\"read\""));
	ck_assert_ptr_nonnull(strstr(out.data, "data-total=\"pool\""));
	/* the largest stream first, 12 failures in the 10+ bin, the pair without polls apart */
	ck_assert(strstr(out.data, "data-stream=\"a&amp;b\"") < strstr(out.data, "data-stream=\"s"));
	ck_assert_ptr_nonnull(strstr(out.data, "data-bin=\"10+\" data-count=\"1\""));
	ck_assert_ptr_nonnull(strstr(out.data, "data-bin=\"no polls\" data-count=\"1\""));
	ck_assert_ptr_nonnull(strstr(out.data, "data-bin=\"100%\" data-count=\"1\""));
	ck_assert_ptr_nonnull(strstr(out.data, "0.0625"));
	ck_assert_ptr_null(strstr(out.data, "<script"));
	ck_assert_ptr_null(strstr(out.data, "<img"));
	ck_assert_ptr_null(strstr(out.data, "https:"));
	/* inline SVG charts; "http:" only in their namespace name */
	ck_assert_ptr_nonnull(
		strstr(out.data, "<div class=\"chart\" title=\"bar chart of the largest payouts per "
						 "node\">\n<svg xmlns=\"http://www.w3.org/2000/svg\" "));
	{
		const char *h = out.data;
		int         svgs = 0;

		while ((h = strstr(h, "http:")) != NULL)
		{
			ck_assert(strncmp(h - 12, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39) == 0);
			svgs++;
			h++;
		}
		ck_assert_int_eq(svgs, 3);
	}
	free(out.data);
	run_record_release(&run);
}
END_TEST

static Suite *
report_html_suite(void)
{
	Suite *s = suite_create("report_html");
	TCase *tc = tcase_create("escape");

	tcase_add_loop_test(tc, test_escape, 0, (int) (sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_escape_every_byte);
	suite_add_tcase(s, tc);
	tc = tcase_create("page");
	tcase_add_test(tc, test_page);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(report_html_suite());
	int      failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
