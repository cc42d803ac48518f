#!/bin/sh
# The cost of `compare` on runs with very many benchmarks (issue 19: it
# was quadratic in the benchmark count): a run of N copies of one command
# benchmark (5 metrics each) compared with itself as the baseline, for the
# JSON and the text report; user CPU seconds of each, and the ratio per
# doubling of N (2.0 is linear).  usage: compare_scale.sh [N...]
# (default 5000 10000 20000).  PERFGATE names the binary.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
: "${PERFGATE:=$root/build/perfgate}"
T=$(mktemp -d /tmp/perfgate-cmpscale.XXXXXX)
trap 'rm -rf "$T"' EXIT
[ $# -gt 0 ] || set -- 5000 10000 20000
printf '{"suite": "s", "benchmarks": [{"name": "a", "shell": "true", "repetitions": 3}]}\n' >"$T/s.json"
"$PERFGATE" run -q --no-store --out "$T/one.json" "$T/s.json" >/dev/null 2>&1
cpu() { # FORMAT FILE: user CPU seconds of one compare
	/usr/bin/time -f %U -o "$T/time" "$PERFGATE" compare --no-store --run-file "$2" --baseline "file:$2" \
		--format "$1" >/dev/null 2>&1 || true
	cat "$T/time"
}
prev_j=; prev_t=
for n in "$@"; do
	python3 - "$T/one.json" "$T/cmp$n.json" "$n" <<'PY'
import copy, json, sys
d = json.load(open(sys.argv[1]))
b = d["benchmarks"][0]
d["benchmarks"] = []
for i in range(int(sys.argv[3])):
    x = copy.deepcopy(b)
    x["name"] = "b%06d" % i
    d["benchmarks"].append(x)
json.dump(d, open(sys.argv[2], "w"))
PY
	j=$(cpu json "$T/cmp$n.json"); t=$(cpu text "$T/cmp$n.json")
	line="$n benchmarks: json $j s, text $t s of user CPU"
	if [ -n "$prev_j" ]; then
		line="$line; against the previous N: json x$(awk -v a="$j" -v b="$prev_j" 'BEGIN { printf "%.2f", a / b }'), text x$(awk -v a="$t" -v b="$prev_t" 'BEGIN { printf "%.2f", a / b }')"
	fi
	echo "$line"
	prev_j=$j; prev_t=$t
	rm -f "$T/cmp$n.json"
done
