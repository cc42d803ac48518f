/*
 * fuzz_ingest.c: libFuzzer target for one ingest parser, chosen at compile
 * time with -DFUZZ_FORMAT=INGEST_<NAME> (tests/fuzz/Makefile builds one
 * binary per format).  Whatever the bytes, the parser must return 0 or
 * ERR_INPUT with a message, never crash, leak or read out of bounds; a
 * document it accepts must serialise, and must hold only finite samples.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/ingest/ingest.h"

#ifndef FUZZ_FORMAT
#error "define FUZZ_FORMAT, e.g. -DFUZZ_FORMAT=INGEST_GO"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rundoc *rd = rundoc_new();
	struct err err = ERR_INIT;
	/* Parsers take (text, len) and must not read past len: give them an
	 * exact-size copy so AddressSanitizer catches any overread. */
	char *text = malloc(size ? size : 1);
	int rc;

	if (size)
		memcpy(text, data, size);
	(void)ingest_detect(text, size);
	rc = ingest_parse(FUZZ_FORMAT, text, size, NULL, rd, &err);
	if (rc == 0) {
		char *json = rundoc_to_string(rd);

		for (size_t i = 0; i < rd->n_benches; i++)
			for (size_t j = 0; j < rd->benches[i].n_metrics; j++)
				for (size_t k = 0; k < rd->benches[i].metrics[j].n_samples; k++)
					if (!isfinite(rd->benches[i].metrics[j].samples[k]))
						abort();
		free(json);
	} else if (rc != ERR_INPUT || err.msg[0] == '\0' || strchr(err.msg, '\n')) {
		abort(); /* bad input must be ERR_INPUT with one line */
	}
	free(text);
	rundoc_free(rd);
	return 0;
}
