#!/bin/sh
# A load benchmark gates on its history (issue 15, docs/statistics.md "Load
# benchmarks: batch means"): one repetition of an HTTP benchmark is many
# requests, and the whole seconds of its measured window become the samples
# of latency.p50, latency.p95, latency.p99 and throughput.  A real loopback
# server (tests/servers/service_time.py) answers after the service time its
# commit's service.json says; three baseline runs on main, then a branch on
# which every tenth request is ten times slower: p95 ten times higher fails
# the gate on batch samples.  The suite sets only the duration (4 s, for the
# test's time; a default benchmark measures 10 s) and one repetition.
. tests/integration/lib.sh
T=$(test_tmpdir)
DB=$(new_db gateload)
export GIT_CONFIG_NOSYSTEM=1 HOME=$T PERFGATE_HOME=$T/home NO_COLOR=1
R=$T/repo
SERVER=$PWD/tests/servers/service_time.py
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

git_repo "$R" || exit 1
cat >"$R/suite.json" <<EOF
{"suite": "load", "project": "load",
 "benchmarks": [{"name": "api", "http": {"url": "http://127.0.0.1:$PORT/work"}, "load": {"duration": "4s"}}]}
EOF
echo '{"ms": 2}' >"$R/service.json"
git -C "$R" add -A && git -C "$R" commit -qm base

spid=
stop_server() { [ -n "$spid" ] && kill "$spid" 2>/dev/null && wait "$spid" 2>/dev/null; spid=; }
trap stop_server EXIT
# The server of the commit checked out, then the gate.
gate() {
	rm -f "$T/port"
	python3 "$SERVER" "$R/service.json" "$T/port" "$PORT" &
	spid=$!
	i=0; while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
	"$PERFGATE" gate --db "$DB" --quiet "$@"
	_rc=$?
	stop_server
	return $_rc
}
for i in 1 2 3; do
	echo "$i" >>"$R/notes"
	git -C "$R" add -A && git -C "$R" commit -qm "main $i"
	expect_exit 0 "baseline gate $i passes" gate "$R/suite.json" --json "$T/b$i.json" --run-out "$T/run$i.json"
done
check_py "with one repetition the percentiles and throughput are compared on batch samples" python3 -c '
import json, sys
rows = {r["metric"]: r for r in json.load(open(sys.argv[1]))["rows"]}
for m in ("latency.p50", "latency.p95", "throughput"):
    r = rows[m]
    assert r["batches"] and r["current"]["n"] >= 3 and r["baseline"]["runs"] == 2, (m, r)
    assert r["verdict"] not in ("insufficient-data", "no-baseline"), (m, r["verdict"], r["why"])
# a percentile without batches (the series has none) keeps one sample per
# repetition: 1 new against 2 baseline samples, which a rank test cannot
# decide (the hint names the key, in the "load" object, where it wins over
# the key of the benchmark itself), unless all three are the same histogram
# bucket (the exact path decides on the change itself)
for m in ("latency.p90", "latency.p99"):
    r = rows[m]
    assert not r["batches"] and r["current"]["n"] == 1, (m, r)
    assert r["verdict"] == "insufficient-data" and "\"repetitions\"" in r["hint"] and \
        "in the \"load\" of benchmark" in r["hint"] or \
        r["verdict"] in ("unchanged", "below-floor") and "exact" in r["why"], (m, r["verdict"], r["why"])' "$T/b3.json"
check_py "the time series records the measured window" python3 -c '
import json, sys
b = json.load(open(sys.argv[1]))["benchmarks"][0]
ts = b["extra"]["timeseries"][0] if "extra" in b else b["timeseries"][0]
assert ts["warmup"] == 0 and 3.9 < ts["window"] < 4.2, ts' "$T/run3.json"

# Every tenth request ten times slower: p95 about ten times higher.
git -C "$R" checkout -qb slow
echo '{"ms": 2, "slow_every": 10, "slow_factor": 10}' >"$R/service.json"
git -C "$R" commit -qam "every tenth request slow"
expect_exit 1 "p95 ten times higher fails the gate" gate "$R/suite.json" --no-store --json "$T/slow.json"
check_py "latency.p95 is the regression, decided on batch samples" python3 -c '
import json, sys
rows = {r["metric"]: r for r in json.load(open(sys.argv[1]))["rows"]}
r = rows["latency.p95"]
assert r["verdict"] == "regression" and r["batches"] and r["ratio"] > 3, r' "$T/slow.json"
contains "the text report names it" "$OUT" "latency.p95"
lacks "a load test of a server the suite does not start is never measured beside the base, and no note says so" \
	"$OUT" "measured beside the base"
git -C "$R" checkout -q main
