/*
 * gate.c: the gate pipeline (see gate.h): run, baseline, compare, confirm,
 * store.  The steps are one function each, in the order gate_run() calls
 * them; each adds what it learns to the struct gate_result.
 */
#include "gate.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "headbase.h"
#include "report.h"
#include "sequential.h"
#include "treecode.h"
#include "util.h"

enum gate_note_level gate_note_level(enum gate_note_kind kind)
{
	switch (kind) {
	case GATE_NOTE_CONFIRMING:
		return GATE_PROGRESS;
	case GATE_NOTE_CONTEXT:
	case GATE_NOTE_CHANGEPOINTS:
		return GATE_WARNING;
	case GATE_NOTE_RUN_FAILED:
	case GATE_NOTE_INTERRUPTED:
	case GATE_NOTE_CONFIRM_FAILED:
	case GATE_NOTE_STORE_DOWN:
	case GATE_NOTE_SPOOLED:
		break;
	}
	return GATE_ERROR;
}

static void note(struct gate_result *r, const struct gate_options *o, enum gate_note_kind kind,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void note(struct gate_result *r, const struct gate_options *o, enum gate_note_kind kind,
		 const char *fmt, ...)
{
	struct gate_note *n;
	va_list ap;
	char buf[ERR_MAX + 256]; /* a message quotes at most one struct err */

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	XGROW(r->notes, r->alloc_notes, r->n_notes + 1);
	n = &r->notes[r->n_notes++];
	n->kind = kind;
	n->msg = xstrdup(buf);
	if (o->on_note)
		o->on_note(o->note_arg, n);
}

void gate_result_free(struct gate_result *r)
{
	if (!r)
		return;
	rundoc_free(r->run);
	compare_result_free(r->comparison);
	baseline_release(&r->baseline);
	free(r->spooled);
	for (size_t i = 0; i < r->n_notes; i++)
		free(r->notes[i].msg);
	free(r->notes);
	free(r);
}

enum gate_outcome gate_outcome(const struct gate_result *r)
{
	if (r->invalid || r->interrupted)
		return GATE_INVALID;
	if (r->store_rc)
		return GATE_STORE_FAILED;
	if (r->comparison && !r->comparison->passed)
		return GATE_FAILED;
	return GATE_PASSED;
}

/* ---- the baseline and the comparison ---- */

static bool file_baseline(const struct gate_options *o)
{
	return o->baseline && strncmp(o->baseline, "file:", 5) == 0;
}

/* How every look of this gate compares. */
static struct compare_options compare_options_of(const struct gate_options *o)
{
	struct compare_options co = COMPARE_OPTIONS_INIT;

	co.strict = o->strict;
	co.variants_only = o->variants_only || o->against_base;
	co.against_base = o->against_base;
	return co;
}

int gate_compare(const struct rundoc *rd, const struct suite *suite, const struct gate_options *opts,
		 const struct baseline_source *src, struct baseline *base,
		 struct compare_result **out, struct err *err)
{
	struct baseline_options bo = BASELINE_OPTIONS_INIT;
	struct compare_options co = compare_options_of(opts);
	struct baseline_memory none = BASELINE_MEMORY_INIT;
	struct baseline_source empty;
	int rc;

	*out = NULL;
	memset(base, 0, sizeof(*base));
	if (co.variants_only)
		return compare_run(rd, NULL, suite, &co, out, err);
	/* No source: nothing is stored, so the run is a first run. */
	baseline_memory_source(&none, &empty);
	bo.repo_dir = opts->repo_dir;
	bo.branch = suite ? suite->baseline_branch : NULL;
	bo.runs = opts->baseline_runs ? opts->baseline_runs : suite ? suite->baseline_runs : 0;
	bo.spec = opts->baseline;
	rc = baseline_select(src ? src : &empty, rd, &bo, base, err);
	if (rc)
		return rc;
	return compare_run(rd, base, suite, &co, out, err);
}

int gate_store_comparison(const struct gate_store *store, const struct compare_result *res,
			  struct err *err)
{
	cJSON *j;
	int rc;

	if (!store || !store->put_comparison)
		return 0;
	j = report_to_json(res);
	rc = store->put_comparison(store->arg, res->run_id, j, err);
	cJSON_Delete(j);
	return rc;
}

/* ---- the steps of gate_run ---- */

/* A/B variants are an experiment within one job: interleave their
 * repetitions so that a drift of the machine hits every variant alike,
 * unless the suite chose an "order" itself (docs/gate.md). */
static void interleave_variants(struct suite *suite)
{
	if (suite->order_given)
		return;
	for (size_t i = 0; i < suite->n_benches; i++)
		if (suite->benches[i].variant_of)
			suite->interleaved = true;
}

/* A run from elsewhere (the merged shards): failed benchmarks make it
 * ERR_RUN as run_suite() says of its own. */
static int source_run(const struct gate_options *o, struct rundoc **out, struct errlist *notes, struct err *err)
{
	size_t failed = 0;
	int rc = o->run_source(o->run_source_arg, out, notes, err);

	if (rc != 0) {
		rundoc_free(*out);
		*out = NULL;
		return rc;
	}
	for (size_t i = 0; i < (*out)->n_benches; i++) {
		const struct rd_bench *b = &(*out)->benches[i];

		if (b->status != RUNDOC_STATUS_OK && failed++ == 0)
			err_set(err, ERR_RUN, "benchmark '%s' failed: %s", b->name,
				b->error ? b->error : rundoc_status_name(b->status));
	}
	if (failed > 1) {
		size_t len = strlen(err->msg);

		snprintf(err->msg + len, sizeof(err->msg) - len, " (and %zu more failed)", failed - 1);
	}
	return failed ? ERR_RUN : 0;
}

/* `gate --base`: are all the failures base sides whose head ran, of
 * benchmarks new or changed in the change?  Then the run is valid; each is
 * said, and the report says it again (compare.c, not_compared).  A base
 * side that failed with the base commit's suite defining it the same way
 * gets a note saying what the base tree lacks. */
static bool only_changed_benches_failed(const struct gate_options *o, struct gate_result *r)
{
	size_t n = 0, other = 0;

	if (!o->against_base)
		return false;
	for (size_t i = 0; i < r->run->n_benches; i++) {
		const struct rd_bench *b = &r->run->benches[i];

		if (b->status == RUNDOC_STATUS_OK)
			continue;
		if (headbase_changed_failed_on_base(o->against_base, r->run, b)) {
			n++;
			continue;
		}
		other++;
		if (headbase_failed_on_base(r->run, b))
			note(r, o, GATE_NOTE_CONTEXT, "benchmark '%s' failed on the base commit (%s) while its head ran, "
			     "and the base commit's suite defines it the same way: %s", b->name,
			     b->error ? b->error : "failed", HEADBASE_BASE_LACKS);
	}
	if (other)
		return false;
	for (size_t i = 0; i < r->run->n_benches; i++) {
		const struct rd_bench *b = &r->run->benches[i];

		if (b->status != RUNDOC_STATUS_OK)
			note(r, o, GATE_NOTE_CONTEXT, "benchmark '%s' failed on the base commit (%s): it is not compared "
			     "(the base commit's suite %s)", b->name, b->error ? b->error : "failed",
			     HEADBASE_CHANGED_WHY);
	}
	return n > 0;
}

/* 1. Run the suite.  No run document at all is an error; a failed
 * benchmark or an interruption is a result (the report shows what ran). */
static int step_run(const struct suite *suite, const struct gate_options *o, struct gate_result *r,
		    struct err *err)
{
	struct run_options ro = o->run;
	struct errlist notices = ERRLIST_INIT;
	struct err run_err = ERR_INIT;
	int rc;

	ro.notices = &notices;
	if (o->run_source)
		rc = source_run(o, &r->run, &notices, &run_err);
	else
		rc = run_suite(suite, &ro, &r->run, &run_err);
	for (size_t i = 0; i < notices.n; i++)
		note(r, o, GATE_NOTE_CONTEXT, "%s", notices.msgs[i]);
	errlist_release(&notices);
	if (!r->run) {
		*err = run_err;
		return rc ? rc : err_set(err, ERR_FAIL, "the suite produced no run");
	}
	if (rc == ERR_RUN && only_changed_benches_failed(o, r))
		rc = 0;
	if (rc) {
		note(r, o, GATE_NOTE_RUN_FAILED, "%s", run_err.msg);
		r->invalid = true;
		r->bad_input = rc == ERR_INPUT;
	}
	if (r->run->partial) {
		note(r, o, GATE_NOTE_INTERRUPTED, o->compare ? "interrupted: nothing stored, no verdict"
							     : "interrupted: nothing stored");
		r->interrupted = true;
	}
	return 0;
}

/* 2-3. Baseline and comparison.  A store that cannot be reached, or that
 * fails while the baseline is read, is a result, not an error: the SLOs are
 * still checked, the run is still stored or spooled, and the gate exits 4.
 * Only the user's mistakes (a bad --baseline, an SLO naming a metric that
 * does not exist: ERR_INPUT) end the gate without a result. */
static int step_compare(const struct suite *suite, const struct gate_options *o,
			const struct baseline_source *src, struct gate_result *r, struct err *err)
{
	struct gate_options with_repo = *o;
	struct compare_options co = compare_options_of(o);
	struct err e = ERR_INIT;
	int rc = 0;

	if (!co.variants_only && !file_baseline(o) && src && src->open)
		rc = src->open(src->arg, &e);
	if (rc == 0) {
		if (!with_repo.repo_dir)
			with_repo.repo_dir = suite->dir;
		rc = gate_compare(r->run, suite, &with_repo, src, &r->baseline, &r->comparison, &e);
		if (rc == 0 || rc == ERR_INPUT || rc == ERR_NOTFOUND) {
			r->have_baseline = rc == 0 && !co.variants_only;
			if (rc)
				*err = e;
			return rc;
		}
		baseline_release(&r->baseline);
	}
	note(r, o, GATE_NOTE_STORE_DOWN, "%s", e.msg);
	r->store_rc = rc;
	return compare_run(r->run, NULL, suite, &co, &r->comparison, err);
}

/* Most repetitions any metric of the named benchmarks has. */
static long reps_of(const struct rundoc *rd, const char *const *names, size_t n)
{
	long most = 0;

	for (size_t i = 0; i < n; i++) {
		const struct rd_bench *b = rundoc_find_bench(rd, names[i]);

		for (size_t j = 0; b && j < b->n_metrics; j++)
			if ((long)b->metrics[j].n_samples > most)
				most = (long)b->metrics[j].n_samples;
	}
	return most;
}

/*
 * The suite benchmarks to run again for these run-document benchmarks, in
 * place and without repeats.  An ingested harness reports several benchmarks
 * ("micro/BM_X") for one suite benchmark ("micro"), named in their extra
 * "suite_benchmark"; others are suite benchmarks themselves.  An A/B
 * variant brings its siblings, so that every variant gets the same extra
 * repetitions, interleaved, and the pairs stay pairs.  *names must have
 * room for every suite benchmark.
 */
static size_t suite_bench_names(const struct suite *suite, const struct rundoc *rd, const char **names,
				size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		const struct rd_bench *b = rundoc_find_bench(rd, names[i]);
		const char *sb = b ? rundoc_bench_suite_benchmark(b) : NULL;
		const char *name = sb ? sb : names[i];
		bool seen = false;

		for (size_t j = 0; j < k; j++)
			seen |= strcmp(names[j], name) == 0;
		if (!seen)
			names[k++] = name;
	}
	for (size_t i = 0, end = k; i < end; i++) {
		const struct suite_bench *v = suite_find_bench(suite, names[i]);

		for (size_t j = 0; v && v->variant_of && j < suite->n_benches; j++) {
			const struct suite_bench *o = &suite->benches[j];
			bool seen = false;

			if (!o->variant_of || strcmp(o->variant_of, v->variant_of) != 0)
				continue;
			for (size_t t = 0; t < k; t++)
				seen |= strcmp(names[t], o->name) == 0;
			if (!seen)
				names[k++] = o->name;
		}
	}
	return k;
}

