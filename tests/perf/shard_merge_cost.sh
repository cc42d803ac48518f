#!/bin/sh
# The cost of merging shards (issue 17's goal: 64 shards of a 10-minute run
# merge in under 1 s).  build/perf/shard_merge_cost writes SHARDS shard run
# documents of one 600 s step at RATE requests/s each, as `perfgate run
# --shard` writes them (every interval's latency histogram included); then
# `perfgate merge` reads, merges and writes them, ROUNDS times: the median
# wall time, and its user+sys CPU time, which the other tenants of a shared
# machine do not inflate.
#   PERFGATE=build/perfgate sh tests/perf/shard_merge_cost.sh [BUILD]
# SHARDS, SECONDS, RATE and ROUNDS override 64, 600, 200 and 5.
set -eu
build=${1:-build}
: "${PERFGATE:=$build/perfgate}"
SHARDS=${SHARDS:-64}; SECONDS_=${SECONDS:-600}; RATE=${RATE:-200}; ROUNDS=${ROUNDS:-5}
T=$(mktemp -d /tmp/perfgate-mergecost.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
"$build/perf/shard_merge_cost" "$T" "$SHARDS" "$SECONDS_" "$RATE" --write-only
echo "  $SHARDS shard documents of a ${SECONDS_} s run at $RATE/s each: $(du -sh "$T" | cut -f1) on disk"
python3 - "$PERFGATE" "$T" "$ROUNDS" <<'PY'
import glob, resource, statistics, subprocess, sys, time
perfgate, d, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
files = sorted(glob.glob(d + "/shard-*.json"))
walls, cpus = [], []
for _ in range(rounds):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.monotonic()
    subprocess.run([perfgate, "merge", "-q", "--no-store", "--out", d + "/merged.json"] + files,
                   stdout=subprocess.DEVNULL, check=True)
    walls.append(time.monotonic() - t)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
print("  perfgate merge: median wall %.3f s (rounds %s), median CPU %.3f s (goal: under 1 s)"
      % (statistics.median(walls), " ".join("%.3f" % w for w in walls), statistics.median(cpus)))
PY
