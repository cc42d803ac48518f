#!/bin/sh
# Run perfgate's tests: every unit test binary given as an argument, then
# every tests/integration/test_*.sh against one throwaway PostgreSQL server
# that this script starts (and stops) itself.  Each test prints TAP lines
# ("ok ..." / "not ok ..."); this script counts them and ends with
#   tests: N passed, N failed
# exiting nonzero when anything failed.  TESTS=pattern runs matching files only.
set -u
# Debian's python3 (with python3-yaml, python3-scipy, ...) before any other
# python3 on PATH, such as a pyenv shim without those packages.
PATH=/usr/bin:$PATH
export PATH
here=$(cd "$(dirname "$0")" && pwd)
: "${PERFGATE:?PERFGATE must name the perfgate binary}"
export PERFGATE
TESTS=${TESTS:-}
log=$(mktemp -d /tmp/perfgate-tests.XXXXXX)
chmod 755 "$log"
# No test touches the user's own data: one private $PERFGATE_HOME for the run
# (tests that need their own set it); an embedded cluster started there by a
# test that did not name a database is stopped at the end.
PERFGATE_HOME="$log/home"
export PERFGATE_HOME
passed=0
failed=0
skipped=0
failures=""

count() { # file label
	# TAP directives: "# SKIP" lines are skipped, whether cmocka wrote them
	# as "ok" or "not ok"; everything else counts as passed or failed.
	k=$(grep -cE '^(not )?ok .*# SKIP' "$1" || true)
	p=$(grep '^ok ' "$1" | grep -vc '# SKIP' || true)
	f=$(grep '^not ok ' "$1" | grep -vc '# SKIP' || true)
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + k))
	if [ "$f" -gt 0 ]; then
		failures="$failures\n$(grep '^not ok ' "$1" | grep -v '# SKIP' | sed "s|^|  $2: |")"
	fi
	echo "$p passed, $f failed, $k skipped  $2"
}

for t in "$@"; do
	name=$(basename "$t")
	case "$name" in *"$TESTS"*) ;; *) continue ;; esac
	out="$log/$name.out"
	CMOCKA_MESSAGE_OUTPUT=TAP "$t" >"$out" 2>&1
	rc=$?
	if [ $rc -ne 0 ] && ! grep -q '^not ok ' "$out"; then
		echo "not ok - $name exited with status $rc" >>"$out"
	fi
	count "$out" "unit/$name"
done

# One PostgreSQL server for all integration tests; each test makes its own database.
. "$here/integration/lib.sh"
if ls "$here"/integration/test_*.sh >/dev/null 2>&1; then
	if pg_start "$log/pg"; then
		for t in "$here"/integration/test_*.sh; do
			name=$(basename "$t" .sh)
			case "$name" in *"$TESTS"*) ;; *) continue ;; esac
			out="$log/$name.out"
			TEST_TMPROOT="$log/tmp.$name"
			mkdir -p "$TEST_TMPROOT"
			chmod 755 "$log" "$TEST_TMPROOT"
			export TEST_TMPROOT
			( cd "$here/.." && sh "$t" ) >"$out" 2>&1
			rc=$?
			if [ $rc -ne 0 ] && ! grep -q '^not ok ' "$out"; then
				echo "not ok - $name exited with status $rc" >>"$out"
			fi
			count "$out" "integration/$name"
			grep -q '^not ok ' "$out" || rm -rf "$TEST_TMPROOT"
		done
		pg_stop
	else
		echo "not ok - could not start the test PostgreSQL server" >"$log/pg.out"
		cat "$log/pg-start.log" 2>/dev/null
		count "$log/pg.out" "integration"
	fi
fi

[ -e "$PERFGATE_HOME/pg" ] && "$PERFGATE" db stop >/dev/null 2>&1

if [ "$failed" -gt 0 ]; then
	printf 'failures:%b\n' "$failures"
	echo "logs: $log"
else
	rm -rf "$log"
fi
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