static bool any_regression(const struct compare_result *c)
{
	const char **names = NULL;
	size_t n = compare_regressed_benches(c, &names);

	free(names);
	return n > 0;
}

/* The measuring-more budget of this gate (docs/gate.md, "Measuring more"). */
struct more_budget {
	long reps;          /* extra repetitions per benchmark at most */
	long round;         /* of them, per look */
	double seconds;     /* extra measuring time at most */
	double alpha;       /* the gate's level, shared by the looks */
};

static void more_budget(const struct suite *suite, const struct gate_options *o, long first_reps,
			double first_s, struct more_budget *bu)
{
	struct verdict_settings cs;
	struct err e = ERR_INIT;

	/* Suite-level settings (validated by suite_load). */
	if (compare_settings_for(suite, "", NULL, &cs, &e) != 0)
		cs = (struct verdict_settings)VERDICT_SETTINGS_INIT;
	bu->reps = o->confirm_repetitions ? o->confirm_repetitions
		   : cs.max_extra_repetitions >= 0 ? cs.max_extra_repetitions : first_reps;
	/* Two looks after the first: half the budget each, so that a clear
	 * answer costs half and only an unclear one the whole. */
	bu->round = bu->reps > 1 ? (bu->reps + 1) / 2 : bu->reps;
	bu->seconds = cs.max_extra_time >= 0 ? cs.max_extra_time : first_s;
	bu->alpha = cs.alpha;
}

