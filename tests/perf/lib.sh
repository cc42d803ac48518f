# Helpers shared by the benchmark scripts of tests/perf (sourced after
# `here` is set: . "$here/lib.sh").

# free_port: a loopback TCP port that was free a moment ago.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# median: the median of the numbers on stdin, separated by spaces or
# newlines (the mean of the middle two of an even count).
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# wait_port PORT WHAT [TRIES]: wait until something accepts on
# 127.0.0.1:PORT, 50 ms between tries (100 by default); else say that WHAT
# did not start and exit 1.
wait_port() {
	_wp_i=0
	while ! python3 -c "import socket, sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 0.2)" "$1" 2>/dev/null; do
		_wp_i=$((_wp_i + 1))
		[ "$_wp_i" -lt "${3:-100}" ] || { echo "$2 did not start (port $1)" >&2; exit 1; }
		sleep 0.05
	done
}

# cpu_of OUTFILE CMD...: run CMD (stdout to OUTFILE, stderr dropped) and
# print its user + sys CPU seconds.
cpu_of() {
	python3 - "$@" <<'PY'
import resource, subprocess, sys
out = open(sys.argv[1], "w")
subprocess.run(sys.argv[2:], stdout=out, stderr=subprocess.DEVNULL)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.4f" % (r.ru_utime + r.ru_stime))
PY
}
