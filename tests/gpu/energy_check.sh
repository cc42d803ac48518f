#!/bin/sh
# The GPU energy check of issue 14: perfgate's `energy` (the GPU's own
# energy counter read through nvidia-smi) against nvidia-smi run on its own
# beside it, while a GPU inference server streams tokens
# (tests/gpu/README.md, "Energy").
#
# usage: sh tests/gpu/energy_check.sh OUTDIR
#   on a machine with an NVIDIA GPU and PyTorch, in the repository root, with
#   device-carry/ made by tests/gpu/prepare.sh; then
#   python3 tests/gpu/energy_compare.py OUTDIR   (anywhere)
# Writes to OUTDIR: env.txt (machine, driver, perfgate --version), fields.txt
# (what this driver's nvidia-smi says of its energy fields, and one reading
# of each, with and without units), server.log, ref.csv (nvidia-smi on its
# own: timestamp, index, counter, power every 100 ms), run.json, run.txt.
# A dry run without a GPU: SERVER=examples/servers/completions_server.py
# FAKE_NVIDIA_SMI_ENERGY=mJ PATH=$PWD/tests/bin:$PATH (the stand-in's
# counters are its own per process, so only the plumbing is checked).
set -u
out=${1:?usage: energy_check.sh OUTDIR}
mkdir -p "$out"
carry=device-carry
server=${SERVER:-examples/servers/torch_completions_server.py}
pidfile=/tmp/perfgate-torch-server.pid

pg() {
	if [ -x "$carry/lib/ld-linux-x86-64.so.2" ]; then
		"$carry/lib/ld-linux-x86-64.so.2" --library-path "$carry/lib" "$carry/perfgate" "$@"
	else
		build/perfgate "$@"
	fi
}

export PERFGATE_HOME=/tmp/perfgate-gpu-home PYTHONUNBUFFERED=1
{
	date -u
	uname -a
	nvidia-smi -L
	nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
	pg --version
} >"$out/env.txt" 2>&1
{
	echo "== nvidia-smi --help-query-gpu, energy"
	nvidia-smi --help-query-gpu 2>&1 | grep -i -B1 -A4 energy
	for f in total_energy_consumption energy.consumed; do
		for fmt in csv csv,nounits; do
			echo "== --query-gpu=timestamp,index,$f --format=$fmt"
			nvidia-smi --query-gpu=timestamp,index,$f --format=$fmt 2>&1
			echo "exit $?"
		done
	done
} >"$out/fields.txt" 2>&1
field=none
for f in total_energy_consumption energy.consumed; do
	if nvidia-smi --query-gpu=timestamp,index,$f --format=csv >/dev/null 2>&1; then
		field=$f
		break
	fi
done

rm -f "$pidfile"
python3 "$server" --port 8011 --pid-file "$pidfile" --lifetime 300 >"$out/server.log" 2>&1 &
server_pid=$!
i=0
until python3 -c 'import urllib.request as u; u.urlopen("http://127.0.0.1:8011/health", timeout=1)' 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 180 ] || ! kill -0 $server_pid 2>/dev/null; then
		echo "server did not come up" >>"$out/env.txt"
		kill $server_pid 2>/dev/null
		exit 1
	fi
	sleep 1
done
echo "server up after ${i}s; reference field $field" >>"$out/env.txt"

nvidia-smi --query-gpu=timestamp,index,$field,power.draw --format=csv,noheader -lms 100 >"$out/ref.csv" 2>&1 &
smi_pid=$!
sleep 1
pg run tests/gpu/gpu-energy.json --no-store --out "$out/run.json" >"$out/run.txt" 2>&1
echo "perfgate run exit code: $?" >>"$out/run.txt"
sleep 1
kill $smi_pid $server_pid 2>/dev/null
wait 2>/dev/null
exit 0
