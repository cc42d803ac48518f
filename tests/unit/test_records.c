/* Unit tests for core/http/records.c: four threads add 200,000 records
 * through a pool of small buffers (so that they wait for the writer); every
 * record comes back from the file, each line valid JSON with the values
 * put in; memory stays within the pool; a failed write is reported with
 * the number of records lost. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "../../core/http/records.h"
#include "../../core/util.h"

#define WORKERS 4
#define PER_WORKER 50000
#define T0 1000000000000ULL

/* The record a worker writes as its seq-th: every field a function of
 * (worker, seq), so the reader can check it. */
static void make(struct http_record *x, uint32_t w, uint64_t seq, uint64_t *itl)
{
	memset(x, 0, sizeof(*x));
	x->worker = w;
	x->seq = seq;
	x->warmup = seq % 10 == 0;
	x->t_sched = T0 + seq * 1000 + w;
	x->t_send = x->t_sched + 7;
	x->t_first_byte = seq % 3 ? x->t_send + 100 : 0;
	x->t_first_token = seq % 3 ? x->t_send + 200 : 0;
	x->t_end = x->t_send + 5000;
	x->status = seq % 7 ? 200 : 0;
	x->error = seq % 7 ? NULL : "refused";
	x->class_name = seq % 2 ? "chat" : NULL;
	x->session = seq % 4 ? (long)(seq / 4) : -1;
	x->turn = seq % 4 ? (long)(seq % 4) : -1;
	x->input_tokens_requested = 512;
	x->input_tokens = (long)(seq % 600);
	x->cached_tokens = seq % 5 ? 16 : -1;
	x->output_tokens_requested = 64;
	x->output_tokens = (long)(seq % 65);
	x->reasoning_tokens = -1;
	for (size_t i = 0; i < seq % 4; i++)
		itl[i] = seq + i;
	x->itl = itl;
	x->n_itl = seq % 4;
}

struct job {
	struct http_records_local *l;
	uint32_t w;
};

static void *work(void *arg)
{
	struct job *j = arg;
	uint64_t itl[4];

	for (uint64_t s = 0; s < PER_WORKER; s++) {
		struct http_record x;

		make(&x, j->w, s, itl);
		http_records_add(j->l, &x);
	}
	http_records_flush(j->l);
	return NULL;
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);

	return cJSON_IsNull(v) ? -1 : v->valuedouble;
}

static void check_line(const cJSON *o, unsigned char seen[WORKERS][PER_WORKER])
{
	uint32_t w = (uint32_t)num(o, "worker");
	uint64_t s = (uint64_t)num(o, "seq"), itl[4];
	struct http_record x;
	const cJSON *a;
	size_t i = 0;

	assert_true(w < WORKERS && s < PER_WORKER);
	assert_int_equal(seen[w][s], 0);
	seen[w][s] = 1;
	make(&x, w, s, itl);
	assert_string_equal(cJSON_GetObjectItem(o, "benchmark")->valuestring, "bench \"one\"");
	assert_int_equal(num(o, "step"), 3);
	assert_int_equal(cJSON_IsTrue(cJSON_GetObjectItem(o, "warmup")), x.warmup);
	assert_true(num(o, "t_sched") == (double)(x.t_sched - T0));
	assert_true(num(o, "t_send") == (double)(x.t_send - T0));
	assert_true(num(o, "t_first_token") == (x.t_first_token ? (double)(x.t_first_token - T0) : -1));
	assert_true(num(o, "t_end") == (double)(x.t_end - T0));
	assert_true(num(o, "status") == (x.status ? 200 : -1));
	if (x.error)
		assert_string_equal(cJSON_GetObjectItem(o, "error")->valuestring, "refused");
	else
		assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "error")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "class")) == (x.class_name == NULL));
	assert_true(num(o, "session") == (double)x.session);
	assert_true(num(o, "turn") == (double)x.turn);
	assert_true(num(o, "input_tokens") == (double)x.input_tokens);
	assert_true(num(o, "cached_tokens") == (double)x.cached_tokens);
	assert_true(num(o, "output_tokens") == (double)x.output_tokens);
	assert_true(num(o, "reasoning_tokens") == -1);
	cJSON_ArrayForEach(a, cJSON_GetObjectItem(o, "itl")) {
		assert_true(i < x.n_itl);
		assert_true(a->valuedouble == (double)itl[i]);
		i++;
	}
	assert_int_equal(i, x.n_itl);
}

