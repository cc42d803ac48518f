#!/bin/sh
# An external PostgreSQL over TCP with password authentication (SCRAM):
# push and status through a URL with the password, through
# PERFGATE_DATABASE_URL, through PG* variables, and with a wrong password;
# the password appears in no output at all.
. tests/integration/lib.sh
T=$(mktemp -d /tmp/perfgate-it.XXXXXX)
chmod 755 "$T"
[ "$(id -u)" -eq 0 ] && chown postgres "$T"
BIN=$(pg_bindir)
cleanup() {
	as_pg "$BIN/pg_ctl" -D "$T/data" -m immediate stop >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT
unset PERFGATE_DATABASE_URL PGHOST PGSERVICE PGPASSWORD PGUSER PGDATABASE PGPORT
export PERFGATE_HOME="$T/home"
EX=examples/run-example.json
SECRET="Pw-$$-x9Q7zK"
WRONG="Wr0ng-$$-pass"
ALL="$T/all-output"
: >"$ALL"
keep() { cat "$OUT" "$ERR" >>"$ALL"; }

# A second throwaway server on 127.0.0.1 that demands SCRAM passwords over TCP.
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_pg "$BIN/initdb" -D "$T/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 >"$T/initdb.log" 2>&1 \
	|| { not_ok "initdb of the password server: $(tail -n 3 "$T/initdb.log")"; exit 0; }
as_pg "$BIN/pg_ctl" -D "$T/data" -w -l "$T/server.log" \
	-o "-k $T -p $PORT -c listen_addresses=127.0.0.1" start >/dev/null 2>&1 \
	|| { not_ok "start the password server: $(tail -n 3 "$T/server.log")"; exit 0; }
as_pg psql -h "$T" -p "$PORT" -U postgres -d postgres -qAt \
	-c "CREATE ROLE bench LOGIN PASSWORD '$SECRET'" -c "CREATE DATABASE perf OWNER bench" >/dev/null \
	&& ok "password server ready" || not_ok "create the role and database"
URL="postgresql://bench:$SECRET@127.0.0.1:$PORT/perf"

expect_exit 0 "push over TCP with the password in --db" "$PERFGATE" push --db "$URL" "$EX"; keep
contains "the run was stored" "$OUT" "stored run"
expect_exit 0 "status through --db" "$PERFGATE" db status --db "$URL"; keep
contains "status shows the URL without the password" "$OUT" "postgresql://bench:***@127.0.0.1:$PORT/perf"
contains "status counts the run" "$OUT" "runs:     1"
expect_exit 0 "status through PERFGATE_DATABASE_URL" env PERFGATE_DATABASE_URL="$URL" "$PERFGATE" db status; keep
contains "the environment URL is used" "$OUT" "127.0.0.1:$PORT"
expect_exit 0 "status through PGHOST/PGPASSWORD" env PGHOST=127.0.0.1 PGPORT="$PORT" PGUSER=bench \
	PGDATABASE=perf PGPASSWORD="$SECRET" "$PERFGATE" db status; keep
contains "PG* variables are used" "$OUT" "runs:     1"
expect_exit 0 "key=value form with the password" "$PERFGATE" db status \
	--db "host=127.0.0.1 port=$PORT dbname=perf user=bench password=$SECRET"; keep
contains "key=value shown without the password" "$OUT" "password=***"
expect_exit 0 "db migrate over TCP" "$PERFGATE" db migrate --db "$URL"; keep

# Wrong password: exit 4, the run is spooled, the server's reason is shown.
BAD="postgresql://bench:$WRONG@127.0.0.1:$PORT/perf"
expect_exit 4 "a wrong password exits 4" "$PERFGATE" push --db "$BAD" "$EX"; keep
contains "the reason is shown" "$ERR" "password authentication failed"
contains "the run is spooled" "$ERR" "spooled to $T/home/spool/"
lacks "the wrong password is not shown" "$ERR" "$WRONG"
expect_exit 4 "status with a wrong password exits 4" "$PERFGATE" db status --db "$BAD"; keep
lacks "status hides the wrong password" "$ERR" "$WRONG"
expect_exit 4 "a wrong password through PGPASSWORD exits 4" env PGHOST=127.0.0.1 PGPORT="$PORT" \
	PGUSER=bench PGDATABASE=perf PGPASSWORD="$WRONG" "$PERFGATE" db status; keep
lacks "PGPASSWORD is not shown" "$ERR" "$WRONG"
# A database that does not exist, and a malformed URL, with the right password.
expect_exit 4 "an unknown database exits 4" "$PERFGATE" db status \
	--db "postgresql://bench:$SECRET@127.0.0.1:$PORT/nosuchdb"; keep
expect_exit 2 "a malformed URL exits 2" "$PERFGATE" db status --db "postgresql://bench:$SECRET@127.0.0.1:$PORT/perf?nosuch=1"; keep
# Every other form of a password in a URL (issue 19 item 5): a query
# parameter that libpq rejects ("invalid percent-encoded token" quoted it),
# its key percent-encoded, a keyword/value string, a userinfo with an '@'.
Q1='50%off!'
expect_exit 2 "libpq rejects ?password=$Q1" "$PERFGATE" db status \
	--db "postgresql://bench@127.0.0.1:$PORT/perf?password=$Q1"; keep
contains "... and the message says why" "$ERR" "invalid percent-encoded token"
lacks "... without the rejected password" "$ERR" "$Q1"
Q2="Pq2-$$-enc"
expect_exit 4 "a percent-encoded password key (wrong password)" "$PERFGATE" db status \
	--db "postgresql://bench@127.0.0.1:$PORT/perf?pass%77ord=$Q2"; keep
lacks "... the password is not echoed" "$ERR" "$Q2"
Q3="Pq3-$$-kv"
expect_exit 2 "a keyword/value string libpq rejects" "$PERFGATE" db status \
	--db "host=127.0.0.1 port=$PORT password='$Q3 x' dbname"; keep
lacks "... the quoted password is not shown" "$ERR" "$Q3"
Q4="Pq4-$$@at"
expect_exit 4 "a userinfo password holding '@'" "$PERFGATE" db status \
	--db "postgresql://bench:$Q4@127.0.0.1:$PORT/perf"; keep
lacks "... no piece of it is shown (libpq splits at the first '@')" "$ERR" "at@127"
lacks "... nor its first piece" "$ERR" "Pq4-$$"
for q in "$Q1" "$Q2" "$Q3" "$Q4"; do
	lacks "'$q' appears in no output" "$ALL" "$q"
done
expect_exit 0 "push --spooled with the right password" "$PERFGATE" push --spooled --db "$URL"; keep
contains "the spooled run was already stored" "$OUT" "already stored"
expect_exit 0 "help output too" "$PERFGATE" push --help; keep

[ -s "$ALL" ] && ok "outputs were collected" || not_ok "no output collected"
lacks "the password appears in no output" "$ALL" "$SECRET"
lacks "the wrong password appears in no output" "$ALL" "$WRONG"
