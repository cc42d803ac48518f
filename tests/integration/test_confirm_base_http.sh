#!/bin/sh
# Confirming against the base on a load test that starts its own server
# (docs/gate.md, "Confirming against the base"; docs/load.md, "A server of
# its own"): a history regression of a load test is measured again with the
# baseline commit's server and the head's side by side, their load steps
# alternating, and stands only when the pairs show it too.  A real loopback
# server (tests/servers/service_time.py, in the repository) answers after
# its tree's service time times a factor read from a file outside the
# repository: the machine's speed in this job, the same for both trees.
. tests/integration/lib.sh
T=$(test_tmpdir)
DB=$(new_db confirmhttp)
export GIT_CONFIG_NOSYSTEM=1 HOME=$T PERFGATE_HOME=$T/home NO_COLOR=1 TMPDIR=$T/tmp
mkdir -p "$TMPDIR"
R=$T/repo
P=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

git_repo "$R" || exit 1
cp tests/servers/service_time.py "$R/"
echo 1 >"$T/machine"
echo "{\"ms\": 2, \"machine\": \"$T/machine\"}" >"$R/service.json"
cat >"$R/suite.json" <<JSON
{"suite": "ch", "project": "ch",
 "benchmarks": [
  {"name": "api", "http": {"url": "http://127.0.0.1:$P/work"}, "load": {"duration": "0.3s", "repetitions": 3},
   "server": {"shell": "exec python3 service_time.py service.json $T/pf.\$PORT \$PORT"}}]}
JSON
git -C "$R" add -A && git -C "$R" commit -qm base
gate() { "$PERFGATE" gate --db "$DB" "$@"; }
for i in 1 2 3; do
	echo "$i" >>"$R/notes"
	git -C "$R" add -A && git -C "$R" commit -qm "main $i"
	expect_exit 0 "baseline gate $i passes" gate --quiet "$R/suite.json"
done

# This job's machine is half again slower; the code is the same.
echo 1.5 >"$T/machine"
echo 4 >>"$R/notes"
git -C "$R" add -A && git -C "$R" commit -qm "main 4"
expect_exit 1 "with --no-confirm-base the slower machine fails the load test's history gate" \
	gate --no-store --quiet --no-confirm-base "$R/suite.json"
expect_exit 0 "by default it passes: its server runs the repository's service_time.py, and beside the base commit's server the head's is no slower" \
	gate --no-store "$R/suite.json" --json "$T/machine.json"
contains "the pairs ran, both servers" "$ERR" "api@head: ok"
contains "the report says none was confirmed" "$OUT" ": 0 regressions against the history confirmed, "
check_py "the latency rows: inconclusive and unconfirmed, about +50% against the history" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["passed"] and d["counts"]["regression"] == 0, d["counts"]
rows = {r["metric"]: r for r in d["rows"] if not r.get("against")}
r = rows["latency.p50"]
assert r["verdict"] == "inconclusive" and r.get("unconfirmed") is True, (r["verdict"], r["why"])
assert 1.3 < r["ratio"] < 1.7, r["ratio"]
assert "not confirmed" in r["why"], r["why"]
# the rates too: pairs of two servers alike tie, and tied pairs measured no change
r = rows["throughput"]
assert r["verdict"] != "regression", (r["verdict"], r["why"])' "$T/machine.json"

# A slower service on a branch, the machine back to its speed: confirmed.
echo 1 >"$T/machine"
git -C "$R" checkout -qb slow
echo "{\"ms\": 3, \"machine\": \"$T/machine\"}" >"$R/service.json"
git -C "$R" commit -qam "slower service"
expect_exit 1 "+50% service time fails with --confirm-base: confirmed beside the base commit's server" \
	gate --no-store --confirm-base "$R/suite.json" --json "$T/slow.json"
contains "... the report says so" "$OUT" " in this job ("
check_py "the latency row: a regression against both" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
rows = {r["metric"]: r for r in d["rows"] if not r.get("against")}
r = rows["latency.p50"]
assert r["verdict"] == "regression" and "unconfirmed" not in r, (r["verdict"], r["why"])
assert "(regression), confirmed" in r["why"], r["why"]' "$T/slow.json"
if [ -z "$(ls "$TMPDIR")" ]; then ok "the base tree is removed"; else not_ok "left in \$TMPDIR: $(ls "$TMPDIR")"; fi
