/*
 * probe.c: the fixed workload of "calibration": "auto" (see probe.h).
 *
 * A small stack machine runs one fixed program per iteration.  The work
 * is the machine's, not the program's: every operation goes through one
 * indirect jump (the switch's table), the stack lives in memory, and each
 * iteration reads and writes a 64 KiB table.  That is the shape of the
 * code whose speed a busy neighbour moves most: interpreters, parsers,
 * compressors, sorts; docs/statistics.md, "Calibration "auto"", has the
 * figures that chose it.
 */
#include "probe.h"

#define PROBE_TABLE 16384 /* 32-bit entries: 64 KiB */

enum probe_op {
	OP_DUP,   /* a -- a a */
	OP_LOAD,  /* i -- table[i] */
	OP_STORE, /* v i -- v, and table[i] = v */
	OP_ADD,   /* a b -- a+b */
	OP_MUL,   /* a b -- a*b */
	OP_XOR,   /* a b -- a^b */
	OP_SHR,   /* a -- a>>7 */
	OP_ITER,  /* -- i, the iteration's number */
	OP_KEY,   /* -- an odd constant */
	OP_END,   /* h -- : the iteration's result */
};

/* One iteration: h' = mix(h + table[h]), stored at h' + i K, times K. */
static const unsigned char program[] = {
	OP_DUP, OP_LOAD, OP_ADD,           /* h + table[h] */
	OP_DUP, OP_SHR,  OP_XOR,           /* b = a ^ a >> 7 */
	OP_DUP, OP_ITER, OP_KEY, OP_MUL,   /* b b iK */
	OP_ADD, OP_STORE,                  /* table[b + iK] = b */
	OP_KEY, OP_MUL, OP_END,            /* h' = b K */
};

/* Read through a volatile pointer, the program is data to the compiler: it
 * cannot evaluate the machine away, whatever it inlines or unrolls. */
static const unsigned char *volatile program_at = program;

uint64_t probe_run(uint64_t iterations)
{
	static uint32_t table[PROBE_TABLE];
	const unsigned char *const code = program_at;
	uint64_t stack[8], h = 0x9e3779b97f4a7c15ULL;

	for (uint64_t i = 0; i < iterations; i++) {
		size_t sp = 0;

		stack[sp++] = h;
		for (const unsigned char *pc = code;; pc++) {
			switch ((enum probe_op)*pc) {
			case OP_DUP:
				stack[sp] = stack[sp - 1];
				sp++;
				continue;
			case OP_LOAD:
				stack[sp - 1] = table[stack[sp - 1] % PROBE_TABLE];
				continue;
			case OP_STORE:
				sp--;
				table[stack[sp] % PROBE_TABLE] = (uint32_t)stack[sp - 1];
				continue;
			case OP_ADD:
				sp--;
				stack[sp - 1] += stack[sp];
				continue;
			case OP_MUL:
				sp--;
				stack[sp - 1] *= stack[sp];
				continue;
			case OP_XOR:
				sp--;
				stack[sp - 1] ^= stack[sp];
				continue;
			case OP_SHR:
				stack[sp - 1] >>= 7;
				continue;
			case OP_ITER:
				stack[sp++] = i;
				continue;
			case OP_KEY:
				stack[sp++] = 0x9e3779b97f4a7c15ULL;
				continue;
			case OP_END:
				break;
			}
			break;
		}
		h = stack[sp - 1];
	}
	return h;
}