/*
 * The repetitions of the next round: half the budget's, fewer when the
 * time left (bu->seconds - spent) holds fewer at per_rep seconds each (the
 * rounds so far, their comparisons included, or the first run's pace
 * before any), none when the budget is spent.  So the extra measuring stays
 * within its time, and the gate within twice its own.
 */
static long next_round(const struct more_budget *bu, size_t done, double per_rep, double spent)
{
	long reps = bu->reps - (long)done, fit;

	if (reps > bu->round)
		reps = bu->round;
	if (per_rep > 0 && isfinite(per_rep)) {
		fit = (long)fmin((double)LONG_MAX / 2, floor((bu->seconds - spent) / per_rep));
		if (fit < reps)
			reps = fit;
	}
	return reps > 0 ? reps : 0;
}

/* One round of extra repetitions of the named suite benchmarks, pooled
 * into the run and into *extras (every round's repetitions on their own;
 * created by the first round).  Returns the repetitions a benchmark got
 * (the most: fewer than reps when the round stopped at the budget's end),
 * 0 when nothing was added or the round failed (then noted; the verdict so
 * far stands). */
static size_t more_round(const struct suite *suite, const struct gate_options *o, struct gate_result *r,
			 const char **names, size_t n, long reps, uint64_t deadline_ns, struct rundoc **extras)
{
	struct run_options ro = o->run;
	struct rundoc *again = NULL;
	struct err e = ERR_INIT;
	size_t added = 0;
	int rc;

	ro.bench_glob = NULL;
	ro.bench_globs = NULL;
	ro.n_bench_globs = 0;
	ro.notices = NULL;
	ro.no_context = true;
	ro.repetitions = reps;
	ro.deadline_ns = deadline_ns;
	ro.only = names;
	ro.n_only = n;
	rc = run_suite(suite, &ro, &again, &e);
	if (!again || again->partial || rc != 0) {
		note(r, o, GATE_NOTE_CONFIRM_FAILED, "measuring more failed (%s); deciding on what was measured",
		     e.msg);
		if (again && again->partial)
			r->invalid = true;
	} else if (rundoc_merge(r->run, again, RUNDOC_MERGE_POOL) > 0) {
		for (size_t i = 0; i < again->n_benches; i++) {
			const struct rd_bench *b = &again->benches[i];

			for (size_t j = 0; j < b->n_metrics; j++)
				if (b->metrics[j].n_samples > added)
					added = b->metrics[j].n_samples;
		}
		if (added > (size_t)reps) /* a harness's repetition may give several samples */
			added = (size_t)reps;
		if (!*extras) {
			*extras = again;
			again = NULL;
		} else {
			rundoc_merge(*extras, again, RUNDOC_MERGE_POOL);
		}
	}
	rundoc_free(again);
	return added;
}

