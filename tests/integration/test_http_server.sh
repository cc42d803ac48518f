#!/bin/sh
# A load benchmark that starts its own target (docs/load.md, "A server of
# its own"): perfgate starts the "server" command with PORT set to the
# URL's port, waits until it is ready, measures, and stops its process
# group; it refuses a port that something already listens on, and a server
# that ends, or never gets ready, fails the benchmark with a line that says
# so (exit 3).  Real loopback servers: tests/servers/service_time.py, and a
# server whose /health answers 503 until it has "loaded".
. tests/integration/lib.sh
T=$(test_tmpdir)
export HOME=$T PERFGATE_HOME=$T/home NO_COLOR=1 TMPDIR=$T/tmp
mkdir -p "$T/tmp"
SERVER=$PWD/tests/servers/service_time.py
echo '{"ms": 1}' >"$T/service.json"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
listening() { python3 -c 'import socket, sys; s = socket.socket(); s.settimeout(0.5); sys.exit(s.connect_ex(("127.0.0.1", int(sys.argv[1]))))' "$1"; }
alive() { kill -0 "$1" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
# suite FILE PORT SERVER-OBJECT [LOAD-OBJECT]
suite() {
	_load=${4:-}
	[ -n "$_load" ] || _load='{"duration": "0.3s"}'
	cat >"$1" <<JSON
{"suite": "srv", "benchmarks": [
  {"name": "api", "http": {"url": "http://127.0.0.1:$2/work"}, "load": $_load,
   "server": $3}]}
JSON
}
others=
stop_others() {
	for p in $others; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	others=
	# Servers perfgate should have stopped are never left behind by a
	# failure (only a process whose command line names this test's folder).
	for f in "$T"/*.pid; do
		[ -s "$f" ] && tr '\0' ' ' <"/proc/$(cat "$f")/cmdline" 2>/dev/null | grep -qF "$T" && kill -9 "$(cat "$f")"
	done
	return 0
}
trap stop_others EXIT

# Started, ready, measured, stopped.
P=$(free_port)
suite "$T/ok.json" "$P" "{\"shell\": \"exec python3 $SERVER $T/service.json $T/pf.ok \$PORT\"}" \
	'{"duration": "0.3s", "repetitions": 2}'
expect_exit 0 "a load test with a server of its own runs" "$PERFGATE" run "$T/ok.json" --no-store --out "$T/ok-run.json"
check "the run document says on which port the server was ready, and when" python3 -c '
import json, sys
b = json.load(open(sys.argv[1]))["benchmarks"][0]
assert b["status"] == "ok", b
assert b["server"]["port"] == sys.argv[2] and 0 < b["server"]["ready_after"] < 30, b["server"]
assert {m["name"]: m for m in b["metrics"]}["throughput"]["samples"][0] > 0' "$T/ok-run.json" "$P"
if listening "$P"; then not_ok "the server is stopped after the run"; else ok "the server is stopped after the run"; fi
check "its output file is removed" sh -c "[ -z \"\$(ls '$T/tmp')\" ]"

# Two load tests of one server, interleaved: both start before the first
# step, and share the one server (a second copy would find the port taken).
P=$(free_port)
cat >"$T/shared.json" <<JSON
{"suite": "srv", "order": "interleaved", "benchmarks": [
  {"name": "a", "http": {"url": "http://127.0.0.1:$P/a"}, "load": {"duration": "0.2s", "repetitions": 2},
   "server": {"shell": "echo x >>$T/shared.starts; exec python3 $SERVER $T/service.json $T/pf.shared \$PORT"}},
  {"name": "b", "http": {"url": "http://127.0.0.1:$P/b"}, "load": {"duration": "0.2s", "repetitions": 2},
   "server": {"shell": "echo x >>$T/shared.starts; exec python3 $SERVER $T/service.json $T/pf.shared \$PORT"}}]}
JSON
expect_exit 0 "two interleaved load tests of one server run" "$PERFGATE" run "$T/shared.json" --no-store --out "$T/shared-run.json"
check "they shared one server, started once" sh -c "[ \$(wc -l <'$T/shared.starts') -eq 1 ]"
check "both measured" python3 -c '
import json, sys
b = {x["name"]: x for x in json.load(open(sys.argv[1]))["benchmarks"]}
assert b["a"]["status"] == b["b"]["status"] == "ok" and b["a"]["server"]["port"] == b["b"]["server"]["port"], b' "$T/shared-run.json"
if listening "$P"; then not_ok "the shared server is stopped after the run"; else ok "the shared server is stopped after the run"; fi

# A reader that goes away mid-run (`perfgate run | head -c 1`) does not
# kill perfgate with its server running: writes to the closed pipe fail,
# the run goes on to its end, writes its document and stops the server.
P=$(free_port)
cat >"$T/piped.json" <<JSON
{"suite": "srv", "order": "interleaved", "benchmarks": [
  {"name": "a", "http": {"url": "http://127.0.0.1:$P/a"}, "load": {"duration": "0.2s", "repetitions": 3},
   "server": {"shell": "echo \$\$ >$T/piped.pid; exec python3 $SERVER $T/service.json $T/pf.piped \$PORT"}},
  {"name": "b", "http": {"url": "http://127.0.0.1:$P/b"}, "load": {"duration": "0.2s", "repetitions": 3},
   "server": {"shell": "echo \$\$ >$T/piped.pid; exec python3 $SERVER $T/service.json $T/pf.piped \$PORT"}},
  {"name": "c", "shell": "true", "repetitions": 3}]}
JSON
{ "$PERFGATE" run "$T/piped.json" --no-store --out "$T/piped-run.json"; echo $? >"$T/piped.rc"; } 2>&1 | head -c 1 >/dev/null
check "perfgate outlived the reader of its output and ended by itself (exit 0)" sh -c "[ \"\$(cat '$T/piped.rc')\" = 0 ]"
check "... its run document is written" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert sorted(b["name"] for b in d["benchmarks"]) == ["a", "b", "c"], d["benchmarks"]' "$T/piped-run.json"
if [ -s "$T/piped.pid" ] && alive "$(cat "$T/piped.pid")"; then
	not_ok "... and its server is stopped"
else
	ok "... and its server is stopped"
fi

# Ready when /health says so, not when the port opens.
cat >"$T/slow_ready.py" <<'PY'
import sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer
t0 = time.time()
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        code = 503 if self.path == "/health" and time.time() - t0 < 0.8 else 200
        self.send_response(code); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *a): pass
HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
P=$(free_port)
suite "$T/ready.json" "$P" "{\"command\": [\"sh\", \"-c\", \"exec python3 slow_ready.py \$PORT\"], \"cwd\": \".\", \"ready\": \"/health\"}"
expect_exit 0 "a server with a ready path runs" "$PERFGATE" run "$T/ready.json" --no-store --out "$T/ready-run.json"
check "it was ready only once /health answered 2xx" python3 -c '
import json, sys
b = json.load(open(sys.argv[1]))["benchmarks"][0]
assert b["server"]["ready_after"] >= 0.8, b["server"]
assert {m["name"]: m for m in b["metrics"]}["error_rate"]["samples"] == [0], "requests failed"' "$T/ready-run.json"

# A port already taken: refused, and the server there left alone.
P=$(free_port)
python3 "$SERVER" "$T/service.json" "$T/pf.taken" "$P" &
taken=$!
others="$others $taken"
i=0; while [ ! -s "$T/pf.taken" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
suite "$T/taken.json" "$P" "{\"shell\": \"echo started >$T/started; exec python3 $SERVER $T/service.json $T/pf.x \$PORT\"}"
expect_exit 3 "a port something already listens on is refused" "$PERFGATE" run "$T/taken.json" --no-store
contains "the error names the benchmark and the port" "$ERR" "benchmark 'api' failed: something already listens on 127.0.0.1:$P, where the benchmark starts its own server"
check "the benchmark's server was never started" sh -c "[ ! -e '$T/started' ]"
check "the server already there is left running" alive "$taken"
stop_others

# A server that ends before it is ready: its last line says why.
P=$(free_port)
suite "$T/dies.json" "$P" '{"shell": "echo loading >&2; echo model.bin: no such file >&2; exit 4"}'
expect_exit 3 "a server that exits at once fails the run" "$PERFGATE" run "$T/dies.json" --no-store
contains "the error has its exit status and last line" "$ERR" "benchmark 'api' failed: its server exited with status 4 before it was ready on 127.0.0.1:$P; its last line: model.bin: no such file"

# One that exits with status 0 and leaves nothing running (`docker run -d`)
P=$(free_port)
suite "$T/handed.json" "$P" '{"shell": "echo container 3f2a started; exit 0"}'
expect_exit 3 "a server command that exits 0 leaving nothing fails the run" "$PERFGATE" run "$T/handed.json" --no-store
contains "the error says what a server command must do" "$ERR" "its server exited with status 0, leaving nothing running that perfgate can follow (a server command must run the server, in the foreground or as its own daemon: not \`docker run -d\` or a service manager) before it was ready on 127.0.0.1:$P; its last line: container 3f2a started"

# Never ready: stopped at ready_timeout, its whole group with it.
P=$(free_port)
suite "$T/never.json" "$P" "{\"shell\": \"sleep 60 & echo \$! >$T/never.pid; echo warming up; wait\", \"ready_timeout\": \"1s\"}"
expect_exit 3 "a server not ready in time fails the run" "$PERFGATE" run "$T/never.json" --no-store
contains "the error names the port, the timeout and the key" "$ERR" "its server was not ready on 127.0.0.1:$P within 1s (\"ready_timeout\" in its \"server\"; does it listen on \$PORT?); its last line: warming up"
if alive "$(cat "$T/never.pid")"; then not_ok "what the server started is stopped with it"; else ok "what the server started is stopped with it"; fi

# Ends under the load: the benchmark fails on that, with the repetition.
P=$(free_port)
suite "$T/crash.json" "$P" "{\"shell\": \"python3 $SERVER $T/service.json $T/pf.crash \$PORT & sleep 1; kill \$!; echo out of memory; exit 7\"}" \
	'{"duration": "0.4s", "repetitions": 6}'
expect_exit 3 "a server that ends during the run fails it" "$PERFGATE" run "$T/crash.json" --no-store --out "$T/crash-run.json"
contains "the error says the server ended, and when" "$ERR" "benchmark 'api' failed: its server exited with status 7 during repetition"
contains "and its last line" "$ERR" "; its last line: out of memory"

# Ctrl-C: the server goes too.
P=$(free_port)
suite "$T/long.json" "$P" "{\"shell\": \"exec python3 $SERVER $T/service.json $T/pf.long \$PORT\"}" '{"duration": "30s"}'
"$PERFGATE" run "$T/long.json" --no-store >"$T/long.out" 2>"$T/long.err" &
pid=$!
i=0; while [ ! -s "$T/pf.long" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
sleep 0.5
kill -INT "$pid"
wait "$pid"
rc=$?
[ $rc -eq 3 ] && ok "Ctrl-C during a load test with a server exits 3" || not_ok "Ctrl-C exit $rc: $(cat "$T/long.err")"
if listening "$P"; then not_ok "Ctrl-C stops the server"; else ok "Ctrl-C stops the server"; fi

# A server that goes to the background: the classic double fork (the
# command exits 0 at once, the server runs on in a session of its own).
# perfgate follows it there, measures it, and stops it after the run.
cat >"$T/daemon.py" <<'PY'
import os, signal, sys, threading, time
from http.server import BaseHTTPRequestHandler, HTTPServer
port, pidfile, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
if mode != "serve":
    if os.fork() > 0:
        sys.exit(0)
    os.setsid()
    if os.fork() > 0:
        os._exit(0)
if mode == "clear-env":
    # as a daemon that rewrites its environment (nginx's process title does)
    os.execve(sys.executable, [sys.executable, sys.argv[0], sys.argv[1], pidfile, "serve"], {})
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *a): pass
srv = HTTPServer(("127.0.0.1", port), H)
if mode == "ignore-term":
    signal.signal(signal.SIGTERM, lambda *a: open(pidfile + ".term", "w").write("TERM"))
if mode.startswith("exit-after-"):
    threading.Timer(float(mode[11:]), lambda: (print("daemon: lost the model", flush=True), os._exit(9))).start()
open(pidfile + ".env", "w").write(" ".join(os.environ))
open(pidfile + ".tmp", "w").write(str(os.getpid()))
os.rename(pidfile + ".tmp", pidfile)
srv.serve_forever()
PY
P=$(free_port)
suite "$T/daemon.json" "$P" "{\"shell\": \"python3 daemon.py \$PORT $T/daemon.pid plain\", \"cwd\": \".\"}" \
	'{"duration": "0.3s", "repetitions": 2}'
expect_exit 0 "a server that forks into the background runs" "$PERFGATE" run "$T/daemon.json" --no-store --out "$T/daemon-run.json"
check "... and is measured" python3 -c '
import json, sys
b = json.load(open(sys.argv[1]))["benchmarks"][0]
assert b["status"] == "ok" and len({m["name"]: m for m in b["metrics"]}["throughput"]["samples"]) == 2, b' "$T/daemon-run.json"
check "the daemon ran in a session of its own" test -s "$T/daemon.pid"
if alive "$(cat "$T/daemon.pid")"; then not_ok "the daemon is stopped after the run"; else ok "the daemon is stopped after the run"; fi
if listening "$P"; then not_ok "its port is free after the run"; else ok "its port is free after the run"; fi

# A daemon that clears its environment (no marker to find): followed all
# the same, as what was adopted while its server started.
P=$(free_port)
suite "$T/noenv.json" "$P" "{\"shell\": \"python3 daemon.py \$PORT $T/noenv.pid clear-env\", \"cwd\": \".\"}"
expect_exit 0 "a daemon that clears its environment runs" "$PERFGATE" run "$T/noenv.json" --no-store
check "... as it ran, without the marker" sh -c "[ -e '$T/noenv.pid.env' ] && ! grep -q PERFGATE_SERVER '$T/noenv.pid.env'"
check "(a daemon that keeps its environment has it)" grep -q PERFGATE_SERVER "$T/daemon.pid.env"
if alive "$(cat "$T/noenv.pid")"; then not_ok "a daemon without the marker is stopped after the run"; else ok "a daemon without the marker is stopped after the run"; fi

# A shell command that leaves the server as a background job (`serve &`).
P=$(free_port)
suite "$T/bg.json" "$P" "{\"shell\": \"python3 $SERVER $T/service.json $T/pf.bg \$PORT & echo \$! >$T/bg.pid\"}"
expect_exit 0 "a server started as a background job runs" "$PERFGATE" run "$T/bg.json" --no-store
if alive "$(cat "$T/bg.pid")"; then not_ok "the background job is stopped after the run"; else ok "the background job is stopped after the run"; fi

# A daemon that dies under the load fails the benchmark, as a server does.
P=$(free_port)
suite "$T/ddies.json" "$P" "{\"shell\": \"python3 daemon.py \$PORT $T/ddies.pid exit-after-1\", \"cwd\": \".\"}" \
	'{"duration": "0.4s", "repetitions": 8}'
expect_exit 3 "a daemon that ends during the run fails it" "$PERFGATE" run "$T/ddies.json" --no-store
contains "the error says it ended in the background, and when" "$ERR" "benchmark 'api' failed: its server ended in the background during repetition"
contains "... with its last line" "$ERR" "; its last line: daemon: lost the model"

# stop_timeout: SIGTERM, then SIGKILL after it, for a daemon as for the
# server's own group.  This one ignores SIGTERM; the default would wait 10 s.
P=$(free_port)
suite "$T/stubborn.json" "$P" \
	"{\"shell\": \"python3 daemon.py \$PORT $T/stubborn.pid ignore-term\", \"cwd\": \".\", \"stop_timeout\": \"0.5s\"}"
t0=$(date +%s)
expect_exit 0 "a server that ignores SIGTERM runs" "$PERFGATE" run "$T/stubborn.json" --no-store
t1=$(date +%s)
check "it was sent SIGTERM first" grep -q TERM "$T/stubborn.pid.term"
if alive "$(cat "$T/stubborn.pid")"; then not_ok "then SIGKILL"; else ok "then SIGKILL"; fi
check "after stop_timeout, not the default 10 s (took $((t1 - t0)) s)" test $((t1 - t0)) -lt 8
# "0s": SIGKILL at once, with no SIGTERM before it.
P=$(free_port)
suite "$T/stubborn0.json" "$P" \
	"{\"shell\": \"python3 daemon.py \$PORT $T/stubborn0.pid ignore-term\", \"cwd\": \".\", \"stop_timeout\": \"0s\"}"
expect_exit 0 "a server with stop_timeout 0s runs" "$PERFGATE" run "$T/stubborn0.json" --no-store
check "it was never sent SIGTERM" sh -c "[ ! -e '$T/stubborn0.pid.term' ]"
if alive "$(cat "$T/stubborn0.pid")"; then not_ok "it was killed at once"; else ok "it was killed at once"; fi

# A shard cannot start one (every shard would): exit 2, nothing started.
P=$(free_port)
rm -f "$T/started"
suite "$T/shard.json" "$P" "{\"shell\": \"echo started >$T/started; exec python3 $SERVER $T/service.json $T/pf.sh \$PORT\"}" \
	'{"duration": "0.3s", "concurrency": 2}'
expect_exit 2 "a sharded load test with a server is refused" "$PERFGATE" run "$T/shard.json" --no-store \
	--shard 1/2 --shard-group srv --start-at "$(($(date +%s) + 1))"
contains "... saying why" "$OUT" "a sharded load test cannot start its own \"server\" (every shard would start one)"
check "... before its server started" sh -c "[ ! -e '$T/started' ]"

# Input errors: exit 2 before anything starts.
cat >"$T/bad.json" <<JSON
{"suite": "srv", "benchmarks": [
  {"name": "cmd", "shell": "true", "server": {"shell": "true"}},
  {"name": "api", "http": {"url": "http://127.0.0.1:1/x"}, "load": {"duration": "1s"}, "server": {"shell": "a", "ready": "health"}},
  {"name": "api2", "http": {"url": "http://127.0.0.1:1/x"}, "load": {"duration": "1s"}, "server": {"shell": "a", "stop_timeout": "-1s"}}]}
JSON
expect_exit 2 "a server on a command benchmark, and a ready that is not a path, are input errors" \
	"$PERFGATE" run --list "$T/bad.json"
contains "the command benchmark's server is named" "$ERR" "benchmarks[0].server: only for \"http\" and \"journey\" benchmarks"
contains "the ready path is named" "$ERR" "benchmarks[1].server.ready: expected a path"
contains "a negative stop_timeout is named" "$ERR" "benchmarks[2].server.stop_timeout: expected a duration, 0 or more"
