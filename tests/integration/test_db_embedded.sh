#!/bin/sh
# The embedded cluster's life cycle under a private PERFGATE_HOME: status
# before first use, start, start again, push, stop, start on demand, the
# layout as root (server run by the postgres user, and the fallback folder
# when postgres cannot reach $PERFGATE_HOME), the same as an ordinary user,
# and the message when the server binaries are missing.
. tests/integration/lib.sh
# (Not T=$(test_tmpdir): its EXIT trap fires when the $(...) subshell ends.)
T=$(mktemp -d /tmp/perfgate-it.XXXXXX)
chmod 755 "$T"
TMPDIR_TEST=$T
cleanup() {
	for h in "$T/home" "$T/private/home" "$T/half"; do
		[ -e "$h/pg" ] && PERFGATE_HOME="$h" "$PERFGATE" db stop >/dev/null 2>&1
	done
	[ -e "$T/user/home/pg" ] && runuser -u postgres -- env PERFGATE_HOME="$T/user/home" \
		"$T/user/perfgate" db stop >/dev/null 2>&1
	for h in "$T/home" "$T/private/home"; do
		l=$(readlink "$h/pg" 2>/dev/null) || continue
		case "$l" in /var/lib/perfgate/clusters/?*) rm -rf "$l" ;; esac
	done
	rm -rf "$T"
}
trap cleanup EXIT
unset PERFGATE_DATABASE_URL PGHOST PGSERVICE
EX=$(pwd)/examples/run-example.json
RUN_ID=3f1c2a9e-7b4d-4c1e-9a55-0d2e8f6b1c01
# The newest migration compiled in: the highest NNNN of db/migrations/NNNN_*.sql.
LATEST=$(ls db/migrations/ | sed -n 's/^0*\([0-9][0-9]*\)_.*\.sql$/\1/p' | sort -n | tail -n 1)

export PERFGATE_HOME="$T/home"
expect_exit 0 "status before first use exits 0" "$PERFGATE" db status
contains "status says not initialised" "$OUT" "not initialised"
[ ! -e "$T/home/pg/data" ] && ok "status does not create the cluster" || not_ok "status created the cluster"

expect_exit 0 "db start initialises and starts" "$PERFGATE" db start
contains "db start says started" "$OUT" "started"
[ -S "$T/home/pg/.s.PGSQL.5432" ] && ok "the socket is inside PERFGATE_HOME/pg" || not_ok "no socket in $T/home/pg"
grep -q "^listen_addresses = ''" "$T/home/pg/data/postgresql.conf" && ok "no TCP listener configured" \
	|| not_ok "listen_addresses not empty"
if [ "$(id -u)" -eq 0 ]; then
	[ "$(stat -c %U "$T/home/pg/data")" = postgres ] && ok "as root the data folder belongs to postgres" \
		|| not_ok "data folder owner is $(stat -c %U "$T/home/pg/data")"
	pid=$(head -n 1 "$T/home/pg/data/postmaster.pid")
	[ "$(stat -c %U /proc/"$pid")" = postgres ] && ok "as root the server runs as postgres" \
		|| not_ok "server runs as $(stat -c %U /proc/"$pid")"
fi
expect_exit 0 "db start again exits 0" "$PERFGATE" db start
contains "db start again says already running" "$OUT" "already running"

expect_exit 0 "status of a running cluster" "$PERFGATE" db status
contains "status names the folder" "$OUT" "$T/home/pg"
contains "status names the server version" "$OUT" "PostgreSQL 1"
contains "status names the schema version" "$OUT" "schema:   version $LATEST ("
contains "status counts no runs yet" "$OUT" "runs:     0"

expect_exit 0 "push into the embedded cluster" "$PERFGATE" push "$EX"
expect_exit 0 "status after a push" "$PERFGATE" db status
contains "status counts one run" "$OUT" "runs:     1"

expect_exit 0 "db stop" "$PERFGATE" db stop
contains "db stop says stopped" "$OUT" "stopped"
[ ! -S "$T/home/pg/.s.PGSQL.5432" ] && ok "the socket is gone after stop" || not_ok "socket still there"
expect_exit 0 "status of a stopped cluster exits 0" "$PERFGATE" db status
contains "status says not running" "$OUT" "not running"
expect_exit 0 "db stop when stopped exits 0" "$PERFGATE" db stop
contains "db stop when stopped says so" "$OUT" "was not running"

