#!/bin/sh
# What scraping a server's /metrics costs the load generator (issue 14):
# Poisson arrivals at RATE/s (default 5,000) against nginx, with scraping
# off, every 1 s and every 100 ms (the vLLM preset against a vLLM-sized
# exposition that nginx serves from tests/fixtures/prom/vllm_v1.txt), the
# three alternated round by round in one run, medians compared:
#   - perfgate's CPU time (user + sys of the whole process, scraping thread
#     included) per request sent; goal: scraping adds < 1%
#   - lateness p99 of the sends; goal: within the existing bound (200 us,
#     docs/performance.md) and no run invalid
# Called by tests/perf/run.sh (`make bench`); runs alone too:
#   PERFGATE=build/perfgate sh tests/perf/prom_overhead.sh
# PROM_BENCH_QUICK=1: a smoke test of the script (1 round of 2 s).
# PROM_BENCH_RATE, PROM_BENCH_DUR, PROM_BENCH_ROUNDS override the defaults.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
root=$(cd "$here/../.." && pwd)
: "${PERFGATE:=$root/build/perfgate}"
T=$(mktemp -d /tmp/perfgate-prombench.XXXXXX)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

if [ "${PROM_BENCH_QUICK:-0}" = 1 ]; then
	DUR=2; ROUNDS=1
else
	DUR=${PROM_BENCH_DUR:-10}; ROUNDS=${PROM_BENCH_ROUNDS:-5}
fi
RATE=${PROM_BENCH_RATE:-5000}


PORT=$(free_port)
mkdir -p "$T/nginx"
cat >"$T/nginx/nginx.conf" <<NGX
worker_processes 1;
daemon off;
error_log $T/nginx/error.log;
pid $T/nginx/nginx.pid;
events { worker_connections 8192; }
http {
	access_log off;
	keepalive_requests 1000000;
	server {
		listen 127.0.0.1:$PORT backlog=4096;
		location = /metrics { default_type "text/plain; version=0.0.4"; alias $root/tests/fixtures/prom/vllm_v1.txt; }
		location / { return 200 "hello, world\n"; }
	}
}
NGX
nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" &
pids="$pids $!"
wait_port "$PORT" "prom_overhead: nginx"
U="http://127.0.0.1:$PORT"

# run NAME MONITOR: one Poisson run; prints "CPU_US_PER_REQUEST LATENESS_P99_US
# LATE% VALID SCRAPES SCRAPE_CPU_SHARE%" (the scraping threads' own CPU time,
# which the run document records, over the rest of the process's)
run() {
	printf '{"suite": "prom-bench", "benchmarks": [{"name": "%s", "http": {"url": "%s/"}, "load": {"mode": "rate", "rate": %s, "arrival": "poisson", "duration": "%ss", "warmup": "1s", "connections": 1000, "max_inflight": 1000}%s}]}\n' \
		"$1" "$U" "$RATE" "$DUR" "$2" >"$T/$1.json"
	python3 - "$PERFGATE" "$T/$1.json" "$T/$1.out.json" <<'PY'
import json, resource, subprocess, sys
subprocess.run([sys.argv[1], "run", "-q", "--no-store", "--out", sys.argv[3], sys.argv[2]],
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
b = json.load(open(sys.argv[3]))["benchmarks"][0]
g = b["generator"][0]
m = {x["name"]: x["samples"][0] for x in b["metrics"] if x["samples"]}
sent = g["requests"] + g.get("warmup_requests", 0)
t = (b.get("prometheus") or {"targets": [{"scrapes": 0}]})["targets"][0]
cpu = r.ru_utime + r.ru_stime
scrape = t.get("cpu_seconds", 0)
print("%.3f %.1f %.3f %s %d %.4f" % (cpu / sent * 1e6, m["lateness.p99"] * 1e6, g["late_fraction"] * 100,
                                   "invalid" if b.get("invalid") else "valid", t["scrapes"], scrape / (cpu - scrape) * 100))
PY
}

off=''
s1=', "monitor": {"system": false, "gpu": false, "prometheus": {"url": "'$U'/metrics", "preset": "vllm", "interval": "1s"}}'
s100=', "monitor": {"system": false, "gpu": false, "prometheus": {"url": "'$U'/metrics", "preset": "vllm", "interval": "100ms"}}'
echo "== scraping cost: Poisson ${RATE}/s for ${DUR}s against nginx, scraping off / 1 s / 100 ms alternated, $ROUNDS rounds =="
cpu_off=""; cpu_1=""; cpu_100=""; pair_1=""; pair_100=""; p99_off=""; p99_1=""; p99_100=""; share_1=""; share_100=""
r=0
while [ $r -lt "$ROUNDS" ]; do
	case $((r % 3)) in
	0) order="off 1s 100ms" ;;
	1) order="1s 100ms off" ;;
	*) order="100ms off 1s" ;;
	esac
	for c in $order; do
		case $c in
		off) set -- $(run off "$off") ;;
		1s) set -- $(run s1 "$s1") ;;
		100ms) set -- $(run s100 "$s100") ;;
		esac
		echo "  round $r scraping $c: $1 us CPU per request, lateness p99 $2 us, $3% over 1 ms, $4, $5 scrapes taking $6% of the rest's CPU"
		case $c in
		off) cpu_off="$cpu_off $1"; p99_off="$p99_off $2"; ro=$1 ;;
		1s) cpu_1="$cpu_1 $1"; p99_1="$p99_1 $2"; share_1="$share_1 $6"; r1=$1 ;;
		100ms) cpu_100="$cpu_100 $1"; p99_100="$p99_100 $2"; share_100="$share_100 $6"; r100=$1 ;;
		esac
	done
	# the round's three runs ran back to back: their ratios cancel the
	# machine's drift between rounds (not its noise within one)
	pair_1="$pair_1 $(awk "BEGIN {printf \"%.2f\", ($r1 / $ro - 1) * 100}")"
	pair_100="$pair_100 $(awk "BEGIN {printf \"%.2f\", ($r100 / $ro - 1) * 100}")"
	r=$((r + 1))
done
mo=$(echo "$cpu_off" | median); m1=$(echo "$cpu_1" | median); m100=$(echo "$cpu_100" | median)
echo "  median CPU per request: off $mo us, 1 s $m1 us ($(awk "BEGIN {printf \"%+.2f\", ($m1 / $mo - 1) * 100}")%), 100 ms $m100 us ($(awk "BEGIN {printf \"%+.2f\", ($m100 / $mo - 1) * 100}")%) (goal: < +1%)"
echo "  per round, CPU per request against the same round's run without scraping: 1 s$pair_1 %, 100 ms$pair_100 %; medians $(echo "$pair_1" | median)% and $(echo "$pair_100" | median)%; the runs without scraping alone spread from $(echo "$cpu_off" | tr ' ' '\n' | grep -v '^$' | sort -g | head -1) to $(echo "$cpu_off" | tr ' ' '\n' | grep -v '^$' | sort -g | tail -1) us (this machine's noise)"
echo "  median CPU of the scraping threads themselves, over the rest of perfgate's: 1 s $(echo "$share_1" | median)%, 100 ms $(echo "$share_100" | median)% (the same goal, measured without the noise of two runs)"
echo "  median lateness p99: off $(echo "$p99_off" | median) us, 1 s $(echo "$p99_1" | median) us, 100 ms $(echo "$p99_100" | median) us (goal: within 200 us)"
