#!/bin/sh
# `perfgate plot`: trend from the database, latency spectra and load plots
# from run documents, as PNG and SVG through the real gnuplot; the kept
# script carries the expected series; the same data gives the same bytes;
# without gnuplot, one line naming the package and exit 2.
. tests/integration/lib.sh
T=$(test_tmpdir)
URL=$(new_db plot)
PY=/usr/bin/python3
$PY tests/fixtures/history/gen_runs.py "$T/runs" || not_ok "generate run documents"
E=$T/runs/expected.json
"$PERFGATE" push --baseline-eligible -q --db "$URL" "$T"/runs/run-0*.json || not_ok "push"

png_ok() { # FILE: PNG signature and a plausible size
	[ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] && [ "$(wc -c <"$1")" -gt 10000 ]
}
svg_ok() {
	head -c 5 "$1" | grep -q '<?xml' && grep -q '<svg' "$1" && [ "$(wc -c <"$1")" -gt 5000 ]
}

expect_exit 0 "plot trend to PNG" "$PERFGATE" plot trend --db "$URL" gzip-6/wall --branch main --out "$T/trend.png" --script "$T/trend.gp"
# Success says what was written (issue 19 item 28: it printed nothing).
contains "plot says the file it wrote" "$OUT" "wrote $T/trend.png"
contains "... and the script" "$OUT" "wrote $T/trend.gp (the gnuplot script)"
check "trend.png is a PNG" png_ok "$T/trend.png"
check "the script holds every run's median in ms, in commit order" $PY - "$E" "$T/trend.gp" <<'PYEOF'
import json, sys
e = json.load(open(sys.argv[1]))
lines = open(sys.argv[2]).read().split("$trend << EOD\n")[1].split("EOD\n")[0].splitlines()
rows = [l.split() for l in lines if not l.startswith("#")]
assert len(rows) == 60, len(rows)
for i, (r, want) in enumerate(zip(rows, e["runs"])):
    assert int(r[0]) == i and abs(float(r[2]) - want["median"] * 1e3) < 1e-6, (r, want)
# the newest run is labelled with its short commit
assert rows[-1][1] == '"%s"' % e["runs"][-1]["commit"][:7], rows[-1]
PYEOF
contains "the change point is drawn before the step" "$T/trend.gp" "set arrow 2 from 39.5, graph 0 to 39.5, graph 1"
contains "the y axis is in ms" "$T/trend.gp" "set ylabel 'median (ms)'"
contains "the title names suite, benchmark and metric" "$T/trend.gp" "set title 'demo: gzip-6 / wall on main'"
expect_exit 0 "plot trend again" "$PERFGATE" plot trend --db "$URL" gzip-6/wall --branch main --out "$T/trend2.png"
check "same data, same picture" cmp -s "$T/trend.png" "$T/trend2.png"
LAST=$($PY -c "import json; print(json.load(open('$E'))['runs'][59]['run_id'])")
psql_q "$URL" "insert into verdicts (run_id, benchmark, metric, verdict) values ('$LAST', 'gzip-6', 'wall', 'regression')" >/dev/null
expect_exit 0 "plot trend with a regression verdict" "$PERFGATE" plot trend --db "$URL" gzip-6/wall --branch main --out "$T/reg.svg" --script "$T/reg.gp"
contains "the regression is marked" "$T/reg.gp" "title 'regression'"
check "the regression mark sits on the newest run only" $PY -c "
rows = [l.split() for l in open('$T/reg.gp').read().split('\$trend << EOD\n')[1].split('EOD\n')[0].splitlines() if not l.startswith('#')]
marked = [int(r[0]) for r in rows if r[5] != 'NaN']
assert marked == [59], marked"
expect_exit 0 "plot trend to SVG, labelled by date" "$PERFGATE" plot trend --db "$URL" gzip-6 --branch main --labels date --out "$T/trend.svg"
check "trend.svg is an SVG" svg_ok "$T/trend.svg"
contains "the SVG carries the title" "$T/trend.svg" "demo: gzip-6 / wall on main"
contains "the SVG is labelled with dates" "$T/trend.svg" "2026-10-03"

expect_exit 0 "plot latency of two runs" "$PERFGATE" plot latency "$T/runs/load-run.json" "$T/runs/load-run-slower.json" --slo 40ms --out "$T/lat.svg" --script "$T/lat.gp"
check "lat.svg is an SVG" svg_ok "$T/lat.svg"
contains "spectrum: p99 of the first run at x=100, 20 ms" "$T/lat.gp" "99 100 20.2"
contains "spectrum: p99.9 of the slower run, 1.5 x 31 ms x 1.01" "$T/lat.gp" "99.9 1000 46.965"
contains "spectrum: the SLO line at 40 ms" "$T/lat.gp" "first 40 to graph 1, first 40"
expect_exit 0 "plot latency to PNG" "$PERFGATE" plot latency "$T/runs/load-run.json" --out "$T/lat.png"
check "lat.png is a PNG" png_ok "$T/lat.png"