# Any command that needs the database starts it again, data intact.
expect_exit 0 "push starts the stopped cluster on demand" "$PERFGATE" push "$EX"
contains "the run is still there after the restart" "$OUT" "already stored"
expect_exit 0 "status after the restart" "$PERFGATE" db status
contains "still one run" "$OUT" "runs:     1"
expect_exit 2 "db start refuses an external --db" "$PERFGATE" db start --db "postgresql://u@127.0.0.1:1/x"
contains "the refusal names the external database" "$ERR" "postgresql://u@127.0.0.1:1/x"
# After a crash (the server killed) the next command starts it again, once
# the dead server's children have let go of the data folder.
pid=$(head -n 1 "$T/home/pg/data/postmaster.pid")
kill -9 "$pid"
expect_exit 0 "push after the server was killed restarts it" "$PERFGATE" push "$EX"
contains "the run survived the crash" "$OUT" "already stored"
check "final stop" "$PERFGATE" db stop

# An initdb that was killed half-way leaves a data folder without PG_VERSION:
# it is put aside, not deleted, and a fresh cluster is made.
mkdir -p "$T/half/pg/data" && echo leftover >"$T/half/pg/data/junk"
expect_exit 0 "a half-made data folder does not block the start" env PERFGATE_HOME="$T/half" "$PERFGATE" db start
[ -f "$T/half/pg/data/PG_VERSION" ] && ok "a fresh cluster was made" || not_ok "no PG_VERSION in $T/half/pg/data"
ls "$T"/half/pg/data.incomplete.*/junk >/dev/null 2>&1 && ok "the old folder was kept aside" || not_ok "leftover not kept"
check "stop the fresh cluster" env PERFGATE_HOME="$T/half" "$PERFGATE" db stop

# Missing server binaries: the message names the Debian package; nothing is lost.
export PERFGATE_HOME="$T/nobin"
expect_exit 4 "push without server binaries exits 4" env PERFGATE_PG_BINDIR="$T/none" "$PERFGATE" push "$EX"
contains "the error names the Debian package" "$ERR" "install the Debian package 'postgresql'"
[ -f "$T/nobin/spool/$RUN_ID.json" ] && ok "the run was spooled" || not_ok "no spool file in $T/nobin/spool"

if [ "$(id -u)" -eq 0 ]; then
	# A PERFGATE_HOME that postgres cannot reach (like /root/.local/share/perfgate).
	mkdir -m 700 "$T/private"
	export PERFGATE_HOME="$T/private/home"
	expect_exit 0 "root with an unreachable home starts a cluster" "$PERFGATE" push "$EX"
	target=$(readlink "$T/private/home/pg")
	case "$target" in
	/var/lib/perfgate/clusters/*) ok "the cluster moved to /var/lib/perfgate/clusters" ;;
	*) not_ok "pg is not a link into /var/lib/perfgate/clusters: '$target'" ;;
	esac
	expect_exit 0 "status through the link" "$PERFGATE" db status
	contains "status counts the run" "$OUT" "runs:     1"
	check "stop the moved cluster" "$PERFGATE" db stop

	# An ordinary user: the same life cycle without runuser.
	mkdir "$T/user" && cp "$PERFGATE" "$EX" "$T/user/" && chown -R postgres "$T/user"
	as_user() { runuser -u postgres -- env PERFGATE_HOME="$T/user/home" "$@"; }
	expect_exit 0 "an ordinary user pushes (cluster started on demand)" as_user "$T/user/perfgate" push "$T/user/run-example.json"
	[ "$(stat -c %U "$T/user/home/pg/data")" = postgres ] && ok "the user's cluster belongs to the user" || not_ok "owner $(stat -c %U "$T/user/home/pg/data")"
	expect_exit 0 "an ordinary user's status" as_user "$T/user/perfgate" db status
	contains "the user's cluster holds the run" "$OUT" "runs:     1"
	expect_exit 0 "an ordinary user stops it" as_user "$T/user/perfgate" db stop
	contains "the user's cluster stopped" "$OUT" "stopped"
fi
