#!/bin/sh
# Shards merged exactly (issue 17's figure): 4 local shard processes at a
# quarter of RATE each (`perfgate run --shard I/4 --start-at`, constant
# arrivals) against one loopback server (build/perf/httpd answering after
# US microseconds), merged with `perfgate merge`; beside them, alternated
# in each round, one process at the whole RATE.  Every process also writes
# its per-request records (--requests), the samples themselves.
#
#   exact     the merged run's latency, service time and time-to-first-byte
#             histograms against histograms of all the shards' recorded
#             samples, bucket by bucket; every percentile (p1..p99, p99.9,
#             p99.99, max) of the merged run against the nearest-rank
#             percentile of the samples: the same bucket; requests counted
#             equal (merged = sum of the shards = one process's).  The same
#             check of the one process against its own samples.
#   beside    the merged run's p50/p90/p99 against the one process's, each
#             round; medians of the rounds (the runs are different samples:
#             agreement to the run-to-run noise, not to the bucket).
#
#   make perf-bins && PERFGATE=build/perfgate sh tests/perf/shard_exact.sh [BUILD]
# RATE, SECONDS, ROUNDS, US override 2000, 10, 3, 1000; BENCH_QUICK=1 runs
# one short round (a smoke test of the script).  Exits 1 when a round is
# not exact.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-${BUILD:-$root/build}}
: "${PERFGATE:=$build/perfgate}"
if [ "${BENCH_QUICK:-0}" = 1 ]; then
	RATE=${RATE:-400}; SECS=${SECONDS:-2}; ROUNDS=${ROUNDS:-1}
else
	RATE=${RATE:-2000}; SECS=${SECONDS:-10}; ROUNDS=${ROUNDS:-3}
fi
US=${US:-1000}
N=4
T=$(mktemp -d /tmp/perfgate-shardexact.XXXXXX)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

"$build/perf/httpd" -t 1 -f "$T/port" -l 3600 &
pids="$pids $!"
i=0
while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
[ -s "$T/port" ] || { echo "shard_exact: httpd did not start" >&2; exit 1; }
printf '{"suite": "shard-exact", "benchmarks": [{"name": "exact", "http": {"url": "http://127.0.0.1:%s/?us=%s"}, "load": {"mode": "rate", "rate": %s, "arrival": "constant", "duration": "%ss", "warmup": "1s"}}]}\n' \
	"$(cat "$T/port")" "$US" "$RATE" "$SECS" >"$T/suite.json"
echo "== exactness: $N shards at $RATE/$N/s each, merged, against one process at $RATE/s; ${SECS}s x $ROUNDS rounds alternated, server answers after ${US} us =="

one() { # ROUND
	"$PERFGATE" run -q --no-store --out "$T/one.$1.json" --requests "$T/one.$1.jsonl" "$T/suite.json" >/dev/null 2>"$T/one.$1.err" ||
		{ cat "$T/one.$1.err" >&2; exit 1; }
}
shards() { # ROUND
	at=$(($(date +%s) + 2))
	sp=""
	k=1
	while [ $k -le $N ]; do
		"$PERFGATE" run -q --no-store --shard "$k/$N" --shard-group "exact-$$-$1" --start-at "$at" \
			--out "$T/s.$1.$k.json" --requests "$T/s.$1.$k.jsonl" "$T/suite.json" >/dev/null 2>"$T/s.$1.$k.err" &
		sp="$sp $!"
		k=$((k + 1))
	done
	for p in $sp; do wait "$p" || { cat "$T"/s."$1".*.err >&2; exit 1; }; done
	"$PERFGATE" merge -q --no-store --out "$T/merged.$1.json" "$T"/s."$1".?.json >/dev/null 2>"$T/merge.$1.err" ||
		{ cat "$T/merge.$1.err" >&2; exit 1; }
}

r=0
while [ $r -lt "$ROUNDS" ]; do
	if [ $((r % 2)) -eq 0 ]; then one $r; shards $r; else shards $r; one $r; fi
	r=$((r + 1))
done

python3 - "$T" "$ROUNDS" "$N" <<'PY'
import json, math, statistics, sys

T, rounds, N = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
SUB_HALF_MAG, SUB_HALF = 10, 1024  # core/hist.c with sigfigs 3: 2048 sub-buckets

def index(v):
    b = (v | 2047).bit_length() - (SUB_HALF_MAG + 1)
    return ((b + 1) << SUB_HALF_MAG) + ((v >> b) - SUB_HALF)

def index_highest(i):
    b, s = (i >> SUB_HALF_MAG) - 1, (i & (SUB_HALF - 1)) + SUB_HALF
    if b < 0:
        s, b = s - SUB_HALF, 0
    return (s << b) + (1 << b) - 1

def hist_counts(h):
    """The JSON form's [i0, c0, d1, c1, ...] as {index: count}."""
    out, i, c = {}, 0, h["counts"]
    for k in range(0, len(c), 2):
        i = c[k] if k == 0 else i + c[k]
        out[i] = c[k + 1]
    return out