expect_exit 0 "plot load" "$PERFGATE" plot load "$T/runs/load-run.json" --slo 250ms --out "$T/load.png" --script "$T/load.gp"
check "load.png is a PNG" png_ok "$T/load.png"
check "load: the knee, sorted by throughput, in ms" $PY -c "
s = open('$T/load.gp').read()
assert '# throughput p50 p90 p99\\n 49.8 10 15 20\\n 99.5 12 20 45\\n 180 20 40 300\\nEOD' in s"
contains "load: two repetitions end to end, errors per second" "$T/load.gp" " 8 50 22 2"
contains "load: GPU utilisation on its own clock" "$T/load.gp" "\$gpu using 1:2 axes x1y2"
contains "load: the SLO line" "$T/load.gp" "title 'SLO 250ms'"

# Stored runs by run id work like files.
RID=$($PY -c "import json; print(json.load(open('$E'))['runs'][0]['run_id'])")
expect_exit 2 "plot latency of a run without latency metrics" "$PERFGATE" plot latency --db "$URL" "$RID" --out "$T/x.png"
contains "says what is missing" "$ERR" "no run has a 'latency' latency spectrum"
expect_exit 2 "plot latency of an unknown run" "$PERFGATE" plot latency --db "$URL" 00000000-0000-0000-0000-000000000000 --out "$T/x.png"
contains "unknown run is named" "$ERR" "neither a run document file nor a stored run id"

# Usage errors and no gnuplot.
expect_exit 2 "--out is required" "$PERFGATE" plot trend --db "$URL" gzip-6
expect_exit 2 "unknown picture format" "$PERFGATE" plot trend --db "$URL" gzip-6 --out "$T/x.pdf"
contains "the format error names the file" "$ERR" "name it .png or .svg"
expect_exit 2 "unknown plot kind" "$PERFGATE" plot trnd
expect_exit 2 "no gnuplot: exit 2" env PERFGATE_GNUPLOT=/nonexistent/gnuplot "$PERFGATE" plot load "$T/runs/load-run.json" --out "$T/y.png"
check "no gnuplot: one line naming gnuplot-nox" test "$(cat "$ERR")" = "perfgate: gnuplot is not installed; install the Debian package 'gnuplot-nox'"
check "no gnuplot: no picture" test ! -e "$T/y.png"

# Issue 19 item 26.  --labels date: runs of one day get their time too (the
# 60 hourly runs all read "2026-10-03" and the like before).
expect_exit 0 "plot trend labelled by date, script kept" "$PERFGATE" plot trend --db "$URL" gzip-6/wall --branch main \
	--labels date --out "$T/dates.svg" --script "$T/dates.gp"
check "date labels: every run's label differs, with its time" $PY -c "
rows = [l.split() for l in open('$T/dates.gp').read().split('\$trend << EOD\n')[1].split('EOD\n')[0].splitlines() if not l.startswith('#')]
labels = [' '.join(r[1:3]) for r in rows]
assert len(rows) == 60 and len(set(labels)) == 60 and labels[0].startswith('\"2026-') and ':' in labels[0], labels[:3]"
# A pull request's run on another branch: without --branch the trend is the
# default branch's (main here), said on stderr, not one unlabelled line of
# both; history labels each row with its branch.
"$PERFGATE" push --baseline-eligible -q --db "$URL" "$T/runs/run-pr.json" || not_ok "push the feature run"
# (from a folder outside git: the default branch is then main, whatever
# the checkout the tests run in calls its own)
expect_exit 0 "plot trend without --branch" sh -c 'cd "$1" && shift && exec "$@"' sh "$T" \
	"$PERFGATE" plot trend --db "$URL" gzip-6/wall --out "$T/mixed.svg" --script "$T/mixed.gp"
contains "plot trend says which branch it drew" "$ERR" "these runs mix several branches: drawing 'main' (the default branch); --branch NAME draws another"
check "plot trend drew main's 60 runs only" $PY -c "
rows = [l for l in open('$T/mixed.gp').read().split('\$trend << EOD\n')[1].split('EOD\n')[0].splitlines() if not l.startswith('#')]
assert len(rows) == 60, len(rows)"
contains "the title names the branch" "$T/mixed.gp" "demo: gzip-6 / wall on main"
expect_exit 0 "history without --branch" "$PERFGATE" history --db "$URL" gzip-6/wall
check "history labels each row with its branch" sh -c "grep -c '\[main\] ' '$OUT' | grep -qx 60 && grep -q '\[feature\] ' '$OUT'"
