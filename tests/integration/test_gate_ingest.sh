#!/bin/sh
# A gate over an ingested harness (go test -bench output) confirms a
# regression by re-running the suite benchmark the harness rows came from:
# a harness reports "micro/BenchmarkSum" (go drops the -2 GOMAXPROCS suffix) for the suite benchmark "micro".
. tests/integration/lib.sh
T=$(test_tmpdir)
DB=$(new_db gate_ingest)
export GIT_CONFIG_NOSYSTEM=1 HOME=$T PERFGATE_HOME=$T/home NO_COLOR=1
R=$T/repo

git_repo "$R" || exit 1
# A deterministic "benchmark": ns/op from a file, so only the change gates.
cat >"$R/bench.sh" <<'EOF'
ns=$(cat ns)
printf 'goos: linux\ngoarch: amd64\npkg: example.com/m\nBenchmarkSum-2   \t 1000000\t      %s ns/op\nPASS\nok  \texample.com/m\t1.0s\n' "$ns"
EOF
cat >"$R/suite.json" <<'EOF'
{"suite": "gate-ingest", "project": "gate-ingest", "compare": {"min_effect": "5%"},
 "benchmarks": [{"name": "micro", "shell": "sh bench.sh", "ingest": "go", "repetitions": 6}]}
EOF
echo 100 >"$R/ns"
git -C "$R" add -A && git -C "$R" commit -qm "base"
gate() { "$PERFGATE" gate --db "$DB" --quiet "$@"; }
for i in 1 2 3; do
	echo "# $i" >>"$R/notes"
	git -C "$R" add -A && git -C "$R" commit -qm "main $i"
	expect_exit 0 "baseline gate $i passes" gate "$R/suite.json"
done
echo 300 >"$R/ns"
git -C "$R" commit -qam "three times slower"
expect_exit 1 "the slowdown fails the gate" gate "$R/suite.json" --json "$T/slow.json"
contains "the harness benchmark is the regression" "$OUT" "micro/BenchmarkSum"
if python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
# measuring more: the first round is half the budget of 6
assert d["confirm_repetitions"] == 3, d["confirm_repetitions"]
r = [x for x in d["rows"] if x["benchmark"] == "micro/BenchmarkSum" and x["metric"] == "time"][0]
assert r["verdict"] == "regression" and r["current"]["n"] == 9, r
' "$T/slow.json" 2>"$T/py.err"; then
	ok "the regression was confirmed by re-running suite benchmark 'micro' (9 pooled samples)"
else
	not_ok "confirmation did not re-run the harness: $(tail -n 1 "$T/py.err")"
fi
