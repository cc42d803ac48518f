#!/bin/sh
# The load-test part of `make demo`: start the example streaming completions
# server (examples/servers/completions_server.py, OpenAI wire format), gate
# examples/chat.json against it (time to first token, time per output token,
# goodput, and the suite's SLOs), then stop the server.  Uses the database
# that demo.sh set up ($PERFGATE_HOME).
set -eu
: "${PERFGATE:=build/perfgate}"
here=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
work=$(mktemp -d "${TMPDIR:-/tmp}/perfgate-demo-load.XXXXXX")
server=""
cleanup() {
	[ -n "$server" ] && kill "$server" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

# The suite targets port 8001, as the server's default.
"$PY" "$here/servers/completions_server.py" --port 8001 --port-file "$work/port" --lifetime 300 \
	>"$work/server.log" 2>&1 &
server=$!
i=0
while [ ! -s "$work/port" ]; do
	i=$((i + 1))
	if [ $i -gt 200 ] || ! kill -0 "$server" 2>/dev/null; then
		echo "demo: the example server did not start (is port 8001 free?):" >&2
		cat "$work/server.log" >&2
		exit 1
	fi
	sleep 0.05
done

echo "== perfgate gate examples/chat.json   (a streaming completions server on 127.0.0.1:8001)"
rc=0
"$PERFGATE" gate "$here/chat.json" --no-confirm || rc=$?
echo
echo "== the same run's time to first token over the stored runs"
"$PERFGATE" history --suite chat-example chat/ttft.p95 || true
echo
case $rc in
0) echo "demo: the load test passed its SLOs (exit 0)" ;;
1) echo "demo: the load test broke an SLO or regressed (exit 1)" ;;
*) echo "demo: the load test could not be judged (exit $rc)"; exit "$rc" ;;
esac
