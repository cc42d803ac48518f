/*
 * fuzz_validate.c: libFuzzer targets for the two validators of what people
 * and other programs hand perfgate, chosen at compile time:
 *
 *   -DFUZZ_VALIDATE=1  the run-document validator (rundoc_parse_text), what
 *                      `perfgate push` and `compare --run-file` read;
 *   -DFUZZ_VALIDATE=2  the suite validator (suite_load), what every `run`
 *                      and `gate` reads first.
 *
 * Whatever the bytes: 0, or ERR_INPUT with a message; never a crash, a leak,
 * a read out of bounds or undefined behaviour (ASan, UBSan).  What is
 * accepted must hold what the database needs (docs/security.md): a run
 * document written back out passes the validator again (rundoc_check), and
 * every name of an accepted suite is a name (json_name_problem).
 * tests/fuzz/rundoc.dict and suite.dict hold the keys.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../core/json.h"
#include "../../core/rundoc.h"
#include "../../core/util.h"

#if FUZZ_VALIDATE == 2
#include "../../core/suite.h"
#endif

#ifndef FUZZ_VALIDATE
#error "define FUZZ_VALIDATE: 1 (run documents) or 2 (suites)"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#if FUZZ_VALIDATE == 1
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy plus the NUL the parser's contract asks for. */
	char *text = malloc(size + 1);
	struct rundoc *rd = NULL;
	struct err err = ERR_INIT;
	int rc;

	if (size)
		memcpy(text, data, size);
	text[size] = '\0';
	rc = rundoc_parse_text(&rd, text, size, &err);
	if (rc == 0) {
		struct err again = ERR_INIT;

		if (!rd || rundoc_check(rd, &again) != 0)
			abort(); /* accepted, written out, refused: the spool would keep it forever */
		for (size_t i = 0; i < rd->n_benches; i++)
			if (json_name_problem(rd->benches[i].name, again.msg, sizeof(again.msg)))
				abort();
	} else if (rc != ERR_INPUT || err.msg[0] == '\0' || rd) {
		abort();
	}
	rundoc_free(rd);
	free(text);
	return 0;
}
#else
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	struct errlist problems = ERRLIST_INIT;
	struct suite *s = NULL;
	struct err err = ERR_INIT;
	FILE *f;
	int rc;

	if (!path[0])
		snprintf(path, sizeof(path), "/tmp/perfgate-fuzz-suite-%ld.json", (long)getpid());
	if (!(f = fopen(path, "wb")))
		abort();
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
	rc = suite_load(&s, path, &problems, &err);
	if (rc == 0) {
		char why[96];

		if (!s || problems.n != 0 || (s->name && json_name_problem(s->name, why, sizeof(why))))
			abort();
		for (size_t i = 0; i < s->n_benches; i++)
			if (json_name_problem(s->benches[i].name, why, sizeof(why)))
				abort();
	} else if (rc != ERR_INPUT || s || err.msg[0] == '\0') {
		abort();
	}
	suite_free(s);
	errlist_release(&problems);
	return 0;
}
#endif
