#!/bin/sh
# The data branch's figures (issue 18): importing 10,000 runs from the
# branch into a fresh embedded database (goal: under 30 s), and an import
# that finds 10 new runs on top of them (goal: under 1 s beyond start-up).
#
# The branch is written straight into a bare repository (one commit per
# run, as one CI job per run makes it) by tests/fixtures/datastore/
# make_branch.py; a clone with that repository as origin runs
#   perfgate db start               (initdb and start: the start-up)
#   perfgate store import           (fetch 10,000 commits, store 10,000 runs)
#   perfgate store import           (10 new runs on the branch)
#   perfgate store import           (nothing new: the floor of an import)
# each timed end to end (process start to exit).  Prints one line per step.
#
# Usage: tests/perf/store_bench.sh [RUNS]   (PERFGATE names the binary)
set -eu
RUNS=${1:-10000}
PERFGATE=${PERFGATE:-build/perfgate}
PERFGATE=$(cd "$(dirname "$PERFGATE")" && pwd)/$(basename "$PERFGATE")
here=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d /tmp/perfgate-store-bench.XXXXXX)
chmod 755 "$T"
export PERFGATE_HOME="$T/home"
trap '"$PERFGATE" db stop >/dev/null 2>&1; rm -rf "$T"' EXIT

ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

python3 "$here/tests/fixtures/datastore/gen_runs.py" "$T/runs" "$RUNS" >/dev/null
git init -q --bare "$T/remote.git"
t0=$(date +%s%N)
python3 "$here/tests/fixtures/datastore/make_branch.py" "$T/remote.git" perfgate-data "$T/runs"
echo "branch written: $RUNS runs in $RUNS commits, $(du -sk "$T/remote.git" | cut -f1) KiB ($(ms "$t0") ms)"
git init -q "$T/work"
git -C "$T/work" remote add origin "$T/remote.git"
cd "$T/work"

t0=$(date +%s%N)
"$PERFGATE" db start >/dev/null
echo "start-up (initdb, start, migrations): $(ms "$t0") ms"
t0=$(date +%s%N)
"$PERFGATE" store import
echo "import of $RUNS runs into the fresh embedded database: $(ms "$t0") ms (goal < 30000)"

python3 "$here/tests/fixtures/datastore/gen_runs.py" "$T/new" 10 "$((RUNS + 100000))" >/dev/null
python3 "$here/tests/fixtures/datastore/make_branch.py" "$T/remote.git" perfgate-data "$T/new"
t0=$(date +%s%N)
"$PERFGATE" store import
echo "incremental import of 10 new runs: $(ms "$t0") ms (goal < 1000)"
t0=$(date +%s%N)
"$PERFGATE" store import
echo "import with nothing new: $(ms "$t0") ms"
