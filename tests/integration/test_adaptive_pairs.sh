#!/bin/sh
# Interleaved A/B variants with an adaptive count stop once their pairs are
# precise (docs/suite.md, "Interleaved order"): the machine's speed changes
# from one pair to the next (here: the pair's number sets how long both
# sides sleep, 40 to 160 ms), so each side's own median stays imprecise and
# used to run to max_repetitions, while every pair's ratio is the same
# (the variant sleeps 1.2 times as long as the reference).
. tests/integration/lib.sh
T=$(test_tmpdir)
export HOME=$T PERFGATE_HOME=$T/home NO_COLOR=1 COUNTER=$T/counter
cat >"$T/nap.sh" <<'SH'
n=$(cat "$COUNTER" 2>/dev/null || echo 0); echo $((n + 1)) >"$COUNTER"
sleep "$(awk -v r=$((n / 2 % 5)) -v f="$F" 'BEGIN { printf "%.4f", 0.04 * (1 + 0.75 * r) * f }')"
SH
cat >"$T/suite.json" <<JSON
{"suite": "pairs", "order": "interleaved", "benchmarks": [
  {"name": "nap", "shell": "sh $T/nap.sh", "min_repetitions": 6, "max_repetitions": 30, "target": "5%",
   "variants": [{"name": "a", "env": {"F": "1"}}, {"name": "b", "env": {"F": "1.2"}}], "reference": "a"}]}
JSON
expect_exit 0 "an interleaved A/B with an adaptive count runs" "$PERFGATE" run "$T/suite.json" --no-store --out "$T/run.json"
check "the variants stopped together, on their pairs' precision, well before max_repetitions" python3 -c '
import json, sys
b = {x["name"]: x for x in json.load(open(sys.argv[1]))["benchmarks"]}
n = [len({m["name"]: m for m in b[v]["metrics"]}["wall"]["samples"]) for v in ("nap@a", "nap@b")]
assert n[0] == n[1] and 6 <= n[0] <= 15, n' "$T/run.json"
expect_exit 0 "compare --variants on the run" "$PERFGATE" compare --variants --run-file "$T/run.json" --format json \
	--out "$T/cmp.json"
check "compared pair by pair: +20%" python3 -c '
import json, sys
r = [r for r in json.load(open(sys.argv[1]))["rows"] if r["metric"] == "wall"][0]
assert r["test"] == "signed-rank" and 1.15 < r["ratio"] < 1.25, (r["test"], r["ratio"])' "$T/cmp.json"
