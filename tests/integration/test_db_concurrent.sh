#!/bin/sh
# Concurrent first use: twenty perfgate processes at once against a fresh
# PERFGATE_HOME start one embedded server and all store their run; twenty
# `db migrate` at once against an empty database apply each migration
# exactly once, with no error in any of them.
. tests/integration/lib.sh
T=$(mktemp -d /tmp/perfgate-it.XXXXXX)
chmod 755 "$T"
cleanup() {
	[ -e "$T/home/pg" ] && PERFGATE_HOME="$T/home" "$PERFGATE" db stop >/dev/null 2>&1
	l=$(readlink "$T/home/pg" 2>/dev/null) && case "$l" in /var/lib/perfgate/clusters/?*) rm -rf "$l" ;; esac
	rm -rf "$T"
}
trap cleanup EXIT
unset PERFGATE_DATABASE_URL PGHOST PGSERVICE
EX=examples/run-example.json
N=20
eq() { # NAME GOT WANT
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1: got '$2', want '$3'"; fi
}
# wait_all NAME: wait for the background jobs listed in $pids, count failures.
wait_all() {
	_fail=0
	for _p in $pids; do wait "$_p" || _fail=$((_fail + 1)); done
	eq "$1" "$_fail" 0
}

# Twenty pushes of different runs into a cluster that does not exist yet.
export PERFGATE_HOME="$T/home"
i=1
while [ $i -le $N ]; do
	sed "s/0d2e8f6b1c01/0d2e8f6b1$(printf %03d $i)/" "$EX" >"$T/run$i.json"
	i=$((i + 1))
done
pids=""
i=1
while [ $i -le $N ]; do
	"$PERFGATE" push "$T/run$i.json" >"$T/push$i.out" 2>"$T/push$i.err" &
	pids="$pids $!"
	i=$((i + 1))
done
wait_all "all $N concurrent first pushes exit 0"
eq "no push wrote to stderr" "$(cat "$T"/push*.err | wc -c | tr -d ' ')" 0
eq "one server started (one 'ready to accept connections' in its log)" \
	"$(grep -c 'ready to accept connections' "$T/home/pg/server.log")" 1
expect_exit 0 "status after the concurrent pushes" "$PERFGATE" db status
contains "all $N runs are stored" "$OUT" "runs:     $N"
SOCK=$(cd "$T/home/pg" && pwd -P)
eq "schema migrated once" \
	"$(psql_q "postgresql:///postgres?host=$SOCK&user=perfgate" "select count(*) = count(distinct version) from schema_migrations")" t

# Twenty migrations at once against an empty database on the test server.
DB=$(new_db concurrent)
pids=""
i=1
while [ $i -le $N ]; do
	"$PERFGATE" db migrate --db "$DB" >"$T/mig$i.out" 2>"$T/mig$i.err" &
	pids="$pids $!"
	i=$((i + 1))
done
wait_all "all $N concurrent db migrate exit 0"
eq "no migrate wrote to stderr" "$(cat "$T"/mig*.err | wc -c | tr -d ' ')" 0
# Each migration file in db/migrations/ is recorded exactly once.
want=$(ls db/migrations/*.sql | wc -l | tr -d ' ')
eq "schema_migrations has one row per migration file" \
	"$(psql_q "$DB" "select count(*) from schema_migrations")" "$want"
eq "no version twice" "$(psql_q "$DB" "select count(*) = count(distinct version) from schema_migrations")" t
eq "exactly one process applied the migrations" \
	"$(cat "$T"/mig*.out | grep -vc '(0 migrations applied)')" 1
eq "the tables exist" "$(psql_q "$DB" "select count(*) from information_schema.tables where table_name in ('runs','results','machines')")" 3
