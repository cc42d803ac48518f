#!/bin/sh
# Gate trust end to end (issue 15; docs/performance.md, "Gate trust
# end to end"): repeated real `perfgate gate` runs on real git commits
# (tests/perf/gate_trust.py) against a throwaway PostgreSQL, while a noisy
# neighbour takes one CPU on and off at random (busy and idle for 0.2 to
# 3 s each, uniformly), as a shared CI runner's other jobs do.  Everything
# runs at the niceness the script is started with, the neighbour included,
# so that the machine's other users keep their priority over both.
# usage: gate_trust.sh SCENARIO RESULTS [gate_trust.py options]
#        NEIGHBOUR=0 for a run without the neighbour
set -u
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 2 ] || { echo "usage: gate_trust.sh SCENARIO RESULTS [options]" >&2; exit 2; }
: "${PERFGATE:=$here/../../build/perfgate}"
export PERFGATE
. "$here/../integration/lib.sh"
T=$(mktemp -d /tmp/perfgate-trust.XXXXXX)
chmod 755 "$T"
npid=
dpid=
cleanup() {
	[ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid"
	[ -n "$npid" ] && kill "$npid" 2>/dev/null
	pg_stop
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
pg_start "$T/pg" || { echo "gate_trust: cannot start PostgreSQL" >&2; exit 1; }
PERFGATE_TRUST_DB=$(new_db trust)
export PERFGATE_TRUST_DB
if [ "${NEIGHBOUR:-1}" = 1 ]; then
	python3 "$here/neighbour.py" "$$" &
	npid=$!
	echo "$npid" >"$T/neighbour.pid"
fi
python3 "$here/gate_trust.py" "$@" &
dpid=$!
wait "$dpid"
rc=$?
dpid=
exit $rc
