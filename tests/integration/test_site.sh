#!/bin/sh
# `perfgate site DIR`: the static history site from a real PostgreSQL store.
# The store gets 30 runs on main of a generated suite (a 30% step in b00's
# wall from run 18 on: a change point) and 2 pull-request runs
# (tests/fixtures/site/gen_runs.py), and two real gates of a command
# benchmark in a git repository.  What the pages must say is computed here
# from the documents (run ids, medians), never from perfgate's output.
#
# Checked: one page per metric and a report per run shown, none for the
# pull-request runs; the change point and its first run; the newest median
# in the manifest equals the samples' median; the pages are self-contained;
# a second `site` redraws nothing, one new run redraws only its series and
# writes only its report; a series gone from the store loses its page; bad
# input and an unreachable database; then the whole site is opened in
# Chromium (tests/browser/check_pages.py --crawl: no console error, every
# picture drawn, every link resolves) with screenshots at phone and desktop
# width (kept in $SITE_SHOTS when set).  Skips only the browser part, and
# only when chromium is not installed.
. tests/integration/lib.sh
T=$(test_tmpdir)
DB=$(new_db site)
export GIT_CONFIG_NOSYSTEM=1 HOME=$T PERFGATE_HOME=$T/home NO_COLOR=1
PY=/usr/bin/python3
GEN=tests/fixtures/site/gen_runs.py
S=$T/site
here=$(pwd)

ids() { # run documents -> their run ids, one a line, sorted
	$PY -c 'import json, sys; print("\n".join(sorted(json.load(open(f))["run_id"] for f in sys.argv[1:])))' "$@"
}