/* A regression at a later look must show in the repetitions measured again,
 * on their own, too (compare_require_replication). */
static void replicate(const struct suite *suite, const struct compare_options *co, struct gate_result *r,
		      const struct rundoc *extras)
{
	struct compare_result *again = NULL;
	struct err e = ERR_INIT;

	if (extras && compare_run(extras, &r->baseline, suite, co, &again, &e) == 0)
		compare_require_replication(r->comparison, again);
	compare_result_free(again);
}

/*
 * 4. Measuring more when unsure (docs/gate.md; core/sequential.h): while a
 * gated metric is undecided (a regression not yet confirmed, or
 * inconclusive), run its benchmarks again in rounds of half the budget,
 * pool the samples and decide again on all of them, each look at its
 * share of alpha; a regression fails only at a later look.  A round that
 * fails leaves the verdict so far in place.
 */
static int step_more(const struct suite *suite, const struct gate_options *o, struct gate_result *r,
		     double first_s, struct err *err)
{
	const char **names = NULL;
	size_t n = compare_undecided_benches(r->comparison, &names), done = 0;
	struct rundoc *extras = NULL;
	struct compare_result *prev;
	struct more_budget bu;
	struct sequential seq;
	uint64_t t0 = now_ns();
	double planned, taken, spent = 0, pace;
	int rc = 0;

	if (n == 0)
		goto done;
	names = xrealloc(names, (suite->n_benches + n) * sizeof(*names));
	/* the repetitions so far, counted on the run document's benchmarks
	 * (an ingested harness's "micro/BM_X"), before they become the suite
	 * benchmarks that run again ("micro"), which the document lacks */
	taken = (double)reps_of(r->run, names, n);
	more_budget(suite, o, (long)taken, first_s, &bu);
	n = suite_bench_names(suite, r->run, names, n);
	if (bu.reps == 0 || !(bu.seconds > 0))
		goto done;
	planned = taken + (double)bu.reps;
	sequential_init(&seq, bu.alpha, planned, true);
	sequential_level(&seq, taken, false); /* the first look screened */
	pace = first_s / fmax(1, taken); /* s per repetition until a round is measured */
	while (n > 0) {
		struct compare_options co = compare_options_of(o);
		long reps = next_round(&bu, done, pace, spent);
		bool last;
		size_t added;

		if (reps < 1)
			break;
		note(r, o, GATE_NOTE_CONFIRMING, "%zu benchmark%s undecided; measuring %ld more repetitions (look %zu)",
		     n, n == 1 ? "" : "s", reps, seq.looks + 1);
		/* a round sized by the pace so far stops at the budget's end
		 * when the machine slows down under it */
		added = more_round(suite, o, r, names, n, reps, t0 + (uint64_t)(bu.seconds * 1e9), &extras);
		if (!added)
			break;
		done += added;
		taken += (double)added;
		spent = (double)(now_ns() - t0) / 1e9;
		pace = spent / (double)done;
		/* the last look when no repetition of another round fits in what
		 * is left of the budget */
		last = next_round(&bu, done, pace, spent) < 1;
		co.level_share = sequential_level(&seq, taken, last) / bu.alpha;
		prev = r->comparison;
		r->comparison = NULL;
		rc = compare_run(r->run, &r->baseline, suite, &co, &r->comparison, err);
		if (rc == 0)
			compare_keep_decided(r->comparison, prev);
		compare_result_free(prev);
		if (rc != 0)
			goto done;
		replicate(suite, &co, r, extras);
		r->comparison->confirm_reps = done;
		r->comparison->looks = seq.looks;
		r->comparison->extra_seconds = spent;
		free(names);
		names = NULL;
		n = compare_undecided_benches(r->comparison, &names);
		if (n == 0 || any_regression(r->comparison))
			break;
		if (last) {
			r->comparison->budget_spent = true;
			break;
		}
		names = xrealloc(names, (suite->n_benches + n) * sizeof(*names));
		n = suite_bench_names(suite, r->run, names, n);
	}
done:
	rundoc_free(extras);
	free(names);
	return rc;
}

