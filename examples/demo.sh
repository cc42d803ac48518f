#!/bin/sh
# `make demo`: perfgate's main job on the embedded database.
#
# The embedded database is a private PostgreSQL cluster that perfgate
# initialises and starts on demand under $PERFGATE_HOME.  The demo uses a
# PERFGATE_HOME of its own, DEMO_HOME (default $TMPDIR/perfgate-demo), and
# not yours on purpose: its runs, baselines and verdicts must not enter your
# history, and it stops its cluster when it ends.  It says so when it
# starts.  Run as root, the cluster runs as the unprivileged `postgres` user.
set -eu
: "${PERFGATE:=build/perfgate}"
here=$(cd "$(dirname "$0")" && pwd)
if [ -n "${PERFGATE_HOME:-}" ] && [ "$PERFGATE_HOME" != "${DEMO_HOME:-${TMPDIR:-/tmp}/perfgate-demo}" ]; then
	echo "== note: the demo keeps its runs apart from yours: it uses DEMO_HOME (${DEMO_HOME:-${TMPDIR:-/tmp}/perfgate-demo}), not your PERFGATE_HOME ($PERFGATE_HOME); set DEMO_HOME to choose"
fi
PERFGATE_HOME=${DEMO_HOME:-${TMPDIR:-/tmp}/perfgate-demo}
export PERFGATE_HOME
unset PERFGATE_DATABASE_URL PGHOST PGSERVICE || true
mkdir -p "$PERFGATE_HOME"
chmod 755 "$PERFGATE_HOME"
trap '"$PERFGATE" db stop >/dev/null 2>&1 || true' EXIT

# --- the store (issue 2): the embedded database, a stored run document, where it is
echo "== perfgate db start   (initdb on first use, Unix socket only, under $PERFGATE_HOME/pg)"
"$PERFGATE" db start
echo "== perfgate push examples/run-example.json   (pushing it again says 'already stored')"
"$PERFGATE" push "$here/run-example.json"
echo "== perfgate db status"
"$PERFGATE" db status
echo

# --- run: the quickstart suite, stored in the embedded database (issue 3)
echo "== perfgate run examples/quickstart.json   (database: embedded, under $PERFGATE_HOME)"
"$PERFGATE" run --tag demo=quickstart --out "$PERFGATE_HOME/quickstart-run.json" "$here/quickstart.json"
echo
echo "== the run document: $PERFGATE_HOME/quickstart-run.json"
echo "== stored so far:"
"$PERFGATE" history --suite quickstart --list
echo
echo "== gzip-9's wall time over the stored runs (run 'make demo' again to add one)"
"$PERFGATE" history --suite quickstart gzip-9/wall

# --- gate: passing on main, then failing on a deliberate regression (issue 4;
# examples/demo-gate.sh, examples/gate/suite.json), in the same embedded database
echo
PERFGATE="$PERFGATE" sh "$here/demo-gate.sh"

# --- a load test of a streaming LLM endpoint (issue 5; examples/demo-load.sh,
# examples/chat.json, examples/servers/completions_server.py)
echo
PERFGATE="$PERFGATE" sh "$here/demo-load.sh"

# --- a multi-step journey with a fault in a dependency (issue 16; examples/demo-rag.sh,
# examples/rag/)
echo
PERFGATE="$PERFGATE" sh "$here/demo-rag.sh"

# --- history, change points and plots (issue 6; examples/demo-history.sh)
echo
PERFGATE="$PERFGATE" sh "$here/demo-history.sh"
