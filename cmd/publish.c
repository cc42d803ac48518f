/*
 * publish.c: the CI-facing side of `gate` and `compare` (see publish.h).
 */
#include "publish.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/forge.h"
#include "../core/report.h"
#include "../core/report_ci.h"
#include "../core/util.h"
#include "cmd.h"

static bool in_github_actions(void)
{
	const char *v = getenv("GITHUB_ACTIONS");
	return v && strcmp(v, "true") == 0;
}

static bool post_comment(const struct compare_result *r, const char *markdown)
{
	struct forge_target t;
	struct err err = ERR_INIT;
	enum forge_outcome outcome;
	char *marker = NULL, *body = NULL;
	bool ok = true;
	int rc;

	rc = forge_detect(&t, &err);
	if (rc == ERR_NOTFOUND) {
		fprintf(stderr, "perfgate: notice: %s\n", err.msg);
		goto done;
	}
	if (rc) {
		cmd_warn("cannot comment: %s; the gate result stands", err.msg);
		ok = false;
		goto done;
	}
	marker = forge_marker(r->suite ? r->suite : "default");
	body = xasprintf("%s\n%s", marker, markdown);
	rc = forge_upsert_comment(&t, marker, body, NULL, &outcome, &err);
	if (rc) {
		cmd_warn("could not post the %s comment: %s; the gate result stands",
			 t.kind == FORGE_GITHUB ? "pull-request" : "merge-request", err.msg);
		ok = false;
	} else if (outcome == FORGE_READONLY) {
		fprintf(stderr, "perfgate: notice: the token may not comment on %s %ld%s; comment skipped, the gate result stands\n",
			t.kind == FORGE_GITHUB ? "pull request" : "merge request", t.number,
			t.fork ? " (it comes from a fork)" : "");
	} else {
		fprintf(stderr, "perfgate: %s the %s comment on %s %ld\n",
			outcome == FORGE_CREATED ? "posted" : "updated",
			r->suite ? r->suite : "perfgate",
			t.kind == FORGE_GITHUB ? "pull request" : "merge request", t.number);
	}
done:
	free(marker);
	free(body);
	forge_target_release(&t);
	return ok;
}

int publish_reports(const struct compare_result *r, const struct publish_options *o)
{
	struct sb md = SB_INIT, text = SB_INIT;
	struct err err = ERR_INIT;
	bool ok = true;

	struct report_options ro = { .report_url = o->report_url, .site_url = o->site_url };

	report_markdown(r, &ro, &md);
	if (o->metrics) {
		report_ci_openmetrics(r, &text);
		if (file_write_atomic(o->metrics, text.buf, text.len, &err) != 0) {
			cmd_warn("%s", err.msg);
			ok = false;
		}
	}
	if (in_github_actions()) {
		if (forge_step_summary(sb_str(&md), &err) != 0) {
			cmd_warn("%s", err.msg);
			ok = false;
		}
		sb_reset(&text);
		report_ci_annotations(r, &text);
		fputs(sb_str(&text), stdout);
		fflush(stdout);
	}
	if (o->comment && !post_comment(r, sb_str(&md)))
		ok = false;
	sb_release(&md);
	sb_release(&text);
	return !ok && o->strict_report ? EXIT_INFRA : 0;
}