int gate_store_run(const struct gate_store *store, const struct rundoc *rd,
		   const struct changepoint_params *cp, bool *already, char **spooled,
		   struct err *cp_err, struct err *err)
{
	struct err why = ERR_INIT, e = ERR_INIT;
	int rc = 0;

	*already = false;
	*spooled = NULL;
	if (cp_err)
		err_clear(cp_err);
	/* What the database would refuse (a harness's metric name with a
	 * newline, a name past the index limit) is refused here, and not spooled:
	 * a spooled run the database never takes fails every push --spooled. */
	if (rundoc_check(rd, &why) != 0)
		return err_set(err, ERR_INPUT, "run %s not stored: %s (not spooled: the database would refuse it)",
			       rd->run_id, why.msg);
	if (store->open)
		rc = store->open(store->arg, &why);
	if (rc == 0 && store->put_run)
		rc = store->put_run(store->arg, rd, cp, already, cp_err, &why);
	if (rc == 0)
		return 0;
	if (rc == ERR_INPUT)
		return err_set(err, rc, "run %s not stored: %s (not spooled: the database refused it)", rd->run_id,
			       why.msg);
	/* Nothing measured is lost: keep it where `perfgate push --spooled` finds it. */
	if (!store->spool)
		return err_set(err, rc, "%s", why.msg);
	if (store->spool(store->arg, rd, spooled, &e) != 0) {
		struct err e2 = ERR_INIT;
		char *kept = NULL;

		if (!store->keep || store->keep(store->arg, rd, &kept, &e2) != 0)
			return err_set(err, rc, "%s; the run was NOT kept: it could not be spooled (%s)%s%s", why.msg,
				       e.msg, e2.msg[0] ? " nor written elsewhere: " : "", e2.msg);
		rc = err_set(err, rc, "%s; the run could not be spooled (%s), so it was kept in %s instead: store it "
			     "with 'perfgate push %s'", why.msg, e.msg, kept, kept);
		free(kept);
		return rc;
	}
	if (rc == ERR_INFRA)
		return err_set(err, rc, "database unreachable (%s); run spooled to %s; upload later with "
			       "'perfgate push --spooled'", why.msg, *spooled);
	return err_set(err, rc, "%s; run spooled to %s", why.msg, *spooled);
}

/* 5. Store the run (pooled), its change points with the suite's settings,
 * then its comparison. */
static void step_store(const struct suite *suite, const struct gate_options *o,
		       const struct gate_store *store, struct gate_result *r)
{
	struct changepoint_params cp;
	struct errlist cp_problems = ERRLIST_INIT;
	struct err e = ERR_INIT, cp_err = ERR_INIT;
	int rc;

	/* Validated by suite_load, so there are no problems to report here. */
	changepoint_params_from_suite(suite->compare, suite->changepoints, &cp, &cp_problems);
	errlist_release(&cp_problems);
	rc = gate_store_run(store, r->run, &cp, &r->already, &r->spooled, &cp_err, &e);
	if (rc) {
		r->store_rc = rc;
		note(r, o, r->spooled ? GATE_NOTE_SPOOLED : GATE_NOTE_STORE_DOWN, "%s", e.msg);
		return;
	}
	r->stored = true;
	/* A pull request's run is no baseline, as everyone expects; any other
	 * reason (an ambiguous CI event, a start in the future) is said.  The
	 * report says it either way (its `stored` and `not_baseline`). */
	if (!r->already) {
		const char *why = NULL;
		bool eligible = baseline_eligible(r->run, (double)time(NULL), &why);

		if (!eligible && r->run->ci.pr == 0 && !r->run->git.dirty)
			note(r, o, GATE_NOTE_CONTEXT, "the run is stored but is never a baseline: %s", why);
		if (r->comparison) {
			r->comparison->stored_as = eligible ? 1 : -1;
			r->comparison->not_baseline = eligible ? NULL : xstrdup(why ? why : "");
		}
	}
	if (cp_err.msg[0])
		note(r, o, GATE_NOTE_CHANGEPOINTS, "change points not updated: %s", cp_err.msg);
	if (r->comparison && (rc = gate_store_comparison(store, r->comparison, &e)) != 0) {
		r->store_rc = rc;
		note(r, o, GATE_NOTE_STORE_DOWN, "%s", e.msg);
	}
}

