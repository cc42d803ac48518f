#!/bin/sh
# Start or stop the three services of the RAG example (README.md):
#   sh examples/rag/services.sh start DIR   embedding 8101, search 8102, model 8103;
#                                           pid files, port files and logs in DIR;
#                                           returns once all three answer /health
#   sh examples/rag/services.sh stop DIR    stops the ones DIR's pid files name
# RAG_PORTS="8101 8102 8103" chooses other ports; RAG_LIFETIME (default 600 s)
# makes a forgotten service exit by itself.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: services.sh start|stop DIR" >&2; exit 2; }
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
set -- ${RAG_PORTS:-8101 8102 8103}
EMBED=$1 SEARCH=$2 MODEL=$3
life=${RAG_LIFETIME:-600}

stop() {
	for s in embed search model; do
		[ -s "$dir/$s.pid" ] && kill "$(cat "$dir/$s.pid")" 2>/dev/null || true
		rm -f "$dir/$s.pid"
	done
}

start() {
	mkdir -p "$dir"
	"$PY" "$here/embed_server.py" --port "$EMBED" --lifetime "$life" >"$dir/embed.log" 2>&1 &
	echo $! >"$dir/embed.pid"
	"$PY" "$here/search_server.py" --port "$SEARCH" --lifetime "$life" >"$dir/search.log" 2>&1 &
	echo $! >"$dir/search.pid"
	"$PY" "$here/../servers/completions_server.py" --port "$MODEL" --token-ms 2 --lifetime "$life" \
		>"$dir/model.log" 2>&1 &
	echo $! >"$dir/model.pid"
	for port in "$EMBED" "$SEARCH" "$MODEL"; do
		i=0
		until "$PY" -c "import urllib.request, sys; urllib.request.urlopen('http://127.0.0.1:$port/health', timeout=1)" \
			2>/dev/null; do
			i=$((i + 1))
			if [ $i -gt 300 ]; then
				echo "rag: the service on port $port did not start (is the port free?):" >&2
				cat "$dir"/*.log >&2
				stop
				exit 1
			fi
			sleep 0.1
		done
	done
}

case $cmd in
start) start ;;
stop) stop ;;
*) echo "usage: services.sh start|stop DIR" >&2; exit 2 ;;
esac
