#!/bin/sh
# Gate accuracy on the recorded real series in tests/fixtures/timing/
# (docs/performance.md, "gate accuracy"): the history gate on the shell
# loop at +0%, +1%, +10%, +20% work, on raw wall and CPU time (user+sys),
# and calibrated (wall_rel and cpu_rel over a calibration program recorded
# interleaved, decided jointly as one gate does); its instruction counts at
# +0% and +1%.  usage: gate_accuracy.sh [BUILD_DIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-${BUILD:-build}}/perf/gate_accuracy
fx=$here/../fixtures/timing

# The third recording holds a calibration series of its own (the loop at
# 10000 iterations, recorded in the same round-robin).
t3=$fx/third
levels="$t3/loop-20000.txt.gz $t3/loop-20200.txt.gz $t3/loop-22000.txt.gz $t3/loop-24000.txt.gz"
echo "== third recording (60 min, quiet machine): calibrated, wall_rel + cpu_rel, 60 s runs"
"$bin" -c 1,23 -b 60 -n "$t3/loop-10000.txt.gz" $levels
echo "== third recording: calibrated, wall_rel + cpu_rel, runs of 30 repetitions"
"$bin" -c 1,23 -r 30 -n "$t3/loop-10000.txt.gz" $levels
echo "== third recording: raw wall time, 60 s runs"
"$bin" -c 1 -b 60 $levels
echo "== third recording: raw CPU time (user+sys), 60 s runs"
"$bin" -c 23 -b 60 $levels

# The first two recordings have no calibration series of their own: the
# +1% level (a fixed program recorded in the same round-robin) serves as
# one for the A/A, +10% and +20% levels.
for r in "$fx" "$fx/second"; do
	name=first
	[ "$r" = "$fx" ] || name=second
	levels="$r/loop-20000.txt.gz $r/loop-22000.txt.gz $r/loop-24000.txt.gz"
	echo "== $name recording: calibrated on the +1% series, wall_rel + cpu_rel, 60 s runs"
	"$bin" -c 1,23 -b 60 -n "$r/loop-20200.txt.gz" $levels
	echo "== $name recording: raw wall time, 60 s runs"
	"$bin" -c 1 -b 60 "$r/loop-20000.txt.gz" "$r/loop-20200.txt.gz" "$r/loop-22000.txt.gz" "$r/loop-24000.txt.gz"
	echo "== $name recording: raw CPU time (user+sys), 60 s runs"
	"$bin" -c 23 -b 60 "$r/loop-20000.txt.gz" "$r/loop-20200.txt.gz" "$r/loop-22000.txt.gz" "$r/loop-24000.txt.gz"
done

echo "== gate accuracy: instructions (callgrind), 2 baseline runs of 5 repetitions, min_effect 0.5%"
n=$(wc -l <"$fx/instructions-20200.txt")
if [ "$n" -ge 15 ]; then
	"$bin" -k 2 -r 5 -e 0.005 "$fx/instructions-20000.txt" "$fx/instructions-20200.txt"
else
	echo "only $n instruction counts recorded: too few for 3 runs of 5"
fi
