#!/bin/sh
# The GPU check of issue 5: perfgate's resource monitor against the real
# nvidia-smi while a GPU inference server runs (tests/gpu/README.md).
#
# usage: sh tests/gpu/check.sh OUTDIR
#   on a machine with an NVIDIA GPU and PyTorch, in the repository root, with
#   device-carry/ made by tests/gpu/prepare.sh.  Writes to OUTDIR:
#   env.txt (machine, driver, torch, perfgate --version, fingerprint errors),
#   fingerprint.json, server.log, smi-raw.csv (nvidia-smi sampled on its own
#   beside perfgate, the reference), run.json (the run document), run.txt
#   (perfgate's summary and exit code).
# SERVER overrides the server command (a dry run without a GPU:
#   SERVER=examples/servers/completions_server.py with tests/bin on PATH).
set -u
out=${1:?usage: check.sh OUTDIR}
carry=device-carry
server=${SERVER:-examples/servers/torch_completions_server.py}
pidfile=/tmp/perfgate-torch-server.pid
query=index,name,uuid,driver_version,memory.total,memory.used,utilization.gpu,utilization.memory,power.draw,temperature.gpu,clocks.sm

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
	python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())'
	pg --version
} >"$out/env.txt" 2>&1
pg fingerprint --format json >"$out/fingerprint.json" 2>>"$out/env.txt"

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
echo "server up after ${i}s" >>"$out/env.txt"

nvidia-smi --query-gpu=$query --format=csv,noheader,nounits -lms 200 >"$out/smi-raw.csv" 2>&1 &
smi_pid=$!
pg run tests/gpu/gpu-chat.json --no-store --out "$out/run.json" >"$out/run.txt" 2>&1
echo "perfgate run exit code: $?" >>"$out/run.txt"
kill $smi_pid $server_pid 2>/dev/null
wait 2>/dev/null
exit 0
