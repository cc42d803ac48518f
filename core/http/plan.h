/*
 * plan.h: the request side of an HTTP benchmark (the `http` object of
 * a suite benchmark, issue 5 "Requests"), turned into what the engine
 * sends: the target, every distinct request serialised once as HTTP/1.1
 * bytes (one per dataset row, or one), the expected statuses, the response
 * checks, streaming and the per-request SLOs used for goodput.
 *
 * The same parser validates a suite (http_runner_validate, collecting every
 * problem with its JSON path) and prepares a run (then it also reads
 * body_file and dataset, relative to the suite's folder, and the
 * authorization token from the environment).  The token lives only in the
 * serialised requests; it is never copied anywhere else.
 */
#ifndef PERFGATE_HTTP_PLAN_H
#define PERFGATE_HTTP_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "../err.h"

enum http_check_kind { HTTP_CHECK_CONTAINS, HTTP_CHECK_JSON };

struct http_check {
	enum http_check_kind kind;
	char *contains;  /* CONTAINS: the text the body must contain */
	char *json_path; /* JSON: "$.label", "$.choices[0].text" */
	cJSON *equals;   /* JSON: the value it must equal (NULL: must exist) */
};

/* One request as sent: head and body in one buffer. */
struct http_wire {
	char *data;
	size_t len;      /* bytes */
	size_t body_off; /* where the body starts in data */
};

/* A per-request SLO for goodput: the request's value of `metric` must
 * satisfy `op value`. */
enum http_rslo_metric { RSLO_LATENCY, RSLO_SERVICE_TIME, RSLO_TTFB, RSLO_TTFT, RSLO_TPOT, RSLO_ITL_MAX };
struct http_rslo {
	enum http_rslo_metric metric;
	bool less;        /* "<" or "<=" (the only sensible direction for times) */
	bool inclusive;
	uint64_t limit;   /* ns */
};

struct http_plan {
	char *url;
	bool tls;              /* https:// */
	char *host;            /* without brackets */
	char *port;
	char *authority;       /* Host header value */
	char *target;          /* path and query */
	char *method;
	bool head;             /* HEAD: responses have no body */
	char **header_lines;   /* "Name: value", every header but Host and Content-Length (for curl) */
	size_t n_headers;
	struct http_wire *reqs;
	size_t n_reqs;
	int *expect;           /* accepted statuses; none listed: 200-299 */
	size_t n_expect;
	struct http_check *checks;
	size_t n_checks;
	bool sse;              /* "stream": "sse" */
	struct http_rslo *rslo;
	size_t n_rslo;
	size_t max_body;       /* bytes of a body kept for checks */
	bool keep_body;        /* keep the body although there are no checks (a journey step's captures) */
	bool keep_headers;     /* keep the final response's header lines (a journey step's header captures) */
	char *ca_file;         /* https: CA bundle to verify the server with (curl engine), or NULL */
	/* LLM workloads (workload.h, llm.h): set by http_workload_plan */
	bool llm;              /* account usage, lengths and classes of every response */
	bool sessions;         /* multi-turn sessions: requests built as they are sent */
	char **class_names;    /* per class (NULL names: the benchmark has no classes) */
	size_t n_classes;
	struct http_plan_meta *meta; /* per reqs[i]: what it asked for */
	uint32_t *order;       /* request k takes reqs[order[k % n_order]]; NULL: reqs[k % n_reqs] */
	size_t n_order;
};

struct http_plan_meta;

/*
 * Parse the benchmark's `http` object (and `stream`, `request_slo` beside
 * it).  With dir == NULL only validates (no files, no environment).
 * Problems go to `problems`, each starting with `path` + ".http...".
 * Returns 0 when no problem was found, ERR_INPUT otherwise (then *out is
 * NULL).
 */
int http_plan_parse(struct http_plan **out, const cJSON *bench, const char *path, const char *dir,
		    struct errlist *problems);
void http_plan_free(struct http_plan *p);

/* A dataset key (path is its JSON path): a JSONL file name, or {"path":
 * FILE, "order": "sequential" | "shuffle", "seed": N}; *rows is a JSON
 * array of the file's objects (relative to dir), shuffled once when asked.
 * With dir == NULL only the key is checked (*rows NULL). */
int http_plan_load_dataset(const cJSON *ds, const char *path, const char *dir, cJSON **rows,
			   struct errlist *problems);

/* One request as sent, with `body` (len bytes) to `target` (NULL: the
 * URL's), with the plan's method and headers. */
void http_plan_wire(const struct http_plan *p, const char *target, const char *body, size_t len, struct http_wire *out);

/* Is status accepted? */
bool http_plan_status_ok(const struct http_plan *p, int status);
/* Run the checks on a body; on failure writes which check failed into why. */
bool http_plan_checks_pass(const struct http_plan *p, const char *body, size_t len, char *why, size_t why_len);

#endif
