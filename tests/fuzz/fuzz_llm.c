/*
 * fuzz_llm.c: libFuzzer target for one of the LLM workload parsers, chosen
 * at compile time with -DFUZZ_TARGET=N (tests/fuzz/Makefile builds one
 * binary each):
 *
 *   1 dataset_sharegpt  2 dataset_openai  3 dataset_prompts  (core/http/dataset.c)
 *   4 trace                                               (core/http/trace.c)
 *   5 openai_chunk: one SSE event's data and a whole body (core/http/openai.c)
 *
 * Whatever the bytes, a parser returns 0 or ERR_INPUT with one line, never
 * crashes, leaks or reads out of bounds; what it accepts is consistent
 * (every text as long as it says, trace times in order, lengths that add
 * up).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/http/dataset.h"
#include "../../core/http/openai.h"
#include "../../core/http/trace.h"
#include "../../core/util.h"

#ifndef FUZZ_TARGET
#error "define FUZZ_TARGET, e.g. -DFUZZ_TARGET=1"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one_line(int rc, const struct err *err)
{
	if (rc != ERR_INPUT || err->msg[0] == '\0' || strchr(err->msg, '\n'))
		abort();
}

static void dataset(const char *text, size_t size, enum http_dataset_format format)
{
	struct http_dataset_options o = HTTP_DATASET_OPTIONS_INIT;
	struct http_dataset *d = NULL;
	struct err err = ERR_INIT;
	int rc;

	o.format = format;
	o.label = "fuzz";
	o.shuffle = size % 2;
	o.sample = size % 3;
	rc = http_dataset_parse(&d, &o, text, size, &err);
	if (rc != 0) {
		one_line(rc, &err);
		return;
	}
	for (size_t i = 0; i < http_dataset_count(d); i++) {
		const struct http_dataset_conv *c = http_dataset_get(d, i);

		for (uint32_t k = 0; k < c->n_turns; k++)
			if (strlen(c->turns[k].text) > c->turns[k].len || c->turns[k].role > HTTP_ROLE_ASSISTANT)
				abort();
		if (c->row && strlen(c->row) != c->row_len)
			abort();
	}
	http_dataset_free(d);
}

static void trace(const char *text, size_t size)
{
	struct http_trace_options o = HTTP_TRACE_OPTIONS_INIT;
	struct http_trace *t = NULL;
	struct err err = ERR_INIT;
	FILE *f = fmemopen((void *)(uintptr_t)text, size ? size : 1, "r");
	int rc;

	if (!f)
		return;
	o.label = "fuzz";
	o.time_scale = size % 2 ? 0.5 : 1;
	rc = size ? http_trace_read(&t, &o, f, &err) : ERR_INPUT;
	fclose(f);
	if (rc != 0) {
		if (size)
			one_line(rc, &err);
		return;
	}
	for (size_t i = 1; i < http_trace_count(t); i++)
		if (http_trace_get(t, i)->t < http_trace_get(t, i - 1)->t)
			abort();
	http_trace_free(t);
}

static void chunk(const char *text, size_t size)
{
	struct http_openai_chunk ch;
	struct sb content = SB_INIT;

	http_openai_chunk_parse(text, size, &ch, &content);
	if (content.len != ch.content_len || (ch.kind == HTTP_OPENAI_TEXT) != (ch.content_len + ch.reasoning_len > 0))
		abort();
	sb_reset(&content);
	http_openai_response_parse(text, size, &ch, &content);
	if (content.len != ch.content_len)
		abort();
	sb_release(&content);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy, so that AddressSanitizer catches any overread. */
	char *text = malloc(size ? size : 1);

	if (size)
		memcpy(text, data, size);
	switch (FUZZ_TARGET) {
	case 1:
		dataset(text, size, HTTP_DATASET_SHAREGPT);
		break;
	case 2:
		dataset(text, size, HTTP_DATASET_OPENAI);
		break;
	case 3:
		dataset(text, size, HTTP_DATASET_PROMPTS);
		break;
	case 4:
		trace(text, size);
		break;
	default:
		chunk(text, size);
		break;
	}
	free(text);
	return 0;
}
