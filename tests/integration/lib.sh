# Shared helpers for tests/integration/test_*.sh (POSIX sh).
#
# A test file sources this, then calls `check`, `expect_exit`, `ok` and
# `not_ok`, which print TAP lines that tests/run.sh counts.  The runner starts
# one PostgreSQL server (pg_start) and exports TEST_PGHOST (its socket
# folder) and TEST_PGPORT; `new_db NAME` creates a fresh database on it and
# prints its connection URL.

PERFGATE=${PERFGATE:-$(pwd)/build/perfgate}

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; }

# check NAME COMMAND...: passes when the command exits 0.
check() {
	_name=$1; shift
	if "$@" >/dev/null 2>&1; then ok "$_name"; else not_ok "$_name"; fi
}

# expect_exit CODE NAME COMMAND...: passes when the command exits with CODE.
# The command's stdout and stderr are left in $OUT and $ERR files.
expect_exit() {
	_want=$1; _name=$2; shift 2
	OUT=${TEST_TMPROOT:-/tmp}/out.$$; ERR=${TEST_TMPROOT:-/tmp}/err.$$
	"$@" >"$OUT" 2>"$ERR"
	_got=$?
	if [ "$_got" -eq "$_want" ]; then
		ok "$_name"
	else
		not_ok "$_name (exit $_got, expected $_want): $(head -c 300 "$ERR")"
	fi
}

# check_py NAME COMMAND...: passes when COMMAND (a python3 -c check with
# its asserts) exits 0; else the last line it printed says why.
check_py() { _n=$1; shift; if _o=$("$@" 2>&1); then ok "$_n"; else not_ok "$_n: $(echo "$_o" | tail -n 1)"; fi; }

# contains NAME FILE TEXT: passes when FILE contains TEXT (fixed string).
contains() {
	if grep -qF -- "$3" "$2"; then ok "$1"; else not_ok "$1: '$3' not in $(head -c 300 "$2")"; fi
}
# lacks NAME FILE TEXT: passes when FILE does not contain TEXT.
lacks() {
	if grep -qF -- "$3" "$2"; then not_ok "$1: '$3' found"; else ok "$1"; fi
}

# A private temporary folder for the calling test: `T=$(test_tmpdir)`.
# tests/run.sh points TEST_TMPROOT at a per-test folder that it removes after
# the test (a trap here would run in the $(...) subshell and delete it at once).
test_tmpdir() {
	_root=${TEST_TMPROOT:-/tmp}
	mkdir -p "$_root"
	_d=$(mktemp -d "$_root/perfgate-it.XXXXXX")
	chmod 755 "$_d"
	echo "$_d"
}

# PostgreSQL server binaries, as db/ finds them.
pg_bindir() {
	if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
		pg_config --bindir
		return
	fi
	ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

# Run a command as the unprivileged postgres user when we are root.
as_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

pg_start() { # DIR
	_dir=$1
	mkdir -p "$_dir"
	[ "$(id -u)" -eq 0 ] && chown postgres "$_dir"
	_bin=$(pg_bindir)
	[ -n "$_bin" ] || { echo "no PostgreSQL server binaries" >&2; return 1; }
	as_pg "$_bin/initdb" -D "$_dir/data" -U postgres -A trust >"$_dir/../pg-start.log" 2>&1 || return 1
	TEST_PGPORT=$(( 20000 + $$ % 20000 ))
	as_pg "$_bin/pg_ctl" -D "$_dir/data" -w -l "$_dir/server.log" \
		-o "-k $_dir -p $TEST_PGPORT -c listen_addresses='' -c fsync=off -c max_connections=200" \
		start >>"$_dir/../pg-start.log" 2>&1 || return 1
	TEST_PGHOST=$_dir
	TEST_PGDIR=$_dir
	export TEST_PGHOST TEST_PGPORT TEST_PGDIR
}

pg_stop() {
	as_pg "$(pg_bindir)/pg_ctl" -D "$TEST_PGDIR/data" -m fast stop >/dev/null 2>&1
}

# new_db NAME: create a fresh database, print its URL.
new_db() {
	_db="t_$1_$$"
	as_pg "$(pg_bindir)/psql" -h "$TEST_PGHOST" -p "$TEST_PGPORT" -U postgres -d postgres -qAt \
		-c "DROP DATABASE IF EXISTS \"$_db\"" -c "CREATE DATABASE \"$_db\"" >/dev/null 2>&1
	echo "postgresql:///$_db?host=$TEST_PGHOST&port=$TEST_PGPORT&user=postgres"
}

# git_repo DIR: a new git repository at DIR, branch main, with a committer
# set (the tests' commits need one); fails when git does.
git_repo() {
	git init -q -b main "$1" && git -C "$1" config user.email t@example.com && git -C "$1" config user.name t
}

# psql_q URL SQL: run one query, print unaligned tuples.
psql_q() {
	psql "$1" -qAt -c "$2"
}
