#!/bin/sh
# The open-loop validity rule (issue 19 item 19): a step is invalid when its
# late sends are both more than a share of its sends and at least a count,
# configurable per suite ("validity"), with documented defaults (1 ms, 1%,
# 10).  Lateness is made on purpose, not hoped for: one connection, one
# request in flight at most (load.max_inflight 1), 10 requests/s for 2 s,
# and the server answers the third request late (tests/servers/misbehave.py
# /nth), so that the sends due while it is outstanding wait and are late by
# a known amount: 150 ms holds up one or two sends, 1.2 s about twelve.
# Every run is bounded by `timeout`.
. tests/integration/lib.sh
T=$(test_tmpdir)
SRV=tests/servers/misbehave.py
export GIT_CONFIG_NOSYSTEM=1 HOME=$T PERFGATE_HOME=$T/home NO_COLOR=1

python3 "$SRV" "$T/port" &
SRV_PID=$!
trap 'kill $SRV_PID 2>/dev/null; rm -rf "$T"' EXIT
i=0
while [ ! -s "$T/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
U="http://127.0.0.1:$(cat "$T/port")"

# run NAME EXPECTED_EXIT SLOW_MS [VALIDITY_JSON]
run() {
	_v=${4:+, \"validity\": $4}
	printf '{"suite": "validity-it"%s, "benchmarks": [{"name": "%s", "http": {"url": "%s/nth?n=3&ms=%s&key=%s"}, "load": {"mode": "rate", "rate": 10, "arrival": "constant", "duration": "2s", "connections": 1, "max_inflight": 1}}]}\n' \
		"$_v" "$1" "$U" "$3" "$1" >"$T/$1.json"
	expect_exit "$2" "$1: exit $2" timeout 60 "$PERFGATE" run -q --no-store --out "$T/$1.out.json" "$T/$1.json"
	cp "$ERR" "$T/$1.err"
}

# One slow answer holds up a send or two: 5-10% of 20 requests, once
# enough to make the run invalid; under the 10-send minimum it is valid.
run few 0 150
check_py "few: one or two sends late, counted" python3 -c '
import json, sys
g = json.load(open(sys.argv[1]))["benchmarks"][0]["generator"][0]
assert 1 <= g["late"] < 10 and g["late_after"] == 0.001, g' "$T/few.out.json"
lacks "few: not called invalid" "$T/few.err" "fell behind"

# A long one holds up a dozen: more than 1% and at least 10: invalid, said
# with the counts and the rule.
run many 3 1200
check_py "many: ten or more sends late" python3 -c '
import json, sys
b = json.load(open(sys.argv[1]))["benchmarks"][0]
g = b["generator"][0]
assert g["late"] >= 10 and b.get("invalid") is True, (g, b.get("invalid"))' "$T/many.out.json"
contains "many: the message gives the counts" "$T/many.err" "were sent over 1 ms late, more than 1% and at least 10 (the suite's validity)"

# The suite sets the rule: one late send is enough when it says so...
run strict 3 150 '{"late_min": 1}'
contains "strict: invalid with late_min 1" "$T/strict.err" "more than 1% and at least 1 (the suite's validity)"
# ... and late means what it says: with late_after 500 ms only the sends held
# up by more than that count (about seven of the dozen).
run lenient 0 1200 '{"late_after": "500ms"}'
check_py "lenient: only sends over 500 ms late counted" python3 -c '
import json, sys
g = json.load(open(sys.argv[1]))["benchmarks"][0]["generator"][0]
assert 1 <= g["late"] < 10 and g["late_after"] == 0.5, g' "$T/lenient.out.json"
# ... and a share of 100% never judges by share.
run share 0 1200 '{"late_share": "99%"}'

# A bad validity object: every problem at its path, exit 2, before running.
printf '{"suite": "v", "validity": {"late_min": 0, "late_share": "150%%", "late_after": "soon", "late": 1}, "benchmarks": [{"name": "b", "shell": "true"}]}\n' >"$T/bad.json"
expect_exit 2 "bad validity: exit 2" timeout 30 "$PERFGATE" run -q --no-store "$T/bad.json"
for want in 'validity.late_min: expected an integer >= 1' \
	'validity.late_share: expected a fraction in [0, 1) or a percentage such as "1%", got "150%"' \
	'validity.late_after: expected a duration' \
	'validity.late: unknown key; did you mean "late_'; do
	contains "bad validity: $want" "$ERR" "$want"
done

# The schema agrees.
python3 - "$T" <<'PY'
import json, os, sys, jsonschema
v = jsonschema.Draft202012Validator(json.load(open("schemas/suite.schema.json")))
for name, valid in [("few", 1), ("strict", 1), ("lenient", 1), ("bad", 0)]:
    errs = list(v.iter_errors(json.load(open(os.path.join(sys.argv[1], name + ".json")))))
    print(("ok" if (not errs) == bool(valid) else "not ok") + " - schema %s %s%s" %
          ("accepts" if valid else "rejects", name, (": " + errs[0].message[:100]) if errs and valid else ""))
PY
