#!/usr/bin/env python3
"""A loopback Prometheus exporter for perfgate's scraping tests
(tests/unit/test_prom_scrape.c, tests/integration/test_monitor_prom.sh).

usage: prom_exporter.py PORTFILE

Listens on 127.0.0.1 on a free port, writes the port to PORTFILE, and
serves until killed (or after 300 s, so that a forgotten server cannot
outlive its test).  Python's standard library only.

GET /metrics[?mode=...] serves the text exposition format.  Every address
(path and query) counts its own scrapes, n = 1, 2, 3, ..., and the values
follow n so that a test can work out what perfgate must report:

  demo_gauge                      n (so over scrapes n0..n1: max n1)
  demo_requests_total{code="200"} 10 * ((n - 1) % R + 1), R = reset (default 4):
                                  +10 every scrape, restarting every R scrapes
                                  (10, 20, 30, 40, 10, ...), so the increase over
                                  k scrapes is 10 * (k - 1) resets and all
  demo_requests_total{code="500"} n - 1 (a second series, summed with the first)
  demo_latency_seconds            a histogram: every scrape adds four observations,
                                  0.05, 0.3, 0.75 and 2.0 s (one per bucket
                                  le=0.1, 0.5, 1, +Inf)
  demo_rpc_seconds                a summary: quantile 0.5 = 0.2, 0.99 = 0.9,
                                  _sum += 1.5 and _count += 3 per scrape

mode (how to misbehave):
  slow&ms=N       answer after N ms
  status&code=N   answer with status N (e.g. 500) and a short text
  truncated       announce a Content-Length larger than the body, then close
  cut             no Content-Length; the body stops in the middle of a line
  malformed       the exposition with two malformed lines in it
  garbage         bytes that are not an exposition
  huge&mb=N       N MiB of valid series (demo_filler{i="..."}) after the usual ones
  openmetrics     the same values in OpenMetrics (application/openmetrics-text, # EOF)
  auth            401 unless "Authorization: Bearer sekrit-prom"; then as usual
  empty           200 with an empty body

Other paths: /ok answers "ok" (a load target); /count?path=P says how
many times address P was scraped.
"""
import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
COUNTS = {}


def exposition(n, reset, om=False):
    c200 = 10 * ((n - 1) % reset + 1)
    k = n  # observations so far: 4 per scrape
    out = []
    if om:
        out += ["# TYPE demo_gauge gauge", "demo_gauge %d" % n,
                "# TYPE demo_requests counter",
                'demo_requests_total{code="200"} %d' % c200,
                'demo_requests_total{code="500"} %d' % (n - 1)]
    else:
        out += ["# HELP demo_gauge A gauge that counts this address's scrapes.",
                "# TYPE demo_gauge gauge", "demo_gauge %d" % n,
                "# HELP demo_requests_total Requests, restarting every %d scrapes." % reset,
                "# TYPE demo_requests_total counter",
                'demo_requests_total{code="200"} %d' % c200,
                'demo_requests_total{code="500"} %d' % (n - 1)]
    out += ["# HELP demo_latency_seconds Latency.",
            "# TYPE demo_latency_seconds histogram",
            'demo_latency_seconds_bucket{le="0.1"} %d' % k,
            'demo_latency_seconds_bucket{le="0.5"} %d' % (2 * k),
            'demo_latency_seconds_bucket{le="1.0"} %d' % (3 * k),
            'demo_latency_seconds_bucket{le="+Inf"} %d' % (4 * k),
            "demo_latency_seconds_sum %.2f" % (3.1 * k),
            "demo_latency_seconds_count %d" % (4 * k),
            "# HELP demo_rpc_seconds RPC latency.",
            "# TYPE demo_rpc_seconds summary",
            'demo_rpc_seconds{quantile="0.5"} 0.2',
            'demo_rpc_seconds{quantile="0.99"} 0.9',
            "demo_rpc_seconds_sum %.1f" % (1.5 * n),
            "demo_rpc_seconds_count %d" % (3 * n)]
    if om:
        out.append("# EOF")
    return "\n".join(out) + "\n"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, body, ctype="text/plain; version=0.0.4; charset=utf-8", length=None):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/ok":
            return self.send(200, "ok\n")
        if url.path == "/count":
            with LOCK:
                return self.send(200, "%d\n" % COUNTS.get(q.get("path", ""), 0))
        if url.path != "/metrics":
            return self.send(404, "not found\n")
        mode = q.get("mode", "")
        if mode == "auth" and self.headers.get("Authorization") != "Bearer sekrit-prom":
            return self.send(401, "unauthorized\n")
        with LOCK:
            n = COUNTS.get(self.path, 0) + 1
            COUNTS[self.path] = n
        reset = int(q.get("reset", "4"))
        body = exposition(n, reset, om=(mode == "openmetrics"))
        if mode == "slow":
            time.sleep(int(q.get("ms", "2000")) / 1000.0)
        if mode == "status":
            return self.send(int(q.get("code", "500")), "internal error\n")
        if mode == "truncated":
            self.send(200, body[: len(body) // 2], length=len(body))
            self.close_connection = True
            return
        if mode == "cut":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Connection", "close")
            self.end_headers()
            cut = body.index('demo_latency_seconds_bucket{le="0.5"}') + 20
            self.wfile.write(body[:cut].encode())
            self.close_connection = True
            return
        if mode == "malformed":
            body = body.replace("# TYPE demo_gauge gauge\n",
                                "# TYPE demo_gauge gauge\ndemo_bad{x=\"1} 3\n") + "demo_worse 1 2 3 4\n"
        if mode == "garbage":
            return self.send(200, bytes(range(256)) * 4, ctype="application/octet-stream")
        if mode == "huge":
            filler = 'demo_filler{i="%08d"} 1\n'
            lines = int(float(q.get("mb", "1")) * 1048576 / len(filler % 0))
            body += "# TYPE demo_filler gauge\n" + "".join(filler % i for i in range(lines))
        if mode == "empty":
            body = ""
        ctype = ("application/openmetrics-text; version=1.0.0; charset=utf-8" if mode == "openmetrics"
                 else "text/plain; version=0.0.4; charset=utf-8")
        self.send(200, body, ctype=ctype)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # a client that gave up (perfgate's timeout) is not an error here
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


def main():
    if len(sys.argv) != 2:
        sys.stderr.write(__doc__)
        sys.exit(2)
    srv = Server(("127.0.0.1", 0), Handler)
    tmp = sys.argv[1] + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, sys.argv[1])
    threading.Timer(300, lambda: os._exit(0)).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
