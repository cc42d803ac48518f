#!/bin/sh
# Trust (issue 19, docs/security.md): files perfgate writes never follow a
# symlink someone else planted; who may make a baseline (a pushed or edited
# run document cannot); the spool holds only what perfgate wrote itself; a
# run that can be neither stored nor spooled is kept elsewhere and said so;
# a database role without write rights is named as such.
. tests/integration/lib.sh
T=$(test_tmpdir)
export PERFGATE_HOME="$T/home"
unset PERFGATE_DATABASE_URL PGHOST PGSERVICE
check_eq() { # NAME GOT WANT
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1: got '$2', expected '$3'"; fi
}

# ---- atomic writes never follow symlinks (item 2) ----
# A world-writable sticky folder, as /tmp: another user plants a symlink
# where the temporary file of `--out` will be (PATH.tmp.PID, the PID being
# the one the shell execs into) and another at the destination itself.
mkdir -p "$T/shared" && chmod 1777 "$T/shared"
cat >"$T/shared/suite.json" <<'JSON'
{"suite": "trust", "benchmarks": [{"name": "t", "command": ["true"], "repetitions": 3}]}
JSON
echo precious >"$T/victim"
echo precious >"$T/victim2"
ln -s "$T/victim2" "$T/shared/out.json"
(cd "$T/shared" && umask 022 && sh -c 'ln -s "$1" out.json.tmp.$$; exec "$0" run suite.json --no-store -q --out out.json' \
	"$PERFGATE" "$T/victim") >"$T/sym.out" 2>&1
check_eq "a planted temporary-file symlink's target is left alone" "$(cat "$T/victim")" "precious"
check_eq "a symlink at the destination is replaced, its target left alone" "$(cat "$T/victim2")" "precious"
[ -f "$T/shared/out.json" ] && [ ! -L "$T/shared/out.json" ] && ok "the run document is a plain file" \
	|| not_ok "out.json: $(ls -l "$T/shared/out.json")"
contains "the run document was written" "$T/shared/out.json" '"run_id"'
check_eq "the run document has the usual mode (0666 less the umask)" "$(stat -c %a "$T/shared/out.json")" "644"
check_eq "no temporary file is left behind" "$(ls "$T/shared" | grep -c 'out.json.tmp.[A-Za-z0-9]\{6\}$')" "0"
