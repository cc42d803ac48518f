#!/bin/sh
# Interleaved load tests (docs/suite.md, "Interleaved order"): in a suite
# with "order": "interleaved", a load benchmark's repetitions take their
# turn with the others', so the variants of an A/B load test see the same
# machine repetition by repetition and are compared pair by pair
# (signed-rank), as command variants are.  Two real loopback servers
# (tests/servers/service_time.py) answer after 2 ms and after 4 ms; the
# slow variant's latency is flagged against the fast reference.
. tests/integration/lib.sh
T=$(test_tmpdir)
export HOME=$T PERFGATE_HOME=$T/home NO_COLOR=1
SERVER=$PWD/tests/servers/service_time.py

pids=
stop_servers() { for p in $pids; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done; pids=; }
trap stop_servers EXIT
start_server() { # NAME MS
	echo "{\"ms\": $2}" >"$T/$1.json"
	python3 "$SERVER" "$T/$1.json" "$T/$1.port" &
	pids="$pids $!"
	echo "$!" >"$T/$1.pid"
	i=0; while [ ! -s "$T/$1.port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
	[ -s "$T/$1.port" ] || { not_ok "service_time.py ($1) did not start"; exit 1; }
}
start_server fast 2
start_server slow 4
FAST=$(cat "$T/fast.port")
SLOW=$(cat "$T/slow.port")

cat >"$T/suite.json" <<JSON
{"suite": "http-ab", "order": "interleaved", "benchmarks": [
  {"name": "api", "http": {"url": "http://127.0.0.1:$FAST/work"},
   "load": {"duration": "0.3s", "repetitions": 10},
   "variants": [{"name": "fast"}, {"name": "slow", "http": {"url": "http://127.0.0.1:$SLOW/work"}}],
   "reference": "fast"},
  {"name": "loop", "shell": "i=0; while [ \$i -lt 300 ]; do i=\$((i+1)); done", "repetitions": 10}]}
JSON

expect_exit 0 "an interleaved suite with load variants runs" "$PERFGATE" run "$T/suite.json" --no-store \
	--out "$T/run.json" --requests "$T/requests.jsonl"
check "every benchmark ran its 10 repetitions, the load variants marked interleaved" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
b = {x["name"]: x for x in d["benchmarks"]}
assert set(b) == {"api@fast", "api@slow", "loop"}, list(b)
for n in ("api@fast", "api@slow"):
    x = b[n]
    assert x["status"] == "ok" and x["interleaved"] is True, (n, x.get("status"), x.get("interleaved"))
    m = {mm["name"]: mm for mm in x["metrics"]}
    assert len(m["latency.p50"]["samples"]) == 10 and len(m["throughput"]["samples"]) == 10, n
assert len({mm["name"]: mm for mm in b["loop"]["metrics"]}["wall"]["samples"]) == 10' "$T/run.json"
# The records are written as the steps run: the benchmarks alternate,
# step by step, instead of one running all of its repetitions first.
check "the load variants' repetitions alternate" python3 -c '
import json, sys
seq = []
for line in open(sys.argv[1]):
    r = json.loads(line)
    k = (r["benchmark"], r["step"])
    if not seq or seq[-1] != k:
        seq.append(k)
names = [b for b, _ in seq]
assert len(seq) == 20, seq
assert all(names[i] != names[i + 1] for i in range(19)), names
assert [s for b, s in seq if b == "api@slow"] == list(range(10)), seq' "$T/requests.jsonl"
expect_exit 0 "compare --variants on the saved run" "$PERFGATE" compare --variants --run-file "$T/run.json" \
	--format json --out "$T/cmp.json"
check "the slow variant's latency is flagged against the fast one, pair by pair" python3 -c '
import json, sys
rows = {r["metric"]: r for r in json.load(open(sys.argv[1]))["rows"] if r["benchmark"] == "api@slow"}
r = rows["latency.p50"]
assert r["against"] == "api@fast" and r["test"] == "signed-rank", r
assert r["verdict"] == "regression" and 1.5 < r["ratio"] < 3, (r["verdict"], r["ratio"], r["why"])
t = rows["throughput"]
assert t["test"] == "signed-rank" and t["verdict"] == "regression", (t["test"], t["verdict"], t["why"])' "$T/cmp.json"

# A variant that cannot reach its server fails alone; the other runs on.
kill "$(cat "$T/slow.pid")" 2>/dev/null && wait "$(cat "$T/slow.pid")" 2>/dev/null
expect_exit 3 "a load variant whose server is gone fails the run" "$PERFGATE" run "$T/suite.json" --no-store \
	--out "$T/run2.json"
check "the other benchmarks kept their results" python3 -c '
import json, sys
b = {x["name"]: x for x in json.load(open(sys.argv[1]))["benchmarks"]}
assert b["api@slow"]["status"] == "failed", b["api@slow"]["status"]
assert b["api@fast"]["status"] == "ok" and b["loop"]["status"] == "ok", (b["api@fast"]["status"], b["loop"]["status"])' "$T/run2.json"
