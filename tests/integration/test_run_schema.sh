#!/bin/sh
# schemas/run.schema.json against the run-document fixtures (the schema must
# accept every valid one and reject every invalid one, as perfgate does in
# tests/unit/test_rundoc.c), the JSON examples in docs/ and examples/, and
# documents perfgate itself writes (its machine facts included).
. tests/integration/lib.sh
T=$(test_tmpdir)

if ! python3 -c 'import jsonschema; jsonschema.Draft202012Validator' 2>/dev/null; then
	not_ok "python3-jsonschema with draft 2020-12 is needed (Debian package python3-jsonschema)"
	exit 0
fi

cat >"$T/check.py" <<'PY'
"""check.py MODE FILE...: MODE valid|invalid; prints one TAP line per file."""
import json, re, sys
import jsonschema
schema = json.load(open("schemas/run.schema.json"))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
mode = sys.argv[1]
for path in sys.argv[2:]:
    docs = []
    if path.endswith(".md"):
        # every ```json block that is a run document
        for block in re.findall(r"```json\n(.*?)```", open(path).read(), re.S):
            try:
                d = json.loads(block)
            except ValueError:
                continue  # JSON lines, fragments: not a run document
            if isinstance(d, dict) and "run_id" in d and "benchmarks" in d:
                docs.append(d)
        if not docs:
            continue
    else:
        try:
            docs.append(json.load(open(path)))
        except ValueError as e:
            print("not ok - %s: not JSON: %s" % (path, e))
            continue
    for i, d in enumerate(docs):
        errs = sorted(v.iter_errors(d), key=lambda e: list(e.absolute_path))
        name = path if len(docs) == 1 else "%s (document %d)" % (path, i + 1)
        if mode == "valid":
            print(("ok - schema accepts %s" % name) if not errs else
                  "not ok - schema rejects %s: %s at %s" % (name, errs[0].message, list(errs[0].absolute_path)))
        else:
            print(("ok - schema rejects %s" % name) if errs else "not ok - schema accepts %s" % name)
PY

# check MODE FILE...: a crash of the checker is a failure too.
check() {
	python3 "$T/check.py" "$@" || not_ok "check.py $1 failed (exit $?) on $*"
}
check valid tests/fixtures/rundoc/valid/*.json
# syntax-error is not JSON at all; dup-* break uniqueness, which JSON Schema cannot express.
check invalid $(ls tests/fixtures/rundoc/invalid/*.json | grep -v -e /dup- -e /syntax-error)
check valid docs/*.md $(grep -l '"run_id"' examples/*.json 2>/dev/null)
n=$(grep -c '```json' docs/run-document.md)
[ "$n" -ge 1 ] && ok "docs/run-document.md has an example" || not_ok "docs/run-document.md has no json example"

# What perfgate writes: its own machine facts inside a document it parses back.
"$PERFGATE" fingerprint --format json >"$T/machine.json" 2>/dev/null
python3 - "$T/machine.json" "$T/doc.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
d = json.load(open("tests/fixtures/rundoc/valid/full.json"))
d["machine"] = m
json.dump(d, open(sys.argv[2], "w"))
PY
check valid "$T/doc.json"

# A document `perfgate run` writes (no database needed with --no-store).
cat >"$T/suite.json" <<'JSON'
{"suite": "schema-check", "benchmarks": [{"name": "true", "command": ["true"], "repetitions": 3}]}
JSON
if "$PERFGATE" run --no-store -q -o "$T/run.json" "$T/suite.json" >"$T/run.out" 2>&1; then
	check valid "$T/run.json"
else
	not_ok "perfgate run --no-store -o run.json: $(head -c 300 "$T/run.out")"
fi
