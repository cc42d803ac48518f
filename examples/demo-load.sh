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

# --- LLM workloads (issue 13; examples/llm.json): multi-turn conversations
# whose turns carry the server's own replies, and a shared system prompt
# its prefix cache serves; every request's record in a JSON-lines file
echo
echo "== perfgate run examples/llm.json --bench conversations --bench shared-prefix --requests FILE"
llm_rc=0
"$PERFGATE" run --no-store --bench conversations --bench shared-prefix --requests "$work/requests.jsonl" \
	--out "$work/llm.json" "$here/llm.json" >/dev/null || llm_rc=$?
"$PY" - "$work/llm.json" "$work/requests.jsonl" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for b in d["benchmarks"]:
    m = {x["name"]: x["samples"][0] for x in b["metrics"] if x["samples"]}
    if b["name"] == "conversations":
        print("conversations: %d sessions, %d turns (the server checked every history)"
              % (b["sessions"][0]["completed"], b["sessions"][0]["turns"]))
        for t in (1, 2, 3, 4):
            print("  turn %d: input %5.0f tokens, %3.0f%% of them cached, ttft p50 %.1f ms"
                  % (t, m["input_tokens[turn%d]" % t], 100 * m["cached_token_share[turn%d]" % t],
                     1000 * m["ttft.p50[turn%d]" % t]))
    else:
        print("shared-prefix: %.0f%% of the input tokens served from the prefix cache, ttft p95 %.1f ms, "
              "%d length mismatches" % (100 * m["cached_token_share"], 1000 * m["ttft.p95"], m["length_mismatches"]))
print("%d per-request records in %s" % (sum(1 for _ in open(sys.argv[2])), "requests.jsonl"))
PY
[ "$llm_rc" -eq 0 ] || { echo "demo: the LLM workloads failed (exit $llm_rc)"; exit "$llm_rc"; }
