#!/bin/sh
# Command benchmarks against hyperfine, side by side in one run (issue 3):
#  1. overhead: `true` 2,000 times per invocation; perfgate's median wall
#     time <= hyperfine's (hyperfine -N --runs 2000 true) and perfgate's
#     total elapsed time <= hyperfine's;
#  2. accuracy: `sleep 0.05`; perfgate's median within 1% of hyperfine's.
# The two tools alternate, round after round (ROUNDS_TRUE rounds of 2,000,
# ROUNDS_SLEEP rounds of RUNS_SLEEP), so that the drift of a shared machine
# lands on both; medians are of the pooled samples of all rounds, elapsed
# times are summed over the rounds.
set -eu
: "${PERFGATE:?}"
ROUNDS_TRUE=${ROUNDS_TRUE:-5}
RUNS_TRUE=${RUNS_TRUE:-2000}
ROUNDS_SLEEP=${ROUNDS_SLEEP:-30}
RUNS_SLEEP=${RUNS_SLEEP:-5}
command -v hyperfine >/dev/null || { echo "hyperfine is not installed (Debian package hyperfine)" >&2; exit 1; }
T=$(mktemp -d /tmp/perfgate-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT

cat >"$T/true.json" <<JSON
{"suite": "overhead", "benchmarks": [{"name": "true", "command": ["true"], "repetitions": $RUNS_TRUE}]}
JSON
cat >"$T/sleep.json" <<JSON
{"suite": "accuracy", "benchmarks": [{"name": "sleep", "command": ["sleep", "0.05"], "repetitions": $RUNS_SLEEP}]}
JSON

now() { date +%s%N; }

# round NAME R ORDER HYPERFINE-ARGS...: perfgate's run document to NAME-pg-R.json,
# hyperfine's export to NAME-hf-R.json, elapsed ns appended to NAME-elapsed.
round() {
	name=$1 r=$2 order=$3
	shift 3
	for tool in $order; do
		t0=$(now)
		if [ "$tool" = pg ]; then
			"$PERFGATE" run --no-store -q --format json "$T/$name.json" >"$T/$name-pg-$r.json" 2>/dev/null
		else
			hyperfine -N --style none --export-json "$T/$name-hf-$r.json" "$@" >/dev/null 2>&1
		fi
		t1=$(now)
		echo "$tool $((t1 - t0))" >>"$T/$name-elapsed"
	done
}

r=0
while [ $r -lt "$ROUNDS_TRUE" ]; do
	if [ $((r % 2)) -eq 0 ]; then order="pg hf"; else order="hf pg"; fi
	round true $r "$order" --runs "$RUNS_TRUE" true
	r=$((r + 1))
done
r=0
while [ $r -lt "$ROUNDS_SLEEP" ]; do
	if [ $((r % 2)) -eq 0 ]; then order="pg hf"; else order="hf pg"; fi
	round sleep $r "$order" --runs "$RUNS_SLEEP" "sleep 0.05"
	r=$((r + 1))
done

python3 - "$T" "$RUNS_TRUE" "$ROUNDS_TRUE" "$RUNS_SLEEP" "$ROUNDS_SLEEP" <<'PY'
import glob, json, statistics, sys
T, runs_true, rounds_true, runs_sleep, rounds_sleep = sys.argv[1], *sys.argv[2:]

def pooled(name):
    pg, hf = [], []
    for f in sorted(glob.glob(f"{T}/{name}-pg-*.json")):
        pg += json.load(open(f))["benchmarks"][0]["metrics"][0]["samples"]
    for f in sorted(glob.glob(f"{T}/{name}-hf-*.json")):
        hf += json.load(open(f))["results"][0]["times"]
    return pg, hf

def elapsed(name):
    tot = {"pg": 0, "hf": 0}
    for line in open(f"{T}/{name}-elapsed"):
        tool, ns = line.split()
        tot[tool] += int(ns)
    return tot["pg"] / 1e9, tot["hf"] / 1e9

pg, hf = pooled("true")
mp, mh = statistics.median(pg), statistics.median(hf)
ep, eh = elapsed("true")
print("true: %d x %s runs each: median wall perfgate %.1f us, hyperfine %.1f us; elapsed perfgate %.2f s, hyperfine %.2f s"
      % (int(rounds_true), runs_true, mp * 1e6, mh * 1e6, ep, eh))
r_med, r_tot = mp / mh, ep / eh
pg, hf = pooled("sleep")
sp, sh = statistics.median(pg), statistics.median(hf)
print("sleep 0.05: %d x %s runs each: median perfgate %.3f ms, hyperfine %.3f ms"
      % (int(rounds_sleep), runs_sleep, sp * 1e3, sh * 1e3))
r_acc = sp / sh
print("load average (1 min) at the end: %s" % open("/proc/loadavg").read().split()[0])
print("figure: true x%s median wall perfgate/hyperfine = %.3f (target <= 1)" % (runs_true, r_med))
print("figure: true x%s total elapsed perfgate/hyperfine = %.3f (target <= 1)" % (runs_true, r_tot))
print("figure: sleep 0.05 median perfgate/hyperfine = %.4f (target 0.99..1.01)" % r_acc)
sys.exit(0 if r_med <= 1 and r_tot <= 1 and abs(r_acc - 1) <= 0.01 else 1)
PY
