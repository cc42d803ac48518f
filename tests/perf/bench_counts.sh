#!/bin/sh
# Noise-proof metrics (issue 3): the spread of `wall` against the spread of
# `instructions` for the same command, and what counting costs.  A fixed
# shell loop runs REPS times plain, and REPS times with
# "measure": ["instructions"] (hardware counters, else valgrind).  Prints the
# coefficient of variation of each metric and the slowdown of the run that
# counts; the figure is informational (no target), so this never fails
# unless perfgate does.
set -eu
: "${PERFGATE:?}"
REPS=${REPS:-10}
T=$(mktemp -d /tmp/perfgate-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT
loop='i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done'
cat >"$T/plain.json" <<JSON
{"suite": "counts", "benchmarks": [{"name": "loop", "shell": "$loop", "repetitions": $REPS}]}
JSON
cat >"$T/counted.json" <<JSON
{"suite": "counts", "benchmarks": [{"name": "loop", "shell": "$loop", "repetitions": $REPS, "measure": ["instructions"]}]}
JSON
t0=$(date +%s%N)
"$PERFGATE" run --no-store -q --format json "$T/plain.json" >"$T/plain.out" 2>/dev/null
t1=$(date +%s%N)
"$PERFGATE" run --no-store -q --format json "$T/counted.json" >"$T/counted.out" 2>/dev/null
t2=$(date +%s%N)
python3 - "$T" $((t1 - t0)) $((t2 - t1)) "$REPS" <<'PY'
import json, statistics, sys
T, plain_ns, counted_ns, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def metric(path, name):
    for m in json.load(open(path))["benchmarks"][0]["metrics"]:
        if m["name"] == name:
            return m
def cv(xs):
    return statistics.stdev(xs) / statistics.mean(xs)
w = metric(T + "/plain.out", "wall")["samples"]
ins = metric(T + "/counted.out", "instructions")
print("shell loop x%s: wall median %.2f ms, min..max %.2f..%.2f ms, CV %.1f%%"
      % (reps, statistics.median(w) * 1e3, min(w) * 1e3, max(w) * 1e3, cv(w) * 100))
print("instructions (%s): median %.0f, min..max %.0f..%.0f, CV %.4f%%"
      % (ins["source"], statistics.median(ins["samples"]), min(ins["samples"]), max(ins["samples"]),
         cv(ins["samples"]) * 100))
print("figure: CV wall / CV instructions = %s" % ("inf (instructions identical)" if cv(ins["samples"]) == 0
      else "%.0f" % (cv(w) / cv(ins["samples"]))))
print("figure: run with instruction counts / plain run, elapsed = %.1f" % (counted_ns / plain_ns))
PY