static void test_many_threads(void **state)
{
	char path[] = "/tmp/perfgate-test-records-XXXXXX";
	int fd = mkstemp(path);
	struct http_records_options o = HTTP_RECORDS_OPTIONS_INIT;
	struct http_records *r = NULL;
	struct http_records_stats st;
	struct err err = ERR_INIT;
	pthread_t t[WORKERS];
	struct job jobs[WORKERS];
	unsigned char (*seen)[PER_WORKER] = calloc(WORKERS, PER_WORKER);
	FILE *f;
	char *line = NULL;
	size_t cap = 0, lines = 0;

	(void)state;
	close(fd);
	o.path = path;
	o.workers = WORKERS;
	o.buffer_bytes = 4096; /* about 12 records: many hand-overs */
	o.buffers = 8;
	assert_int_equal(http_records_open(&r, &o, &err), 0);
	http_records_step(r, "bench \"one\"", 3, T0, WORKERS);
	for (uint32_t w = 0; w < WORKERS; w++) {
		jobs[w].l = http_records_local(r, w);
		jobs[w].w = w;
		assert_int_equal(pthread_create(&t[w], NULL, work, &jobs[w]), 0);
	}
	for (int w = 0; w < WORKERS; w++)
		pthread_join(t[w], NULL);
	assert_int_equal(http_records_close(r, &st, &err), 0);
	assert_int_equal(st.records, WORKERS * PER_WORKER);
	assert_true(st.buffers <= 8);
	f = fopen(path, "r");
	while (getline(&line, &cap, f) > 0) {
		cJSON *o2 = cJSON_Parse(line);

		if (!o2)
			fail_msg("line %zu is not JSON: %s", lines + 1, line);
		check_line(o2, seen);
		cJSON_Delete(o2);
		lines++;
	}
	fclose(f);
	assert_int_equal(lines, WORKERS * PER_WORKER);
	{
		struct stat sbuf;

		assert_int_equal(stat(path, &sbuf), 0);
		assert_int_equal(st.bytes, (uint64_t)sbuf.st_size);
	}
	free(line);
	free(seen);
	unlink(path);
}

static void test_escapes_and_steps(void **state)
{
	char path[] = "/tmp/perfgate-test-records-XXXXXX";
	int fd = mkstemp(path);
	struct http_records_options o = HTTP_RECORDS_OPTIONS_INIT;
	struct http_records *r = NULL;
	struct http_record x;
	struct err err = ERR_INIT;
	char *text = NULL;
	size_t len;

	(void)state;
	close(fd);
	o.path = path;
	assert_int_equal(http_records_open(&r, &o, &err), 0);
	memset(&x, 0, sizeof(x));
	x.session = x.turn = x.input_tokens_requested = x.input_tokens = x.cached_tokens = -1;
	x.output_tokens_requested = x.output_tokens = x.reasoning_tokens = -1;
	x.class_name = "q\"b\\s\n\x01";
	x.t_sched = 5000;
	http_records_step(r, "a", 0, 1000, 1);
	http_records_add(http_records_local(r, 0), &x);
	http_records_step(r, "b", 1, 4000, 1);
	http_records_add(http_records_local(r, 0), &x);
	assert_int_equal(http_records_close(r, NULL, &err), 0);
	assert_int_equal(file_read(path, &text, &len, &err), 0);
	assert_string_equal(text,
		"{\"benchmark\":\"a\",\"step\":0,\"worker\":0,\"seq\":0,\"warmup\":false,\"t_sched\":4000,\"t_send\":null,"
		"\"t_first_byte\":null,\"t_first_token\":null,\"t_end\":null,\"status\":null,\"error\":null,"
		"\"class\":\"q\\\"b\\\\s\\u000a\\u0001\",\"session\":null,\"turn\":null,\"input_tokens_requested\":null,"
		"\"input_tokens\":null,\"cached_tokens\":null,\"output_tokens_requested\":null,\"output_tokens\":null,"
		"\"reasoning_tokens\":null,\"itl\":[]}\n"
		"{\"benchmark\":\"b\",\"step\":1,\"worker\":0,\"seq\":0,\"warmup\":false,\"t_sched\":1000,\"t_send\":null,"
		"\"t_first_byte\":null,\"t_first_token\":null,\"t_end\":null,\"status\":null,\"error\":null,"
		"\"class\":\"q\\\"b\\\\s\\u000a\\u0001\",\"session\":null,\"turn\":null,\"input_tokens_requested\":null,"
		"\"input_tokens\":null,\"cached_tokens\":null,\"output_tokens_requested\":null,\"output_tokens\":null,"
		"\"reasoning_tokens\":null,\"itl\":[]}\n");
	{
		cJSON *j = cJSON_Parse(text);

		assert_string_equal(cJSON_GetObjectItem(j, "class")->valuestring, "q\"b\\s\n\x01");
		cJSON_Delete(j);
	}
	free(text);
	unlink(path);
}

static void test_failures(void **state)
{
	struct http_records_options o = HTTP_RECORDS_OPTIONS_INIT;
	struct http_records *r = NULL;
	struct http_records_stats st;
	struct http_record x;
	struct err err = ERR_INIT;

	(void)state;
	o.path = "/nonexistent-dir/records.jsonl";
	assert_int_equal(http_records_open(&r, &o, &err), ERR_FAIL);
	assert_null(r);
	assert_string_equal(err.msg, "cannot create the request records '/nonexistent-dir/records.jsonl': "
				     "No such file or directory");
	/* /dev/full takes the open and refuses every write */
	o.path = "/dev/full";
	o.buffer_bytes = 1024;
	assert_int_equal(http_records_open(&r, &o, &err), 0);
	memset(&x, 0, sizeof(x));
	for (int i = 0; i < 100; i++)
		http_records_add(http_records_local(r, 0), &x);
	assert_int_equal(http_records_close(r, &st, &err), ERR_FAIL);
	assert_string_equal(err.msg, "request records '/dev/full': 100 records lost: No space left on device");
	assert_int_equal(st.records, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_threads),
		cmocka_unit_test(test_escapes_and_steps),
		cmocka_unit_test(test_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
