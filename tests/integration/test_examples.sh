#!/bin/sh
# The example inference servers (examples/servers/) under their own example
# suites (examples/chat.json, examples/classify.json), moved to free ports:
# they start with what `make deps` installs, answer in the OpenAI wire format
# and do the work the suites check.
. tests/integration/lib.sh
T=$(test_tmpdir)
PIDS=""
trap 'kill $PIDS 2>/dev/null; rm -rf "$T"' EXIT

# start NAME SCRIPT [ARGS]: start an example server on a free port; PORT_NAME set
start() {
	_name=$1; shift
	python3 "examples/servers/$1" --port 0 --port-file "$T/$_name.port" --pid-file "$T/$_name.pid" \
		--lifetime 120 "$@" >"$T/$_name.log" 2>&1 &
	PIDS="$PIDS $!"
	_i=0
	while [ ! -s "$T/$_name.port" ] && [ $_i -lt 200 ]; do sleep 0.05; _i=$((_i + 1)); done
	check "$_name server started" test -s "$T/$_name.port"
}

# suite EXAMPLE OUT PORT PIDFILE LOAD_JSON: the example suite with its URL on PORT,
# files resolved from examples/, the monitor on PIDFILE, and a shorter load
suite() {
	python3 - "$@" <<'PY'
import json, os, sys
src, out, port, pidfile, load = sys.argv[1:]
s = json.load(open(src))
for b in s["benchmarks"]:
    h = b["http"]
    h["url"] = h["url"].replace(":8000/", ":%s/" % port).replace(":8001/", ":%s/" % port)
    for k in ("body_file", "dataset"):
        if k in h:
            h[k] = os.path.abspath(os.path.join("examples", h[k]))
    b["load"] = json.loads(load)
    b["monitor"] = {"pid_file": pidfile, "gpu": False}
json.dump(s, open(out, "w"))
PY
}

# q RUN PYTHON_EXPR: evaluated over the run document's first benchmark
# (b; metrics' first samples by name in m)
q() {
	python3 - "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
b = d["benchmarks"][0]
m = {x["name"]: x["samples"][0] for x in b["metrics"] if x["samples"]}
print(eval(sys.argv[2]))
PY
}
is() {
	_r=$(q "$1" "$3" 2>&1)
	if [ "$_r" = "True" ]; then ok "$2"; else not_ok "$2 (got: $_r)"; fi
}

start chat completions_server.py --token-ms 1
P=$(cat "$T/chat.port")
suite examples/chat.json "$T/chat.json" "$P" "$T/chat.pid" \
	'{"mode": "concurrency", "concurrency": 2, "requests": 12}'
expect_exit 0 "chat example suite runs" timeout 60 "$PERFGATE" run -q --no-store --out "$T/chat.out" "$T/chat.json"
is "$T/chat.out" "chat: 12 streams, no errors" "m['error_rate'] == 0 and m['errors.incomplete_stream'] == 0"
is "$T/chat.out" "chat: 32 output tokens each, counted from usage" \
	"m['output_tokens'] == 32 and b['tokens']['source'] == 'usage'"
is "$T/chat.out" "chat: one token per event, so the gaps are itl" \
	"'itl.p50' in m and b['tokens']['gaps'] == 'itl'"
is "$T/chat.out" "chat: time to first token before the last, tpot about --token-ms" \
	"0 < m['ttft.p50'] < m['latency.p50'] and 0.0005 < m['tpot.p50'] < 0.05"
is "$T/chat.out" "chat: the server process was monitored" "m['server.rss.max'] > 1e6"

# the other endpoint and the non-streaming form, as a client would send them
python3 - "$P" >"$T/wire.out" 2>&1 <<'PY'
import json, sys, urllib.request
port = sys.argv[1]
def post(path, body):
    r = urllib.request.urlopen(urllib.request.Request(
        "http://127.0.0.1:%s%s" % (port, path), json.dumps(body).encode(),
        {"Content-Type": "application/json"}), timeout=10)
    return r.read().decode()
c = json.loads(post("/v1/completions", {"prompt": "a b c", "max_tokens": 5}))
assert c["object"] == "text_completion" and len(c["choices"][0]["text"].split()) == 5, c
u = c["usage"]  # BOS and three words; nothing cached yet
assert (u["prompt_tokens"], u["completion_tokens"], u["total_tokens"]) == (4, 5, 9), c
assert u["prompt_tokens_details"] == {"cached_tokens": 0}, c
s = post("/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 3,
                                  "stream": True})
ev = [l[6:] for l in s.split("\n") if l.startswith("data: ")]
assert ev[-1] == "[DONE]", ev
chunks = [json.loads(e) for e in ev[:-1]]
assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}, chunks[0]
words = [c["choices"][0]["delta"]["content"] for c in chunks[1:]]
assert len(words) == 3 and chunks[-1]["choices"][0]["finish_reason"] == "length", chunks
print("wire ok")
PY
check "completions: non-streaming and chat streaming in the OpenAI wire format" grep -q "wire ok" "$T/wire.out"

start classify classify_server.py
P=$(cat "$T/classify.port")
suite examples/classify.json "$T/classify.json" "$P" "$T/classify.pid" \
	'{"mode": "rate", "rate": 20, "duration": "1s", "warmup": "0.2s", "connections": 4}'
expect_exit 0 "classify example suite runs" timeout 60 "$PERFGATE" run -q --no-store --out "$T/classify.out" "$T/classify.json"
is "$T/classify.out" "classify: every prediction says cat (the suite's check)" \
	"m['error_rate'] == 0 and m['errors.failed_check'] == 0 and m['throughput'] > 10"
is "$T/classify.out" "classify: the server did work (CPU sampled)" "m['server.cpu.max'] > 0"
