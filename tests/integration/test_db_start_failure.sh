#!/bin/sh
# When the embedded server does not start, the message names the real
# failure (issue 19, item 15), not the server log's last line, which may be
# an earlier start's "database system is ready to accept connections"; and
# the server's tools do not see perfgate's secrets (item 4).  The server
# binaries are stand-ins (PERFGATE_PG_BINDIR): a pg_ctl that fails in a
# chosen way, so that each failure is exact and quick.
. tests/integration/lib.sh
T=$(test_tmpdir)
unset PERFGATE_DATABASE_URL PGHOST PGSERVICE
mkdir -p "$T/bin" "$T/home" "$T/dump"
chmod 755 "$T/bin" "$T/home"
chmod 777 "$T/dump"
cat >"$T/bin/initdb" <<'EOF'
#!/bin/sh
while [ $# -gt 0 ]; do case "$1" in -D) d=$2; shift ;; esac; shift; done
mkdir -p "$d" && echo 16 >"$d/PG_VERSION" && : >"$d/postgresql.conf"
EOF
# pg_ctl as it fails: MODE (a file beside it) says how.
cat >"$T/bin/pg_ctl" <<EOF
#!/bin/sh
env >"$T/dump/pg_ctl.env"
while [ \$# -gt 0 ]; do case "\$1" in -D) d=\$2 ;; -l) log=\$2 ;; esac; shift; done
: >>"\$log" # the log is the server's (as root: postgres's), as pg_ctl makes it
case "\$(cat "$T/bin/MODE")" in
fatal)
	echo "2026-12-05 07:00:01.000 UTC [98] FATAL:  could not create lock file \"/x/.s.PGSQL.5432.lock\": Permission denied" >>"\$log"
	echo "2026-12-05 07:00:01.000 UTC [98] LOG:  database system is shut down" >>"\$log"
	echo "pg_ctl: could not start server" >&2; echo "Examine the log output." >&2; exit 1 ;;
gone)
	rm -rf "\$d"
	echo "pg_ctl: directory \"\$d\" does not exist" >&2; exit 1 ;;
lock)
	echo 4242 >"\$d/postmaster.pid"
	echo "pg_ctl: could not start server" >&2; exit 1 ;;
*)
	echo "pg_ctl: could not start server" >&2; echo "Examine the log output." >&2; exit 1 ;;
esac
EOF
chmod 755 "$T/bin/initdb" "$T/bin/pg_ctl"
echo silent >"$T/bin/MODE"
export PERFGATE_HOME="$T/home" PERFGATE_PG_BINDIR="$T/bin"

# An earlier start's last words are in the log; this start adds nothing to it.
expect_exit 4 "a failed start exits 4" env PGPASSWORD=pw-secret GITHUB_TOKEN=tok-secret "$PERFGATE" db start
log=$(sed -n "s/.*see '\(.*server.log\)'.*/\1/p" "$ERR")
[ -n "$log" ] && ok "the message names the server log" || not_ok "no log named: $(cat "$ERR")"
lacks "pg_ctl does not see PGPASSWORD" "$T/dump/pg_ctl.env" "pw-secret"
lacks "pg_ctl does not see a forge token" "$T/dump/pg_ctl.env" "tok-secret"
echo "2026-12-05 07:00:00.000 UTC [99] LOG:  database system is ready to accept connections" >>"$log"
expect_exit 4 "a start that leaves nothing in the log exits 4" "$PERFGATE" db start
lacks "an earlier start's 'ready' line is not quoted as the failure" "$ERR" "ready to accept connections"
contains "pg_ctl's own message is" "$ERR" "pg_ctl: could not start server"
contains "pg_ctl's exit status is named" "$ERR" "pg_ctl exited with status 1"

echo fatal >"$T/bin/MODE"
expect_exit 4 "a start the server refuses exits 4" "$PERFGATE" db start
contains "the server's FATAL line is quoted, not the last line" "$ERR" "FATAL:  could not create lock file"
lacks "the log's last line is not" "$ERR" "database system is shut down"

echo lock >"$T/bin/MODE"
expect_exit 4 "a start that finds a lock file exits 4" "$PERFGATE" db start
contains "the lock file left in the data folder is named" "$ERR" "postmaster.pid' is there"

echo gone >"$T/bin/MODE"
expect_exit 4 "a start whose data folder vanished exits 4" "$PERFGATE" db start
contains "the missing data folder is named" "$ERR" "data' is missing"