$PY $GEN "$T/runs" 30 --samples 10 --shift-at 18 >/dev/null
$PY $GEN "$T/pr" 2 --first 100 --samples 10 --pr >/dev/null
# The generated history on main is vouched for (push --baseline-eligible), so
# that its change points are found as a gate's stored runs would have them.
expect_exit 0 "store 30 runs on main" "$PERFGATE" push -q --baseline-eligible --db "$DB" "$T"/runs/*.json
expect_exit 0 "store 2 pull-request runs" "$PERFGATE" push -q --db "$DB" "$T"/pr/*.json
LAST=$(ids "$T/runs/run-000029.json")
SHIFT=$(ids "$T/runs/run-000018.json")
"$PERFGATE" compare --db "$DB" "$LAST" >/dev/null 2>&1
check "a stored comparison for the newest run" "$PERFGATE" report --db "$DB" "$LAST" --format json

# Two real gates of a command benchmark and an HTTP load benchmark against a
# loopback server (tests/servers/service_time.py), in a git repository: the
# second gate's report has pictures (latency spectrum, per-second series).
R=$T/repo
PORT=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
git_repo "$R"
cat >"$R/suite.json" <<EOF
{"suite": "real", "project": "site",
 "benchmarks": [{"name": "true", "command": ["true"], "repetitions": 5, "warmup": 0},
                {"name": "api", "http": {"url": "http://127.0.0.1:$PORT/work"}, "load": {"duration": "2s"}}]}
EOF
echo '{"ms": 2}' >"$T/service.json"
git -C "$R" add suite.json && git -C "$R" commit -qm "first"
$PY tests/servers/service_time.py "$T/service.json" "$T/port" "$PORT" &
spid=$!
trap 'kill $spid 2>/dev/null' EXIT
i=0; while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
(cd "$R" && "$PERFGATE" gate --db "$DB" suite.json >/dev/null 2>&1)
git -C "$R" commit -q --allow-empty -m "second"
(cd "$R" && "$PERFGATE" gate --db "$DB" suite.json --html "$T/gate.html" --json "$T/gate.json" >"$T/gate.out" 2>&1)
kill $spid 2>/dev/null; wait $spid 2>/dev/null
REAL_LAST=$(psql_q "$DB" "SELECT run_id FROM runs WHERE suite = 'real' ORDER BY started_at DESC LIMIT 1")
# gate --html FILE: the page of this gate, with its verdict, its run and its pictures.
VERDICT=$($PY -c 'import json, sys; print("passed" if json.load(open(sys.argv[1]))["passed"] else "FAILED")' "$T/gate.json")
contains "gate --html: the page says the gate's verdict" "$T/gate.html" "perfgate: $VERDICT</h1>"
contains "gate --html: the page names the run" "$T/gate.html" "<dt>run id</dt><dd>$REAL_LAST</dd>"
contains "gate --html: the load test's spectrum over its baseline's" "$T/gate.html" "latency spectrum, baseline and this run"
expect_exit 2 "gate --html into a folder that does not exist is refused before running" \
	"$PERFGATE" gate --db "$DB" "$R/suite.json" --html "$T/no/such/dir/x.html"
REAL=$(psql_q "$DB" "SELECT count(*) FROM runs WHERE suite = 'real'")
[ "$REAL" -eq 2 ] && ok "two real gates stored" || not_ok "two real gates stored (got $REAL): $(head -c 300 "$T/gate.out")"
SERIES=$(psql_q "$DB" "SELECT count(*) FROM (SELECT DISTINCT project, suite, benchmark, metric FROM history_points) s")

# ---- from scratch ----
expect_exit 0 "site writes the site" "$PERFGATE" site --db "$DB" --branch main "$S"
contains "site says what it did" "$OUT" "$SERIES metrics, $SERIES pages drawn, 32 run reports written"
check "index.html" test -s "$S/index.html"
[ "$(ls "$S/m" | wc -l)" -eq "$SERIES" ] && ok "one page per metric ($SERIES)" || not_ok "one page per metric: $(ls "$S/m" | wc -l) of $SERIES"
(ids "$T"/runs/*.json; psql_q "$DB" "SELECT run_id FROM runs WHERE suite = 'real'") | sort >"$T/want"
ls "$S/runs" | sed 's/\.html$//' | sort >"$T/got"
check "a report for each run on main, none for pull-request runs" cmp -s "$T/want" "$T/got"
WALL=$(ls "$S"/m/site--b00--wall-*.html)
contains "b00/wall: one change point" "$WALL" "Change points (1)"
check "b00/wall: the change point's first run is run 18" \
	sh -c "sed -n '/id=\"changepoints\"/,/<\/section>/p' '$WALL' | grep -q 'runs/$SHIFT.html'"
contains "b00/wall: the change is +30%" "$WALL" "+30.0%"
contains "b00/wall: the baseline band" "$WALL" "baseline band"
contains "b00/wall: the trend drawn inline" "$WALL" "<svg"
contains "b00/wall: a link back to the index" "$WALL" 'href="../index.html"'
contains "index links to b00/wall's page" "$S/index.html" "href=\"m/$(basename "$WALL")\""
contains "index links to the newest run's report" "$S/index.html" "href=\"runs/$LAST.html\""
contains "the newest run's report shows its stored verdict" "$S/runs/$LAST.html" "perfgate: passed"
N_SPARK=$(grep -o 'class="spark"' "$S/runs/$LAST.html" | wc -l)
[ "$N_SPARK" -eq 4 ] && ok "the newest run's report has a sparkline of each of its 4 metrics" ||
	not_ok "the newest run's report has a sparkline of each of its 4 metrics (found $N_SPARK)"
contains "a report's sparkline ends with its own run" "$S/runs/$LAST.html" "medians of the last 20 runs, this run last"
contains "the load gate's report draws its pictures inline" "$S/runs/$REAL_LAST.html" '<figure class="plot"><svg'
contains "and its spectrum over the baseline run's" "$S/runs/$REAL_LAST.html" "latency spectrum, baseline and this run"
expect_exit 0 "report RUN_ID --html renders a stored comparison" "$PERFGATE" report --db "$DB" "$LAST" --html "$T/report.html"
contains "report --html: the stored verdict" "$T/report.html" "perfgate: passed</h1>"
contains "report --html: the stored run's facts" "$T/report.html" "<dt>subject</dt><dd>change number 29</dd>"
contains "a run without a comparison says so" "$S/runs/$SHIFT.html" "no comparison was stored"
check "the newest median in the manifest is the samples' median" $PY -c '
import json, statistics, sys
doc = json.load(open(sys.argv[2]))
m = next(m for b in doc["benchmarks"] if b["name"] == "b01" for m in b["metrics"] if m["name"] == "wall")
e = next(e for e in json.load(open(sys.argv[1]))["series"].values() if e["bench"] == "b01" and e["metric"] == "wall")
sys.exit(0 if abs(e["last"] - statistics.median(m["samples"])) < 1e-12 and e["runs"] == 32 else 1)' \
	"$S/site.json" "$T/runs/run-000029.json"
check "pages fetch nothing: no external script, style sheet or picture" \
	sh -c "! grep -lE '<(script|img|link)[^>]+(src|href)=\"(https?:)?//' '$S'/index.html '$S'/m/*.html '$S'/runs/*.html"

# ---- incremental ----
touch -d '2020-01-01' "$S"/m/*.html "$S"/runs/*.html
expect_exit 0 "site again with nothing new" "$PERFGATE" site --db "$DB" --branch main "$S"
contains "nothing redrawn" "$OUT" "0 pages drawn, 0 run reports written"
check "no page or report rewritten" sh -c "[ -z \"\$(find '$S/m' '$S/runs' -type f -newermt 2021-01-01)\" ]"
$PY $GEN "$T/new" 1 --first 30 --samples 10 --shift-at 18 >/dev/null
NEW=$(ids "$T/new/run-000030.json")
"$PERFGATE" push -q --baseline-eligible --db "$DB" "$T/new/run-000030.json"
expect_exit 0 "site after one new run" "$PERFGATE" site --db "$DB" --branch main "$S"
contains "only the new run's series redrawn, only its report written" "$OUT" "4 pages drawn, 1 run report written"
check "the new run's report" test -s "$S/runs/$NEW.html"
check "the real suite's pages were left alone" sh -c "[ -z \"\$(find '$S'/m/real--* -newermt '2021-01-01')\" ]"
contains "the index shows the new run" "$S/index.html" "runs/$NEW.html"

# ---- reports deleted: the series whose newest report is gone are redrawn ----
rm "$S/runs/$NEW.html"
expect_exit 0 "site after the newest report was deleted" "$PERFGATE" site --db "$DB" --branch main "$S"
contains "its series are redrawn and the report written again" "$OUT" "4 pages drawn, 1 run report written"
check "the report is back" test -s "$S/runs/$NEW.html"

# ---- a series gone from the store loses its page ----
psql_q "$DB" "DELETE FROM runs WHERE suite = 'real'" >/dev/null 2>&1
expect_exit 0 "site after the real suite's runs were deleted" "$PERFGATE" site --db "$DB" --branch main "$S"
[ "$(ls "$S"/m/real--* 2>/dev/null | wc -l)" -eq 0 ] && ok "its pages are gone" || not_ok "its pages are gone: $(ls "$S"/m/real--*)"
lacks "and the index no longer lists it" "$S/index.html" "suite real"

# ---- bad input ----
expect_exit 2 "site without DIR" "$PERFGATE" site --db "$DB"
touch "$T/file"
expect_exit 2 "DIR is a file" "$PERFGATE" site --db "$DB" "$T/file"
contains "the error names it" "$ERR" "'$T/file' is not a folder"
expect_exit 2 "a negative --limit" "$PERFGATE" site --db "$DB" --limit -1 "$T/x"
expect_exit 2 "a suite the store does not hold" "$PERFGATE" site --db "$DB" --suite nosuch "$T/z"
contains "the error names it" "$ERR" "the store holds no runs of suite 'nosuch'"
expect_exit 4 "an unreachable database" "$PERFGATE" site --db "postgresql:///nope?host=$T/nosocket&port=1" "$T/y"
EMPTY=$(new_db site_empty)
expect_exit 0 "an empty store" "$PERFGATE" site --db "$EMPTY" "$T/empty"
contains "the index says it holds no runs" "$T/empty/index.html" "The store holds no runs yet"

# ---- in a real browser ----
SHOTS=${SITE_SHOTS:-$T/shots}
$PY "$here/tests/browser/check_pages.py" --crawl --shots "$SHOTS" --name site "$S/index.html" "$WALL" \
	"$S/runs/$LAST.html" "$S/runs/$REAL_LAST.html" "$T/gate.html"