/* A confirmation against the base that could not run: the history's
 * verdicts stand, and the report says why. */
static void base_unconfirmed(const struct gate_options *o, struct gate_result *r, const char *why)
{
	note(r, o, GATE_NOTE_CONFIRM_FAILED, "the benchmarks could not be measured beside the base commit (%s); "
	     "the verdicts against the history stand", why);
	compare_add_note(r->comparison, "the benchmarks could not be measured beside the base commit in this job "
			 "(%s): the verdicts against the history stand, unconfirmed", why);
}

/* The suite a confirmation runs: the benchmarks named, reloaded from the
 * suite's file, as NAME@base and NAME@head pairs over the base commit's
 * tree (checked out into hb, and built).  Returns 0, or an error with err
 * saying why; *out is the suite either way (NULL when it did not load). */
static int base_pairs_suite(const struct suite *suite, const struct gate_options *o, const char *commit,
			    const char **names, size_t n, struct headbase *hb, long *reps, struct suite **out,
			    struct gate_result *r, struct err *err)
{
	struct errlist problems = ERRLIST_INIT, notes = ERRLIST_INIT;
	char *log = NULL;
	int rc;

	if ((rc = suite_load(out, suite->path, &problems, err)) != 0)
		goto done;
	suite_keep_only(*out, names, n);
	if ((rc = headbase_checkout(o->repo_dir ? o->repo_dir : suite->dir, commit, hb, err)) != 0) {
		struct err why = *err;

		if (rc == ERR_INPUT) /* no such commit here */
			err_set(err, rc, "%s; a shallow clone lacks it: fetch the history (GitHub: fetch-depth: 0, "
				"GitLab: GIT_DEPTH: 0)", why.msg);
		goto done;
	}
	if (o->confirm_base_build && *o->confirm_base_build &&
	    (rc = headbase_build(hb, o->confirm_base_build, &log, err)) != 0)
		goto done;
	rc = headbase_suite(*out, hb, reps, &notes, err);
	for (size_t i = 0; i < notes.n; i++)
		note(r, o, GATE_NOTE_CONTEXT, "%s", notes.msgs[i]);
done:
	free(log);
	errlist_release(&problems);
	errlist_release(&notes);
	return rc;
}

/* The work tree the benchmarks are judged against, or NULL outside one. */
static struct treecode *work_tree(const struct suite *suite, const struct gate_options *o)
{
	struct treecode *t = NULL;
	struct err e = ERR_INIT;

	treecode_open(o->repo_dir ? o->repo_dir : suite->dir, o->confirm_base_build && *o->confirm_base_build, &t,
		      &e);
	return t;
}

/* Would the gate measure b beside the base?  By default (AUTO) when it runs
 * the repository's own files (core/treecode.h; *why says why not), with
 * --confirm-base whenever --base runs it. */
static bool confirms(const struct suite *suite, const struct suite_bench *b, const struct gate_options *o,
		     const struct treecode *t, char **why)
{
	*why = NULL;
	if (b->variant_of)
		return false;
	if (o->confirm_base == GATE_CONFIRM_BASE_ALWAYS)
		return headbase_runs(b);
	return treecode_runs_tree(t, suite, b, why);
}

/* r->comparison->confirms_base: the benchmarks the gate measures beside the
 * base commit whenever their history rows look worse (none outside a git
 * work tree, t NULL), for the report to say. */
static void list_confirming(const struct suite *suite, const struct gate_options *o, const struct treecode *t,
			    struct gate_result *r)
{
	struct compare_result *c = r->comparison;

	if (!t)
		return;
	c->confirms_base = xcalloc(suite->n_benches + 1, sizeof(*c->confirms_base));
	for (size_t i = 0; i < suite->n_benches; i++) {
		char *why;

		if (confirms(suite, &suite->benches[i], o, t, &why))
			c->confirms_base[c->n_confirms_base++] = xstrdup(suite->benches[i].name);
		free(why);
	}
}

/* GATE_CONFIRM_BASE_AUTO: keep the names of the benchmarks that run the
 * files of the work tree t (r->comparison->confirms_base; none when t is
 * NULL, outside a work tree); a regressed one left out that --confirm-base
 * would measure says why (one that --base cannot run at all, such as a
 * load test of an outside server, is as it always was).  Returns how many
 * are kept. */
