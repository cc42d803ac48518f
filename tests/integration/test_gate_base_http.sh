#!/bin/sh
# `perfgate gate --base REF` with a load test that starts its own server
# (docs/gate.md, "Against a base commit"; docs/load.md, "A server of its
# own"): the base commit's server and the head's run side by side, the
# base's on a port of its own (in $PORT, its URL and its monitor moved
# there), and the load steps alternate between them, so the gate decides on
# pairs.  A real loopback server (tests/servers/service_time.py, in the
# repository) answers after the service time its tree's service.json says.
. tests/integration/lib.sh
T=$(test_tmpdir)
export GIT_CONFIG_NOSYSTEM=1 HOME=$T PERFGATE_HOME=$T/home NO_COLOR=1 TMPDIR=$T/tmp
mkdir -p "$TMPDIR"
R=$T/repo
NODB=postgresql://127.0.0.1:1/nothing
P=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

git_repo "$R" || exit 1
cp tests/servers/service_time.py "$R/"
echo '{"ms": 2}' >"$R/service.json"
# One repetition declared: --base runs the 7 pairs the test needs, and 3
# more for a load test, whose percentiles tie between pairs.  The
# monitor scrapes the server's own port, so each side must scrape its own
# (and the port, which differs by design, is tracked, not gated).
cat >"$R/suite.json" <<JSON
{"suite": "lb", "project": "lb",
 "compare": {"metrics": {"server.svc.port.mean": {"gate": false}, "server.svc.port.max": {"gate": false}}},
 "benchmarks": [
  {"name": "api", "http": {"url": "http://127.0.0.1:$P/work"}, "load": {"duration": "0.3s"},
   "server": {"shell": "exec python3 service_time.py service.json $T/pf.\$PORT \$PORT"},
   "monitor": {"prometheus": {"url": "http://127.0.0.1:$P/metrics", "name": "svc",
                              "metrics": {"port": "service_port"}, "interval": "100ms"}}},
  {"name": "other", "http": {"url": "http://127.0.0.1:$P/other"}, "load": {"duration": "0.3s"},
   "server": {"shell": "exec python3 service_time.py service.json $T/pf.\$PORT \$PORT"}},
  {"name": "external", "http": {"url": "http://127.0.0.1:1/x"}, "load": {"duration": "1s"}}]}
JSON
git -C "$R" add -A && git -C "$R" commit -qm base

# The head's server half again slower.
git -C "$R" checkout -qb slow
echo '{"ms": 3}' >"$R/service.json"
git -C "$R" commit -qam "slower service"
expect_exit 1 "+50% service time against the base commit fails the gate" \
	"$PERFGATE" gate --db "$NODB" --base main "$R/suite.json" --json "$T/slow.json" --run-out "$T/slow-run.json"
contains "the pair is named" "$OUT" "api@head vs api@base"
contains "the declared repetition is raised to the pairs the test needs, with the key to set" "$ERR" \
	"benchmark 'api': 1 pairs can never show a change at alpha 0.01 (with every pair worse, p = 2^-1); --base runs 10 (set \"repetitions\": 10 or more in its \"load\")"
contains "a load test without a server is left out, with what would run it" "$ERR" \
	"benchmark 'external' is not run: --base starts a load test's target on each side only when the benchmark declares it as its \"server\""
check_py "latency and throughput are regressions, decided pair by pair, on both load tests" python3 -c '
import json, sys
rows = {(r["benchmark"], r["metric"]): r for r in json.load(open(sys.argv[1]))["rows"] if r.get("against")}
for (b, m), lo, hi in ((("api@head", "latency.p50"), 1.3, 1.8), (("api@head", "throughput"), 0.55, 0.8),
                       (("other@head", "latency.p50"), 1.3, 1.8)):
    r = rows[(b, m)]
    assert r["test"] == "signed-rank" and r["verdict"] == "regression" and lo < r["ratio"] < hi, (m, r["test"], r["verdict"], r["ratio"])
    assert r["current"]["n"] >= 10, (m, r["current"])' "$T/slow.json"
check_py "each side ran its own server, on its own port, and its monitor scraped that one" python3 -c '
import json, sys
b = {x["name"]: x for x in json.load(open(sys.argv[1]))["benchmarks"]}
assert set(b) == {"api@base", "api@head", "other@base", "other@head"}, list(b)
head, base = b["api@head"], b["api@base"]
# the two load tests of one server share it, on each side
assert b["other@base"]["server"]["port"] == base["server"]["port"], (b["other@base"]["server"], base["server"])
assert b["other@head"]["server"]["port"] == head["server"]["port"]
assert head["server"]["port"] == sys.argv[2] and base["server"]["port"] != sys.argv[2], (head["server"], base["server"])
for x in (head, base):
    m = {mm["name"]: mm for mm in x["metrics"]}
    seen = {int(v) for v in m["server.svc.port.max"]["samples"]}
    assert seen == {int(x["server"]["port"])}, (x["name"], seen, x["server"])
    assert x["interleaved"] is True' "$T/slow-run.json" "$P"
if python3 -c 'import socket, sys; s = socket.socket(); s.settimeout(0.5); sys.exit(s.connect_ex(("127.0.0.1", int(sys.argv[1]))))' "$P"; then
	not_ok "both servers are stopped after the gate"
else
	ok "both servers are stopped after the gate"
fi

# The same service on both sides.  Whether this one gate passes is a matter
# of its false-alarm rate (alpha; tests/perf measures it over hundreds of
# gates), so this checks what it compared: pairs, and no change near the
# +50% above.
git -C "$R" checkout -q main
git -C "$R" checkout -qb same
echo same >"$R/notes"
# 8 repetitions are enough for a command, not for a load test (ties): the
# count is not configuration, so the benchmark is still the base's.
sed 's/"load": {"duration": "0.3s"}/"load": {"duration": "0.3s", "repetitions": 8}/' "$R/suite.json" >"$T/s8"
mv "$T/s8" "$R/suite.json"
git -C "$R" add -A && git -C "$R" commit -qm "no change to the service; 8 repetitions"
"$PERFGATE" gate --db "$NODB" --base main "$R/suite.json" --json "$T/same.json" >"$T/same.out" 2>&1
rc=$?
[ $rc -le 1 ] && ok "the same service on both sides: a verdict (exit $rc)" || not_ok "A/A exit $rc: $(tail -n 2 "$T/same.out")"
contains "8 declared: raised to 10, and why" "$T/same.out" \
	"benchmark 'api': 8 pairs leave a load test's paired test no room at alpha 0.01 (its percentiles and rates move in steps, and pairs that tie count less); --base runs 10"
check_py "A/A: latency and throughput compared pair by pair, within 15%" python3 -c '
import json, sys
rows = {r["metric"]: r for r in json.load(open(sys.argv[1]))["rows"] if r.get("against") == "api@base"}
for m in ("latency.p50", "throughput"):
    r = rows[m]
    assert r["test"] == "signed-rank" and r["current"]["n"] >= 10 and 0.87 < r["ratio"] < 1.15, (m, r["test"], r["current"]["n"], r["ratio"])' "$T/same.json"
