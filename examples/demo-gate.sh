#!/bin/sh
# The gate part of `make demo`: a temporary git repository holding
# examples/gate/suite.json and loop.sh (a shell loop whose work comes from
# the file 'work'); three gates on main build a baseline and pass, then a
# branch that triples the work fails the gate, confirmed by a re-run and
# beside main's commit in the same job (loop.sh is the repository's own
# script), with the report explaining the baseline; then the same branch
# fails `gate --base main`,
# measured beside main's files in the same job.  Uses the database perfgate finds (the embedded one
# by default); the repository is removed at the end.
set -eu
: "${PERFGATE:=build/perfgate}"
here=$(cd "$(dirname "$0")" && pwd)
repo=$(mktemp -d /tmp/perfgate-demo-gate.XXXXXX)
trap 'rm -rf "$repo"' EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

git init -q -b main "$repo"
git -C "$repo" config user.email demo@example.com
git -C "$repo" config user.name "perfgate demo"
cp "$here/gate/suite.json" "$here/gate/loop.sh" "$repo/"
echo 3000 >"$repo/work"
git -C "$repo" add -A
git -C "$repo" commit -qm "a loop of 3000 iterations"

say "gate on main: the first run has no baseline and passes"
"$PERFGATE" gate --quiet "$repo/suite.json"
for i in 2 3; do
	echo "main $i" >"$repo/notes"
	git -C "$repo" add -A
	git -C "$repo" commit -qm "main commit $i"
	say "gate on main, commit $i: compared with the runs before it"
	# On a busy machine an unchanged loop can still differ by more than the
	# 10% floor now and then; the demo goes on either way.
	"$PERFGATE" gate --quiet "$repo/suite.json" || echo "(exit $? on an unchanged commit: a noisy machine)"
done

say "a branch that triples the work: the gate fails (exit 1), confirmed beside main's commit"
git -C "$repo" checkout -qb slower-loop
echo 9000 >"$repo/work"
git -C "$repo" commit -qam "three times the work"
set +e
"$PERFGATE" gate --quiet "$repo/suite.json" --markdown "$repo/comment.md"
rc=$?
set -e
echo "exit status: $rc"
say "the same comparison as Markdown for a pull-request comment (first lines)"
head -n 12 "$repo/comment.md"
if [ "$rc" -ne 1 ]; then
	echo "demo: expected the slower branch to fail the gate with exit 1, got $rc" >&2
	exit 1
fi

say "the same branch against main measured in this job: perfgate gate --base main (no history, no database)"
set +e
"$PERFGATE" gate --quiet --base main "$repo/suite.json"
rc=$?
set -e
echo "exit status: $rc"
if [ "$rc" -ne 1 ]; then
	echo "demo: expected gate --base main to fail the slower branch with exit 1, got $rc" >&2
	exit 1
fi