static size_t tree_benches(const struct suite *suite, const struct gate_options *o, const struct treecode *t,
			   struct gate_result *r, const char **names, size_t n, const char *const *regressed,
			   size_t n_regressed)
{
	const struct compare_result *c = r->comparison;
	size_t k = 0;

	for (size_t i = 0; t && i < n; i++) {
		const struct suite_bench *b = suite_find_bench(suite, names[i]);
		char *why = NULL;

		if (str_index(names[i], (const char *const *)c->confirms_base, c->n_confirms_base) >= 0)
			names[k++] = names[i];
		else if (str_index(names[i], regressed, n_regressed) >= 0 && headbase_runs(b) &&
			 !confirms(suite, b, o, t, &why) && why)
			compare_add_note(r->comparison, "benchmark '%s' was not measured beside the base commit: "
					 "%s; --confirm-base measures it anyway", names[i], why);
		free(why);
	}
	return k;
}

/*
 * Keep, of the benchmarks names[0..n) that only blindness sends beside the
 * base (compare_bench_blind_only), those whose repetitions give the pairs
 * the paired test needs: then the pairs cost at most twice what the
 * benchmark took in this run, as measuring more may (a load test of one
 * 5 s step would take 10 pairs of them, 20 times).  One left out says so,
 * with the setting that would have it measured.  Returns how many are kept.
 */
static size_t affordable_blind(const struct suite *suite, const struct gate_options *o, struct gate_result *r,
			       const char **names, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		const struct suite_bench *b = suite_find_bench(suite, names[i]);
		const char *key = "repetitions", *in = "";
		size_t need = b && compare_bench_blind_only(r->comparison, names[i])
				      ? headbase_pairs_lacking(suite, b, o->run.repetitions, &key, &in)
				      : 0;
		char *fix;

		if (need == 0) {
			names[k++] = names[i];
			continue;
		}
		fix = o->run.repetitions > 0 ? xasprintf("give --repetitions %zu", need)
					     : xasprintf("set \"%s\": %zu%s", key, need, in);
		compare_add_note(r->comparison, "benchmark '%s' cannot see a change of %.0f%% against its history, and "
				 "was not measured beside the base commit: the %zu pairs that takes would cost over twice "
				 "its own run; %s to have it measured", names[i], VERDICT_MDE_FLAG * 100, need, fix);
		free(fix);
	}
	return k;
}

/*
 * 4b. Confirming against the base: the benchmarks whose history rows
 * still regress, are worse under the history's floor, or are blind to a
 * change of VERDICT_MDE_FLAG that pairs would see (compare_row_blind), run
 * again in pairs beside the baseline's newest commit, as `gate --base`
 * runs them; the pairs decide those rows
 * (compare_require_base_confirmation).  By default only the benchmarks
 * that run the repository's own files, with --confirm-base every one.
 * Whatever keeps the pairs from deciding (no commit, a shallow clone, a
 * failed build, a benchmark --base cannot run) leaves the history's
 * verdicts standing, with a note.  An interrupt interrupts the gate.
 */
static void step_confirm_base(const struct suite *suite, const struct gate_options *o, const struct treecode *t,
			      struct gate_result *r)
{
	const char **names = NULL, **regressed = NULL;
	size_t n = compare_base_confirm_benches(r->comparison, &names), k = 0, left_out = 0;
	size_t n_regressed = compare_regressed_benches(r->comparison, &regressed);
	const char *commit = r->comparison->n_base_commits ? r->comparison->base_commits[0] : NULL;
	struct gate_options po = GATE_OPTIONS_INIT;
	struct headbase hb = HEADBASE_INIT;
	struct suite *pairs = NULL;
	struct gate_result *pr = NULL;
	struct err e = ERR_INIT;
	long reps = o->run.repetitions;
	struct compare_base_confirmation *cb = &r->comparison->confirm_base;
	uint64_t t0;

