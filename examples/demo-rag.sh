#!/bin/sh
# The journeys-and-faults part of `make demo`: start the RAG example's three
# services (examples/rag/: embedding, vector search, streaming model), gate
# the RAG journey with perfgate's proxy slowing the vector search for 6 s
# (examples/rag/rag-faults.json), show the phases around the fault, stop the
# services.  Uses the database that demo.sh set up ($PERFGATE_HOME).
set -eu
: "${PERFGATE:=build/perfgate}"
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/perfgate-demo-rag.XXXXXX")
cleanup() {
	sh "$here/rag/services.sh" stop "$work" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

sh "$here/rag/services.sh" start "$work"
echo "== perfgate gate examples/rag/rag-faults.json   (embed -> search -> generate; the search slowed from 6 s to 12 s)"
rc=0
"$PERFGATE" gate "$here/rag/rag-faults.json" --no-confirm >"$work/gate.txt" || rc=$?
# The report lists every metric of every step; the journey's, the phases'
# and the SLOs tell the story.
grep -E 'baseline:|journey\.(latency\.p50|latency\.p95|error_rate) |(before|during|after)\.(latency\.p95|error_rate) |recovery_time  |requests_lost|proxy\.overhead|latency\.p95\[(search|generate)\]|^SLOs:|^  (met|broken|violated) |^passed|^failed' \
	"$work/gate.txt" || cat "$work/gate.txt"
echo
case $rc in
0) echo "demo: the RAG journey held its SLOs through the slow search (exit 0)" ;;
1) echo "demo: the RAG journey broke an SLO or regressed (exit 1)" ;;
*) echo "demo: the RAG journey could not be judged (exit $rc)"; exit "$rc" ;;
esac
