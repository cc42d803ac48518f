#!/bin/sh
# The fault proxy's figures (issue 16): its added latency at 2,000
# requests/s against direct (goal p50 < 100 us, p99 < 1 ms) and the accuracy
# of a fixed 50 ms fault (goal within 2% at p50), measured side by side in
# one run by build/perf/proxy_bench against nginx on a loopback port.
# Called by tests/perf/run.sh (`make bench`); runs alone too:
#   make perf-bins && sh tests/perf/proxy_bench.sh [BUILD]
# BENCH_QUICK=1 runs short rounds (a smoke test of the script).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
root=$(cd "$here/../.." && pwd)
build=${1:-${BUILD:-$root/build}}
T=$(mktemp -d /tmp/perfgate-proxybench.XXXXXX)
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

if [ "${BENCH_QUICK:-0}" = 1 ]; then SECS=1; ROUNDS=1; else SECS=5; ROUNDS=5; fi
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
mkdir -p "$T/nginx"
cat >"$T/nginx/nginx.conf" <<NGX
worker_processes 1;
daemon off;
error_log $T/nginx/error.log;
pid $T/nginx/nginx.pid;
events { worker_connections 4096; }
http {
	access_log off;
	keepalive_requests 1000000;
	server { listen 127.0.0.1:$PORT backlog=4096; location / { return 200 "hello, world\n"; } }
}
NGX
# nginx under the real-time policy when allowed, as the load engine's and the
# proxy's threads are: on a busy machine an ordinary nginx waits for its CPU
# for milliseconds, and that tail, not the proxy's, would fill both p99s.
RT=""
if command -v chrt >/dev/null 2>&1 && chrt -f 1 true 2>/dev/null; then RT="chrt -f 1"; fi
echo "nginx: ${RT:-normal policy (chrt -f refused)}"
$RT nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" &
pid=$!
wait_port "$PORT" "proxy_bench: nginx"
"$build/perf/proxy_bench" "$PORT" "$SECS" "$ROUNDS" 2000
