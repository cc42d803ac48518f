#!/bin/sh
# Gate accuracy on the recorded real series in tests/fixtures/timing/
# (docs/performance.md, "gate accuracy"): wall time and CPU time (user+sys)
# of the shell loop at +0%, +1%, +10%, +20% work, and its instruction counts
# at +0% and +1%.  usage: gate_accuracy.sh [BUILD_DIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-${BUILD:-build}}/perf/gate_accuracy
fx=$here/../fixtures/timing
levels="$fx/loop-20000.txt.gz $fx/loop-20200.txt.gz $fx/loop-22000.txt.gz $fx/loop-24000.txt.gz"

echo "== gate accuracy: wall time, runs of as many repetitions as fit 60 s"
"$bin" -c 1 -b 60 $levels
echo "== gate accuracy: wall time, runs of 30 repetitions"
"$bin" -c 1 -r 30 $levels
echo "== gate accuracy: CPU time (user+sys), runs of as many repetitions as fit 60 s"
"$bin" -c 23 -b 60 $levels
echo "== gate accuracy: CPU time (user+sys), runs of 30 repetitions"
"$bin" -c 23 -r 30 $levels
echo "== gate accuracy: instructions (callgrind), 2 baseline runs of 5 repetitions, min_effect 0.5%"
n=$(wc -l <"$fx/instructions-20200.txt")
if [ "$n" -ge 15 ]; then
	"$bin" -k 2 -r 5 -e 0.005 "$fx/instructions-20000.txt" "$fx/instructions-20200.txt"
else
	echo "only $n instruction counts recorded: too few for 3 runs of 5"
fi
