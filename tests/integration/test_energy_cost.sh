#!/bin/sh
# Energy and cost per unit of work (docs/monitor.md): a streaming load against
# the example server while the monitor reads the stand-in nvidia-smi's energy
# counter (made up from real H200 power readings), the per-request and
# per-token figures recomputed here from what the run document records; the
# power fallback; a price from the suite and from PERFGATE_PRICE_PER_HOUR
# (which wins, and must parse: exit 2); the cost at capacity of a capacity
# search; a sweep's steps each with their own; and gating on them.
. tests/integration/lib.sh
T=$(test_tmpdir)
export GIT_CONFIG_NOSYSTEM=1 HOME=$T PERFGATE_HOME=$T/home NO_COLOR=1
unset PERFGATE_PRICE_PER_HOUR FAKE_NVIDIA_SMI_ENERGY

python3 examples/servers/completions_server.py --port 0 --port-file "$T/cs.port" --token-ms 2 --lifetime 240 \
	>"$T/cs.log" 2>&1 &
CS_PID=$!
trap 'kill $CS_PID 2>/dev/null' EXIT
i=0
while [ ! -s "$T/cs.port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
CS="http://127.0.0.1:$(cat "$T/cs.port")"
SMI="$(pwd)/tests/bin/nvidia-smi"
HTTP='"http": {"url": "'$CS'/v1/completions", "method": "POST", "body": {"prompt": "a prompt", "max_tokens": 8, "stream": true}, "stream": "sse"}'
CLOSED='"load": {"mode": "concurrency", "concurrency": 2, "duration": "2s"}'
GPU='"monitor": {"system": false, "gpu": true, "interval": "100ms", "nvidia_smi": "'$SMI'"}'

# run NAME EXPECTED_EXIT SUITE_JSON
run() {
	printf '%s\n' "$3" >"$T/$1.json"
	expect_exit "$2" "$1: exit $2" timeout 60 "$PERFGATE" run -q --no-store --out "$T/$1.out.json" "$T/$1.json"
	cp "$ERR" "$T/$1.err"
}
is() {
	_r=$(python3 - "$T/$1.out.json" "$3" <<'PY' 2>&1
import json, sys
d = json.load(open(sys.argv[1]))
b = d["benchmarks"][0]
m = {x["name"]: x["samples"][0] for x in b["metrics"] if x["samples"]}
u = {x["name"]: x["unit"] for x in b["metrics"]}
e = b.get("energy") or {}
c = b.get("cost") or {}
print(eval(sys.argv[2]))
PY
)
	if [ "$_r" = "True" ]; then ok "$1: $2"; else not_ok "$1: $2 (got: $_r)"; fi
}
near='lambda a, b: abs(a / b - 1) < 1e-9'

suite() { printf '{"suite": "energy", %s"benchmarks": [{"name": "chat", %s}]}' "$1" "$2"; }

FAKE_NVIDIA_SMI_ENERGY=mJ run counter 0 "$(suite '' "$HTTP, $CLOSED, $GPU")"
is counter "energy read from the GPU's counter" "e['method'] == 'counter' and e['field'] == 'total_energy_consumption' and m['energy'] > 0"
is counter "the window's energy is its recorded joules" "($near)(m['energy'], e['windows'][0]['joules'])"
is counter "energy per request = mean power / throughput" "($near)(m['energy_per_request'], e['windows'][0]['joules'] / e['windows'][0]['window'] / m['throughput'])"
is counter "energy per output token = mean power / token rate" "($near)(m['energy_per_output_token'], e['windows'][0]['joules'] / e['windows'][0]['window'] / m['output_token_rate'])"
is counter "tokens per joule is its inverse" "($near)(m['output_tokens_per_joule'] * m['energy_per_output_token'], 1)"
is counter "units" "u['energy'] == 'J' and u['energy_per_output_token'] == 'J' and u['output_tokens_per_joule'] == '1/J'"
is counter "the captured H200 drew 80-100 W" "70 < e['windows'][0]['joules'] / e['windows'][0]['window'] < 110"
is counter "no price, no cost" "'cost_per_1k_requests' not in m and c == {}"

run power 0 "$(suite '' "$HTTP, $CLOSED, $GPU")"
is power "without the counter: the integrated power" "e['method'] == 'power' and 'energy_per_output_token' in m and 70 < m['energy'] / e['windows'][0]['window'] < 110"

run price 0 "$(suite '"price": {"per_hour": 3.6, "currency": "eur"}, ' "$HTTP, $CLOSED")"
is price "cost per 1,000 requests from the suite's price" "($near)(m['cost_per_1k_requests'], 3.6 / 3600 / m['throughput'] * 1000) and u['cost_per_1k_requests'] == 'EUR'"
is price "cost per million output tokens" "($near)(m['cost_per_1m_output_tokens'], 3.6 / 3600 / m['output_token_rate'] * 1e6)"
is price "the price used is recorded" "c['per_hour'] == 3.6 and c['currency'] == 'EUR' and c['source'] == 'suite'"
PERFGATE_PRICE_PER_HOUR="7.2 USD" run envprice 0 "$(suite '"price": {"per_hour": 3.6, "currency": "EUR"}, ' "$HTTP, $CLOSED")"
is envprice "PERFGATE_PRICE_PER_HOUR wins" "($near)(m['cost_per_1k_requests'], 7.2 / 3600 / m['throughput'] * 1000) and u['cost_per_1k_requests'] == 'USD' and c['source'] == 'PERFGATE_PRICE_PER_HOUR'"
PERFGATE_PRICE_PER_HOUR="cheap" run badenv 2 "$(suite '' "$HTTP, $CLOSED")"
contains "a bad PERFGATE_PRICE_PER_HOUR is named" "$T/badenv.err" "PERFGATE_PRICE_PER_HOUR: price 'cheap': expected a price per hour"
run badprice 2 "$(suite '"price": {"per_hour": -1, "currency": "USD"}, ' "$HTTP, $CLOSED")"
contains "a bad suite price at its path" "$T/badprice.err" "price.per_hour: must be a number > 0"

CAP='"load": {"mode": "capacity", "start_rate": 20, "max_rate": 80, "precision": 0.5, "step_duration": "1s"}, "slo": {"latency.p99": "< 10s"}'
run capacity 0 "$(suite '"price": {"per_hour": 3.6}, ' "$HTTP, $CAP")"
is capacity "cost at capacity, from the throughput measured at the highest rate that held" "[($near)(m['cost_per_1k_requests'], 3.6 / 3600 / s['throughput'] * 1000) for s in b['capacity_steps'] if s['slos_held'] and s['rate'] == m['capacity']][-1:] == [True]"
is capacity "and per million tokens" "'cost_per_1m_output_tokens' in m and 'capacity' in c['how']"

# a sweep: each step monitored, its energy and cost per unit of work from
# its own window and throughput, as NAME@RATE/s
SWEEP='"load": {"mode": "sweep", "rates": [10, 40], "duration": "1s"}'
FAKE_NVIDIA_SMI_ENERGY=mJ run sweep 0 "$(suite '"price": {"per_hour": 3.6}, ' "$HTTP, $SWEEP, $GPU")"
is sweep "one energy window per step, each claimed by its step" "[w['repetition'] for w in e['windows']] == [0, 1] and e['method'] == 'counter'"
is sweep "each step's energy" "($near)(m['energy@10/s'], e['windows'][0]['joules']) and ($near)(m['energy@40/s'], e['windows'][1]['joules'])"
is sweep "energy per output token over the step's own token rate" "all(($near)(m['energy_per_output_token@%d/s' % r], w['joules'] / w['window'] / m['output_token_rate@%d/s' % r]) for r, w in zip((10, 40), e['windows']))"
is sweep "cost per 1,000 requests over the step's own throughput" "all(($near)(m['cost_per_1k_requests@%d/s' % r], 3.6 / 3600 / m['throughput@%d/s' % r] * 1000) for r in (10, 40))"
is sweep "no unsuffixed per-window metric" "not any(k in m for k in ('energy', 'energy_per_request', 'cost_per_1k_requests', 'gpu.power.mean'))"

# gating on them
R=$T/repo
git_repo "$R" || exit 1
DB=$(new_db energy)
suite '"price": {"per_hour": 3.6}, ' "$HTTP, $CLOSED, \"slo\": {\"cost_per_1k_requests\": \"< 0.000001\"}" >"$R/cost.json"
git -C "$R" add -A && git -C "$R" commit -qm cost
expect_exit 1 "gate fails on cost_per_1k_requests" "$PERFGATE" gate --db "$DB" --quiet "$R/cost.json"
contains "naming it" "$OUT" "cost_per_1k_requests"

# --- the SQL view: work, energy and cost side by side
V=$(psql_q "$DB" "SELECT currency, cost_per_1k_requests > 0, throughput > 0, energy IS NULL FROM perfgate_efficiency WHERE benchmark = 'chat'" | head -1)
if [ "$V" = "USD|t|t|t" ]; then ok "perfgate_efficiency: the stored cost beside its throughput"; else not_ok "perfgate_efficiency: got '$V'"; fi

# SLOs on energy or cost that could not be measured: the gate fails and says why
suite '' "$HTTP, $CLOSED, \"slo\": {\"energy_per_output_token\": \"< 1\", \"cost_per_1k_requests\": \"< 1\"}" >"$R/unmeasured.json"
git -C "$R" add -A && git -C "$R" commit -qm unmeasured
expect_exit 1 "SLOs on energy and cost without a GPU or a price fail the gate" "$PERFGATE" gate --db "$DB" --quiet "$R/unmeasured.json"
contains "energy: why" "$OUT" "energy_per_output_token < 1: not measured (no GPU energy readings"
contains "cost: why" "$OUT" "cost_per_1k_requests < 1: not measured (no price"
