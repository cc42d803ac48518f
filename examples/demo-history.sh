#!/bin/sh
# `make demo`, history part (issue 6): 60 runs of a benchmark whose wall time
# steps up 20% at run 40 (tests/fixtures/history/gen_runs.py) pushed into the
# demo database; push finds the change point; history shows it; plot draws it.
set -eu
: "${PERFGATE:=build/perfgate}"
here=$(cd "$(dirname "$0")" && pwd)
out=${PERFGATE_HOME:-/tmp/perfgate-demo}/history-demo
rm -rf "$out"
python3 "$here/../tests/fixtures/history/gen_runs.py" "$out/runs"
echo "== perfgate push --baseline-eligible 60 runs of suite 'demo' (wall steps up 20% at run 40; change points found as they arrive)"
# Generated documents stand in for runs perfgate measured on main: vouch for
# them, or push stores them as documents that never make baselines nor
# change points (docs/security.md).
"$PERFGATE" push -q --baseline-eligible "$out"/runs/run-0*.json
echo "== perfgate history gzip-6 --branch main --changepoints --limit 24"
"$PERFGATE" history --suite demo --branch main --changepoints --limit 24 gzip-6
echo "== the stored change point, as history --format json reports it"
"$PERFGATE" history --suite demo gzip-6/wall --branch main --changepoints --format json --limit 0 |
	grep '"changepoint":true' || true
if command -v gnuplot >/dev/null 2>&1; then
	echo "== perfgate plot trend gzip-6/wall --out $out/trend.png (and .svg)"
	"$PERFGATE" plot trend --suite demo --branch main gzip-6/wall --out "$out/trend.png" --script "$out/trend.gp"
	"$PERFGATE" plot trend --suite demo --branch main gzip-6/wall --out "$out/trend.svg"
	echo "== perfgate plot load / latency from a load-test run document"
	"$PERFGATE" plot load "$out/runs/load-run.json" --slo 250ms --out "$out/load.png"
	"$PERFGATE" plot latency "$out/runs/load-run.json" "$out/runs/load-run-slower.json" --slo 40ms --out "$out/latency.png"
	ls -l "$out"/*.png "$out"/*.svg
else
	echo "(gnuplot is not installed: skipping the plots; install the Debian package gnuplot-nox)"
fi
