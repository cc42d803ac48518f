#!/bin/sh
# The history site's figures (issue 18): `perfgate site` for 100 series of
# 1,000 runs from scratch (goal: under 60 s) and after one new run (goal:
# under 5 s).
#
# The store is filled fast, not by running gates: tests/fixtures/site/
# gen_runs.py writes RUNS run documents of one suite of 20 benchmarks x 5
# metrics (100 series; b00's wall 30% slower from the middle on: a change
# point), tests/fixtures/datastore/make_branch.py puts them on a data branch
# (one commit per run), and `perfgate store import` stores them in a fresh
# embedded database.  Then, each timed end to end (process start to exit),
# each case ROUNDS times, and the median printed:
#   site --limit 0 DIR     from scratch (every page shows all RUNS runs, a
#                          report for every run: RUNS reports, 100 pages)
#   site DIR               from scratch with the default --limit 200
#   site --limit 0 DIR     after one new run (imported from the branch
#                          first, not timed): 100 pages and 1 report
#   site DIR               the same with the default --limit 200
#   site --limit 0 DIR     with nothing new
# One new run of this suite touches all 100 series, the worst case for an
# incremental build.
#
# Usage: tests/perf/site_bench.sh [RUNS] [ROUNDS]   (PERFGATE names the binary)
set -eu
RUNS=${1:-1000}
ROUNDS=${2:-3}
PERFGATE=${PERFGATE:-build/perfgate}
PERFGATE=$(cd "$(dirname "$PERFGATE")" && pwd)/$(basename "$PERFGATE")
here=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d /tmp/perfgate-site-bench.XXXXXX)
chmod 755 "$T"
export PERFGATE_HOME="$T/home"
trap '"$PERFGATE" db stop >/dev/null 2>&1; rm -rf "$T"' EXIT

ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
gen() { # DIR COUNT FIRST
	python3 "$here/tests/fixtures/site/gen_runs.py" "$1" "$2" --first "$3" --benches 20 --metrics 5 \
		--samples 5 --shift-at $((RUNS / 2))
}

gen "$T/runs" "$RUNS" 0
git init -q --bare "$T/remote.git"
python3 "$here/tests/fixtures/datastore/make_branch.py" "$T/remote.git" perfgate-data "$T/runs"
git init -q "$T/work"
git -C "$T/work" remote add origin "$T/remote.git"
cd "$T/work"
"$PERFGATE" db start >/dev/null
t0=$(date +%s%N)
"$PERFGATE" store import -q
echo "store: $RUNS runs x 100 series imported in $(ms "$t0") ms (not part of the figures)"

: >"$T/scratch"
: >"$T/scratch200"
for i in $(seq "$ROUNDS"); do
	rm -rf "$T/site" "$T/site200"
	t0=$(date +%s%N)
	"$PERFGATE" site -q --branch main --limit 0 "$T/site"
	ms "$t0" >>"$T/scratch"
	t0=$(date +%s%N)
	"$PERFGATE" site -q --branch main "$T/site200"
	ms "$t0" >>"$T/scratch200"
done
pages=$(ls "$T/site/m" | wc -l)
reports=$(ls "$T/site/runs" | wc -l)
echo "from scratch, 100 series x $RUNS runs ($pages pages, $reports reports, $(du -sm "$T/site" | cut -f1) MiB):" \
	"median $(median <"$T/scratch") ms of $ROUNDS (goal < 60000); runs: $(tr '\n' ' ' <"$T/scratch")"
echo "from scratch, default --limit 200 ($(ls "$T/site200/runs" | wc -l) reports):" \
	"median $(median <"$T/scratch200") ms of $ROUNDS; runs: $(tr '\n' ' ' <"$T/scratch200")"

: >"$T/incr"
: >"$T/incr200"
: >"$T/none"
for i in $(seq "$ROUNDS"); do
	gen "$T/new$i" 1 $((RUNS + i - 1))
	python3 "$here/tests/fixtures/datastore/make_branch.py" "$T/remote.git" perfgate-data "$T/new$i"
	"$PERFGATE" store import -q
	t0=$(date +%s%N)
	"$PERFGATE" site --branch main --limit 0 "$T/site" >"$T/incr.out"
	ms "$t0" >>"$T/incr"
	t0=$(date +%s%N)
	"$PERFGATE" site -q --branch main "$T/site200"
	ms "$t0" >>"$T/incr200"
	t0=$(date +%s%N)
	"$PERFGATE" site -q --branch main --limit 0 "$T/site"
	ms "$t0" >>"$T/none"
done
echo "after one new run ($(sed 's/.*metrics, //; s/ in .*//' "$T/incr.out")):" \
	"median $(median <"$T/incr") ms of $ROUNDS (goal < 5000); runs: $(tr '\n' ' ' <"$T/incr")"
echo "after one new run, default --limit 200: median $(median <"$T/incr200") ms of $ROUNDS (goal < 5000); runs: $(tr '\n' ' ' <"$T/incr200")"
echo "with nothing new: median $(median <"$T/none") ms of $ROUNDS; runs: $(tr '\n' ' ' <"$T/none")"
echo "incremental / from scratch: $(awk -v a="$(median <"$T/incr")" -v b="$(median <"$T/scratch")" 'BEGIN { printf "%.3f", a / b }')"
