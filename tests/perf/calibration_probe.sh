#!/bin/sh
# How well a calibration probe divides out a shared machine's speed
# (docs/statistics.md, "Calibration "auto""; docs/performance.md): six
# kinds of command (five that compute, one that sleeps), each measured
# beside the probe of this perfgate and, with BEFORE=PATH, beside the probe
# of another perfgate binary too, all interleaved in one suite, RUNS
# times, while the gate-trust neighbour takes a CPU on and off
# (NEIGHBOUR=python, the default, gzip, or 0 for none).  Prints, per
# command and probe, how much the run medians of the command, of the
# probe and of their ratio (wall_rel) move between runs.
# usage: calibration_probe.sh [RUNS]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${PERFGATE:=$here/../../build/perfgate}"
PERFGATE=$(cd "$(dirname "$PERFGATE")" && pwd)/$(basename "$PERFGATE")
runs=${1:-14}
T=$(mktemp -d /tmp/perfgate-probe.XXXXXX)
npid=
cleanup() {
	[ -n "$npid" ] && kill "$npid" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# the commands' inputs, the same on every machine
python3 - "$T" <<'PY'
import base64, random, sys
r = random.Random(7)
d = sys.argv[1]
open(d + "/text", "w").write(base64.b64encode(r.randbytes(500000)).decode())
nums = list(range(200000))
r.shuffle(nums)
open(d + "/nums", "w").write("\n".join(map(str, nums)) + "\n")
PY
cat >"$T/arith.c" <<'C'
/* arithmetic without branches or memory traffic: no interpreter's shape */
#include <stdint.h>
int main(void)
{
	uint64_t h = 1;
	for (uint64_t i = 0; i < 30000000; i++)
		h = (h ^ i) * 0x100000001b3ULL;
	return (int)(h & 1) * 0;
}
C
cc -O2 -o "$T/arith" "$T/arith.c"
python3 - "$T" "$PERFGATE" "${BEFORE:-}" <<'PY'
import json, sys
d, now, before = sys.argv[1:4]
work = {
    "shell": "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done",
    "gzip": "gzip -6 -c text >/dev/null",
    "sort": "sort -n nums >/dev/null",
    "python": "python3 -c 'sum(i*i for i in range(100000))'",
    "arith": "./arith",
    "sleep": "sleep 0.02",
}
probes = {"now": [now, "probe"]}
if before:
    probes["before"] = [before, "probe"]
benches = [{"name": "%s-%s" % (w, p), "shell": cmd, "calibration": argv, "repetitions": 15}
           for w, cmd in work.items() for p, argv in probes.items()]
json.dump({"suite": "probe", "order": "interleaved", "benchmarks": benches}, open(d + "/suite.json", "w"))
PY
if [ "${NEIGHBOUR:-python}" != 0 ]; then
	python3 "$here/neighbour.py" "$$" "${NEIGHBOUR:-python}" &
	npid=$!
	echo "$npid" >"$T/neighbour.pid"
fi
i=0
while [ $i -lt "$runs" ]; do
	i=$((i + 1))
	# (its warning that the folder is no git checkout is beside the point)
	"$PERFGATE" run -q --no-store --out "$T/run$i.json" "$T/suite.json" >/dev/null 2>"$T/err" ||
		{ cat "$T/err" >&2; exit 1; }
done
python3 - "$T" "$runs" <<'PY'
import json, math, statistics as st, sys
d, runs = sys.argv[1], int(sys.argv[2])
docs = [json.load(open("%s/run%d.json" % (d, i))) for i in range(1, runs + 1)]
print("| command | probe | spread of the command's run medians | of the probe's | of wall_rel | largest change of wall_rel between runs |")
print("| --- | --- | --- | --- | --- | --- |")
for b0 in docs[0]["benchmarks"]:
    meds = {"wall": [], "calibration_wall": [], "wall_rel": []}
    for doc in docs:
        b = next(x for x in doc["benchmarks"] if x["name"] == b0["name"])
        m = {x["name"]: x["samples"] for x in b["metrics"]}
        for k in meds:
            meds[k].append(math.log(st.median(m[k])))
    rel = meds["wall_rel"]
    jump = max(abs(rel[i + 1] - rel[i]) for i in range(len(rel) - 1))
    work, probe = b0["name"].rsplit("-", 1)
    print("| %s | %s | %.1f%% | %.1f%% | **%.1f%%** | %.1f%% |" % (
        work, probe, 100 * st.stdev(meds["wall"]), 100 * st.stdev(meds["calibration_wall"]),
        100 * st.stdev(rel), 100 * (math.exp(jump) - 1)))
print("\n(spread: the standard deviation of the logs of the %d run medians, as a percentage)" % runs)
PY
