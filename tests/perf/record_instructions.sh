#!/bin/sh
# Record instruction counts of the shell loop (tests/fixtures/timing/README.md):
# valgrind's callgrind counts every instruction the child executes, so the
# count is the same from one repetition to the next where wall time is not.
# usage: record_instructions.sh OUTDIR REPS N1 [N2 ...]
set -eu
out=$1 reps=$2
shift 2
r=0
while [ "$r" -lt "$reps" ]; do
	for n in "$@"; do
		valgrind --tool=callgrind --callgrind-out-file=/dev/null \
			sh -c "i=0; while [ \$i -lt $n ]; do i=\$((i+1)); done" 2>&1 |
			sed -n 's/^==[0-9]*== Collected : \([0-9]*\)$/\1/p' >>"$out/instructions-$n.txt"
	done
	r=$((r + 1))
done
