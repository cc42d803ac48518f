#!/bin/sh
# The CI templates parse as YAML, and every perfgate command line in them is
# accepted by the real binary (PERFGATE_PARSE_ONLY=1 checks options and exits).
. tests/integration/lib.sh
T=$(test_tmpdir)

files=$(find ci-templates -name '*.yml' -o -name '*.yaml' | sort)
[ -n "$files" ] && ok "templates exist" || not_ok "no templates under ci-templates/"
# shellcheck disable=SC2086
if python3 tests/ci_commands.py $files >"$T/commands.jsonl" 2>"$T/err"; then
	ok "templates parse as YAML and contain perfgate commands"
else
	not_ok "templates: $(tail -n 1 "$T/err")"
fi
# Each template runs perfgate itself or through the composite action.
for f in $files; do
	if grep -q "$f" "$T/commands.jsonl" || grep -q 'uses: \./ci-templates/github' "$f"; then
		ok "$f runs perfgate"
	else
		not_ok "$f has no perfgate command"
	fi
done
python3 - "$T/commands.jsonl" "$PERFGATE" <<'PY' >"$T/results"
import json, os, subprocess, sys
env = dict(os.environ, PERFGATE_PARSE_ONLY="1")
for line in open(sys.argv[1]):
    c = json.loads(line)
    p = subprocess.run([sys.argv[2]] + c["argv"], env=env, capture_output=True, text=True)
    status = "ok" if p.returncode == 0 else "not ok"
    print("%s - %s: perfgate %s%s" % (status, c["file"], " ".join(c["argv"]),
          "" if p.returncode == 0 else " -> exit %d: %s" % (p.returncode, p.stderr.strip())))
PY
cat "$T/results"

# The check itself must be able to fail: a made-up option is refused.
mkdir -p "$T/bad"
cat >"$T/bad/bad.yml" <<'YML'
jobs:
  x:
    steps:
      - run: perfgate gate suite.json --no-such-option
YML
python3 tests/ci_commands.py "$T/bad/bad.yml" >"$T/bad.jsonl"
if PERFGATE_PARSE_ONLY=1 "$PERFGATE" gate suite.json --no-such-option >/dev/null 2>&1; then
	not_ok "an unknown option in a template is refused"
else
	ok "an unknown option in a template is refused"
fi
printf 'a: [unclosed\n' >"$T/bad/broken.yml"
if python3 tests/ci_commands.py "$T/bad/broken.yml" >/dev/null 2>&1; then
	not_ok "invalid YAML is refused"
else
	ok "invalid YAML is refused"
fi
