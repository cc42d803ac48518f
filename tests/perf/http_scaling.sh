#!/bin/sh
# The load engine's scaling with threads against wrk (issue 17's figures).
# For each thread count N in THREADS: nginx with N workers returning a fixed
# 200 on a loopback port, then `wrk -tN -c(50N)` and a perfgate closed loop
# of the same threads and connections ("mode": "concurrency"), alternated
# for ROUNDS rounds of DUR seconds; medians of the rounds.  Per tool and N:
# throughput (requests/s), requests per CPU-second (all its requests, warmup
# included, over its own user+sys time from getrusage of the child, which
# counts perfgate's start, suite loading and run document too), and the
# throughput relative to the same tool's 1 thread.  perfgate's CPU also
# holds its start (dynamic linking of some 40 libraries, libgit2's
# certificate loading, the suite, the run document: about 25 ms, against
# wrk's 2 ms); "net" subtracts the CPU of a 1-request perfgate run of the
# same round, which leaves the engine's own cost per request.
# PERFGATE_BASE=BINARY measures a second perfgate build in every round too
# (an engine change against the build before it, side by side).
#
#   make && sh tests/perf/http_scaling.sh [BUILD]
#   THREADS="1 4 8 16" sh tests/perf/http_scaling.sh     (a many-core machine)
#   SERVER=httpd ...       build/perf/httpd (make perf-bins) in place of nginx
#
# Goals: 1 thread, perfgate's requests per CPU-second >= 1.0x wrk's;
# 2 threads, perfgate's throughput >= 1.0x wrk -t2's; N threads close to N
# times 1 thread until the target saturates.  When the machine has at least
# 2N CPUs (and 4 or more), the generators run on CPUs 0..N-1 and nginx on
# N..2N-1 (taskset), so that neither takes the other's cores; otherwise all
# share every CPU (on a small shared machine a pinned tool would wait behind
# the other tenants on its one CPU) and the script says so.  THREADS defaults to "1 2", DUR 5, ROUNDS 5;
# BENCH_QUICK=1: 1 round of 1 s (a smoke test of the script).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
root=$(cd "$here/../.." && pwd)
build=${1:-${BUILD:-$root/build}}
: "${PERFGATE:=$build/perfgate}"
THREADS=${THREADS:-1 2}
if [ "${BENCH_QUICK:-0}" = 1 ]; then DUR=${DUR:-1}; ROUNDS=${ROUNDS:-1}; else DUR=${DUR:-5}; ROUNDS=${ROUNDS:-5}; fi
CPUS=$(nproc)
T=$(mktemp -d /tmp/perfgate-scaling.XXXXXX)
ngx=""
cleanup() {
	[ -z "$ngx" ] || kill "$ngx" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
command -v wrk >/dev/null || { echo "http_scaling: needs wrk" >&2; exit 1; }
# SERVER=nginx (the default where it is installed) or httpd (build/perf/httpd,
# `make perf-bins`: N event loops answering the same fixed 200, for a
# machine without nginx)
if [ -z "${SERVER:-}" ]; then
	if command -v nginx >/dev/null; then SERVER=nginx; else SERVER=httpd; fi
fi
[ "$SERVER" = nginx ] || [ -x "$build/perf/httpd" ] || { echo "http_scaling: no nginx, and no $build/perf/httpd (make perf-bins)" >&2; exit 1; }

start_nginx() { # WORKERS PIN
	[ -z "$ngx" ] || { kill "$ngx" 2>/dev/null || true; wait "$ngx" 2>/dev/null || true; }
	if [ "$SERVER" = httpd ]; then
		rm -f "$T/httpd.port"
		$2 "$build/perf/httpd" -t "$1" -f "$T/httpd.port" -l 3600 &
		ngx=$!
		i=0
		while [ ! -s "$T/httpd.port" ]; do
			i=$((i + 1))
			[ $i -lt 100 ] || { echo "http_scaling: httpd did not start" >&2; exit 1; }
			sleep 0.05
		done
		URL="http://127.0.0.1:$(cat "$T/httpd.port")/"
		return
	fi
	PORT=$(free_port)
	mkdir -p "$T/nginx"
	cat >"$T/nginx/nginx.conf" <<NGX
worker_processes $1;
daemon off;
error_log $T/nginx/error.log;
pid $T/nginx/nginx.pid;
events { worker_connections 8192; }
http {
	access_log off;
	keepalive_requests 1000000;
	server { listen 127.0.0.1:$PORT backlog=4096 reuseport; location / { return 200 "hello, world\n"; } }
}
NGX
	$2 nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" &
	ngx=$!
	wait_port "$PORT" "http_scaling: nginx"
	URL="http://127.0.0.1:$PORT/"
}

echo "== scaling: closed loop, 50 connections per thread, $SERVER with as many workers, ${DUR}s x $ROUNDS rounds alternated, $CPUS CPUs =="
base_w=""; base_p=""
summary=""
for n in $THREADS; do
	c=$((50 * n))
	if [ "$CPUS" -ge 4 ] && [ "$CPUS" -ge $((2 * n)) ] && command -v taskset >/dev/null; then
		gen_pin="taskset -c 0-$((n - 1))"; ngx_pin="taskset -c $n-$((2 * n - 1))"; where="generator on CPUs 0-$((n - 1)), $SERVER on $n-$((2 * n - 1))"
	else
		gen_pin=""; ngx_pin=""; where="generator and $SERVER share all $CPUS CPUs"
	fi
	start_nginx "$n" "$ngx_pin"
	printf '{"suite": "http-scaling", "benchmarks": [{"name": "peak", "http": {"url": "%s"}, "load": {"mode": "concurrency", "concurrency": %s, "threads": %s, "duration": "%ss"}}]}\n' \
		"$URL" "$c" "$n" "$DUR" >"$T/peak.json"
	echo "  $n thread(s), $c connections, $SERVER $n worker(s); $where"
	printf '{"suite": "http-scaling", "benchmarks": [{"name": "start", "http": {"url": "%s"}, "load": {"mode": "concurrency", "concurrency": 1, "requests": 1}}]}\n' \
		"$URL" >"$T/start.json"
	w_all=""; p_all=""; we_all=""; pe_all=""; pn_all=""; b_all=""; be_all=""; bn_all=""; rt_all=""; re_all=""
	tools="wrk perfgate${PERFGATE_BASE:+ base}"
	r=0
	while [ $r -lt "$ROUNDS" ]; do
		# alternated: forward in even rounds, backward in odd ones
		order=$tools
		[ $((r % 2)) -eq 0 ] || order=$(echo "$tools" | tr ' ' '\n' | sort -r | tr '\n' ' ')
		for tool in $order; do
			case $tool in
			wrk)
				wc=$(cpu_of "$T/wrk.out" $gen_pin wrk -t"$n" -c"$c" -d"${DUR}s" "$URL")
				w=$(awk '/^Requests\/sec/ {print $2}' "$T/wrk.out")
				wn=$(awk '/requests in/ {print $1}' "$T/wrk.out")
				we=$(awk "BEGIN {printf \"%.0f\", $wn / $wc}") ;;
			*)
				bin=$PERFGATE
				[ "$tool" = perfgate ] || bin=$PERFGATE_BASE
				sc=$(cpu_of /dev/null $gen_pin "$bin" run -q --no-store --out "$T/start.out.json" "$T/start.json")
				pc=$(cpu_of /dev/null $gen_pin "$bin" run -q --no-store --out "$T/peak.out.json" "$T/peak.json")
				set -- $(python3 -c 'import json,sys; b=json.load(open(sys.argv[1]))["benchmarks"][0]; g=b["generator"][0]
m={x["name"]: x["samples"][0] for x in b["metrics"] if x["samples"]}
print(m["throughput"], g["requests"] + g["warmup_requests"])' "$T/peak.out.json")
				e=$(awk "BEGIN {printf \"%.0f\", $2 / $pc}"); en=$(awk "BEGIN {printf \"%.0f\", $2 / ($pc - $sc)}")
				if [ "$tool" = perfgate ]; then p=$1; pe=$e; pn=$en; else b=$1; be=$e; bn=$en; fi ;;
			esac
		done
		echo "    round $r: wrk $w req/s ($we req per CPU-s), perfgate $p req/s ($pe req per CPU-s, net $pn)${PERFGATE_BASE:+, base $b req/s ($be, net $bn)}"
		w_all="$w_all $w"; p_all="$p_all $p"; we_all="$we_all $we"; pe_all="$pe_all $pe"; pn_all="$pn_all $pn"
		rt_all="$rt_all $(awk "BEGIN {print $p / $w}")"; re_all="$re_all $(awk "BEGIN {print $pe / $we}")"
		[ -z "${PERFGATE_BASE:-}" ] || { b_all="$b_all $b"; be_all="$be_all $be"; bn_all="$bn_all $bn"; }
		r=$((r + 1))
	done
	wm=$(echo "$w_all" | median); pm=$(echo "$p_all" | median)
	wem=$(echo "$we_all" | median); pem=$(echo "$pe_all" | median); pnm=$(echo "$pn_all" | median)
	[ -n "$base_w" ] || { base_w=$wm; base_p=$pm; }
	line=$(awk "BEGIN {printf \"%2d threads: throughput wrk %.0f, perfgate %.0f req/s (perfgate/wrk %.3f); req per CPU-s wrk %.0f, perfgate %.0f (%.3f), net of its start %.0f (%.3f); vs 1 thread wrk %.2fx, perfgate %.2fx\", $n, $wm, $pm, $pm / $wm, $wem, $pem, $pem / $wem, $pnm, $pnm / $wem, $wm / $base_w, $pm / $base_p}")
	line="$line; the rounds' own perfgate/wrk ratios: throughput $(echo "$rt_all" | median | awk '{printf "%.3f", $1}') ($(echo "$rt_all" | tr ' ' '\n' | awk '$1 >= 1' | wc -l | tr -d ' ') of $ROUNDS >= 1), req per CPU-s $(echo "$re_all" | median | awk '{printf "%.3f", $1}') ($(echo "$re_all" | tr ' ' '\n' | awk '$1 >= 1' | wc -l | tr -d ' ') of $ROUNDS >= 1)"
	if [ -n "${PERFGATE_BASE:-}" ]; then
		bm=$(echo "$b_all" | median); bem=$(echo "$be_all" | median); bnm=$(echo "$bn_all" | median)
		line="$line$(awk "BEGIN {printf \"; base build %.0f req/s, %.0f req per CPU-s, net %.0f (perfgate/base %.3f, %.3f, net %.3f)\", $bm, $bem, $bnm, $pm / $bm, $pem / $bem, $pnm / $bnm}")"
	fi
	echo "  median $line"
	summary="$summary
  $line"
done
echo "== summary (medians; 'vs 1 thread' relative to the first thread count measured) ==$summary"
