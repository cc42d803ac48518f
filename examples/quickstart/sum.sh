#!/bin/sh
# Sums 1..N with awk and reports its own throughput as a metric perfgate
# stores like any other (the suite says "emits": "json").
n=${1:-300000}
start=$(date +%s%N)
sum=$(seq 1 "$n" | awk '{ s += $1 } END { printf "%.0f\n", s }')
end=$(date +%s%N)
[ "$sum" = "$((n * (n + 1) / 2))" ] || { echo "wrong sum: $sum" >&2; exit 1; }
printf '{"lines_per_s": {"value": %s, "unit": "1/s", "direction": "higher"}}\n' \
	"$((n * 1000000000 / (end - start)))" >"$PERFGATE_METRICS_FILE"