	/* what --base can run: the suite's own benchmarks, not variants or an ingested harness's */
	for (size_t i = 0; i < n; i++) {
		const struct suite_bench *b = suite_find_bench(suite, names[i]);

		if (b && !b->variant_of)
			names[k++] = names[i];
		else
			left_out += str_index(names[i], regressed, n_regressed) >= 0;
	}
	if (left_out)
		compare_add_note(r->comparison, "%zu regressed benchmark%s not measured beside the base commit (--base "
				 "runs neither an ingested harness's results nor A/B variants): %s verdicts against the "
				 "history stand", left_out, left_out == 1 ? "" : "s", left_out == 1 ? "its" : "their");
	if (o->confirm_base == GATE_CONFIRM_BASE_AUTO)
		k = tree_benches(suite, o, t, r, names, k, regressed, n_regressed);
	k = affordable_blind(suite, o, r, names, k);
	if (k == 0)
		goto done;
	if (!commit) {
		base_unconfirmed(o, r, "the baseline's runs name no commit");
		goto done;
	}
	note(r, o, GATE_NOTE_CONFIRMING, "%zu benchmark%s regressed against the history, worse under its floor, or "
	     "where it cannot see a change of %.0f%%; measuring %s again beside base commit %.10s in this job", k,
	     k == 1 ? "" : "s", VERDICT_MDE_FLAG * 100, k == 1 ? "it" : "them", commit);
	t0 = now_ns();
	if (base_pairs_suite(suite, o, commit, names, k, &hb, &reps, &pairs, r, &e) != 0) {
		base_unconfirmed(o, r, e.msg);
		goto done;
	}
	po.run = o->run;
	po.run.bench_glob = NULL;
	po.run.bench_globs = NULL;
	po.run.n_bench_globs = 0;
	po.run.repetitions = reps;
	po.run.records = NULL; /* --requests records the gate's own load */
	po.against_base = &hb.base;
	po.confirm = o->confirm;
	po.confirm_repetitions = o->confirm_repetitions;
	po.on_note = o->on_note;
	po.note_arg = o->note_arg;
	if (gate_run(pairs, &po, NULL, NULL, &pr, &e) != 0 || !pr->comparison) {
		r->interrupted = pr && pr->interrupted;
		base_unconfirmed(o, r, r->interrupted ? "interrupted" : e.msg[0] ? e.msg : "the pairs did not run");
		goto done;
	}
	compare_require_base_confirmation(r->comparison, pr->comparison, hb.base.commit);
	cb->seconds = (double)(now_ns() - t0) / 1e9;
	if (pr->invalid) {
		note(r, o, GATE_NOTE_CONFIRM_FAILED, "a benchmark failed beside the base commit; its verdicts against "
		     "the history stand");
		compare_add_note(r->comparison, "a benchmark failed beside the base commit in this job: its verdicts "
				 "against the history stand, unconfirmed");
	}
done:
	gate_result_free(pr);
	suite_free(pairs);
	headbase_release(&hb);
	free(names);
	free(regressed);
}

int gate_run(struct suite *suite, const struct gate_options *opts, const struct baseline_source *src,
	     const struct gate_store *store, struct gate_result **out, struct err *err)
{
	struct gate_result *r = xcalloc(1, sizeof(*r));
	uint64_t t0;
	double first_s;
	int rc;

	*out = NULL;
	if (opts->against_base)
		suite->interleaved = true; /* the pairs are the point */
	else if (opts->ab_interleave)
		interleave_variants(suite); /* `perfgate run` too: its A/B rows are compared later */
	t0 = now_ns();
	if ((rc = step_run(suite, opts, r, err)) != 0)
		goto fail;
	first_s = (double)(now_ns() - t0) / 1e9;
	if (r->interrupted)
		goto done;
	if (opts->compare) {
		if ((rc = step_compare(suite, opts, src, r, err)) != 0)
			goto fail;
		if (opts->confirm && !opts->run_source && !r->invalid && (r->have_baseline || opts->against_base) &&
		    (rc = step_more(suite, opts, r, first_s, err)) != 0)
			goto fail;
		if (opts->confirm_base != GATE_CONFIRM_BASE_OFF && !opts->against_base && !opts->run_source &&
		    !r->invalid && r->comparison && r->have_baseline) {
			struct treecode *t = work_tree(suite, opts); /* the index, read once */

			list_confirming(suite, opts, t, r);
			step_confirm_base(suite, opts, t, r);
			treecode_free(t);
		}
		if (r->interrupted)
			goto done;
	}
	if (store)
		step_store(suite, opts, store, r);
	if (r->store_rc && r->comparison)
		compare_add_note(r->comparison, "database %s: %s", r->store_rc == ERR_INFRA ? "unreachable" : "failed",
				 !r->have_baseline ? "no baseline comparison, only SLOs were checked"
				 : r->stored ? "the comparison was not stored"
					     : "the run and its comparison were not stored");
done:
	*out = r;
	return 0;
fail:
	gate_result_free(r);
	return rc;
}

/* ---- a store in memory ---- */

static int memory_put_run(void *arg, const struct rundoc *rd, const struct changepoint_params *cp,
			  bool *already, struct err *cp_err, struct err *err)
{
	struct baseline_memory *m = arg;
	struct rundoc *copy = NULL;
	char *text;
	int rc;

	(void)cp;
	(void)cp_err;
	*already = false;
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->runs[i]->run_id, rd->run_id) == 0) {
			*already = true;
			return 0;
		}
	text = rundoc_to_string(rd);
	rc = rundoc_parse(&copy, text, err);
	free(text);
	if (rc == 0) {
		copy->context_trusted = rd->context_trusted;
		baseline_memory_add(m, copy);
	}
	return rc;
}

void gate_store_memory(struct baseline_memory *m, struct gate_store *out)
{
	*out = (struct gate_store){ .put_run = memory_put_run, .arg = m };
}
