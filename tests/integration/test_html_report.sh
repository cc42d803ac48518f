#!/bin/sh
# The HTML report from the command line (docs/gate.md): `gate --html FILE`,
# `gate --format html`, `compare --html FILE`, `report --format html RUN`
# and `run --html FILE`, against a real PostgreSQL store, a real git
# repository and a loopback server whose service time the commit controls
# (tests/servers/service_time.py): 3 gates on main, then a commit 10x
# slower that fails the gate.  Checked from the JSON report and the run
# document (never from the page itself): the page is one self-contained file
# (no reference to another file or host), names the run and its failing
# metric, and draws the load test's pictures; the stored comparison renders
# to the same page; a run without a comparison says so; a report that
# cannot be written is an error before anything runs.  Then the pages are
# opened in Chromium (tests/browser/check_pages.py: no console error, every
# picture drawn) with screenshots at phone and desktop width; only that part
# is skipped when chromium is not installed.
. tests/integration/lib.sh
T=$(test_tmpdir)
DB=$(new_db htmlreport)
export GIT_CONFIG_NOSYSTEM=1 HOME=$T PERFGATE_HOME=$T/home NO_COLOR=1
PY=/usr/bin/python3
here=$(pwd)
R=$T/repo
git_repo "$R" || exit 1

SRV_PID=
start_server() { # MS
	[ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null && wait "$SRV_PID" 2>/dev/null
	printf '{"ms": %s}\n' "$1" >"$T/conf.json"
	rm -f "$T/port"
	$PY tests/servers/service_time.py "$T/conf.json" "$T/port" ${PORT:-} >/dev/null 2>&1 &
	SRV_PID=$!
	echo "$SRV_PID" >"$T/server.pid"
	i=0
	while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	PORT=$(cat "$T/port")
}
trap '[ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null' EXIT
start_server 2

cat >"$R/suite.json" <<EOF
{"suite": "html", "project": "html", "benchmarks": [
 {"name": "api", "http": {"url": "http://127.0.0.1:$PORT/work"},
  "load": {"mode": "concurrency", "concurrency": 2, "duration": "1s"}, "repetitions": 5,
  "slo": {"latency.p95": "< 250ms"}}]}
EOF
git -C "$R" add -A && git -C "$R" commit -qm suite
for i in 1 2 3; do
	git -C "$R" commit -q --allow-empty -m "main $i"
	expect_exit 0 "gate $i on main passes" "$PERFGATE" gate --db "$DB" --quiet "$R/suite.json"
done

# A commit ten times slower: the gate fails, and its HTML report says why.
git -C "$R" checkout -q -b slow
git -C "$R" commit -q --allow-empty -m slow
start_server 20
expect_exit 1 "the slower commit fails the gate" "$PERFGATE" gate --db "$DB" --quiet \
	--html "$T/gate.html" --json "$T/gate.json" --run-out "$T/gate.run.json" "$R/suite.json"
# The facts the page must carry, from the JSON report and the run document.
RUN=$($PY -c 'import json, sys; print(json.load(open(sys.argv[1]))["run_id"])' "$T/gate.run.json")
COMMIT=$($PY -c 'import json, sys; print(json.load(open(sys.argv[1]))["git"]["commit"][:10])' "$T/gate.run.json")
FAILING=$($PY -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(sorted(x["metric"] for x in r["rows"] if x["verdict"] == "regression")[0])' "$T/gate.json")
check "the JSON report has a regression to look for" test -n "$FAILING"
contains "the page is HTML" "$T/gate.html" "<!DOCTYPE html>"
contains "the page names the run" "$T/gate.html" "$RUN"
contains "and its commit" "$T/gate.html" "$COMMIT"
contains "and a failing metric the JSON report names" "$T/gate.html" "$FAILING"
contains "the load test's pictures are drawn inline" "$T/gate.html" "<svg"
selfcontained() { # FILE: no reference to another file or host
	$PY - "$1" <<'PY'
import re, sys
page = open(sys.argv[1]).read()
refs = re.findall(r'(?:src|href)\s*=\s*["\']([^"\'#][^"\']*)', page)
outside = [r for r in refs if not r.startswith("data:")]
print("ok" if not outside else "refs: %s" % outside[:3])
PY
}
# Sparklines of recent history: the baseline runs' medians, then this run's.
NB=$($PY -c 'import json, sys; print(json.load(open(sys.argv[1]))["baseline"]["runs"])' "$T/gate.json")
contains "a sparkline of each metric's history (the $NB baseline runs and this one)" "$T/gate.html" \
	"throughput: medians of the last $((NB + 1)) runs, this run last"
check "the page refers to no other file or host" test "$(selfcontained "$T/gate.html")" = ok
SIZE=$(wc -c <"$T/gate.html")
check "the page is under 1 MiB ($SIZE bytes)" test "$SIZE" -lt 1048576

# The stored comparison, rendered again: the same run and verdict, pictures
# from the stored run document.
expect_exit 0 "report --format html of the stored comparison" "$PERFGATE" report --db "$DB" --format html \
	--out "$T/report.html" "$(printf %.8s "$RUN")"
contains "the stored report names the run" "$T/report.html" "$RUN"
contains "and the failing metric" "$T/report.html" "$FAILING"
contains "with the run's pictures" "$T/report.html" "<svg"
expect_exit 0 "report --html FILE beside the text" "$PERFGATE" report --db "$DB" --html "$T/report2.html" "$RUN"
contains "the text report on stdout" "$OUT" "FAILED"
contains "and the page in the file" "$T/report2.html" "$RUN"
expect_exit 0 "report --file --format html: the numbers without a store" "$PERFGATE" report --format html \
	--file "$T/gate.json"
contains "the page from the saved comparison" "$OUT" "$FAILING"

# compare of the saved run against the main branch, HTML on stdout.
expect_exit 1 "compare --format html" "$PERFGATE" compare --db "$DB" --format html --no-store \
	--run-file "$T/gate.run.json" --suite "$R/suite.json"
contains "compare's page names the run" "$OUT" "$RUN"

# A run alone: its numbers, no verdict, and the page says so.
expect_exit 0 "run --html" "$PERFGATE" run -q --no-store --html "$T/run.html" "$R/suite.json"
contains "the run's page says it is not a comparison" "$T/run.html" "a run, not a comparison"
contains "and draws its pictures" "$T/run.html" "<svg"

# A report that cannot be written: an error before the suite runs.
expect_exit 2 "--html into a missing folder: exit 2" "$PERFGATE" gate --db "$DB" --quiet \
	--html "$T/no/such/dir/x.html" "$R/suite.json"
contains "naming the option" "$ERR" "html"
lacks "nothing ran" "$ERR" "api: ok"
expect_exit 2 "an unknown format names html among the choices" "$PERFGATE" report --db "$DB" --format htm "$RUN"
contains "did you mean html" "$ERR" "html"

# ---- in a real browser ----
if command -v chromium >/dev/null 2>&1; then
	SHOTS=${HTML_SHOTS:-$T/shots}
	$PY "$here/tests/browser/check_pages.py" --shots "$SHOTS" --name report "$T/gate.html" "$T/run.html"
else
	echo "ok - browser check # SKIP chromium is not installed"
fi
