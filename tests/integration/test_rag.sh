#!/bin/sh
# The RAG example (examples/rag/): its three services start with what
# `make deps` installs, the journey suite runs against them (the search
# service refuses anything but an embedding, so a run without errors means
# the embedding travelled from the first step to the second), and the
# fault suite shows the slowed search in its phases.  Free ports and
# shorter windows than the example's; every run bounded by `timeout`.
. tests/integration/lib.sh
T=$(test_tmpdir)
export GIT_CONFIG_NOSYSTEM=1 HOME=$T PERFGATE_HOME=$T/home NO_COLOR=1
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
E=$(free_port); S=$(free_port); M=$(free_port); X=$(free_port)
trap 'sh examples/rag/services.sh stop "$T/svc"; rm -rf "$T"' EXIT
if RAG_PORTS="$E $S $M" RAG_LIFETIME=300 sh examples/rag/services.sh start "$T/svc"; then
	ok "the three services start"
else
	not_ok "the services did not start"
	exit 0
fi

# The example suites with these ports and a 5 s window (the fault from 1.5 s for 2 s).
python3 - "$T" "$E" "$S" "$M" "$X" <<'PY'
import json, sys
t, e, s, m, x = sys.argv[1:]
for name in ("rag", "rag-faults"):
    text = open("examples/rag/%s.json" % name).read()
    text = text.replace(":8101/", ":%s/" % e).replace(":8102/", ":%s/" % s).replace(":8103/", ":%s/" % m)
    text = text.replace("127.0.0.1:9102", "127.0.0.1:%s" % x).replace('"127.0.0.1:8102"', '"127.0.0.1:%s"' % s)
    d = json.loads(text)
    b = d["benchmarks"][0]
    b["load"]["duration"] = "5s"
    b["load"]["warmup"] = "500ms"
    b["load"]["rate"] = 6
    if "faults" in b:
        for f in b["faults"]["schedule"]:
            f["at"], f["duration"] = "1.5s", "2s"
        b["faults"]["recovery"]["window"] = "1s"
    json.dump(d, open("%s/%s.json" % (t, name), "w"))
PY
cp examples/rag/questions.jsonl "$T/"

expect_exit 0 "rag: the journey suite runs" timeout 120 "$PERFGATE" run -q --no-store --out "$T/rag.out.json" "$T/rag.json"
q() {
	python3 - "$1" "$2" <<'PY' 2>&1
import json, sys
b = json.load(open(sys.argv[1]))["benchmarks"][0]
m = {x["name"]: x["samples"][0] for x in b["metrics"] if x["samples"]}
print(eval(sys.argv[2]))
PY
}
is() { _r=$(q "$1" "$3"); if [ "$_r" = True ]; then ok "$2"; else not_ok "$2 (got: $_r)"; fi; }
is "$T/rag.out.json" "rag: every journey answered, the embedding accepted by the search" \
	"m['journey.error_rate'] == 0 and m['errors.4xx[search]'] == 0 and m['requests[embed]'] == m['requests[search]'] == m['requests[generate]'] > 10"
is "$T/rag.out.json" "rag: the answer is streamed (ttft and tpot of the generate step)" \
	"0 < m['ttft.p50[generate]'] < m['latency.p50[generate]'] and m['tpot.p50[generate]'] > 0 and m['output_tokens[generate]'] == 24"
is "$T/rag.out.json" "rag: the journey lasts at least its steps" \
	"m['journey.latency.p50'] >= m['latency.p50[embed]'] + m['latency.p50[search]']"

expect_exit 0 "rag-faults: the fault suite runs" timeout 120 "$PERFGATE" run -q --no-store --out "$T/ragf.out.json" "$T/rag-faults.json"
is "$T/ragf.out.json" "rag-faults: answers are 200 ms slower while the search is" \
	"m['during.latency.p50'] >= m['before.latency.p50'] + 0.15 and m['after.latency.p50'] < m['before.latency.p50'] + 0.15"
is "$T/ragf.out.json" "rag-faults: the slowed step is the search" \
	"m['latency.p95[search]'] >= 0.15 and m['latency.p50[embed]'] < 0.15"
is "$T/ragf.out.json" "rag-faults: the proxy's overhead is reported" "m['proxy.overhead.p50'] > 0"
