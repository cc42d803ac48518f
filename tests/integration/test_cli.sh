#!/bin/sh
# The command table: help, version, unknown verbs and options.
. tests/integration/lib.sh
T=$(test_tmpdir)

expect_exit 0 "--help exits 0" "$PERFGATE" --help
contains "--help lists verbs" "$OUT" "fingerprint"
expect_exit 0 "help VERB shows the verb's options" "$PERFGATE" help run
contains "help run is the run usage" "$OUT" "usage: perfgate run"
expect_exit 0 "--version exits 0" "$PERFGATE" --version
contains "--version names libpq" "$OUT" "libpq "
contains "--version names GSL" "$OUT" "GSL "
expect_exit 2 "no verb exits 2" "$PERFGATE"
expect_exit 2 "unknown verb exits 2" "$PERFGATE" comprae
contains "unknown verb suggests the closest" "$ERR" "did you mean 'compare'?"
expect_exit 2 "unknown option exits 2" "$PERFGATE" run --hlep
contains "unknown option suggests --help" "$ERR" "did you mean '--help'?"
expect_exit 2 "unknown global option exits 2" "$PERFGATE" --verison
contains "unknown global option suggests --version" "$ERR" "did you mean '--version'?"
expect_exit 0 "the test PostgreSQL server answers" psql "$(new_db cli)" -qAt -c "select 1"
