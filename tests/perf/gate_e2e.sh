#!/bin/sh
# A handful of true end-to-end gates beside the replay (docs/performance.md,
# "gate accuracy"): real `perfgate gate` runs of the shell loop in a
# temporary git repository against a throwaway PostgreSQL: 5 baseline runs
# stored on main, then A/A gates (same work) and gates at +20% work on a
# branch, none of them stored.  The suite gates wall time and tracks CPU time
# (user) with gate: false; the JSON report gives both verdicts.  With
# CALIBRATION=1 the suite has a calibration (the loop at a fixed 10000
# iterations beside every repetition), so wall_rel and cpu_rel gate and the
# raw times are tracked (docs/suite.md, "Calibration").  LEVELS lists the
# work levels gated on branches (default "20000 24000": A/A and +20%).
# usage: gate_e2e.sh [TRIALS] [REPETITIONS]   (PERFGATE names the binary)
set -u
here=$(cd "$(dirname "$0")" && pwd)
trials=${1:-4}
reps=${2:-20}
: "${PERFGATE:=$here/../../build/perfgate}"
. "$here/../integration/lib.sh"
T=$(mktemp -d /tmp/perfgate-e2e.XXXXXX)
chmod 755 "$T"
trap 'pg_stop; rm -rf "$T"' EXIT
pg_start "$T/pg" || { echo "gate_e2e: cannot start PostgreSQL" >&2; exit 1; }
DB=$(new_db e2e)
export GIT_CONFIG_NOSYSTEM=1 HOME=$T NO_COLOR=1
R=$T/repo
git init -q -b main "$R"
git -C "$R" config user.email t@example.com
git -C "$R" config user.name t
cat >"$R/loop.sh" <<'EOS'
i=0; n=$(cat work); while [ $i -lt $n ]; do i=$((i+1)); done
EOS
if [ "${CALIBRATION:-0}" = 1 ]; then
	cat >"$R/suite.json" <<EOS
{
  "suite": "e2e", "project": "e2e",
  "benchmarks": [{"name": "loop", "shell": "sh loop.sh", "repetitions": $reps, "warmup": 1,
                  "calibration": "i=0; while [ \$i -lt 10000 ]; do i=\$((i+1)); done"}]
}
EOS
else
	cat >"$R/suite.json" <<EOS
{
  "suite": "e2e", "project": "e2e",
  "compare": {"gate": false, "metrics": {"wall": {"gate": true}}},
  "benchmarks": [{"name": "loop", "shell": "sh loop.sh", "repetitions": $reps, "warmup": 1}]
}
EOS
fi
echo 20000 >"$R/work"
git -C "$R" add -A && git -C "$R" commit -qm base
for i in 1 2 3 4 5; do
	echo "$i" >>"$R/notes"
	git -C "$R" add -A && git -C "$R" commit -qm "main $i"
	"$PERFGATE" gate --db "$DB" --quiet "$R/suite.json" >/dev/null 2>"$T/err"
	rc=$?
	[ $rc -le 1 ] || { echo "baseline run $i: exit $rc"; sed 's/^/    /' "$T/err"; }
done
verdicts() { # JSON report -> "wall=<verdict> user=<verdict>"
	python3 -c 'import json,sys
r = json.load(open(sys.argv[1]))
rows = r.get("rows") or r.get("results") or []
v = {x.get("metric"): x.get("verdict") for x in rows}
print(" ".join("%s=%s" % (k, v[k]) for k in ("wall", "user", "wall_rel", "cpu_rel") if k in v))' "$1" 2>/dev/null || echo "unreadable report"
}
for level in ${LEVELS:-20000 24000}; do
	fails=0
	for t in $(seq 1 "$trials"); do
		git -C "$R" checkout -q main
		git -C "$R" checkout -qb "t$level-$t"
		echo "$level" >"$R/work"
		echo "$t" >>"$R/notes"
		git -C "$R" commit -qam "trial $t at $level"
		rm -f "$T/r.json"
		"$PERFGATE" gate --db "$DB" --quiet --no-store "$R/suite.json" --json "$T/r.json" >"$T/out" 2>"$T/err"
		rc=$?
		[ $rc -eq 1 ] && fails=$((fails + 1))
		echo "work $level trial $t: exit $rc $(verdicts "$T/r.json")"
		[ $rc -le 1 ] || sed 's/^/    /' "$T/err"
	done
	echo "work $level: $fails of $trials gates failed"
done
