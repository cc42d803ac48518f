#!/usr/bin/env python3
"""A loopback HTTP/1.1 server whose service time the commit under test
controls, for gates on load benchmarks: tests/integration/test_gate_load.sh
and the end-to-end harness tests/perf/gate_trust.py (docs/performance.md,
"Gate accuracy end to end").

usage: service_time.py CONFIG PORTFILE [PORT]

CONFIG is a JSON file of the commit under test:
  {"ms": 2.0, "slow_every": 0, "slow_factor": 1}
Every request is answered after `ms` milliseconds; with slow_every = k > 0,
every k-th request (counted per server) takes slow_factor x ms instead, so
that a share 1/k of requests is slow deterministically (k = 10 moves p95 and
p99 to the slow time and leaves p50 alone).  With "machine": PATH (a file
outside the repository holding a number, read at start) every time is
multiplied by that number: the machine's speed in this job, the same for
every tree (tests/integration/test_confirm_base_http.sh).  GET /metrics answers, in
Prometheus text, the gauge service_port: the port it listens on.  Listens
on 127.0.0.1 on PORT
(default: a free one), writes it to PORTFILE, serves until killed or for
600 s at most.
"""
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CONF = json.load(open(sys.argv[1]))
MS = float(CONF.get("ms", 2.0))
if CONF.get("machine"):
    with open(CONF["machine"]) as f:
        MS *= float(f.read())
EVERY = int(CONF.get("slow_every", 0))
FACTOR = float(CONF.get("slow_factor", 1.0))
COUNT = [0]
LOCK = threading.Lock()
BODY = b'{"label": "cat", "score": 0.9}\n'


# The whole response in one write, on a socket without Nagle's algorithm:
# headers and body written apart would wait for the client's delayed ACK
# (40 ms on Linux), and the latency would measure that, not the service.
RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
            % len(BODY)) + BODY


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self):
        if self.path == "/metrics":
            # Prometheus text: the port this server listens on, so that a
            # test can tell which server a monitor scraped.
            body = b"# TYPE service_port gauge\nservice_port %d\n" % self.server.server_address[1]
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            return
        with LOCK:
            COUNT[0] += 1
            n = COUNT[0]
        ms = MS * FACTOR if EVERY > 0 and n % EVERY == 0 else MS
        time.sleep(ms / 1000.0)
        self.wfile.write(RESPONSE)

    def log_message(self, *args):
        pass


def main():
    ThreadingHTTPServer.allow_reuse_address = True
    srv = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[3]) if len(sys.argv) > 3 else 0), Handler)
    srv.daemon_threads = True
    with open(sys.argv[2] + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(sys.argv[2] + ".tmp", sys.argv[2])
    threading.Timer(600, srv.shutdown).start()
    srv.serve_forever()


main()
