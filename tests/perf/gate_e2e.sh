#!/bin/sh
# A handful of true end-to-end gates (docs/performance.md, "end-to-end
# gates"), confirming what tests/perf/gate_accuracy replays on recorded series:
# a temporary git repository with the shell loop of the accuracy figures,
# BASE gates on main build the baseline, then TRIALS gates each of an
# unchanged branch (A/A), +10% and +20% work, each with `--no-store` so the
# baseline stays the same.  Every gate is the real `perfgate gate` (run,
# baseline selection, Mann-Whitney + Hodges-Lehmann + floor + BH,
# confirmation).  Prints the counts of failing gates.
#   usage: gate_e2e.sh   (PERFGATE, GATE_E2E_TRIALS, GATE_E2E_BASE, GATE_E2E_WORK, GATE_E2E_REPS)
set -eu
: "${PERFGATE:=build/perfgate}"
trials=${GATE_E2E_TRIALS:-5}
base=${GATE_E2E_BASE:-5}
work=${GATE_E2E_WORK:-20000}
reps=${GATE_E2E_REPS:-20}
tmp=$(mktemp -d /tmp/perfgate-gate-e2e.XXXXXX)
trap '"$PERFGATE" db stop >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
export PERFGATE_HOME="$tmp/home" GIT_CONFIG_NOSYSTEM=1 HOME="$tmp" NO_COLOR=1
unset PERFGATE_DATABASE_URL PGHOST PGSERVICE || true
r=$tmp/repo

git init -q -b main "$r"
git -C "$r" config user.email e2e@example.com
git -C "$r" config user.name e2e
cat >"$r/suite.json" <<EOF
{"suite": "gate-e2e", "project": "gate-e2e",
 "baseline": {"branch": "main", "runs": $base},
 "compare": {"gate": false, "metrics": {"wall": {"gate": true}}},
 "benchmarks": [{"name": "loop", "warmup": 1, "repetitions": $reps,
   "shell": "i=0; n=\$(cat work); while [ \$i -lt \$n ]; do i=\$((i+1)); done"}]}
EOF
echo "$work" >"$r/work"
git -C "$r" add -A
git -C "$r" commit -qm base

i=0
while [ "$i" -lt "$base" ]; do
	i=$((i + 1))
	echo "$i" >"$r/n"
	git -C "$r" add -A
	git -C "$r" commit -qm "main $i"
	"$PERFGATE" gate --quiet "$r/suite.json" >/dev/null 2>&1 || true
done

# trials LABEL WORK: TRIALS gates on a branch at WORK iterations; prints failures/TRIALS
run_trials() {
	label=$1 w=$2 fails=0 t=0
	git -C "$r" checkout -q main
	git -C "$r" checkout -qb "$label"
	echo "$w" >"$r/work"
	git -C "$r" commit -qam "$label" --allow-empty
	while [ "$t" -lt "$trials" ]; do
		t=$((t + 1))
		set +e
		"$PERFGATE" gate --quiet --no-store "$r/suite.json" >"$tmp/out" 2>&1
		rc=$?
		set -e
		case $rc in
		0) ;;
		1) fails=$((fails + 1)) ;;
		*) echo "gate exited $rc:"; cat "$tmp/out"; exit 1 ;;
		esac
	done
	printf '%-22s %d/%d gates failed\n' "$label" "$fails" "$trials"
}

echo "== end-to-end gates: loop of $work iterations, $reps repetitions, baseline of $base runs on main"
run_trials "a-a" "$work"
run_trials "plus-10pct" "$((work * 11 / 10))"
run_trials "plus-20pct" "$((work * 12 / 10))"