def rank_of(p, n):
    return max(1, min(n, math.ceil(p / 100.0 * n - 1e-9)))

def hist_pct(counts, n, lo, hi, p):
    if p >= 100:
        return hi
    rank, seen = rank_of(p, n), 0
    for i in sorted(counts):
        seen += counts[i]
        if seen >= rank:
            return min(max(index_highest(i), lo), hi)

def exact_pct(sorted_v, p):
    return sorted_v[-1] if p >= 100 else sorted_v[rank_of(p, len(sorted_v)) - 1]

PCTS = list(range(1, 100)) + [99.9, 99.99, 100]
FIELDS = {"latency": ("t_sched", "t_end"), "service_time": ("t_send", "t_end"), "ttfb": ("t_sched", "t_first_byte")}

def samples(files):
    v = {f: [] for f in FIELDS}
    sent = 0
    for fn in files:
        for line in open(fn):
            x = json.loads(line)
            if x["warmup"]:
                continue
            sent += 1
            if x["error"] is None:
                for f, (a, b) in FIELDS.items():
                    v[f].append(x[b] - x[a])
    return v, sent

def metrics(fn):
    b = json.load(open(fn))["benchmarks"][0]
    return b, {m["name"]: m for m in b["metrics"]}

def check(run, files, label):
    """Every histogram of run equal to the samples' bucket by bucket, every
    percentile in the samples' percentile's bucket; returns (ok, n, sent)."""
    b, m = metrics(run)
    v, sent = samples(files)
    ok, notes = True, []
    for f in FIELDS:
        h = m[f + ".p50"]["histogram"]
        hc, mine = hist_counts(h), {}
        for x in v[f]:
            mine[index(x)] = mine.get(index(x), 0) + 1
        if hc != mine or h["n"] != len(v[f]):
            ok = False
            notes.append("%s histogram differs (n %d vs %d samples)" % (f, h["n"], len(v[f])))
        sv = sorted(v[f])
        for p in PCTS:
            a, e = hist_pct(hc, h["n"], h["min"], h["max"], p), exact_pct(sv, p)
            if index(a) != index(e):
                ok = False
                notes.append("%s p%s: %d ns vs sample %d ns" % (f, p, a, e))
        for name, mm in m.items():  # the run document's own figures
            if name.startswith(f + ".p") or name == f + ".max":
                p = 100 if name.endswith(".max") else float(name[len(f) + 2:])
                got = round(mm["samples"][0] * 1e9)
                if index(got) != index(exact_pct(sv, p)):
                    ok = False
                    notes.append("%s: %d ns vs sample %d ns" % (name, got, exact_pct(sv, p)))
    g = b["generator"][0]
    if g["requests"] != sent:
        ok = False
        notes.append("generator requests %d vs %d recorded" % (g["requests"], sent))
    print("    %s: %s histograms (latency, service time, ttfb) of %d samples bucket by bucket, %d percentiles each%s" %
          (label, "equal:" if ok else "NOT EXACT:", len(v["latency"]), len(PCTS), ("; " + "; ".join(notes[:6])) if notes else ""))
    return ok, m["latency.p50"]["histogram"]["n"], sent, m

all_ok = True
rows = {"p50": [], "p90": [], "p99": []}
for r in range(rounds):
    print("  round %d" % r)
    files = ["%s/s.%d.%d.jsonl" % (T, r, k) for k in range(1, N + 1)]
    ok_m, n_m, sent_m, mm = check("%s/merged.%d.json" % (T, r), files, "merged %d shards" % N)
    shard_n = sum(json.load(open("%s/s.%d.%d.json" % (T, r, k)))["benchmarks"][0]["generator"][0]["requests"] for k in range(1, N + 1))
    ok_o, n_o, sent_o, mo = check("%s/one.%d.json" % (T, r), ["%s/one.%d.jsonl" % (T, r)], "one process")
    counts_ok = sent_m == shard_n == sent_o
    print("    requests sent: merged %d = shards %s %d, one process %d: %s" %
          (sent_m, "sum", shard_n, sent_o, "equal" if counts_ok else "NOT EQUAL"))
    all_ok = all_ok and ok_m and ok_o and counts_ok
    line = []
    for p in rows:
        a, o = mm["latency." + p]["samples"][0], mo["latency." + p]["samples"][0]
        rows[p].append((a, o))
        line.append("%s %.1f/%.1f us (%.3f)" % (p, a * 1e6, o * 1e6, a / o))
    print("    latency merged/one process: " + ", ".join(line))
print("  median over %d rounds, latency merged/one process: %s" % (rounds, ", ".join(
    "%s %.1f/%.1f us (%.3f)" % (p, statistics.median(a for a, _ in v) * 1e6, statistics.median(o for _, o in v) * 1e6,
                               statistics.median(a / o for a, o in v)) for p, v in rows.items())))
print("  exact in every round: %s" % ("yes" if all_ok else "NO"))
sys.exit(0 if all_ok else 1)
PY
